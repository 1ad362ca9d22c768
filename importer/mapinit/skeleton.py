"""``importer map init``: a commented skeleton map, guessed from a legacy file's own header and rows.

Each source column is matched to the likeliest API column of the entity by its name
(:mod:`importer.mapinit.synonyms`: Norwegian, Swedish, Danish and English
headers; case, accents, spaces and punctuation do not count). A sample of the rows
then says how the file writes numbers (decimal comma or point) and dates (the
``strptime`` layout every sampled value reads under), and which of its values need
a value map: country names for ``countryId``, words for an enum (``Aktiv`` →
``Active``), yes/no words the importer does not read. What it cannot decide is
written as a ``TODO`` comment; columns it cannot match are listed and ignored, so
the skeleton loads as it is and imports what it matched. Given the target company's
snapshot, the columns that name its records (credit terms, VAT, classes, items,
currencies, ...) get value maps to its ids (:mod:`importer.mapinit.valuemaps`);
:mod:`importer.mapinit.render` writes the result as commented TOML.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from importer.company.model import Company
from importer.entities import Entity
from importer.errors import ConfigError, RecordError
from importer.mapinit.render import render
from importer.mapinit.synonyms import HEADERS, ValueSuggestion, normalise, suggest_values
from importer.mapinit.valuemaps import company_values
from importer.mapping.coerce import read_number
from importer.mapping.columns import ERROR_COLUMN, describe_columns, field_for_column, valid_columns
from importer.mapping.mapfile import parse_map
from importer.outputs import written_whole
from importer.saft import source as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.sources import Input, SourceOptions, open_input

__all__ = ["Guess", "Skeleton", "ValueSuggestion", "match_headers", "suggest_map", "render", "write_skeleton", "SAMPLE_ROWS"]

SAMPLE_ROWS = 2000  # rows read for formats and values: enough to see them, cheap for any file
_PART_MIN = 4  # the shortest known header that may match as part of a compound name
# Date layouts tried in this order: the first that reads every sampled value wins.
_DATE_LAYOUTS = ("%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y%m%d", "%Y.%m.%d",
                 "%Y/%m/%d", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
_PERIOD_LENGTH = 6


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
    todos: list[str] = field(default_factory=list)  # what is left to decide, in words
    missing_required: list[str] = field(default_factory=list)
    company: str | None = None  # the name of the company whose values the value maps speak

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


# -- values -------------------------------------------------------------------------------


def _number_verdict(values: list[str]) -> str:
    """'comma', 'point', 'either' (reads the same both ways), 'differs' or 'neither'."""
    def reads(comma: bool) -> list[float] | None:
        try:
            return [read_number(v, comma) for v in values]
        except RecordError:
            return None

    comma, point = reads(True), reads(False)
    if comma is not None and point is not None:
        return "either" if comma == point else "differs"
    return "comma" if comma is not None else "point" if point is not None else "neither"


def _is_iso(text: str) -> bool:
    try:
        (date.fromisoformat if len(text) == 10 else datetime.fromisoformat)(text)
    except ValueError:
        return False
    return True


def _date_layout(values: list[str]) -> tuple[str | None, list[str]]:
    """The layout every value reads under ("iso" for ISO 8601, None for none), and the others that also do."""
    if all(_is_iso(v) for v in values):
        return "iso", []
    fitting = []
    for layout in _DATE_LAYOUTS:
        try:
            for v in values:
                datetime.strptime(v, layout)
        except ValueError:
            continue
        fitting.append(layout)
    return (fitting[0], fitting[1:]) if fitting else (None, [])


# -- the whole file -----------------------------------------------------------------------


def _sample(path: str, options: SourceOptions, rows: int) -> tuple[Input, list[str], list[dict[str, Any]]]:
    """The opened input (closed again), its header, and its first ``rows`` readable records."""
    with open_input(path, options) as opened:
        records = [r.data for r in islice(iter(opened.own_reader()), rows) if r.error is None]
    header = opened.columns if opened.columns is not None else list(dict.fromkeys(k for r in records for k in r))
    return opened, header, records


def suggest_map(path: str | os.PathLike[str], entity: Entity, options: SourceOptions | None = None,
                rows: int = SAMPLE_ROWS, company: Company | None = None, today: dt.date | None = None) -> Skeleton:
    """Read ``path``'s header and first ``rows`` rows and guess its map. With ``company``, the
    columns that name its records get value maps to its ids (:mod:`importer.mapinit.valuemaps`)."""
    name = os.fspath(path)
    if name == "-":
        raise ConfigError("map init reads its input twice over; give a file, not stdin")
    opened, header, records = _sample(name, options or SourceOptions(), rows)
    guesses = match_headers(header, entity)
    skeleton = Skeleton(entity, name, opened.format, opened.delimiter, len(records), guesses,
                        company=company.name if company is not None else None)
    infos = {info.name: info for info in describe_columns(entity)}
    first_rows = _first_rows(records, guesses, entity)

    def cells(source: str, rows_: list[dict[str, Any]] = records) -> list[str]:
        return [str(v).strip() for r in rows_ if (v := r.get(source)) not in (None, "") and str(v).strip()]

    number_verdicts: dict[str, str] = {}
    layouts: dict[str, str] = {}
    for guess in skeleton.matched:
        api = guess.api
        assert api is not None
        found = field_for_column(entity, api)
        values = cells(guess.source)
        if found is None or not values:
            continue
        if found.type in ("number", "integer") and api not in _PERIODS:
            number_verdicts[api] = _number_verdict(values)
        elif found.type == "datetime":
            layout, others = _date_layout(values)
            if layout is None:
                skeleton.todos.append(f"{guess.source}: no date layout reads {values[0]!r}; "
                                      f"set {api} = {{ date_format = \"...\" }} under [formats]")
            else:
                layouts[api] = layout
                if others:
                    skeleton.todos.append(f"{guess.source}: every sampled date also reads as {others[0]!r}; "
                                          f"check that {layout!r} is meant")
        elif api in _PERIODS and any(len(v) != _PERIOD_LENGTH or not v.isdigit() for v in values):
            skeleton.todos.append(f"{guess.source}: {values[0]!r} is not a period as the API writes it "
                                  f"({infos[api].format}); give its layout, e.g. {api} = {{ format = \"MM.YYYY\" }} "
                                  "under [formats]")
        suggestion = company_values(company, api, guess.source, values, today) if company is not None else None
        suggestion = suggestion or suggest_values(api, guess.source, found, values)
        if suggestion is not None:
            skeleton.values.append(suggestion)
        _suggest_default(skeleton, guess, cells(guess.source, first_rows), len(first_rows), entity, suggestion)
    _decide_numbers(skeleton, number_verdicts, opened.delimiter)
    _decide_dates(skeleton, layouts)
    for guess in skeleton.unmatched:
        values = cells(guess.source)
        if values and not all(_is_iso(v) for v in values):
            layout, _ = _date_layout(values)
            if layout is not None:
                skeleton.unmatched_dates[guess.source] = layout
    mapped = {g.api for g in skeleton.matched}
    skeleton.missing_required = [i.name for i in infos.values() if i.required and i.name not in mapped]
    return skeleton


_PERIODS = ("financialPeriod", "postPeriod")


def _first_rows(records: list[dict[str, Any]], guesses: list[Guess], entity: Entity) -> list[dict[str, Any]]:
    """The rows that carry a record's own fields: every row, or a document's first row."""
    if not entity.is_document:
        return records
    key = next((g.source for g in guesses if g.api == entity.key_field), None)
    if key is None:
        return records
    out, last = [], object()
    for row in records:
        if row.get(key) != last:
            out.append(row)
        last = row.get(key)
    return out


def _suggest_default(skeleton: Skeleton, guess: Guess, values: list[str], rows: int, entity: Entity,
                     suggestion: ValueSuggestion | None = None) -> None:
    """The commonest value as a [defaults] suggestion, for a code column some rows leave empty
    (free text such as names and e-mail addresses has no sensible default). Defaults are API
    values, so a value the column's value map translates is suggested translated."""
    api = guess.api
    if api is None or not values or len(values) == rows or api == entity.key_field or api.startswith("line."):
        return
    if len(set(values)) > max(1, len(values) // 2):
        return
    value, _ = Counter(values).most_common(1)[0]
    if suggestion is not None:
        mapped = {k.casefold(): v for k, v in suggestion.mapped.items()}.get(value.casefold())
        if mapped is None and value in suggestion.todo:
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
