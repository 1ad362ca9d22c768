"""Source records → units of work: one API payload per customer, document or action.

Consecutive rows that share a document's ``referenceNumber`` (or ``documentKey``)
become one document whose rows are its lines. A record that cannot be mapped
becomes a ``Work`` with ``error`` set; it still reaches the results file. So does
one the API would refuse for a missing field it always requires (a customer's
``name``, a document's ``customerNumber``): that is checked here, before sending.
Each record is first taken apart into its header, line, key and group by
:mod:`importer.mapping.onerecord`; this module groups those parts into units of work.

A document has at most :data:`MAX_DOCUMENT_LINES` lines (10,000). The API documents no
limit of its own; this one is generous (a real invoice has tens of lines) and keeps what
is held per document bounded, whatever the input: past it, the rows of the document are
no longer kept, only counted, and the whole document is ``invalid`` before anything of it
is sent, naming its key, its first record and the limit (a record already in the API's
shape, whose lines are an array, is held to the same limit). Its records still each get their
final line, in units of at most that many records, so a results line stays small (about
12 bytes a record) however long the run of rows is. The rows are not copied into the
failed-records file (they were not kept): a row of empty cells there gives the error
instead, which imports as invalid again, never as part of a document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from importer.entities import Entity
from importer.errors import RecordError
from importer.mapping.coerce import CoerceOptions
from importer.mapping.columns import REQUIRED_TO_CREATE
from importer.mapping.jsonshape import cannot_clear
from importer.mapping.onerecord import RecordAssembler, default_operation, unknown_fields
from importer.schema import unwrap_value
from importer.sources.base import SourceRecord
from importer.vocabulary import Mode

__all__ = ["Work", "RecordMapper", "REQUIRED_TO_CREATE", "default_operation", "cannot_clear", "MAX_DOCUMENT_LINES",
           "unknown_fields"]

MAX_DOCUMENT_LINES = 10_000  # lines of one document; see the module docstring


@dataclass(slots=True)
class Work:
    """What one request sends, and which source records it stands for."""

    records: list[int]
    key: str | None  # number / referenceNumber / customerNumber (actions); None if auto-numbered
    payload: dict[str, Any] | None
    error: str | None = None  # set: the records are invalid and nothing is sent
    group: str | None = None  # the documentKey of an auto-numbered document
    rows: list[SourceRecord] = field(default_factory=list)  # the source records, as read
    # upsert only: why a create of this record would be refused (a required field is
    # missing); it can still be sent as an update of an existing record.
    cannot_create: str | None = None


@dataclass(slots=True)
class _Row:
    number: int
    record: SourceRecord
    header: dict[str, Any]
    line: dict[str, Any] | None
    key: str | None
    group: str | None


class RecordMapper:
    """Maps records of one entity. ``columns`` is the CSV header, checked at once."""

    def __init__(
        self,
        entity: Entity,
        *,
        mode: Mode = "create",
        options: CoerceOptions | None = None,
        columns: list[str] | None = None,
        check_required: bool = True,
        max_lines: int = MAX_DOCUMENT_LINES,
    ) -> None:
        """``check_required``: refuse a record that a create would lack a required field for
        (``mode`` create, and upsert records that are created); off for reading records
        that are not sent, such as a verify. ``max_lines``: the most lines of one document."""
        self.entity = entity
        self.mode = mode
        self.options = options or CoerceOptions()
        self._max_lines = max(1, max_lines)
        # one record's parts; raises UnknownColumnError for a bad header before anything is sent
        self._one = RecordAssembler(entity, self.options, columns, self._max_lines)
        self._pending: list[_Row] = []  # rows of the document in progress
        self._failed: Work | None = None  # set when that document already has a bad row
        self._current: str | None = None  # its referenceNumber or documentKey
        self._first = 0  # its first record
        self._count = 0  # its rows so far, held or not
        self._needs_key = mode == "update" or entity.is_action
        self._required = self._required_fields() if check_required and mode != "update" else ()

    # -- one record -------------------------------------------------------------

    def _map(self, record: SourceRecord) -> _Row:
        return _Row(record.number, record, *self._one.assembled(record))

    # -- a stream of records ----------------------------------------------------

    def works(self, records: Iterable[SourceRecord]) -> Iterator[Work]:
        """Map a whole stream; see :meth:`feed` for the push-style form."""
        for record in records:
            yield from self.feed(record)
        yield from self.finish()

    def feed(self, record: SourceRecord) -> Iterable[Work]:
        """Take one record; gives the work it completes (none while a document grows).

        Only the document in progress is held in memory.
        """
        if not self.entity.line_field:
            return (self._single(record),)  # one record, one unit: no generator to run
        return self._feed_line(record)

    def _feed_line(self, record: SourceRecord) -> Iterator[Work]:
        """A row of a document (see :meth:`feed`)."""
        row = error = None
        if record.error is None:
            try:
                row = self._map(record)
            except RecordError as exc:
                error = f"record {record.number}: {exc}"
        else:  # the reader's own words may name the record already
            named = record.error.startswith(f"record {record.number} ")
            error = record.error if named else f"record {record.number}: {record.error}"
        group = (row.key or row.group) if row else self._group_of(record.data)
        if self._pending or self._failed:
            if group is not None and group == self._current:
                yield from self._more(record, row, error)
                return
            yield from self.finish()
        self._current, self._first, self._count = group, record.number, 1
        if error:
            self._failed = Work([record.number], group, None, error, rows=[record])
        else:
            self._pending.append(row)  # type: ignore[arg-type]
        if group is None:  # no key and no documentKey: the row is a document alone
            yield from self.finish()

    def _more(self, record: SourceRecord, row: _Row | None, error: str | None) -> Iterator[Work]:
        """A further row of the document in progress: held, or (once it is invalid) only counted."""
        self._count += 1
        if self._count > self._max_lines and (self._failed is None or self._failed.rows):
            if self._failed is None:
                self._failed = self._invalid(self._pending, self._too_long())
            self._failed.rows = []  # past the limit no row is kept: none goes to the failed-records file
            self._pending = []
        elif error and self._failed is None:
            self._failed = self._invalid(self._pending, error)
            self._pending = []
        failed = self._failed
        if failed is None:
            self._pending.append(row)  # type: ignore[arg-type]
            return
        if len(failed.records) >= self._max_lines:  # its records so far have their line: a bounded one
            yield failed
            failed = self._failed = Work([], failed.key, None, failed.error, group=failed.group)
        failed.records.append(record.number)
        if self._count <= self._max_lines:
            failed.rows.append(record)

    def _too_long(self) -> str:
        cap = self._max_lines
        return (f"record {self._first}: the document {self._current!r} has more than {cap:,} lines (its rows from "
                f"record {self._first} on), the most one document may have; none of it is sent: split it into "
                f"documents of at most {cap:,} lines")

    def finish(self) -> Iterator[Work]:
        """Yield the document in progress, if any (at the end of the input)."""
        if self._failed is not None:
            yield self._failed
        elif self._pending:
            yield self._document(self._pending)
        self._pending, self._failed, self._current, self._count = [], None, None, 0

    def _single(self, record: SourceRecord) -> Work:
        if record.error is not None:
            return Work([record.number], self._raw_key(record.data), None, record.error, rows=[record])
        try:
            header, _, key, _ = self._one.assembled(record)
        except RecordError as exc:
            return Work([record.number], self._raw_key(record.data), None, str(exc), rows=[record])
        return self._finish(Work([record.number], key, header, rows=[record]))

    def _raw_key(self, data: dict[str, Any]) -> str | None:
        """The key as written in a record that could not be mapped, to name it in results."""
        name = self.entity.key_field or self.entity.action_key_field
        value = unwrap_value(data.get(name)) if name else None
        return value.strip() or None if isinstance(value, str) else None

    def _group_of(self, data: dict[str, Any]) -> str | None:
        for name in (self.entity.key_field, "documentKey"):
            value = unwrap_value(data.get(name)) if name else None
            if isinstance(value, str) and value.strip():  # the key trimmed, as the assembler takes it
                return value.strip() if name == self.entity.key_field else value
        return None

    @staticmethod
    def _invalid(rows: list[_Row], error: str) -> Work:
        return Work([r.number for r in rows], rows[0].key if rows else None, None, error,
                    rows=[r.record for r in rows])

    def _document(self, rows: list[_Row]) -> Work:
        first = rows[0]
        header = first.header
        for row in rows[1:]:
            for name, value in row.header.items():
                seen = header.get(name)
                if seen is None:
                    header[name] = value
                elif seen != value:
                    return self._invalid(
                        rows,
                        f"record {row.number}: {name} is {unwrap_value(value)!r} but record "
                        f"{first.number} of the same document has {unwrap_value(seen)!r}",
                    )
        lines = [row.line for row in rows if row.line]
        if lines:
            for line in lines:
                default_operation(line)
            header[self.entity.line_field] = lines  # type: ignore[index]
        work = Work([r.number for r in rows], first.key, header, rows=[r.record for r in rows], group=first.group)
        return self._finish(work)

    def _finish(self, work: Work) -> Work:
        """Checks that need the whole unit: a key where the mode or action needs one, and
        the fields a create cannot do without."""
        if self._needs_key and not work.key:
            column = self.entity.action_key_field or self.entity.key_field
            work.error = f"record {work.records[0]}: {column}: a value is required for {self._verb}"
            work.payload = None
            return work
        payload = work.payload or {}
        for name in self._required:
            value = unwrap_value(payload.get(name))
            if value is None or (isinstance(value, str) and not value.strip()):
                reason = f"record {work.records[0]}: {name}: a value is required to create {self._label}"
                if self.mode == "upsert" and work.key:  # an existing record can still be updated
                    work.cannot_create = reason
                else:
                    work.error, work.payload = reason, None
                break
        return work

    def _required_fields(self) -> tuple[str, ...]:
        """The top-level fields a create needs: the API's own, and any the schema lists."""
        names = list(REQUIRED_TO_CREATE.get(self.entity.name, ()))
        names += [f.name for f in self._one.top.values() if f.required and f.name not in names]
        return tuple(names)

    @property
    def _label(self) -> str:
        name = self.entity.name.replace("-", " ")
        return f"an {name}" if name[0] in "aeiou" else f"a {name}"

    @property
    def _verb(self) -> str:
        return "a dunning letter" if self.entity.is_action else "--mode update"
