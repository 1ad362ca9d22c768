"""The sandbox behind a loopback proxy of the test's own: every request counted, chosen answers held.

    async with proxied(sandbox.url, hold=lambda method, path, status: ...) as proxy:
        ... point the CLI at proxy.url ...
        proxy.server.count("GET", "/v1/customerinvoice/INV-1")   # requests, as hostile_server counts them
        await proxy.wait_held(4)     # four answers the sandbox gave are held back from the client
        proxy.let_go()               # held answers are dropped; after it, answers that hold() picks
                                     # are dropped at once (the connection is cut)

A held answer is one the sandbox has already acted on (the document is stored, released),
which the client never hears of: the moment a ``kill -9`` leaves behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from tests.support.hostile_server import HostileServer, hostile

__all__ = ["Proxy", "proxied"]

_HOP = frozenset({"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive", "host"})
_HOLD_AT_MOST = 15.0  # seconds: a held answer is dropped after this, whatever happens


class Proxy:
    def __init__(self, target: str, hold: Callable[[str, str, int], bool] | None) -> None:
        self.target = target
        self.hold = hold
        self.held = 0
        self.server: HostileServer
        self.url = ""
        self._session: aiohttp.ClientSession | None = None
        self._let_go = asyncio.Event()

    async def forward(self, request: web.Request, server: HostileServer) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        body = await request.read()
        async with self._session.request(request.method, self.target + request.rel_url.raw_path_qs,
                                         data=body, headers=headers, allow_redirects=False) as answer:
            data = await answer.read()
            status, answered = answer.status, answer.headers
        if self.hold is not None and self.hold(request.method, request.path, status):
            self.held += 1
            try:
                await asyncio.wait_for(self._let_go.wait(), _HOLD_AT_MOST)
            except TimeoutError:
                pass
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection drop, never the answer
            return web.Response(status=500)  # never sent
        out = {k: v for k, v in answered.items() if k.lower() not in _HOP}
        if "Location" in out:
            out["Location"] = out["Location"].replace(self.target, self.url, 1)
        return web.Response(status=status, body=data, headers=out)

    async def wait_held(self, count: int, timeout: float = 20) -> None:
        async def reached() -> None:
            while self.held < count:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(reached(), timeout)

    def let_go(self) -> None:
        self._let_go.set()

    async def close(self) -> None:
        self.let_go()
        if self._session is not None:
            await self._session.close()


@asynccontextmanager
async def proxied(target: str, hold: Callable[[str, str, int], bool] | None = None) -> AsyncIterator[Proxy]:
    """A proxy to ``target`` (the sandbox's URL) on a loopback port, for the block."""
    proxy = Proxy(target.rstrip("/"), hold)
    try:
        async with hostile({"* *": proxy.forward}) as server:
            proxy.server, proxy.url = server, server.url
            yield proxy
            proxy.let_go()
    finally:
        await proxy.close()
