"""A plan's preflight keeps the customers its steps create on disk, and only for a document step after them.

Issue 28: a fleet of 100 companies × 10,000 customers peaked at 224 MB, growing with each
company's records. Every company's plan preflight ran at once, and each kept every customer
key of its file (about 100 bytes a customer) for document steps its plan did not have. Measured
with tracemalloc around the preflight of a plan at 1,000 and 20,000 customers, with and without
an invoice step after them; the invoice step still counts the plan's customers as known.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest

from importer.api import build_client
from importer.company.demo import demo_company
from importer.options import ImportOptions
from importer.plans.preflight import PlanCheck, PlanRefused, preflight_plan
from tests.support.runs import TOKEN

pytestmark = pytest.mark.one_profile

# 19,000 more customers kept cost ~1.9 MB; what may differ without them is noise of the reader.
_BOUND = 400_000


def _customers(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write("number,name,creditTermsId,customerClassId,vatZoneId\n")
        f.writelines(f"K{n:07d},Kunde {n},30,1,01\n" for n in range(1, count + 1))
    return path


def _options(entity: str, url: str) -> ImportOptions:
    return ImportOptions(entity=entity, base_url=url, token=TOKEN)


def _invoices(path: Path, customers: list[str]) -> Path:
    rows = "".join(f"I{n},{customer},2024-01-27,NOK,222,2,100,STK,3\n" for n, customer in enumerate(customers, 1))
    path.write_text("referenceNumber,customerNumber,documentDate,currencyId,line.inventoryNumber,line.quantity,"
                    "line.unitPriceInCurrency,line.uom,line.vatCodeId\n" + rows, encoding="utf-8")
    return path


async def _peak(url: str, steps: list[tuple[str, str, ImportOptions]]) -> tuple[int, PlanCheck]:
    check = PlanCheck(demo_company(dt.date(2024, 1, 1)), "test")
    async with build_client(_options("customer", url)) as client:
        await client.authenticate()
        tracemalloc.start()
        try:
            await preflight_plan(steps, check, client, "plan.toml")
            return tracemalloc.get_traced_memory()[1], check
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize("invoices", [False, True], ids=["customers only", "invoices after"])
async def test_a_plan_checks_twenty_times_the_customers_in_the_same_memory(sandbox, tmp_path, invoices):
    peaks: dict[int, int] = {}
    for count in (1_000, 20_000):
        steps = [("customers", str(_customers(tmp_path / f"c{count}.csv", count)), _options("customer", sandbox.url))]
        if invoices:  # naming the first and the last customer: both created by the plan, so known
            path = _invoices(tmp_path / f"i{count}.csv", ["K0000001", f"K{count:07d}"])
            steps.append(("invoices", str(path), _options("invoice", sandbox.url)))
        peaks[count], check = await _peak(sandbox.url, steps)
        assert [(name, found.records, found.refused) for name, found, _ in check.scans] == [
            ("customers", count, 0), *([("invoices", 2, 0)] if invoices else [])]
    assert peaks[20_000] - peaks[1_000] < _BOUND, peaks


async def test_a_later_invoice_step_still_knows_the_customers_the_plan_creates(sandbox, tmp_path):
    customers = _customers(tmp_path / "customers.csv", 3)
    invoices = _invoices(tmp_path / "invoices.csv", ["K0000002", "NOBODY"])
    check = PlanCheck(demo_company(dt.date(2024, 1, 1)), "test")
    steps = [("customers", str(customers), _options("customer", sandbox.url)),
             ("invoices", str(invoices), _options("invoice", sandbox.url))]
    async with build_client(_options("customer", sandbox.url)) as client:
        with pytest.raises(PlanRefused) as refused:
            await preflight_plan(steps, check, client, "plan.toml")
    said = str(refused.value)
    assert "customer `NOBODY` is in neither the ledger nor this plan" in said
    assert "K0000002" not in said  # created by the customers step before it: known
    assert [(name, found.records, found.refused) for name, found, _ in check.scans] == [
        ("customers", 3, 0), ("invoices", 2, 1)]
