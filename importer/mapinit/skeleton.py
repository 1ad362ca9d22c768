"""``importer map init``: a commented skeleton map, guessed from a legacy file's own header and rows.

Each source column is matched to the likeliest API column of the entity by its name
(:mod:`importer.mapinit.synonyms`: Norwegian, Swedish, Danish and English
headers; case, accents, spaces and punctuation do not count). Every row of the file
then says how it writes numbers (decimal comma or point) and dates (the ``strptime``
layout every value reads under), and which of its values need a value map: country
names for ``countryId``, words for an enum (``Aktiv`` → ``Active``), yes/no words the
importer does not read. The rows are read once, in memory that does not grow with the
file (:mod:`importer.mapinit.scan`): a column with more distinct values than
:data:`~importer.mapinit.scan.DISTINCT_CAP` is not a code column, gets no value map,
and the skeleton says so. What it cannot decide is
written as a ``TODO`` comment; columns it cannot match are listed and ignored, so
the skeleton loads as it is and imports what it matched. Given the target company's
snapshot, the columns that name its records (credit terms, VAT, classes, items,
currencies, ...) get value maps to its ids (:mod:`importer.mapinit.valuemaps`);
:mod:`importer.mapinit.render` writes the result as commented TOML. Without it, such a
column's value map lists every distinct value as a TODO line all the same. A document
column whose value differs within one document is the line's (:mod:`importer.mapinit.lines`),
and the encoding the file was read in (``--encoding``) is written into the map, where
``run``, ``plan``, ``check`` and ``verify`` read it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import shlex
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from importer.company.columns import reference_kind
from importer.company.model import Company
from importer.entities import Entity
from importer.errors import ConfigError
from importer.mapinit.lines import to_lines
from importer.mapinit.render import render
from importer.mapinit.scan import DISTINCT_CAP, ColumnScan
from importer.mapinit.synonyms import HEADERS, NOT_SENT, ValueSuggestion, normalise, suggest_values
from importer.mapinit.valuemaps import company_values, open_values
from importer.mapping.columns import ERROR_COLUMN, describe_columns, field_for_column, valid_columns
from importer.mapping.mapfile import parse_map
from importer.outputs import written_whole
from importer.saft import kind as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.sources import Input, SourceOptions, open_input

__all__ = ["Guess", "Skeleton", "ValueSuggestion", "match_headers", "suggest_map", "render", "write_skeleton",
           "DISTINCT_CAP"]

_PART_MIN = 4  # the shortest known header that may match as part of a compound name


@dataclass(frozen=True, slots=True)
class Guess:
    source: str  # the column as the file names it
    api: str | None  # the API column, or None when unmatched
    how: str  # "API column" | "known header" | "part of the name" | "close to" | why unmatched
    sure: bool = True  # False: a consultant should check it


@dataclass(slots=True)
class Skeleton:
    entity: Entity
    input: str
    format: str
    delimiter: str | None
    sampled: int
    guesses: list[Guess]
    decimal_comma: bool | None = None
    comma_columns: dict[str, bool] = field(default_factory=dict)  # API column -> its own convention
    date_format: str | None = None
    date_columns: dict[str, str] = field(default_factory=dict)  # API column -> its own layout ("iso")
    unmatched_dates: dict[str, str] = field(default_factory=dict)  # source column -> layout it reads as
    values: list[ValueSuggestion] = field(default_factory=list)
    defaults: dict[str, tuple[str, str]] = field(default_factory=dict)  # API column -> (value, source)
    records: int = 0  # the records the rows make (a document's rows are one)
    crowded: dict[str, tuple[str, int]] = field(default_factory=dict)  # API column -> (source, row past the cap)
    todos: list[str] = field(default_factory=list)  # what is left to decide, in words
    missing_required: list[str] = field(default_factory=list)
    company: str | None = None  # the name of the company whose values the value maps speak
    encoding: str | None = None  # the input's encoding, as map init read it (None: UTF-8)
    sheet_flags: str = ""  # a workbook's --sheet and --header-row as map init was given them, for the run

    @property
    def matched(self) -> list[Guess]:
        return [g for g in self.guesses if g.api is not None]

    @property
    def unmatched(self) -> list[Guess]:
        return [g for g in self.guesses if g.api is None]

    @property
    def todo_count(self) -> int:
        """The TODO lines the skeleton leaves for a person to decide."""
        return len(self.todos) + len(self.missing_required) + sum(len(v.todo) for v in self.values)


# -- names ------------------------------------------------------------------------------


def _candidates(header: str, entity: Entity, valid: frozenset[str]) -> tuple[list[str], str, bool]:
    """The API columns ``header`` may mean, likeliest first; how they were found; whether sure."""
    if header in valid:
        return [header], "API column", True
    name = normalise(header)
    by_name = {normalise(c): c for c in valid}
    if name in by_name:
        return [by_name[name]], "API column", True
    if name in HEADERS:
        found = [c for c in HEADERS[name] if c in valid]
        return found, "known header" if found else f"a known header, but not a column of {entity.name}", True
    if name in NOT_SENT:
        return [], NOT_SENT[name], True
    parts = [k for k in HEADERS if len(k) >= _PART_MIN and k != name and (name.startswith(k) or name.endswith(k))]
    for part in sorted(parts, key=len, reverse=True):
        found = [c for c in HEADERS[part] if c in valid]
        if found:
            return found, f"part of the name ({part!r})", False
    leaves = [c for c in valid if normalise(c.rsplit(".", 1)[-1]) == name]
    if leaves:
        leaves.sort(key=lambda c: not c.startswith(("mainAddress.", "mainContact.")))
        return leaves, "the API field's own name", False
    close = difflib.get_close_matches(name, [*HEADERS, *by_name], n=1, cutoff=0.85)
    if close:
        found = [by_name[close[0]]] if close[0] in by_name else [c for c in HEADERS[close[0]] if c in valid]
        if found:
            return found, f"close to {close[0]!r}", False
    return [], "no API column found", True


def match_headers(headers: Iterable[str], entity: Entity) -> list[Guess]:
    """Each header's likeliest API column; no API column is fed by two headers."""
    valid = frozenset(valid_columns(entity))
    taken: dict[str, str] = {}
    guesses: list[Guess] = []
    for header in headers:
        if header == ERROR_COLUMN:  # a failed-records file's reason column: always dropped
            continue
        found, how, sure = _candidates(header, entity, valid)
        free = [c for c in found if c not in taken]
        if free:
            taken[free[0]] = header
            guesses.append(Guess(header, free[0], how, sure))
        elif found:
            guesses.append(Guess(header, None, f"would be {found[0]}, which {taken[found[0]]!r} already feeds"))
        else:
            guesses.append(Guess(header, None, how))
    return guesses


