"""Pages read one ahead: the next page is asked for while the last one is written.

    async with read_ahead(list_pages(client, entity, params)) as pages:
        async for page in pages:
            await anyio.to_thread.run_sync(write, page)  # page N+1 is on its way meanwhile

A task of its own pulls the pages, in order, each once, and hands each over through a
stream that holds none: it gets page N+1 while the caller handles page N, then waits for
the caller to take it before asking for N+2. So at most two pages are in memory, and a
page's request never waits for the page before it to be written.

A page that cannot be had (:class:`~importer.client.pages.ListError`, or any other error
of the reading) is handed over in its turn and raised to the caller, as it is, after the
pages before it, so everything that came is
written before the export stops. When the caller stops early (an error of its own, or
cancelled), the page in flight is cancelled and no further page is asked for.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from importer.client.pages import Page

__all__ = ["read_ahead"]


async def _pull(pages: AsyncGenerator[Page, None], send: ObjectSendStream[Page | Exception]) -> None:
    async with send, aclosing(pages):
        try:
            async for page in pages:
                await send.send(page)
        except Exception as exc:  # noqa: BLE001 - raised to the caller in its turn, as it was
            await send.send(exc)


async def _handed(receive: ObjectReceiveStream[Page | Exception]) -> AsyncGenerator[Page, None]:
    async with receive:
        async for item in receive:
            if isinstance(item, Exception):
                raise item
            yield item


@asynccontextmanager
async def read_ahead(pages: AsyncGenerator[Page, None]) -> AsyncIterator[AsyncIterator[Page]]:
    """``pages`` with the next one already asked for while the caller handles the last."""
    send, receive = anyio.create_memory_object_stream[Page | Exception](0)
    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(_pull, pages, send)
        handed = _handed(receive)
        try:
            yield handed
        except Exception as exc:  # noqa: BLE001 - raised as it is once the reader has stopped
            error = exc
        finally:
            tg.cancel_scope.cancel()  # the caller is done: nothing more is asked for
            await handed.aclose()
    if error is not None:
        raise error  # not inside the task group, which would wrap it in an ExceptionGroup
