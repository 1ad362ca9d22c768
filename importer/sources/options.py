"""How a file is read: :class:`SourceOptions`, apart from the readers.

Its defaults are the run's (``importer.options.InputFormat`` reads them here), and
``importer --help`` prints them: this module imports nothing, so neither pays for the readers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceOptions"]


@dataclass(frozen=True)
class SourceOptions:
    """How a file is read; its defaults are the run's (``importer.options.InputFormat`` reads them here).

    ``entity`` and ``settings`` are for the input kinds that read one file as more than one
    entity (:mod:`importer.sources.kinds`): what to read it as, and the kind's own settings
    (a SAF-T file's ``SaftSettings``); CSV and NDJSON ignore both. ``sheet`` and ``header_row``
    are a workbook's (:mod:`importer.sources.xlsx`).
    """

    format: str | None = None  # "csv" | "ndjson", or a registered kind's; None: by extension
    delimiter: str | None = None  # None: sniffed among , ; TAB |
    max_field_size: int = 1 << 20  # bytes of a line, a field or a CSV record; see the README ("Input files")
    encoding: str | None = None  # None: UTF-8, checked whole before a file is read (see open_source)
    entity: str | None = None
    settings: object = None
    sheet: str | None = None  # a workbook's sheet, by name or 1-based place; None: the first
    header_row: int | None = None  # a workbook's header row; None: found (see importer.sources.xlsx)
