"""The preflight's listing of the ledger's customers is kept on disk, not in memory.

Issue 28: a document step's preflight listed every customer of the ledger into a set, one per
company; a fleet checks its companies at once, so a hundred established companies held
every one of their customers together. Measured with tracemalloc around the listing of a
small aiohttp ledger of 2,000 and of 40,000 customers, served a page at a time (1,000 a page).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from importer.client import ApiClient
from importer.load.preflight import ledger_customers

pytestmark = pytest.mark.one_profile

# Kept in a set, 38,000 more customer numbers took ~4 MB; a page (1,000 customers) is the
# same at both sizes.
_BOUND = 400_000


def _ledger(count: int) -> web.Application:
    async def customers(request: web.Request) -> web.Response:
        size = min(int(request.query["pageSize"]), 1000)
        first = (int(request.query["pageNumber"]) - 1) * size + 1
        page: list[dict[str, Any]] = [{"number": f"C{n:07d}", "name": f"Kunde {n}"}
                                      for n in range(first, min(first + size, count + 1))]
        if page:
            page[0]["metadata"] = {"totalCount": count, "maxPageSize": 1000}
        return web.json_response(page)

    app = web.Application()
    app.router.add_get("/v1/customer", customers)
    return app


@asynccontextmanager
async def _serving(count: int) -> AsyncIterator[str]:
    runner = web.AppRunner(_ledger(count))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_listing_twenty_times_the_customers_takes_the_same_memory() -> None:
    peaks: dict[int, int] = {}
    for count in (2_000, 40_000):
        async with _serving(count) as url, ApiClient(url) as client:
            tracemalloc.start()
            try:
                ledger = await ledger_customers(client)
                peaks[count] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert "C0000001" in ledger and f"C{count:07d}" in ledger
            assert f"C{count + 1:07d}" not in ledger and "c0000001" not in ledger  # exactly as listed
            assert client.stats.calls == count // 1000  # a page of 1,000 a call
    assert peaks[40_000] - peaks[2_000] < _BOUND, peaks
