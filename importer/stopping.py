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

:func:`on_stop_signals` is how: SIGINT, SIGTERM and, on Windows, SIGBREAK (Ctrl-Break, or
the console window closing) each call back into the event loop, on every platform. Where
the loop can watch signals itself (``loop.add_signal_handler``: Linux, macOS) it does;
Windows' loops cannot (they raise NotImplementedError), so there a ``signal.signal``
handler hands each signal to the loop with ``call_soon_threadsafe``. Either way the handlers
are the loop's only while asked, and whatever was there before is put back.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import anyio

__all__ = ["StopRequest", "on_stop_signals", "stop_signals"]


def stop_signals() -> list[signal.Signals]:
    """The signals that ask a run to stop, of those this platform has."""
    return [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name)]


@contextmanager
def on_stop_signals(callback: Callable[[], object]) -> Iterator[bool]:
    """Call ``callback`` in the running loop for each stop signal while inside; yields whether
    the handlers are in place (only a process's main thread may handle signals: elsewhere none
    are, and Ctrl-C reaches the main thread the ordinary way)."""
    loop = asyncio.get_running_loop()
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    watched: list[signal.Signals] = []
    previous: dict[signal.Signals, object] = {}

    def handed_over(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)

    try:
        for sig in stop_signals():
            try:
                loop.add_signal_handler(sig, callback)
                watched.append(sig)
            except NotImplementedError:  # Windows' event loops
                previous[sig] = signal.signal(sig, handed_over)
        yield True
    finally:
        for sig in watched:
            loop.remove_signal_handler(sig)
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)  # type: ignore[arg-type]


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
        """Turn stop signals (:func:`stop_signals`) into requests until cancelled."""
        with on_stop_signals(self.ask):
            await anyio.sleep_forever()
