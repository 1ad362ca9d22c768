"""The floor under any sandbox built on aiohttp.web: read the body, answer 201, nothing else.

    python -m benchmarks.benchlib.floor

It listens on a free loopback port and prints its URL the way the sandbox does, so
``sandbox.running_floor`` starts and stops it like the sandbox. No JSON parsing, no
token, no rate window, no validation, no storage: what it serves per second is the
most a one-process aiohttp sandbox could serve on this machine. (e) measures it with
the same generator as the sandbox, which shows how much of the sandbox's time is the
HTTP server itself.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

_LOCATION = "http://127.0.0.1/v1/customer/1"


async def _answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=201, headers={"Location": _LOCATION})


async def _serve() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"Sandbox listening on http://{host}:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve())
    else:
        uvloop.run(_serve())


if __name__ == "__main__":
    main()
