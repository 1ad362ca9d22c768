"""Run a command as the child of this small process and write its own ``wait4`` figures.

    python -S -E launch.py REPORT CMD [ARG ...]

Linux starts the peak RSS (``ru_maxrss``) of a process that a parent forked and then
exec'd at the parent's own high-water mark: a benchmark runner that has grown to 300 MB
would see every child it spawns "peak" at 300 MB, however little the child used. This
launcher starts fresh and small (no site-packages), forks the command, reaps it with
``wait4`` and writes ``{"status", "cpu_s", "maxrss_kb", "wall_s"}`` as JSON to REPORT,
so the figures are the command's alone. It exits with the command's exit code.
"""

import json
import os
import sys
import time


def main() -> int:
    report, cmd = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    with open(report, "w", encoding="utf-8") as f:
        json.dump({"status": status, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
                   "wall_s": wall}, f)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