# -- the whole file -----------------------------------------------------------------------


def _scans(guesses: list[Guess], entity: Entity) -> dict[str, ColumnScan]:
    """A scan for each column: values, numbers, dates or periods as its API column takes them."""
    scans: dict[str, ColumnScan] = {}
    for guess in guesses:
        found = field_for_column(entity, guess.api) if guess.api is not None else None
        if guess.api is None:
            scans[guess.source] = ColumnScan(values=False, dates=True)  # a date column, should it be mapped
        elif found is not None:
            scans[guess.source] = ColumnScan(
                numbers=found.type in ("number", "integer") and guess.api not in _PERIODS,
                dates=found.type == "datetime", periods=guess.api in _PERIODS)
    return scans


def _scan(opened: Input, guesses: list[Guess], entity: Entity,
          rows: int | None) -> tuple[dict[str, ColumnScan], int, int, dict[str, str]]:
    """Every readable row of the file (or its first ``rows``) through the columns' scans; how many
    rows were read, how many records they make (a document's rows are one), and the columns
    whose value differs within a document (source column -> that document's key)."""
    scans = _scans(guesses, entity)
    key = next((g.source for g in guesses if g.api == entity.key_field), None) if entity.is_document else None
    last: object = object()
    read = records = 0
    own: dict[str, str] = {}  # source column -> the value it has in the document being read
    varies: dict[str, str] = {}
    for record in islice(iter(opened.own_reader()), rows):
        if record.error is not None:
            continue
        read += 1
        data = record.data
        head = key is None or data.get(key) != last  # a document's first row carries its own fields
        if key is not None:
            last = data.get(key)
        records += head
        if head:
            own.clear()
        for source, scan in scans.items():
            value = data.get(source)
            if value is not None and value != "" and (text := str(value).strip()):
                scan.add(text, record.number, head)
                if key is not None and own.setdefault(source, text) != text and source not in varies:
                    varies[source] = str(last)
    return scans, read, records, varies


