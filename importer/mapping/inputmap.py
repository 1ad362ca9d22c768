"""How an input's records meet the API's columns, before anything is sent: :func:`bind_input`.

A CSV or NDJSON file's header is checked (every unknown column at once), or bound by the
run's ``--map``. A document's ledger totals (``amount``, ``balance``, ``vatTotal``,
``status``: ``LEDGER_TOTALS``, what ``export`` writes beside the columns) are read past, said once. An input whose reader knows its own columns and map (:class:`BindsItself`:
a SAF-T file, :mod:`importer.saft.source`) binds its records itself, running its own checks
first; the import asks no more of it than that, so it has no branch for any kind of input.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from importer.entities import Entity
from importer.mapping.binding import BoundMap
from importer.mapping.coerce import CoerceOptions
from importer.mapping.columns import ledger_totals
from importer.mapping.header import check_header
from importer.mapping.mapfile import load_map

__all__ = ["BindsItself", "bind_input"]

log = logging.getLogger("importer")


@runtime_checkable
class BindsItself(Protocol):
    """A reader that binds its own records: its built-in map, with the run's ``--map`` laid over it."""

    def bind_map(self, entity: Entity, map_path: str | None, coerce: CoerceOptions) -> BoundMap | None: ...


def bind_input(
    reader: object, columns: list[str] | None, entity: Entity, map_path: str | None, coerce: CoerceOptions, name: str,
) -> tuple[BoundMap | None, CoerceOptions, list[str] | None]:
    """The map the records go through (None: none), and the coercion and columns after it."""
    if isinstance(reader, BindsItself):
        bound = reader.bind_map(entity, map_path, coerce)
    elif map_path:  # loaded with the header, so its mistakes and the header's come as one error
        bound = load_map(map_path, entity, header=columns).bind(columns, coerce)
        for missing in bound.missing:
            log.warning("mapping file names column %r, which %s does not have", missing, name)
    else:
        if columns is not None:
            check_header(entity, columns, name)  # every unknown column at once, nothing sent
            totals = [c for c in ledger_totals(entity) if c in columns]
            if totals:
                log.info("%s: column(s) %s are worked out by the ledger (as export writes them): read, not sent",
                         name, ", ".join(totals))
        return None, coerce, columns
    if bound is None:
        return None, coerce, columns
    return bound, bound.options, bound.columns  # the map already made values canonical
