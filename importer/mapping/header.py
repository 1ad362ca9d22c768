"""A CSV header read without a mapping file: every column the entity lacks, in one error.

:class:`~importer.errors.UnknownColumnsError` lives with the other errors; it is named here too.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from importer.entities import Entity
from importer.errors import UnknownColumnsError
from importer.mapping.columns import DOCUMENT_KEY, ERROR_COLUMN, field_for_column, ledger_totals, valid_columns

__all__ = ["UnknownColumnsError", "check_header", "unknown_columns"]


def unknown_columns(entity: Entity, columns: Sequence[str]) -> list[str]:
    """The header's columns the entity does not accept, in header order (each once)."""
    special = {ERROR_COLUMN, entity.action_key_field, DOCUMENT_KEY if entity.line_field else None,
               *ledger_totals(entity)}
    out: list[str] = []
    for name in columns:
        if name in special or name in out or field_for_column(entity, name) is not None:
            continue
        out.append(name)
    return out


def check_header(entity: Entity, columns: Sequence[str], source: str) -> None:
    """Raise :class:`UnknownColumnsError` listing every column of ``columns`` the entity lacks."""
    unknown = unknown_columns(entity, columns)
    if not unknown:
        return
    valid = valid_columns(entity)
    suggestions = {}
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
        if close:
            suggestions[name] = close[0]
    raise UnknownColumnsError(source, entity.name, unknown, suggestions)