def sheet_flags(options: SourceOptions) -> str:
    """`` --sheet Kunder --header-row 3``: how a run reads the same sheet of a workbook as ``options``."""
    return (f" --sheet {shlex.quote(options.sheet)}" if options.sheet is not None else "") + (
        f" --header-row {options.header_row}" if options.header_row is not None else "")


def suggest_map(path: str | os.PathLike[str], entity: Entity, options: SourceOptions | None = None,
                rows: int | None = None, company: Company | None = None, today: dt.date | None = None) -> Skeleton:
    """Read ``path``'s header and every row (or its first ``rows``) and guess its map. With
    ``company``, the columns that name its records get value maps to its ids
    (:mod:`importer.mapinit.valuemaps`)."""
    name = os.fspath(path)
    if name == "-":
        raise ConfigError("map init reads its input twice over; give a file, not stdin")
    options = options or SourceOptions()
    with open_input(name, options) as opened:
        header = opened.columns
    if header is None:  # no header row (NDJSON, SAF-T): the keys its records use, read once first
        with open_input(name, options) as opened:
            header = _keys_of(opened, rows)
    guesses = match_headers(header, entity)
    with open_input(name, options) as opened:
        scans, read, records, varies = _scan(opened, guesses, entity, rows)
    guesses = to_lines(guesses, varies, entity)
    skeleton = Skeleton(entity, name, opened.format, opened.delimiter, read, guesses, records=records,
                        company=company.name if company is not None else None, encoding=options.encoding,
                        sheet_flags=sheet_flags(options))
    infos = {info.name: info for info in describe_columns(entity)}
    number_verdicts: dict[str, str] = {}
    layouts: dict[str, str] = {}
    for guess in skeleton.matched:
        api = guess.api
        assert api is not None
        found = field_for_column(entity, api)
        scan = scans.get(guess.source)
        if found is None or scan is None or not scan.count:
            continue
        if scan.numbers:
            number_verdicts[api] = scan.number_verdict()
        elif scan.dates:
            layout, others = scan.date_layout()
            if layout is None:
                row, value = scan.unread or (0, scan.first)
                skeleton.todos.append(f"{guess.source}: no date layout reads both {scan.first!r} and {value!r} "
                                      f"(row {row}); set {api} = {{ date_format = \"...\" }} under [formats]")
            else:
                layouts[api] = layout
                if others:
                    skeleton.todos.append(f"{guess.source}: every date also reads as {others[0]!r}; "
                                          f"check that {layout!r} is meant")
        elif scan.bad_period is not None:
            skeleton.todos.append(f"{guess.source}: {scan.bad_period[1]!r} (row {scan.bad_period[0]}) is not a "
                                  f"period as the API writes it ({infos[api].format}); give its layout, e.g. "
                                  f"{api} = {{ format = \"MM.YYYY\" }} under [formats]")
        suggestion = _value_map(skeleton, guess, found, scan, company, today)
        _suggest_default(skeleton, guess, scan, entity, suggestion)
    _decide_numbers(skeleton, number_verdicts, opened.delimiter)
    _decide_dates(skeleton, layouts)
    for guess in skeleton.unmatched:
        scan = scans[guess.source]
        layout, _ = scan.date_layout()
        if scan.count and layout not in (None, "iso"):
            skeleton.unmatched_dates[guess.source] = layout
    mapped = {g.api for g in skeleton.matched}
    skeleton.missing_required = [i.name for i in infos.values() if i.required and i.name not in mapped]
    return skeleton


def _keys_of(opened: Input, rows: int | None) -> list[str]:
    """The columns of a file without a header row (NDJSON, SAF-T): every key its records use."""
    keys: dict[str, None] = {}
    for record in islice(iter(opened.own_reader()), rows):
        if record.error is None:
            keys.update(dict.fromkeys(record.data))
    return list(keys)


def _value_map(skeleton: Skeleton, guess: Guess, found: Any, scan: ColumnScan, company: Company | None,
               today: dt.date | None) -> ValueSuggestion | None:
    """The column's value map, if it needs one; a column of too many values gets a note instead."""
    assert guess.api is not None
    if scan.crowded:
        if _maps_values(guess.api, found, company):
            skeleton.crowded[guess.api] = (guess.source, scan.crowded_at or 0)
        return None
    values = scan.values()
    suggestion = company_values(company, guess.api, guess.source, values, today) if company is not None else None
    suggestion = suggestion or suggest_values(guess.api, guess.source, found, values)
    if suggestion is None and (company is None or reference_kind(guess.api) in company.unavailable):
        suggestion = open_values(guess.api, guess.source, values)  # the company's ids, unknown here
    if suggestion is not None:
        skeleton.values.append(suggestion)
    return suggestion


