"""The benchmarks, one module each; ``BENCHES`` maps the letter to its runner."""

from __future__ import annotations

from collections.abc import Callable

from ..report import BenchResult
from . import (
    collector,
    export,
    fleet,
    fleet_memory,
    giants,
    headroom,
    latency,
    longline,
    mapinit,
    memory,
    preflight,
    reconcile_memory,
    saft_reading,
    startup,
    sweep,
    throttled,
    unthrottled,
    workbook,
)
from .common import Context

__all__ = ["BENCHES", "Context"]

BENCHES: dict[str, tuple[str, Callable[[Context], BenchResult]]] = {
    "a": (unthrottled.TITLE, unthrottled.run),
    "b": (latency.TITLE, latency.run),
    "c": (throttled.TITLE, throttled.run),
    "d": (memory.TITLE, memory.run),
    "e": (headroom.TITLE, headroom.run),
    "f": (fleet.TITLE, fleet.run),
    "g": (fleet_memory.TITLE, fleet_memory.run),
    "h": (longline.TITLE, longline.run),
    "i": (giants.TITLE, giants.run),
    "j": (preflight.TITLE, preflight.run),
    "k": (export.TITLE, export.run),
    "l": (collector.TITLE, collector.run),
    "m": (saft_reading.TITLE, saft_reading.run),
    "n": (reconcile_memory.TITLE, reconcile_memory.run),
    "o": (startup.TITLE, startup.run),
    "p": (mapinit.TITLE, mapinit.run),
    "q": (fleet_memory.DOCUMENTS_TITLE, fleet_memory.run_documents),
    "s": (sweep.TITLE, sweep.run),
    "x": (workbook.TITLE, workbook.run),
}
