"""A lean HTTP/1.1 load generator: the sandbox's ceiling, without aiohttp's client cost.

Each of ``connections`` keep-alive connections is an ``asyncio.Protocol`` that writes a
pre-built request (bytes made before the clock starts) and, when the whole answer is in
(found by ``Content-Length``), writes the next one: one request in flight per
connection, like the importer and wrk. No header parsing beyond the status code and
the length, no objects per request: the generator should spend far less CPU per
request than the server, which the benchmark checks by reporting both CPU%.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["build_requests", "generate", "LoadResult"]

_CONTENT_LENGTH = b"\r\ncontent-length:"


def build_requests(host: str, port: int, path: str, token: str, bodies: Sequence[bytes]) -> list[bytes]:
    """Whole POST requests, head and body, ready to write."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
    ).encode()
    return [b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body) for body in bodies]


@dataclass(slots=True)
class LoadResult:
    completed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class _Run:
    """The shared queue of requests and the tally; ends when every request is answered."""

    def __init__(self, requests: Sequence[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.requests = requests
        self.next = 0
        self.result = LoadResult()
        self.open = 0
        self.finished = loop.create_future()

    def take(self) -> bytes | None:
        i = self.next
        if i >= len(self.requests):
            return None
        self.next = i + 1
        return self.requests[i]

    def answered(self, status: int) -> None:
        result = self.result
        result.completed += 1
        result.statuses[status] = result.statuses.get(status, 0) + 1

    def closed(self, error: str | None) -> None:
        self.open -= 1
        if error:
            self.result.errors.append(error)
        if self.open == 0 and not self.finished.done():
            self.finished.set_result(None)


class _Connection(asyncio.Protocol):
    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send_next()

    def _send_next(self) -> None:
        request = self.run.take()
        if request is None:
            self.transport.close()  # type: ignore[union-attr]
            return
        self.transport.write(request)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buffer[:end]).lower()
        at = head.find(_CONTENT_LENGTH)
        if at < 0:
            self.transport.abort()  # type: ignore[union-attr]
            self.run.result.errors.append("an answer without Content-Length")
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + len(_CONTENT_LENGTH): stop if stop >= 0 else len(head)])
        if len(buffer) < end + 4 + length:
            return  # the body is still coming
        del buffer[: end + 4 + length]
        self.run.answered(int(head[9:12]))
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.run.closed(f"{type(exc).__name__}: {exc}" if exc else None)


async def generate(
    host: str, port: int, requests: Sequence[bytes], *, connections: int, timeout: float
) -> LoadResult:
    """Send every request over ``connections`` keep-alive connections; bounded by ``timeout``."""
    loop = asyncio.get_running_loop()
    run = _Run(requests, loop)
    started = time.perf_counter()
    for _ in range(min(connections, len(requests))):
        run.open += 1
        await loop.create_connection(lambda: _Connection(run), host, port)
    await asyncio.wait_for(run.finished, timeout)
    run.result.elapsed_s = time.perf_counter() - started
    return run.result
