"""The garbage collector set for a run the way long-running servers set it.

CPython's collector walks its youngest generation every 700 net container allocations,
and what survives is walked again by the older collections. A run keeps many requests in
flight, each holding a few hundred objects (its record, body, futures, aiohttp's request
and response) for the whole of its round trip: with 800 in flight, or a fleet's hundreds
of companies, nearly everything a young collection walks is still alive, so it is promoted
and walked again, and the collector came to take a third of the CPU at ``-c 800`` and more
than half with 300 companies. So, while a run lasts (``tuned_collector``):

- what the process allocated before it (modules, the caller's data, a fleet's manifest) is
  frozen (``gc.freeze``): moved where no collection walks it again;
- the youngest generation is collected every ``YOUNG_PER_REQUEST`` allocations per request
  in flight (``YOUNG_MIN`` at least, ``YOUNG_MAX`` at most), so a collection comes about once
  per round of requests rather than many times within one, and the older ones less often.

Runs overlap: a plan's steps run inside the plan, a fleet's companies at the same time.
The first to start saves the process's settings; each adds its requests in flight while it
runs, and the thresholds follow the sum; the last to end puts back the thresholds, and
unfreezes only if it was the one that froze. A collector the caller disabled stays disabled
(``gc.disable()``, or a threshold of 0), and a process whose objects were already frozen
keeps its own freeze. A library call
(:func:`importer.import_records`) thus leaves the caller's process as it found it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["tuned_collector", "thresholds_for", "YOUNG_PER_REQUEST", "YOUNG_MIN", "YOUNG_MAX", "OLDER"]

YOUNG_PER_REQUEST = 100  # young-generation allocations per request in flight
YOUNG_MIN = 10_000  # as the sandbox sets it for itself: a server's few requests still batch
YOUNG_MAX = 200_000  # a young collection walks this many objects at most
OLDER = (20, 10)  # the middle and oldest generations' thresholds (the defaults are 10, 10)


@dataclass
class _Held:
    """The process's settings before the first run, and what the runs under way add up to."""

    thresholds: tuple[int, int, int]
    froze: bool  # this module froze the heap (and so unfreezes it)
    runs: int = 0
    in_flight: int = 0


_held: _Held | None = None


def thresholds_for(in_flight: int) -> tuple[int, int, int]:
    """The collector's thresholds for ``in_flight`` requests under way in the process."""
    young = min(max(YOUNG_PER_REQUEST * in_flight, YOUNG_MIN), YOUNG_MAX)
    return (young, *OLDER)


def _follow(held: _Held) -> None:
    """Thresholds for the requests now in flight; none where the caller set 0 (no collections)."""
    if held.thresholds[0] != 0:
        gc.set_threshold(*thresholds_for(held.in_flight))


@contextmanager
def tuned_collector(in_flight: int) -> Iterator[None]:
    """Tune the collector while the block runs ``in_flight`` more requests at a time.

    A plan or a fleet that holds it around its runs passes 0: the freeze then lasts
    from one step to the next, and each run adds its own requests while it goes.
    """
    global _held
    if _held is None:
        froze = gc.get_freeze_count() == 0  # a caller's own freeze is theirs to undo
        _held = _Held(gc.get_threshold(), froze)
        if froze:
            gc.freeze()
    held = _held
    held.runs += 1
    held.in_flight += in_flight
    _follow(held)
    try:
        yield
    finally:
        held.runs -= 1
        held.in_flight -= in_flight
        if held.runs:
            _follow(held)
        else:
            _held = None
            gc.set_threshold(*held.thresholds)
            if held.froze:
                gc.unfreeze()
