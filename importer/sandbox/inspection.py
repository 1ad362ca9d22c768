"""What the /sandbox/* inspection routes answer: stored records and the stats document.

Both look over every tenant: ``records_of`` lists one entity's records of all tenants
(or of one, by name), and the stats give records in total per entity and per tenant.
"""

from __future__ import annotations

from typing import Any

from importer.entities import ENTITIES
from importer.sandbox.answers import message_error
from importer.sandbox.store import Record, Store

__all__ = ["records_of", "stats_document"]


def records_of(store: Store, entity: str, tenant: str | None) -> list[Record]:
    """``entity``'s stored records: every tenant's in turn, or only ``tenant``'s.

    A tenant the sandbox has not seen holds no records: an empty list, not an error.
    """
    if entity not in ENTITIES:
        raise message_error(404, f"Unknown entity '{entity}'; expected one of {', '.join(ENTITIES)}.")
    if tenant is not None:
        tables = store.tenants.get(tenant)
        return list(tables.records[entity].values()) if tables is not None else []
    return [record for tables in store.tenants.values() for record in tables.records[entity].values()]


def stats_document(store: Store, seed: int) -> dict[str, Any]:
    """The /sandbox/stats document: records in total and per tenant, then the counters."""
    return {
        "records": store.counts(),
        "tenants": {name: tables.counts() for name, tables in store.tenants.items()},
        **store.stats.to_json(),
        "seed": seed,
    }
