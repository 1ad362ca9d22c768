"""The fleet benchmarks' own arithmetic and manifest: what (f) and (g) measure by."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # benchmarks/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.benchlib.benches.common import Sample  # noqa: E402
from benchmarks.benchlib.benches.unthrottled import _paired_cpu_ratios  # noqa: E402
from benchmarks.benchlib.fleetrun import (  # noqa: E402
    allowance_used,
    companies,
    company_calls,
    company_elapsed,
    manifest_text,
    windows_spanned,
    write_inputs,
)
from benchmarks.benchlib.report import Target  # noqa: E402
from importer.plans.manifest import load_manifest  # noqa: E402


@pytest.mark.parametrize(("elapsed", "windows"), [(0.0, 1), (4.99, 1), (5.0, 1), (5.01, 2), (60.4, 13), (65.2, 14)])
def test_windows_spanned_counts_every_started_window(elapsed: float, windows: int) -> None:
    assert windows_spanned(elapsed, 5.0) == windows


def test_allowance_is_the_limit_times_the_windows_each_company_spanned() -> None:
    # 13 + 13 + 14 windows: the third company ran one window late
    got = allowance_used(3_900, [60.5, 61.0, 65.5], limit=100, window_s=5.0)
    assert (got.windows, got.allowance, got.used) == (40, 4_000, 3_900)
    assert got.ratio == pytest.approx(0.975)
    assert allowance_used(0, [], 100, 5.0).ratio == 0.0


def test_company_figures_leave_token_calls_out_and_fall_back_to_the_steps() -> None:
    entry = {"company": "co-01", "steps": [
        {"step": "customers", "calls": 301, "token_calls": 1, "elapsed_s": 10.5},
        {"step": "more", "calls": 50, "token_calls": 0, "elapsed_s": 2.0},
    ]}
    assert company_calls(entry) == 350
    assert company_elapsed(entry) == pytest.approx(12.5)
    assert company_elapsed({**entry, "elapsed_s": 13.0}) == 13.0


def test_companies_never_share_a_customer_number(tmp_path: Path) -> None:
    fleet = companies(12, 25)
    assert [c.name for c in fleet][:2] == ["co-01", "co-02"] and fleet[-1].name == "co-12"
    write_inputs(tmp_path, fleet)
    seen: set[str] = set()
    for company in fleet:
        with open(tmp_path / company.csv_name, newline="", encoding="utf-8") as f:
            numbers = [row["number"] for row in csv.DictReader(f)]
        assert len(numbers) == 25
        assert seen.isdisjoint(numbers)
        seen.update(numbers)


def test_the_manifest_is_one_the_fleet_accepts(tmp_path: Path) -> None:
    fleet = companies(3, 5)
    write_inputs(tmp_path, fleet)
    path = tmp_path / "fleet.toml"
    path.write_text(manifest_text(fleet, "http://127.0.0.1:9", {"concurrency": 4}))
    environ = {"BENCH_CLIENT_ID": "sandbox", "BENCH_CLIENT_SECRET": "sandbox-secret"}
    manifest = load_manifest(path, results_dir=tmp_path / "results", environ=environ)
    assert manifest.names() == ["co-01", "co-02", "co-03"]
    for company in manifest.companies:
        assert company.tenant_id == company.name
        (step,) = company.plan.steps
        assert Path(step.input) == tmp_path / f"{company.name}.csv"
        assert step.entity == "customer" and step.options["concurrency"] == 4
        assert company.connection(environ)["token_url"] == "http://127.0.0.1:9/connect/token"
    assert "sandbox-secret" not in path.read_text()  # credentials by name only


def test_a_strict_upper_bound_fails_at_the_bound() -> None:
    below = Target("<", 300.0, " MB")
    assert below.met(299.9) and not below.met(300.0)
    assert below.describe() == "< 300 MB"
    assert below.margin(150.0) == "+50.0%"


def _sample(us: float) -> Sample:
    return Sample("x", 1.0, 1, 1, 0.0, 0.0, 0.0, cpu_us_per_record=us)


def test_cpu_ratio_pairs_each_round_with_its_own_bare_run() -> None:
    importer = [_sample(200.0), _sample(250.0)]
    bare = [_sample(160.0), _sample(150.0)]
    assert _paired_cpu_ratios(importer, bare) == pytest.approx([0.8, 0.6])


def test_a_fleet_with_invoices_names_only_its_own_customers_in_a_second_step(tmp_path: Path) -> None:
    fleet = companies(2, 4, invoices_each=10)
    write_inputs(tmp_path, fleet)
    path = tmp_path / "fleet.toml"
    path.write_text(manifest_text(fleet, "http://127.0.0.1:9", {"concurrency": 4}))
    environ = {"BENCH_CLIENT_ID": "sandbox", "BENCH_CLIENT_SECRET": "sandbox-secret"}
    manifest = load_manifest(path, results_dir=tmp_path / "results", environ=environ)
    for company, spec in zip(manifest.companies, fleet):
        customers, invoices = company.plan.steps
        assert (customers.entity, invoices.entity) == ("customer", "invoice")
        assert Path(invoices.input) == tmp_path / f"{company.name}-invoices.csv"
        with open(tmp_path / spec.csv_name, newline="", encoding="utf-8") as f:
            own = {row["number"] for row in csv.DictReader(f)}
        with open(invoices.input, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 10 and len({row["referenceNumber"] for row in rows}) == 10
        assert {row["customerNumber"] for row in rows} == own  # each of its customers, none of another's
