r"""Mapping files (``--map FILE.toml``): a legacy export's layout → the import's API columns.

A mapping file says, for one entity, which source column becomes which API column
(the dotted names of ``importer columns ENTITY``), which columns to drop, which
values to send on every record, how numbers and dates are written, and how source
values translate to API values. Example::

    # kunder.map.toml: the legacy customer export → Visma.net customers
    entity = "customer"                 # then run, verify and export need no --entity
    ignore = ["Opprettet", "Selger"]    # source columns dropped on purpose
    unmapped = "error"                  # or "ignore": drop every other unknown column

    [columns]                           # "source column" = "API column"
    "Kundenr" = "number"
    "Navn" = "name"
    "Adresse" = ["mainAddress.addressLine1", "invoiceAddress.addressLine1"]  # one → many
    "Fax" = false                       # same as listing it in ignore

    [constants]                         # sent on every record, whatever the source says
    customerClassId = "1"
    overrideWithClassValues = true

    [defaults]                          # sent where the source cell is empty or missing
    currencyId = "NOK"

    [formats]
    decimal_comma = true                # every number column: 1 234,50 and 1.234,50
    date_format = "%d.%m.%Y"            # every date column (strptime layout)
    "line.quantity" = { decimal_comma = false }   # one column differs
    documentDueDate = { date_format = "%Y%m%d" }  # "iso" = ISO 8601 again
    financialPeriod = { format = "MM.YYYY" }      # 01.2024 → 202401 (postPeriod: 012024)
    "line.accountNumber" = { rewrite = { pattern = '^(\d{4})-(\d{3})$', to = '\1\2' } }
    customerRefNumber = { rewrite = [{ pattern = '^KR-', to = '' }], unmatched = "keep" }

    [values."mainAddress.countryId"]    # source value → API value, per API column
    Norge = "NO"                        # keys match case-insensitively, spaces trimmed
    Sverige = "SE"
    "*" = "*"                           # other values kept as they are (see below)

Rules
-----
Source columns. Each column of the input is, in this order: dropped if listed in
``ignore`` (or mapped to ``false``); renamed if it is a key of ``[columns]`` (a
list of API columns copies it to each); kept as it is if its name already is an
API column; otherwise a configuration error naming it, the closest key of the map
and the closest API column — unless ``unmapped = "ignore"``, which drops it. A CSV
header is checked when the run starts, before anything is sent; NDJSON keys are
checked per record (an unmapped key makes that record ``invalid``). Source
columns match exactly (case and all). Two source columns that land on the same API
column are an error. Keys of ``[columns]`` missing from the input are not an error
(one map can serve several variants of an export); ``BoundMap.missing`` lists them.
The ``error`` column a failed-records file adds is always dropped, mapped or not, so
the fixed rows go back in through the same map.

Constants and defaults. ``[constants]`` are sent on every record; an input column
mapping to the same API column is a configuration error (ignore that column, or
use ``[defaults]``). ``[defaults]`` fill cells that are empty (after value maps)
or columns the input lacks. For documents, a default for a document-level column
(not ``line.*``) fills only the first row of a document: later rows of the same
``referenceNumber`` / ``documentKey`` take the first row's value, as without a map.
Constants and defaults are written as API values (ISO dates or TOML dates, dot
decimals, true/false); formats and value maps do not apply to them. The record's
key (``number``, ``referenceNumber``, ``documentKey``, ``customerNumber`` of
dunning letters) can be neither.

Formats. ``decimal_comma`` (number columns) and ``date_format`` (date columns, a
``strptime`` layout such as ``%d.%m.%Y``; ``"iso"`` for ISO 8601) apply per API
column; the top-level ones in ``[formats]`` to every number / date column. A
column takes its own format, else the map's, else the run's (``--decimal-comma``,
on by default for ``;``-separated files, and ``--date-format``). Values are turned
into API values here, so the ``RecordMapper`` behind the map runs with plain
``CoerceOptions()`` (``BoundMap.options``). A number that does not read under its
column's convention is an error naming it, never a guess (``12,345.67`` with a
decimal comma). A date format is checked when the file is loaded: it needs
strptime directives and must read back every date it writes.

Patterns. ``format`` is a period column's legacy layout (``financialPeriod``,
``postPeriod``): ``YYYY`` for the year, ``MM`` (two digits) or ``M`` (one or two) for the
month, anything else as written; the value becomes the API's shape for that column
(``financialPeriod`` YYYYMM, ``postPeriod`` MMYYYY). ``rewrite`` is a regular expression
and its replacement (``\1``, ``\g<name>``), or a list of them: the first whose pattern is
found in the trimmed value replaces what it finds. A value no rewrite matches makes the
record ``invalid`` (naming the column, the value and the patterns) unless the column says
``unmatched = "keep"``. Rewrites apply first, then the value map, then the format; all of
them are compiled once, when the file is loaded.

Value maps. ``[values."API column"]`` translates the trimmed source value,
ignoring case. A value not in the map is an error for that record (``invalid``,
naming the column and value), unless the map has a ``"*"`` entry: ``"*" = "*"``
keeps other values as they are, ``"*" = "X"`` turns them into ``X``. A
replacement ``""`` empties the cell (then ``[defaults]`` apply). Empty cells are
never looked up. Replacements are API values (checked when the file is loaded);
the column's format applies only to source values that are not in the map.
Unquoted dotted table names read the same as quoted ones:
``[values.mainAddress.countryId]`` is ``[values."mainAddress.countryId"]``.

Computed columns. ``[computed]`` fills an API column from an expression over the source
columns (``amount = 'Beløp * Antall'``, ``number = 'lookup("kunder", Kundenr)'``), and
``[lookups.NAME]`` declares a table of another file (``file``, ``key``, ``value``), read when
the map loads: :mod:`importer.mapping.computed`. Mistakes in an expression are the map's,
reported with the key and a caret; a column it reads that the header lacks, the header's.

Entity. ``entity = "customer"`` (or ``invoice``, ...) names what the map is for, so
``run``, ``verify`` and ``export`` with this ``--map`` need no ``--entity``; an
``--entity`` that names another is an error naming both.

Numbering. ``numbering = "company"`` (or ``"manual"``, ``"override"``) says how the
records this map makes are numbered when created, and ``numbering_field`` where
``company`` numbering keeps the file's number (``importer.load.numbering``); the run's
``--numbering`` and ``--numbering-field`` win over them.

Encoding. ``encoding = "cp1252"`` (any name ``--encoding`` takes) is how the input
the map is written for is encoded: ``run``, ``plan``, ``check`` and ``verify`` with this
``--map`` read the file in it (:func:`map_encoding`), so a legacy export from a Windows
program needs no ``--encoding`` on every command. The run's ``--encoding`` wins over it.

Other keys. ``description = "..."`` is free text. TOML puts every key written
below a ``[table]`` line into that table, so top-level keys (``entity``,
``ignore``, ``unmapped``) go above the first one; ``ignore = [...]`` is also
understood inside ``[columns]``.

Errors. Every mistake in the file is reported at once, as ``MapError`` (a
``ConfigError``: exit 2, nothing sent), each line naming the file and the key
(``kunder.map.toml: columns.Land: 'mainAdress.countryId' is not a column of
customer; did you mean 'mainAddress.countryId'?``). A bad value in a record is a
``RecordError`` naming the source column and the API column it maps to
(``Kredittgrense: '12,3x' is not a number (mapped to creditLimit)``); the record
becomes ``invalid`` and the run goes on. Given the CSV header (``load_map(...,
header=...)``), the header's unmapped columns are listed with the file's own mistakes, in one
error that says how to find the right names (``importer columns``, ``importer map init``).

Use::

    cmap = load_map("kunder.map.toml", entity="customer")   # ConfigError on any mistake
    entity = resolve_entity(None, "kunder.map.toml")         # the map's own entity
    bound = cmap.bind(source.columns, coerce_options)        # CSV header checked here
    mapper = RecordMapper(entity, mode=..., options=bound.options, columns=bound.columns)
    for record in source:
        for work in mapper.feed(bound.map_record(record)):
            ...
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from importer.entities import ENTITIES, Entity
from importer.errors import ConfigError
from importer.mapping.binding import BoundMap
from importer.mapping.maploader import Loader
from importer.mapping.mapspec import KEEP, ColumnFormat, ColumnMap, MapError, MappedRow, ValueMap
from importer.mapping.transforms import PeriodFormat, Rewrite

__all__ = [
    "ColumnMap", "BoundMap", "MapError", "MappedRow", "ValueMap", "ColumnFormat", "PeriodFormat", "Rewrite",
    "KEEP", "load_map", "parse_map", "resolve_entity", "map_encoding", "input_encoding",
]


def load_map(
    path: str | os.PathLike[str], entity: str | Entity | None = None, *, header: Sequence[str] | None = None,
) -> ColumnMap:
    """Read and check a mapping file. ``entity``: the run's ``--entity`` (the file's
    own ``entity``, if any, must agree). ``header``: the CSV header it will be bound to,
    whose unmapped columns are then reported with the file's mistakes. Raises
    :class:`MapError` (a ``ConfigError``) naming the file, the key and the reason for
    every mistake found."""
    name = os.fspath(path)
    return parse_map(_read(name), entity=entity, path=name, header=header)


def parse_map(
    text: str, *, entity: str | Entity | None = None, path: str = "<map>", header: Sequence[str] | None = None,
) -> ColumnMap:
    """:func:`load_map` for TOML text already in hand."""
    return Loader(path, _parsed(text, path)).load(entity, header)


def resolve_entity(entity: str | None, map_path: str | os.PathLike[str] | None) -> str:
    """The entity of a run: ``--entity``, else the one its ``--map`` names.

    Raises ``ConfigError`` when neither says, and :class:`MapError` naming both when they differ."""
    if map_path is None:
        if entity is None:
            raise ConfigError("--entity is required (or a --map whose file names its entity = \"...\")")
        if entity not in ENTITIES:
            raise ConfigError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        return entity
    name = os.fspath(map_path)
    return Loader(name, _parsed(_read(name), name)).entity_of(entity).name


def map_encoding(map_path: str | os.PathLike[str] | None) -> str | None:
    """The input encoding a mapping file names (``encoding = "cp1252"``), checked; None when it
    names none. Read before the input is opened, as the input is read in it."""
    if map_path is None:
        return None
    name = os.fspath(map_path)
    loader = Loader(name, _parsed(_read(name), name))
    encoding = loader.encoding(loader.doc.get("encoding"))
    if loader.problems:
        raise MapError(name, loader.problems)
    return encoding


def input_encoding(encoding: str | None, map_path: str | os.PathLike[str] | None) -> str | None:
    """The encoding an input is read in: the run's ``--encoding``, else its map's, else None (UTF-8)."""
    return encoding if encoding is not None else map_encoding(map_path)


def _read(name: str) -> str:
    try:
        raw = Path(name).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"mapping file not found: {name}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {name}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MapError(name, [f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                              "save the mapping file as UTF-8"]) from None


def _parsed(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MapError(path, [f"not valid TOML: {exc}"]) from None
