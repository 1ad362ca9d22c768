"""Child processes measured from the outside, and CPU time of any process by PID.

``run_measured`` has its command reaped with ``wait4``, which gives that one process's own
peak RSS and CPU time (``RUSAGE_CHILDREN`` would mix in every other child, the sandbox
included). It is reaped by a small launcher (:mod:`.launch`), not by this process: Linux
starts an exec'd child's peak RSS at its parent's high-water mark, so a runner that has
grown (a full ``make bench`` holds more after each benchmark) would lend every child its
own size. Output goes to temporary files rather than pipes, so a chatty child can never
block on a full pipe, and the wait is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finished", "run_measured", "cpu_seconds", "machine_busy_seconds", "CpuMeter", "wait_for_quiet"]

CLK_TCK = os.sysconf("SC_CLK_TCK")
_LAUNCH = Path(__file__).with_name("launch.py")


@dataclass(frozen=True, slots=True)
class Finished:
    """How a child process ended and what it cost."""

    returncode: int
    wall_s: float  # from spawn to exit
    cpu_s: float  # user + system
    peak_rss_mb: float  # ru_maxrss of this child alone
    stdout: str
    stderr: str

    @property
    def cpu_pct(self) -> float:
        """Share of one core the child used over its life."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def run_measured(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Finished:
    """Run ``cmd`` to completion (killed after ``timeout`` seconds: TimeoutError)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as report:
        proc = subprocess.Popen([sys.executable, "-S", "-E", str(_LAUNCH), report.name, *cmd], stdout=out,
                                stderr=err, cwd=cwd, env=env, start_new_session=True)
        try:
            reaped = _reap(proc.pid, timeout)
        except BaseException:
            _kill_group(proc.pid)
            raise
        if reaped is None:
            _kill_group(proc.pid)  # the launcher and the command: a group of their own
            _reap(proc.pid, 10.0)
            proc.returncode = -9
            raise TimeoutError(f"{cmd[0]} {' '.join(cmd[1:3])} ... did not finish in {timeout:.0f} s")
        proc.returncode = os.waitstatus_to_exitcode(reaped[0])  # reaped here, not by Popen
        figures = json.loads(Path(report.name).read_text(encoding="utf-8") or "null")
        if figures is None:
            raise RuntimeError(f"the launcher of {cmd[0]} {' '.join(cmd[1:3])} ... reported nothing "
                               f"(exit {proc.returncode})")
        out.seek(0)
        err.seek(0)
        return Finished(
            returncode=os.waitstatus_to_exitcode(figures["status"]),
            wall_s=figures["wall_s"],
            cpu_s=figures["cpu_s"],
            peak_rss_mb=figures["maxrss_kb"] / 1024.0,  # Linux reports KiB
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int, timeout: float) -> tuple[int, os.struct_rusage] | None:  # type: ignore[name-defined]
    """Wait up to ``timeout`` for ``pid`` to exit; (status, rusage), or None if it did not."""
    fd = os.pidfd_open(pid)  # readable once the process has exited: no polling delay
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    if not ready:
        return None
    _, status, usage = os.wait4(pid, 0)
    return status, usage


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a running process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data.rsplit(b")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (not idle, not waiting for I/O), from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / CLK_TCK


class CpuMeter:
    """CPU% (100 = one core) a process, or the whole machine, used between ``start()`` and ``stop()``.

    The machine-wide figure minus the client's and the sandbox's shows how much other
    work (another engineer's jobs) ran meanwhile and may have skewed a run. Resolution
    is one clock tick (10 ms), so windows of a second or more are needed.
    """

    def __init__(self, read: Callable[[], float]) -> None:
        self._read = read
        self._cpu0 = self._wall0 = 0.0

    @classmethod
    def of_pid(cls, pid: int) -> CpuMeter:
        return cls(lambda: cpu_seconds(pid))

    @classmethod
    def of_machine(cls) -> CpuMeter:
        return cls(machine_busy_seconds)

    def start(self) -> CpuMeter:
        self._cpu0, self._wall0 = self._read(), time.perf_counter()
        return self

    def stop(self) -> float:
        wall = time.perf_counter() - self._wall0
        return 100.0 * (self._read() - self._cpu0) / wall if wall > 0 else 0.0


def wait_for_quiet(*, threshold_pct: float = 25.0, sample_s: float = 1.0, max_wait_s: float = 30.0) -> float:
    """Wait, at most ``max_wait_s``, until the machine's busy CPU over ``sample_s`` is below
    ``threshold_pct`` (100 = one core); returns the last busy figure.

    Others run jobs on this machine too; starting a benchmark in the middle of their test
    suite halves its numbers. This only lowers the odds: ``warn_suspect`` flags what still
    overlaps.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        meter = CpuMeter.of_machine().start()
        time.sleep(sample_s)
        busy = meter.stop()
        if busy < threshold_pct or time.monotonic() >= deadline:
            return busy
