"""What a loaded mapping file holds, and the naming helpers its messages share."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from importer.entities import Entity
from importer.errors import ConfigError
from importer.mapping.coerce import CoerceOptions
from importer.mapping.columns import field_for_column
from importer.mapping.transforms import PeriodFormat, Rewrite

if TYPE_CHECKING:
    from importer.mapping.binding import BoundMap
    from importer.mapping.computed import Computed
    from importer.mapping.lookups import LookupTable

__all__ = ["KEEP", "MISS", "MapError", "MappedRow", "ColumnFormat", "ValueMap", "ColumnMap"]

KEEP = "*"  # the value-map key for "any other value", and as its value: keep it
MISS = object()  # "no value" where None is a value
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
# Told with every unknown column, so the way out is in the message.
UNKNOWN_COLUMNS_HINT = (
    "`importer columns {entity}` lists the API columns; `importer map init INPUT --entity {entity}` "
    "writes a skeleton map (--map FILE.toml) that binds each header to the likeliest one"
)


class MapError(ConfigError):
    """Every mistake found in one mapping file (or in a header checked against it)."""

    def __init__(self, path: str, problems: Sequence[str], hint: str | None = None) -> None:
        self.path = path
        self.problems = list(problems)
        self.hint = hint
        if len(self.problems) == 1:
            message = f"{path}: {self.problems[0]}"
        else:
            message = f"{path}: {len(self.problems)} problems:\n  " + "\n  ".join(self.problems)
        if hint:
            message += f"\n{hint}"
        super().__init__(message)


class MappedRow(dict[str, Any]):
    """One record keyed by API columns; ``source`` is the record as it was read."""

    __slots__ = ("source",)
    source: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ColumnFormat:
    decimal_comma: bool | None = None  # None: the map's, else the run's
    date_format: str | None = None  # None: the map's, else the run's; "" means ISO 8601
    period: PeriodFormat | None = None  # a period column's legacy layout
    rewrites: tuple[Rewrite, ...] = ()  # applied to the source text first
    keep_unmatched: bool = False  # a value no rewrite matches is kept, not an error


@dataclass(frozen=True, slots=True)
class ValueMap:
    column: str  # the API column
    table: dict[str, Any]  # casefolded, trimmed source value -> API value
    fallback: Any  # MISS: strict; KEEP: keep the value; else the API value for the rest
    shown: tuple[str, ...]  # the keys as written, for messages


@dataclass(frozen=True)
class ColumnMap:
    """A loaded, checked mapping file. Immutable; :meth:`bind` it to each input."""

    path: str
    entity: Entity
    columns: dict[str, tuple[str, ...]]  # source column -> API columns
    ignore: frozenset[str]
    unmapped: str  # "error" | "ignore"
    constants: dict[str, Any]  # API column -> API value (coerced)
    defaults: dict[str, Any]
    formats: dict[str, ColumnFormat]  # API column -> its format
    decimal_comma: bool | None  # map-wide
    date_format: str | None  # map-wide; "" means ISO 8601
    values: dict[str, ValueMap]  # API column -> its value map
    description: str | None = None
    numbering: str | None = None  # how created records are numbered (importer.load.numbering); None: the run's
    numbering_field: str | None = None  # where company numbering keeps the legacy number
    encoding: str | None = None  # the input's encoding (a codec name); None: the run's
    computed: dict[str, Computed] = field(default_factory=dict)  # API column -> its expression
    lookups: dict[str, LookupTable] = field(default_factory=dict)  # [lookups.NAME] tables, read

    @property
    def reads(self) -> frozenset[str]:
        """The source columns [computed] expressions read: used, so never unmapped."""
        return frozenset(ref.name for comp in self.computed.values() for ref in comp.reads)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def bind(self, columns: Sequence[str] | None = None, options: CoerceOptions | None = None) -> BoundMap:
        """The map for one input. ``columns``: the CSV header (checked now, raising
        :class:`MapError` for unmapped or clashing columns); ``None`` for NDJSON and
        dict iterables, whose keys are checked per record. ``options``: the run's
        ``--decimal-comma`` / ``--date-format``, for columns the map gives no format."""
        from importer.mapping.binding import BoundMap  # binding builds on these types

        return BoundMap(self, columns, options or CoerceOptions())

    def header(self, columns: Sequence[str]) -> list[str]:
        """The API columns records of this header map to (raises :class:`MapError`)."""
        bound = self.bind(columns)
        assert bound.columns is not None
        return bound.columns


# -- naming helpers --------------------------------------------------------------------


def flatten_keys(
    table: dict[str, Any], prefix: str = "", leaf: Callable[[str, Any], bool] | None = None,
) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) pairs: ``a.b = 1`` and ``"a.b" = 1`` read the same."""
    for key, value in table.items():
        path = prefix + key
        if isinstance(value, dict) and not (leaf is not None and leaf(path, value)):
            yield from flatten_keys(value, path + ".", leaf)
        else:
            yield path, value


def kind_of(entity: Entity, column: str) -> str:
    found = field_for_column(entity, column)
    return (found.type or found.kind) if found is not None else "string"


def article(kind: str) -> str:
    return {"string": "a text column", "boolean": "a true/false column", "integer": "a whole-number column",
            "number": "a number column", "datetime": "a date column", "uuid": "a UUID column"}.get(kind, kind)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    candidates = list(candidates)
    folded = name.casefold()
    for candidate in candidates:
        if candidate.casefold() == folded:
            return candidate
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    # "countryId" → "mainAddress.countryId": the last part alone
    tails = [c for c in candidates if c.rsplit(".", 1)[-1].casefold() == folded]
    return tails[0] if tails else None


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else quoted(key)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)
