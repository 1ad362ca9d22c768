"""The API's paged list GETs: ``pageNumber``/``pageSize`` until a short page or ``totalCount``.

    async for page in list_pages(client, entity, {"status": "Open"}):
        ...  # page.items: the records of one page, as the API sends them

Used by ``export``, ``verify`` and the key prefetch of ``--mode upsert``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

from importer.client.http import ApiClient
from importer.entities import Entity
from importer.errors import ApiError

__all__ = ["ASK_PAGE_SIZE", "Page", "ListError", "list_pages"]

ASK_PAGE_SIZE = 10_000  # asked for on the first page; the API clamps it to its maximum


class ListError(ApiError):
    """A list page could not be had (after the client's retries): ``status`` its last answer's, if one came.

    Those who list catch it and say what the listing was for; where nothing can, it is the
    ``ApiError`` it is.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(status, message)


@dataclass(slots=True)
class Page:
    number: int
    items: list[dict[str, Any]]
    page_size: int  # the size the next page is asked with
    total_count: int | None  # from this page's metadata


async def list_pages(
    client: ApiClient, entity: Entity, params: Mapping[str, str], *, page_size: int | None = None,
) -> AsyncGenerator[Page, None]:
    """Every page of ``entity``'s list GET, in order, until a short or empty page or totalCount.

    The first request asks for ``page_size`` (default :data:`ASK_PAGE_SIZE`); the API clamps
    it to its maximum and reports that maximum, which every later page then uses, so page N
    starts exactly where page N-1 ended. Raises :class:`ListError` when a page fails.
    """
    asked = page_size or ASK_PAGE_SIZE
    size, total, seen, number = asked, None, 0, 1
    while True:
        query = {**params, "pageNumber": str(number), "pageSize": str(size)}
        attempt = await client.request("GET", entity.path, params=query)
        response = attempt.response
        if response is None:
            raise ListError(f"page {number}: {attempt.error or 'no answer'}")
        if response.status != 200:
            raise ListError(f"page {number}: HTTP {response.status}: {attempt.error or response.error_text()}",
                            response.status)
        if attempt.error is not None:  # a 200 that is no list: a sign-in page, a body past the cap
            raise ListError(f"page {number}: {attempt.error}", response.status)
        items = response.json()
        if not isinstance(items, list):
            raise ListError(f"page {number}: expected a JSON array, got {type(items).__name__}", response.status)
        items = [item for item in items if isinstance(item, dict)]
        meta = items[0].get("metadata") if items else None
        if isinstance(meta, dict):
            if isinstance(meta.get("totalCount"), int):
                total = meta["totalCount"]
            if number == 1 and isinstance(meta.get("maxPageSize"), int) and meta["maxPageSize"] > 0:
                size = min(asked, meta["maxPageSize"])
        if number == 1 and not isinstance(meta, dict) and 0 < len(items) < asked:
            size = len(items)  # no metadata: the server may have clamped; an empty page will end it
        seen += len(items)
        yield Page(number, items, size, total)
        if not items or len(items) < size or (total is not None and seen >= total):
            return
        number += 1
