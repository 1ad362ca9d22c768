"""The scaling sweep's machinery: every path of the importer as a user runs it, at one size.

``sweep_size`` runs the paths in an order where each leaves the ledger the next needs,
each as ``python -m importer ...`` in a process of its own against one sandbox process,
and measures each from the outside (``wait4``: wall time, CPU time, peak RSS of that
process alone; the sandbox is not counted):

- ``run``: ``importer run`` of N customers into an empty ledger;
- ``plan``: the same file as the one step of a plan, into an empty ledger;
- ``resume``: ``run --resume`` with a results file holding the first half finished, into
  an empty ledger: the finished half is read and skipped, the other half sent;
- ``upsert``: ``run --mode upsert`` of all N on that ledger: half exist (PUT), half do not (POST);
- ``export``: every customer to a CSV; ``verify``: the file against the ledger;
  ``reconcile``: the file's count and credit limits against the ledger's;
- ``report``: the ``run`` step's results file read back;
- ``fleet``: 10 companies of N/10 customers each, one ``importer fleet`` process;
- ``saft``: a SAF-T file of N customers (two lines each) imported as customers.

Each path's figures are checked against what the sandbox then stores (or what the
command read back from it) before they count: a path that did not do its work raises.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .fleetrun import CLIENT_ID, CLIENT_SECRET, companies, manifest_text, write_inputs
from .paths import PYTHON, REPO, child_env
from .procs import Finished, run_measured
from .records import write_csv
from .saftgen import write_saft_file
from .sandbox import TOKEN, SandboxProcess

__all__ = ["PATHS", "SIZES", "QUICK_SIZES", "Measured", "Startup", "measure_startup", "sweep_size", "growth"]

PATHS: tuple[str, ...] = (
    "run", "plan", "resume", "upsert", "export", "verify", "reconcile", "report", "fleet", "saft",
)
SIZES: tuple[int, ...] = (1_000, 10_000, 100_000)
QUICK_SIZES: tuple[int, ...] = (1_000, 10_000)
FLEET_COMPANIES = 10
_STARTUP_RUNS = 3


@dataclass(frozen=True, slots=True)
class Startup:
    """An empty ``importer --version``: what every process pays before its first record."""

    wall_s: float
    cpu_s: float


@dataclass(frozen=True, slots=True)
class Measured:
    """One path at one size."""

    path: str
    records: int
    process: Finished
    startup: Startup
    facts: dict[str, Any] = field(default_factory=dict)  # what the check found (stored, rows, ...)

    @property
    def wall_us(self) -> float:
        """Wall time per record, less an empty interpreter start."""
        return 1e6 * max(self.process.wall_s - self.startup.wall_s, 0.0) / self.records

    @property
    def cpu_us(self) -> float:
        """CPU time per record, less an empty interpreter start."""
        return 1e6 * max(self.process.cpu_s - self.startup.cpu_s, 0.0) / self.records

    @property
    def rss_mb(self) -> float:
        return self.process.peak_rss_mb

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "records": self.records, "wall_s": self.process.wall_s,
                "cpu_s": self.process.cpu_s, "peak_rss_mb": self.rss_mb, "wall_us_per_record": self.wall_us,
                "cpu_us_per_record": self.cpu_us, **self.facts}


def growth(small: float, large: float) -> float:
    """large ÷ small, or 0 when there is nothing to divide by."""
    return large / small if small > 0 else 0.0


def measure_startup() -> Startup:
    """Median wall and CPU time of ``python -m importer --version`` over three runs."""
    runs = [_importer(["--version"], timeout=60) for _ in range(_STARTUP_RUNS)]
    return Startup(statistics.median(r.wall_s for r in runs), statistics.median(r.cpu_s for r in runs))


def _importer(args: Sequence[str], *, timeout: float, env: dict[str, str] | None = None) -> Finished:
    done = run_measured([PYTHON, "-m", "importer", *args], timeout=timeout, cwd=REPO, env=env or child_env())
    if done.returncode != 0:
        raise RuntimeError(f"importer {args[0]} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def _connection(sandbox: SandboxProcess) -> list[str]:
    return ["--base-url", sandbox.url, "--token", TOKEN]


def _stored(sandbox: SandboxProcess, tenant: str | None = None) -> int:
    stats = sandbox.stats()
    counts = stats["records"] if tenant is None else stats["tenants"].get(tenant, {})
    return int(counts.get("customer", 0))


def _expect(path: str, what: str, got: int, want: int) -> None:
    if got != want:
        raise RuntimeError(f"{path}: {what} {got:,}, expected {want:,}")


@dataclass
class _Size:
    """The inputs of one size, in a folder of their own."""

    sandbox: SandboxProcess
    folder: Path
    records: int
    timeout: float
    startup: Startup
    csv: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.csv = self.folder / "customers.csv"
        write_csv(self.csv, 1, self.records)

    def results(self, name: str) -> Path:
        return self.folder / f"{name}.results.ndjson"

    def measured(self, path: str, done: Finished, **facts: Any) -> Measured:
        return Measured(path, self.records, done, self.startup, facts)

    def send(self, path: str, args: Sequence[str], *, stored: int) -> Measured:
        done = _importer(["run", str(self.csv), "--entity", "customer", *_connection(self.sandbox),
                          "--results", str(self.results(path)), *args], timeout=self.timeout)
        _expect(path, "customers stored", _stored(self.sandbox), stored)
        return self.measured(path, done, stored=stored)


def _run(s: _Size) -> Measured:
    s.sandbox.reset()
    return s.send("run", [], stored=s.records)


def _plan(s: _Size) -> Measured:
    s.sandbox.reset()
    plan = s.folder / "plan.toml"
    plan.write_text(f'[[step]]\nname = "customers"\ninput = {json.dumps(str(s.csv))}\nentity = "customer"\n')
    done = _importer(["plan", str(plan), *_connection(s.sandbox), "--results-dir", str(s.folder / "plan")],
                     timeout=s.timeout)
    _expect("plan", "customers stored", _stored(s.sandbox), s.records)
    return s.measured("plan", done, stored=s.records)


def _resume(s: _Size) -> Measured:
    """A results file with the first half finished (as ``run`` wrote it), into an empty ledger."""
    half = s.records // 2
    kept = s.results("resume")
    with open(s.results("run"), "rb") as full, open(kept, "wb") as out:
        for line in full:
            if orjson.loads(line)["records"][0] <= half:
                out.write(line)
    s.sandbox.reset()
    return s.send("resume", ["--resume"], stored=s.records - half)


def _upsert(s: _Size) -> Measured:
    """All N on a ledger holding the second half (left by ``resume``)."""
    return s.send("upsert", ["--mode", "upsert"], stored=s.records)


def _export(s: _Size) -> Measured:
    out = s.folder / "export.csv"
    done = _importer(["export", "--entity", "customer", "--output", str(out), *_connection(s.sandbox)],
                     timeout=s.timeout)
    with open(out, "rb") as f:
        rows = sum(1 for _ in f) - 1  # the header
    out.unlink()
    _expect("export", "rows written", rows, s.records)
    return s.measured("export", done, rows=rows)


def _verify(s: _Size) -> Measured:
    summary = s.folder / "verify.json"
    done = _importer(["verify", str(s.csv), "--entity", "customer", "--results", str(s.results("run")),
                      "--report", str(s.folder / "verify.ndjson"), "--summary-json", str(summary),
                      *_connection(s.sandbox)], timeout=s.timeout)
    counts = json.loads(summary.read_text())["counts"]
    _expect("verify", "records found as in the file", counts["ok"], s.records)
    return s.measured("verify", done, ok=counts["ok"])


def _reconcile(s: _Size) -> Measured:
    done = _importer(["reconcile", str(s.csv), "--entity", "customer", "--format", "json",
                      "--results", str(s.results("run")), *_connection(s.sandbox)], timeout=s.timeout)
    (total,) = json.loads(done.stdout)["totals"]
    _expect("reconcile", "customers in the ledger", total["count_ledger"], s.records)
    if not total["agrees"]:
        raise RuntimeError(f"reconcile: the file and the ledger disagree: {total}")
    return s.measured("reconcile", done, count_ledger=total["count_ledger"], sum_ledger=total["sum_ledger"])


def _report(s: _Size) -> Measured:
    done = _importer(["report", str(s.results("run")), "--format", "json"], timeout=s.timeout)
    totals = json.loads(done.stdout)["totals"]
    _expect("report", "records reported", totals["records"], s.records)
    return s.measured("report", done, outcomes=totals["outcomes"])


def _fleet(s: _Size) -> Measured:
    s.sandbox.reset()
    folder = s.folder / "fleet"
    fleet = companies(FLEET_COMPANIES, max(1, s.records // FLEET_COMPANIES))
    write_inputs(folder, fleet)
    manifest = folder / "fleet.toml"
    manifest.write_text(manifest_text(fleet, s.sandbox.url, {"concurrency": 8}))
    env = child_env(BENCH_CLIENT_ID=CLIENT_ID, BENCH_CLIENT_SECRET=CLIENT_SECRET)
    done = _importer(["fleet", str(manifest), "--results-dir", str(folder / "results")], timeout=s.timeout, env=env)
    sent = sum(c.records for c in fleet)
    stored = sum(_stored(s.sandbox, c.name) for c in fleet)
    _expect("fleet", "customers stored over the companies", stored, sent)
    return Measured("fleet", sent, done, s.startup, {"stored": stored, "companies": len(fleet)})


def _saft(s: _Size) -> Measured:
    s.sandbox.reset()
    path, terms = s.folder / "export.xml", s.folder / "terms.map.toml"
    write_saft_file(path, s.records, 2, invoices=False)
    terms.write_text('[values.creditTermsId]\n"30" = "30"\n')
    done = _importer(["run", str(path), "--entity", "customer", "--map", str(terms), *_connection(s.sandbox),
                      "--results", str(s.results("saft"))], timeout=s.timeout)
    _expect("saft", "customers stored", _stored(s.sandbox), s.records)
    return s.measured("saft", done, stored=s.records)


_STEPS: dict[str, Callable[[_Size], Measured]] = {
    "run": _run, "plan": _plan, "resume": _resume, "upsert": _upsert, "export": _export, "verify": _verify,
    "reconcile": _reconcile, "report": _report, "fleet": _fleet, "saft": _saft,
}
_NEEDS = {"resume": "run", "upsert": "resume", "export": "upsert", "verify": "upsert", "reconcile": "upsert",
          "report": "run"}  # the ledger or the results file each path reads


def _with_needs(paths: Sequence[str]) -> list[str]:
    """The paths asked for, with the ones they read from, in the sweep's order."""
    wanted = set(paths)
    for path in paths:
        while path in _NEEDS:
            path = _NEEDS[path]
            wanted.add(path)
    return [p for p in PATHS if p in wanted]


def sweep_size(
    sandbox: SandboxProcess, folder: Path, records: int, startup: Startup, *,
    paths: Sequence[str] = PATHS, timeout: float = 1800.0, log: Callable[[str], None] = lambda _: None,
) -> dict[str, Measured]:
    """Every path of ``paths`` (and those they read from) at ``records``; keyed by path."""
    unknown = sorted(set(paths) - set(PATHS))
    if unknown:
        raise ValueError(f"unknown path(s) {', '.join(unknown)}; choose from {', '.join(PATHS)}")
    size = _Size(sandbox, folder, records, timeout, startup)
    done: dict[str, Measured] = {}
    for path in _with_needs(paths):
        done[path] = m = _STEPS[path](size)
        log(f"{path} {m.records:,}: {m.wall_us:,.0f} µs/rec wall, {m.cpu_us:,.0f} µs/rec CPU, "
            f"peak RSS {m.rss_mb:.1f} MB ({m.process.wall_s:.1f} s)")
    return {p: m for p, m in done.items() if p in paths}
