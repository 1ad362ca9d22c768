"""What a sandbox stores, compared across two sandboxes (export → import round trips)."""

from __future__ import annotations

from typing import Any

from importer.entities import ENTITIES
from importer.mapping.flatten import WRITE_ONLY
from importer.sandbox.dates import as_read
from importer.schema import fields
from tests.support.runs import get_json

__all__ = ["stored_records", "SYSTEM_FIELDS"]

SYSTEM_FIELDS = ("createdDateTime", "lastModifiedDateTime")  # what each sandbox writes itself


async def stored_records(sb: Any, entity: str) -> dict[str, dict[str, Any]]:
    """The sandbox's stored records of ``entity`` by key, without its own timestamps and the
    write-only fields no read answers (an export cannot carry them). Dates are taken as reads
    answer them: a date sent as ``2020-02-03`` and one exported and imported again as the
    API answered it, ``2020-02-03T00:00:00``, are the same date."""
    key = ENTITIES[entity].key_field
    rows = await get_json(f"{sb.url}/sandbox/records/{entity}")
    assert isinstance(rows, list)
    skip = {*SYSTEM_FIELDS, *WRITE_ONLY.get(entity, ())}
    dates = {f.name for f in fields(ENTITIES[entity].schema).values() if f.type == "datetime"}
    return {
        r[key]: {k: as_read(v) if k in dates and isinstance(v, str) else v for k, v in r.items() if k not in skip}
        for r in rows
    }
