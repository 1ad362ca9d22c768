"""Upsert without one GET per record: learn which keys the API already holds.

The keys come from paged list GETs at the largest page size the API allows
(one call per page). When the input has fewer records than that would cost
pages, asking per record is cheaper, and :func:`prefetch_keys` says so by
returning None.
"""

from __future__ import annotations

import gzip
import math
import os
from typing import Any

from importer.client.http import ApiClient
from importer.entities import Entity
from importer.errors import ImporterError

__all__ = ["prefetch_keys", "count_records", "PAGE_SIZE"]

PAGE_SIZE = 1000  # asked for; the API caps it at its own maximum and says so in metadata


def count_records(path: str | os.PathLike[str] | None, limit: int = 10_000_000) -> int | None:
    """Lines in an input file (an upper bound on its records), or None when unknown."""
    if path is None or os.fspath(path) == "-":
        return None
    opener: Any = gzip.open if os.fspath(path).endswith(".gz") else open
    count = 0
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            if count > limit:
                return None
    return count


async def prefetch_keys(client: ApiClient, entity: Entity, records_hint: int | None) -> set[str] | None:
    """Every key the API holds for ``entity``, or None when a GET per record is cheaper."""
    assert entity.key_field is not None
    keys: set[str] = set()
    page = 1
    page_size = PAGE_SIZE
    total: int | None = None
    while True:
        attempt = await client.request(
            "GET", entity.path, params={"pageNumber": str(page), "pageSize": str(page_size)}
        )
        response = attempt.response
        if response is None or response.status != 200 or attempt.error is not None:
            reason = attempt.error or (response.error_text() if response is not None else "no answer")
            raise ImporterError(f"upsert: cannot list the existing {entity.name} keys: {reason}")
        items = response.json() or []
        for item in items:
            value = item.get(entity.key_field) if isinstance(item, dict) else None
            if isinstance(value, dict):
                value = value.get("value")
            if value is not None:
                keys.add(str(value))
        if page == 1 and items:
            meta = items[0].get("metadata") if isinstance(items[0], dict) else None
            count = (meta or {}).get("totalCount")
            total = int(count) if count else None  # unknown: page on until a short page
            page_size = min(page_size, int((meta or {}).get("maxPageSize") or page_size), len(items))
            if total is not None and records_hint is not None and math.ceil(total / page_size) > records_hint + 1:
                return None  # fewer records than pages: GET each record's key instead
        if len(items) < page_size or not items or (total is not None and page * page_size >= total):
            return keys
        page += 1
