"""What a record *is*, whatever row it is on: its identity and its fingerprint.

The identity names the record in the API's terms, so a rerun, a resume or a plan
finds it again after rows are inserted, deleted or reordered:

========================  ==========================================  ===============
record                    identity                                    example
========================  ==========================================  ===============
keyed customer/document   ``key:`` + number / referenceNumber          ``key:C1001``
auto-numbered document    ``doc:`` + documentKey                      ``doc:INV-7``
dunning letter            ``letter:`` customer, date, levels          ``letter:C1|2024-01-31|1-3``
nothing that names it     ``content:`` + its fingerprint              ``content:9f2c…``
========================  ==========================================  ===============

The fingerprint is a short hash of the mapped payload (keys sorted), taken before
the importer adds anything of its own (``externalReference``): the same record
always has the same fingerprint, and a changed cell changes it. A record that could
not be mapped is fingerprinted by its source rows instead, so fixing it changes it.

    identity, fingerprint = identify(entity, work)
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Any

import orjson

from importer.entities import Entity
from importer.mapping import Work
from importer.schema import unwrap_value

__all__ = ["identify", "fingerprint_of", "CONTENT"]

CONTENT = "content:"  # the prefix of identities made from the content alone


def fingerprint_of(value: Any) -> str:
    """16 hex digits that change whenever ``value`` does (dict order aside)."""
    try:  # the usual payload, all text keys and JSON values: the same bytes, sooner
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return blake2b(data, digest_size=8).hexdigest()


def identify(entity: Entity, work: Work) -> tuple[str, str]:
    """``(identity, fingerprint)`` of one unit of work (see the module's table)."""
    if work.payload is not None:
        fingerprint = fingerprint_of(work.payload)
    else:  # invalid: its rows as read stand for it
        fingerprint = fingerprint_of([getattr(r.data, "source", r.data) for r in work.rows])
    if entity.is_action:
        payload = work.payload or {}
        if work.key:
            date = unwrap_value(payload.get("dunningLetterDate"))
            levels = f"{unwrap_value(payload.get('levelFrom'))}-{unwrap_value(payload.get('levelTo'))}"
            return f"letter:{work.key}|{date}|{levels}", fingerprint
    elif work.key:
        return f"key:{work.key}", fingerprint
    elif work.group:
        return f"doc:{work.group}", fingerprint
    return CONTENT + fingerprint, fingerprint
