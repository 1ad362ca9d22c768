"""Helpers shared by the sandbox tests: payload builders, a fake clock, a thin API client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from importer.sandbox import SandboxConfig, serve
from importer.sandbox.server import RunningSandbox

AUTH = {"Authorization": "Bearer sandbox-token"}
TIMEOUT = aiohttp.ClientTimeout(total=10)

# The seed guide's minimal customer, as printed there.
GUIDE_CUSTOMER = {
    "name": {"value": "NewCustomer"},
    "number": {"value": "10000"},
    "overrideWithClassValues": True,
    "customerClassId": {"value": "1"},
    "mainAddress": {"value": {
        "addressLine1": {"value": "TestRoad 13"},
        "postalCode": {"value": "0101"},
        "countryId": {"value": "NO"},
    }},
}


def w(value: Any) -> dict[str, Any]:
    """A value as the API wraps it."""
    return {"value": value}


def customer_body(number: str | None = "10000", name: str = "Acme AS", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": w(name), **extra}
    if number is not None:
        body["number"] = w(number)
    return body


class FakeClock:
    """A monotonic clock the test moves by hand (token expiry, rate windows)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A session against one running sandbox, with the static token preset."""

    def __init__(self, running: RunningSandbox, session: aiohttp.ClientSession) -> None:
        self.running = running
        self.url = running.url
        self.session = session

    def request(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**AUTH, **kw.pop("headers", {})}
        if kw.pop("anonymous", False):
            headers.pop("Authorization")
        return self.session.request(method, self.url + path, headers=headers, **kw)

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any, Any]:
        """(status, decoded JSON body, or its text when it is not JSON, or None, headers).

        The live profile may answer an error in plain text; a test reading its status still works.
        """
        async with self.request(method, path, **kw) as r:
            text = await r.text()
            if not text:
                return r.status, None, r.headers
            try:
                return r.status, json.loads(text), r.headers
            except ValueError:
                return r.status, text, r.headers

    async def post_customer(self, number: str | None = "10000", **extra: Any) -> int:
        status, _, _ = await self.call("POST", "/v1/customer", json=customer_body(number, **extra))
        return status

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.url + "/sandbox/stats", headers=AUTH) as r:
            return await r.json()

    async def records(self, entity: str) -> list[dict[str, Any]]:
        async with self.session.get(f"{self.url}/sandbox/records/{entity}", headers=AUTH) as r:
            return await r.json()

    async def reset(self) -> int:
        """POST /sandbox/reset; its status."""
        async with self.session.post(self.url + "/sandbox/reset", headers=AUTH) as r:
            return r.status


@asynccontextmanager
async def running_api(config: SandboxConfig | None = None) -> AsyncIterator[Api]:
    async with serve(config or SandboxConfig()) as running:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            yield Api(running, session)
