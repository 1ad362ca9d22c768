"""A file's units of work, mapped as a run maps them: for the run, and for a pass that sends nothing.

:func:`works_of` is the run's stream (a ``--map`` first, then the mapper); :func:`mapped_work`
opens the input once more on its own and yields the same units, for the preflight's pass
before a live run sends anything and for ``importer check``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from importer.entities import ENTITIES
from importer.errors import SourceError
from importer.load.thousands import check_thousands
from importer.mapping import CoerceOptions, RecordMapper, Work
from importer.mapping.inputmap import bind_input
from importer.mapping.mapfile import BoundMap, input_encoding
from importer.options import ImportOptions
from importer.sources import SourceOptions, open_input
from importer.sources.base import SourceRecord
from importer.summary import Summary

__all__ = ["works_of", "mapped_work"]


async def works_of(
    mapper: RecordMapper, records: AsyncIterator[SourceRecord], summary: Summary, bound: BoundMap | None
) -> AsyncIterator[Work]:
    try:
        async for record in records:
            if bound is not None:  # --map: source columns -> API columns, first
                record = bound.map_record(record)
            for work in mapper.feed(record):
                yield work
    except SourceError as exc:
        summary.error = str(exc)  # what was read still goes out; the run then fails
    for work in mapper.finish():
        yield work



async def mapped_work(source: Any, opts: ImportOptions,
                      on_bound: Callable[[BoundMap | None], None] | None = None,
                      thousands: bool = False) -> AsyncIterator[Work]:
    """``source``'s units of work, mapped as a run of ``opts`` maps them, sending nothing (the
    preflight's pass, ``importer check``). ``on_bound``: told the map bound to the input.
    ``thousands``: refuse a ``;`` file whose amounts read only as thousands, as a run does
    (:func:`~importer.load.thousands.check_thousands`; a run has checked it already)."""
    form = opts.input
    name = os.fspath(source) if isinstance(source, str | os.PathLike) else str(getattr(source, "name", "<records>"))
    ent = ENTITIES[opts.entity]
    read_as = SourceOptions(form.format, form.delimiter, form.max_field_size, input_encoding(form.encoding, form.map),
                            entity=opts.entity, settings=opts.saft, sheet=form.sheet, header_row=form.header_row)
    with open_input(source, read_as) as opened:
        coerce = CoerceOptions(
            decimal_comma=form.decimal_comma if form.decimal_comma is not None else opened.delimiter == ";",
            date_format=form.date_format,
        )
        bound, coerce, columns = bind_input(opened.reader, opened.columns, ent, form.map, coerce, name)
        if thousands and form.decimal_comma is None and opened.delimiter == ";" and coerce.decimal_comma \
                and isinstance(source, str | os.PathLike) and os.fspath(source) != "-":
            await check_thousands(source, read_as, ent, form.map, name)
        if on_bound is not None:
            on_bound(bound)
        mapper = RecordMapper(ent, mode=opts.mode, options=coerce, columns=columns)
        scratch = Summary(opts.entity, opts.mode, name, None)
        async for work in works_of(mapper, opened.records(), scratch, bound):
            yield work  # an input that stops being readable ends here: the run itself says so
