"""Run the sandbox on a real socket for the length of an ``async with`` block."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from aiohttp import web

from importer.sandbox.app import SANDBOX, Sandbox, create_app
from importer.sandbox.config import SandboxConfig
from importer.sandbox.guard import WILDCARDS

__all__ = ["serve", "RunningSandbox"]

# In-flight requests get this long to finish on shutdown; a "slow" fault is cut short.
_SHUTDOWN_TIMEOUT = 0.5


@dataclass(frozen=True, slots=True)
class RunningSandbox:
    """A sandbox listening on a socket."""

    url: str  # base URL before /v1, e.g. http://127.0.0.1:54321
    token_url: str  # url + /connect/token
    app: web.Application

    @property
    def sandbox(self) -> Sandbox:
        """The components behind the app (store, stats, ...), for tests and tools."""
        return self.app[SANDBOX]


@asynccontextmanager
async def serve(config: SandboxConfig | None = None) -> AsyncIterator[RunningSandbox]:
    """Start the sandbox (127.0.0.1, free port by default), yield where it listens, stop it.

    Works under asyncio and anyio's asyncio backend; shutdown runs shielded from
    cancellation so the state file is always flushed and the port released.
    """
    config = config or SandboxConfig()
    app = create_app(config)
    access_log = logging.getLogger("aiohttp.access") if config.verbose else None
    # Idle keep-alive connections are closed after keepalive_timeout (longer than a client
    # pool's usual 15 s, so the client drops first and never reuses a closing socket). The
    # unread rest of a refused body (408, 413) is drained for at most body_timeout before
    # the connection is closed, so a trickling client cannot hold it open.
    runner = web.AppRunner(
        app, access_log=access_log, shutdown_timeout=_SHUTDOWN_TIMEOUT,
        keepalive_timeout=config.keepalive_timeout, lingering_time=config.body_timeout,
    )
    try:
        await runner.setup()
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        if config.host not in WILDCARDS:
            host = config.host
        elif host in WILDCARDS:
            host = "127.0.0.1"
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}"
        yield RunningSandbox(url=url, token_url=f"{url}/connect/token", app=app)
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()
