"""A person's request to stop, shared by every run it concerns.

The first request lets requests in flight finish (each run's ``grace`` seconds); a
second stops at once. ``importer run`` and ``plan`` make one from SIGINT/SIGTERM for
their run; ``fleet`` makes one for all its companies, so one Ctrl-C reaches every
company however many runs are going on (a signal has one handler per process).

    stop = StopRequest()
    async with anyio.create_task_group() as tg:
        tg.start_soon(stop.from_signals)
        await import_records(path, entity="customer", stop=stop)
        tg.cancel_scope.cancel()
"""

from __future__ import annotations

import signal

import anyio

__all__ = ["StopRequest"]


class StopRequest:
    """Two events: ``first`` (finish what is in flight) and ``second`` (stop now).

    Made inside the event loop (anyio events belong to one).
    """

    def __init__(self) -> None:
        self.first = anyio.Event()
        self.second = anyio.Event()

    @property
    def asked(self) -> bool:
        return self.first.is_set()

    def ask(self) -> None:
        """One more request: the first asks for a clean stop, any later one for a stop now."""
        if self.first.is_set():
            self.second.set()
        else:
            self.first.set()

    async def from_signals(self) -> None:
        """Turn SIGINT and SIGTERM into requests until cancelled."""
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                self.ask()
