"""One ``importer fleet`` run as the benchmarks need it: inputs, manifest, the measured process.

Each company gets its own tenant (``co-01``, ``co-02``, ...) and its own CSV of customers,
numbered so that no two companies share a customer number: the benchmark does not lean
on the sandbox keeping companies' records apart. Credentials reach the fleet by the
names of environment variables, as a bureau's manifest would name them.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import PYTHON, REPO, child_env
from .procs import CpuMeter, Finished, run_measured
from .records import write_csv
from .sandbox import SandboxProcess

__all__ = [
    "CLIENT_ID", "CLIENT_SECRET", "Company", "FleetRun", "Allowance",
    "companies", "write_inputs", "write_invoices", "INVOICE_HEADER", "manifest_text", "run_fleet", "allowance_used", "windows_spanned", "company_elapsed",
    "company_created", "company_calls", "company_throttled",
]

CLIENT_ID, CLIENT_SECRET = "sandbox", "sandbox-secret"  # the sandbox's default OAuth client
_ID_ENV, _SECRET_ENV = "BENCH_CLIENT_ID", "BENCH_CLIENT_SECRET"


@dataclass(frozen=True, slots=True)
class Company:
    name: str  # also its tenant id
    first: int  # its first customer number
    records: int
    invoices: int = 0  # invoices of its customers, a step after theirs (one customer each, in turn)

    @property
    def csv_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def invoices_name(self) -> str:
        return f"{self.name}-invoices.csv"


INVOICE_HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"


def companies(count: int, records_each: int, invoices_each: int = 0) -> list[Company]:
    """``count`` companies ``co-01``..., each with ``records_each`` customers of its own (and
    ``invoices_each`` invoices of them)."""
    width = max(2, len(str(count)))
    return [Company(f"co-{i:0{width}d}", 1 + (i - 1) * records_each, records_each, invoices_each)
            for i in range(1, count + 1)]


def write_invoices(path: Path, c: Company) -> int:
    """``c``'s invoices, each of one of its customers in turn, one line each; returns the size in bytes."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(INVOICE_HEADER)
        for i in range(c.invoices):
            f.write(f"{c.name}-{i + 1},{c.first + i % c.records},2024-01-31,Arbeid,2,950.5\n")
    return path.stat().st_size


def write_inputs(folder: Path, fleet: Sequence[Company]) -> int:
    """Every company's CSVs into ``folder``; returns their total size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    return sum(write_csv(folder / c.csv_name, c.first, c.records)
               + (write_invoices(folder / c.invoices_name, c) if c.invoices else 0) for c in fleet)


def _toml(value: str | int | float | bool) -> str:
    """A TOML scalar. JSON's string escapes are valid in TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def manifest_text(fleet: Sequence[Company], sandbox_url: str, defaults: Mapping[str, str | int | float | bool]) -> str:
    """The fleet manifest: shared run options, then a company table with its customers step (and its
    invoices step, for a company with invoices)."""
    lines = ["[defaults]"]
    settings = {"base_url": sandbox_url, "token_url": f"{sandbox_url}/connect/token", **defaults}
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items()]
    for c in fleet:
        lines += [
            "", "[[company]]", f"name = {_toml(c.name)}", f"tenant_id = {_toml(c.name)}",
            f"client_id_env = {_toml(_ID_ENV)}", f"client_secret_env = {_toml(_SECRET_ENV)}",
            "", "[[company.step]]", 'name = "customers"', f"input = {_toml(c.csv_name)}", 'entity = "customer"',
        ]
        if c.invoices:
            lines += ["", "[[company.step]]", 'name = "invoices"', f"input = {_toml(c.invoices_name)}",
                      'entity = "invoice"']
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class FleetRun:
    """What one fleet process did and cost."""

    process: Finished  # wall time, CPU and peak RSS of the fleet process (wait4)
    summary: dict[str, Any]  # its --summary-json
    sandbox_stats: dict[str, Any]  # /sandbox/stats after the run
    sandbox_cpu_pct: float
    machine_cpu_pct: float
    results_bytes: int  # what the companies' results folders held at the end

    def created(self) -> int:
        return sum(company_created(c) for c in self.summary["companies"])

    def failed_companies(self) -> list[str]:
        return [f"{c['company']} (exit {c['exit_code']}: {c.get('error') or 'see its results'})"
                for c in self.summary["companies"] if c["exit_code"] != 0]


def run_fleet(sandbox: SandboxProcess, folder: Path, manifest: str, *, timeout: float) -> FleetRun:
    """``python -m importer fleet`` on ``manifest`` (written into ``folder``) against a reset sandbox."""
    sandbox.reset()
    path = folder / "fleet.toml"
    path.write_text(manifest)
    results, summary_path = folder / "results", folder / "fleet-summary.json"
    cmd = [PYTHON, "-m", "importer", "fleet", str(path), "--results-dir", str(results),
           "--summary-json", str(summary_path)]
    env = child_env(**{_ID_ENV: CLIENT_ID, _SECRET_ENV: CLIENT_SECRET})
    meter, machine = CpuMeter.of_pid(sandbox.pid).start(), CpuMeter.of_machine().start()
    done = run_measured(cmd, timeout=timeout, cwd=REPO, env=env)
    sandbox_cpu, machine_cpu = meter.stop(), machine.stop()
    if not summary_path.exists():
        raise RuntimeError(f"importer fleet wrote no summary (exit {done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(summary_path.read_text())
    results_bytes = sum(p.stat().st_size for p in results.rglob("*") if p.is_file()) if results.exists() else 0
    shutil.rmtree(results, ignore_errors=True)  # hundreds of MB for the big fleet
    return FleetRun(done, summary, sandbox.stats(), sandbox_cpu, machine_cpu, results_bytes)


def _steps(company: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(company.get("steps") or [])


def company_elapsed(company: Mapping[str, Any]) -> float:
    """A company's run time in seconds: its own figure if the summary has one, else its steps'."""
    if company.get("elapsed_s") is not None:
        return float(company["elapsed_s"])
    return sum(float(s.get("elapsed_s") or 0.0) for s in _steps(company))


def company_created(company: Mapping[str, Any]) -> int:
    return sum(int((s.get("outcomes") or {}).get("created", 0)) for s in _steps(company))


def company_calls(company: Mapping[str, Any]) -> int:
    """API calls the company's steps made, its token requests left out (they spend no window)."""
    return sum(int(s.get("calls") or 0) - int(s.get("token_calls") or 0) for s in _steps(company))


def company_throttled(company: Mapping[str, Any]) -> int:
    return sum(int(s.get("throttled") or 0) for s in _steps(company))


@dataclass(frozen=True, slots=True)
class Allowance:
    """Calls let through over the allowance of the windows the companies' runs spanned."""

    used: int  # calls the sandbox let through
    allowance: int  # Σ limit × windows spanned
    windows: int  # Σ windows spanned

    @property
    def ratio(self) -> float:
        return self.used / self.allowance if self.allowance else 0.0


def windows_spanned(elapsed_s: float, window_s: float) -> int:
    """Fixed windows a run of ``elapsed_s`` seconds spans: at least one."""
    return max(1, math.ceil(elapsed_s / window_s))


def allowance_used(used_calls: int, elapsed_by_company: Sequence[float], limit: int, window_s: float) -> Allowance:
    """``used_calls`` over Σ (``limit`` × windows each company's run spanned)."""
    windows = sum(windows_spanned(e, window_s) for e in elapsed_by_company)
    return Allowance(used_calls, limit * windows, windows)
