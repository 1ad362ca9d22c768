"""Fixed locations: the repository root, its interpreter, the results directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
RESULTS = BENCHMARKS / "results"
# The interpreter running the benchmark (``make bench`` uses .venv/bin/python); children use it too.
PYTHON = sys.executable


def child_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: ``benchmarks`` importable, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