def _maps_values(api: str, found: Any, company: Company | None) -> bool:
    """Whether a value map could translate the column: the company's records, an enum, countries, yes/no words."""
    kind_name = reference_kind(api)
    if kind_name is not None and (company is None or kind_name not in company.unavailable):
        return True
    return bool(found.enum) or found.type == "boolean" or api.rsplit(".", 1)[-1] in ("countryId", "vatCodeId")


_PERIODS = ("financialPeriod", "postPeriod")


def _suggest_default(skeleton: Skeleton, guess: Guess, scan: ColumnScan, entity: Entity,
                     suggestion: ValueSuggestion | None = None) -> None:
    """The commonest value as a [defaults] suggestion, for a code column some records leave empty
    (free text such as names and e-mail addresses has no sensible default). Only a record's own
    row counts (a document's first). Defaults are API values, so a value the column's value map
    translates is suggested translated."""
    api, heads = guess.api, scan.head_values
    if api is None or not heads or api == entity.key_field or api.startswith("line.") or scan.crowded:
        return
    counted: Counter[str] = Counter()
    written: dict[str, str] = {}  # folded -> as first written: NORGE and Norge are one value
    for text, n in heads.items():
        counted[text.casefold()] += n
        written.setdefault(text.casefold(), text)
    if scan.heads == skeleton.records or len(counted) > max(1, scan.heads // 2):
        return
    folded, _ = counted.most_common(1)[0]
    value = written[folded]
    if suggestion is not None:
        mapped = {k.casefold(): v for k, v in suggestion.mapped.items()}.get(folded)
        if mapped is None and folded in {t.casefold() for t in suggestion.todo}:
            return  # no API value known for it
        value = mapped if isinstance(mapped, str) else value
    skeleton.defaults[api] = (value, guess.source)


def _decide_numbers(skeleton: Skeleton, verdicts: dict[str, str], delimiter: str | None) -> None:
    decided = Counter(v for v in verdicts.values() if v in ("comma", "point"))
    if decided:
        skeleton.decimal_comma = decided.most_common(1)[0][0] == "comma"
    elif "differs" in verdicts.values():
        skeleton.decimal_comma = delimiter == ";"
    for api, verdict in verdicts.items():
        if verdict in ("comma", "point") and (verdict == "comma") != skeleton.decimal_comma:
            skeleton.comma_columns[api] = verdict == "comma"
        elif verdict == "differs":
            skeleton.todos.append(f"{api}: its numbers read both ways (1.250 is 1250 or 1.25); "
                                  f"check decimal_comma = {str(skeleton.decimal_comma).lower()}")
        elif verdict == "neither":
            skeleton.todos.append(f"{api}: its numbers mix decimal commas and points; fix the file or the map")


def _decide_dates(skeleton: Skeleton, layouts: dict[str, str]) -> None:
    written = Counter(layout for layout in layouts.values() if layout != "iso")
    if written:
        skeleton.date_format = written.most_common(1)[0][0]
    for api, layout in layouts.items():
        if skeleton.date_format is not None and layout != skeleton.date_format:
            skeleton.date_columns[api] = layout


def write_skeleton(path: str, entity: Entity, output: str | None, *, force: bool = False,
                   options: SourceOptions | None = None, company: Company | None = None) -> tuple[Skeleton, str]:
    """Guess ``path``'s map and write it to ``output`` (None: return the text only). The text
    is loaded with the importer's own map reader first, so what is written always loads."""
    if output is not None:
        if os.path.abspath(output) == os.path.abspath(path):
            raise ConfigError(f"-o {output}: that is the input file")
        if os.path.exists(output) and not force:
            raise ConfigError(f"{output} exists; pass --force to replace it (edits made to it would be lost)")
    skeleton = suggest_map(path, entity, options, company=company)
    text = render(skeleton, output or "MAP.toml")
    parse_map(text, entity=entity, path=output or "<map init>")  # a MapError here is ours to fix, not the user's
    if output is not None:
        try:
            with written_whole(output, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    return skeleton, text
