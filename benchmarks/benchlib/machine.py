"""What the numbers were measured on: CPU, cores, RAM, Python, package versions, load."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib import metadata
from typing import Any

from .paths import REPO
from .wrk import available as wrk_path

__all__ = ["machine_info", "loadavg", "source_fingerprint"]

PACKAGES = ("importer", "aiohttp", "anyio", "orjson", "uvloop", "aiolimiter", "rich", "pyinstrument")


def _cpuinfo(key: str) -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return None


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def loadavg() -> str:
    """The 1/5/15-minute load average: other work on the machine skews every number."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_head() -> str | None:
    """The commit checked out, read from .git (the working tree may differ from it)."""
    head = REPO / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if not ref.startswith("ref: "):
            return ref
        path = REPO / ".git" / ref[5:]
        if path.exists():
            return path.read_text().strip()
        packed = (REPO / ".git" / "packed-refs").read_text()
        for line in packed.splitlines():
            if line.endswith(" " + ref[5:]):
                return line.split()[0]
    except OSError:
        pass
    return None


def source_fingerprint() -> str:
    """A short hash of the importer's source as it is on disk now.

    Others edit importer/ while benchmarks run; comparing this at the start and the end
    of a run tells whether its numbers all measured the same code.
    """
    digest = hashlib.sha256()
    for path in sorted((REPO / "importer").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _wrk_version() -> str | None:
    path = wrk_path()
    if path is None:
        return None
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else path


def machine_info() -> dict[str, Any]:
    return {
        "cpu_model": _cpuinfo("model name"),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "ram_gib": _mem_total_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": {name: _version(name) for name in PACKAGES},
        "wrk": _wrk_version(),
        "git_head": _git_head(),
        "importer_source_at_start": source_fingerprint(),
        "loadavg_at_start": loadavg(),
    }
