"""(o) Start-up: ``importer --version`` and ``importer --help`` against ``import aiohttp``.

Each is a fresh interpreter of the project's Python, timed from spawn to exit (wall time;
a start-up is what a person waits for), in interleaved rounds so that the machine's drift
touches all three alike: ``python -m importer --version``, ``python -m importer --help`` and
``python -c "import aiohttp"``. Judged by the median of each round's ratio of a command
over ``import aiohttp``: a command that only prints should cost under half of what the
HTTP library alone costs to import. An empty ``python -c pass`` is measured too, for the
interpreter's own share.
"""

from __future__ import annotations

from ..paths import PYTHON, REPO, child_env
from ..procs import Finished, run_measured
from ..report import BenchResult, Row, Target, median
from .common import Context

TITLE = "start-up: importer --version and --help ÷ import aiohttp, wall time, fresh interpreters"
TARGET = Target("<=", 0.5, "×")
_COMMANDS = {
    "version": ["-m", "importer", "--version"],
    "help": ["-m", "importer", "--help"],
    "aiohttp": ["-c", "import aiohttp"],
    "python": ["-c", "pass"],
}


def _time(args: list[str]) -> Finished:
    done = run_measured([PYTHON, *args], timeout=60, cwd=REPO, env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done


def run(ctx: Context) -> BenchResult:
    rounds = 5 if ctx.quick else 15
    for args in _COMMANDS.values():  # warm the page cache and the .pyc files
        _time(args)
    walls: dict[str, list[float]] = {name: [] for name in _COMMANDS}
    for _ in range(rounds):
        for name, args in _COMMANDS.items():
            walls[name].append(_time(args).wall_s)

    def ratio(name: str) -> float:
        return median([a / b for a, b in zip(walls[name], walls["aiohttp"])])

    def ms(name: str) -> float:
        return 1000 * median(walls[name])

    result = BenchResult("o", TITLE)
    for name in ("version", "help"):
        result.rows.append(Row("o", f"importer --{name} ÷ import aiohttp", ratio(name), f"{ratio(name):.2f}×",
                               TARGET, note=f"{ms(name):.0f} ms against {ms('aiohttp'):.0f} ms; "
                                            f"an empty interpreter {ms('python'):.0f} ms"))
    result.notes.append(f"wall time spawn to exit, median of {rounds} interleaved rounds; the ratio is the median "
                        "of each round's")
    result.data = {"rounds": rounds, "wall_s": walls}
    return result
