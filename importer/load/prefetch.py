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
from contextlib import aclosing
from typing import Any

from importer.client.http import ApiClient
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.errors import ApiError
from importer.schema import unwrap_value

__all__ = ["prefetch_keys", "count_records", "PAGE_SIZE"]

PAGE_SIZE = 1000  # asked for; the API caps it at its own maximum and says so in metadata
_UNBOUNDED = 10**9  # count every line


def count_records(path: str | os.PathLike[str], limit: int) -> int | None:
    """Lines in an input file (an upper bound on its records), or None when over ``limit``."""
    opener: Any = gzip.open if os.fspath(path).endswith(".gz") else open
    count = 0
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            if count > limit:
                return None
    return count


async def prefetch_keys(client: ApiClient, entity: Entity, input_path: str | None) -> set[str] | None:
    """Every key the API holds for ``entity``, or None when a GET per record is cheaper.

    ``input_path``: the input file, counted (only as far as it matters) once the first
    page tells how many pages there are; None when it cannot be counted (a stream).
    """
    assert entity.key_field is not None
    keys: set[str] = set()
    budget: int | None = None  # pages worth reading when the list does not say its size
    try:
        async with aclosing(list_pages(client, entity, {}, page_size=PAGE_SIZE)) as pages:
            async for page in pages:
                if page.number == 1 and page.total_count is not None and input_path is not None:
                    needed = math.ceil(page.total_count / page.page_size)
                    records = count_records(input_path, limit=needed)
                    if records is not None and needed > records + 1:
                        return None  # fewer records than pages: GET each record's key instead
                elif page.number == 1 and input_path is not None:
                    # No totalCount (list items without metadata): page on only while that
                    # costs no more than a GET per record would; the pages read are the price.
                    budget = count_records(input_path, limit=_UNBOUNDED)
                if budget is not None and page.number > budget and len(page.items) >= page.page_size:
                    return None
                for item in page.items:
                    value = unwrap_value(item.get(entity.key_field))
                    if value is not None:
                        keys.add(str(value))
    except ListError as exc:
        raise ApiError(exc.status, f"upsert: cannot list the existing {entity.name} keys: {exc}") from None
    return keys
