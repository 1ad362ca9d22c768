"""A plan's invoices step takes the customers its customers step created as known.

Each step checks its records against the company before it sends. A document's customer
must be in the plan or in the ledger; the ledger's customers are listed (one paged GET of
every customer) only for a document naming one the plan does not know. The step's check
used to know only the customers the gate had asked the API about, so every invoices step
listed the whole ledger, the customers its plan had just created included: calls of the
company's allowance spent to learn nothing, and in a fleet every company's listing held in
memory at the same moment. The ledger is asked what it stores, and the proxy counts the calls.
"""

from __future__ import annotations

from pathlib import Path

from importer.sandbox import SandboxConfig, serve
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, run_cli
from tests.support.stored import stored_records

CUSTOMERS = "number,name,creditTermsId,customerClassId,vatZoneId\n"
INVOICES = ("referenceNumber,customerNumber,documentDate,currencyId,line.inventoryNumber,line.quantity,"
            "line.unitPriceInCurrency,line.uom,line.vatCodeId\n")
LIST = ("GET", "/v1/customer")  # the customers' list: a page of every customer


def _plan(folder: Path, customers: list[str], invoices: list[tuple[str, str]]) -> Path:
    (folder / "customers.csv").write_text(
        CUSTOMERS + "".join(f"{c},Kunde {c},30,1,01\n" for c in customers), encoding="utf-8")
    (folder / "invoices.csv").write_text(
        INVOICES + "".join(f"{ref},{c},2024-01-27,NOK,222,2,100,STK,3\n" for ref, c in invoices), encoding="utf-8")
    plan = folder / "plan.toml"
    plan.write_text("".join(f'[[step]]\nname = "{name}"\ninput = "{name}.csv"\nentity = "{entity}"\n\n'
                            for name, entity in (("customers", "customer"), ("invoices", "invoice"))),
                    encoding="utf-8")
    return plan


async def test_invoices_of_the_plans_own_customers_list_no_customers(tmp_path: Path) -> None:
    customers = [f"K{n:03d}" for n in range(1, 41)]
    plan = _plan(tmp_path, customers, [(f"INV-{n}", customers[n % 40]) for n in range(1, 81)])
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        code, out, err = await run_cli("plan", str(plan), "--base-url", proxy.url, "--token", TOKEN)
        assert code == 0, (out, err)
        assert proxy.server.count(*LIST) == 0, proxy.server.requests
        stored = await stored_records(sb, "invoice")
        assert sorted(stored) == sorted(f"INV-{n}" for n in range(1, 81))
        assert {doc["customerNumber"] for doc in stored.values()} == set(customers)
        assert len(await stored_records(sb, "customer")) == 40


async def test_an_invoice_of_a_customer_outside_the_plan_still_asks_the_ledger(tmp_path: Path) -> None:
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        earlier = tmp_path / "earlier"
        earlier.mkdir()
        code, out, err = await run_cli("plan", str(_plan(earlier, ["OLD1"], [])), "--base-url", proxy.url,
                                       "--token", TOKEN)
        assert code == 0, (out, err)
        listed_before = proxy.server.count(*LIST)
        plan = _plan(tmp_path, ["K001", "K002"], [("INV-1", "K001"), ("INV-2", "OLD1"), ("INV-3", "NOBODY")])
        code, out, err = await run_cli("plan", str(plan), "--base-url", proxy.url, "--token", TOKEN,
                                       "--send-valid")
        said = " ".join((out + err).split())
        assert code != 0 and "Traceback" not in said, said[-2000:]
        assert "customer `NOBODY` is in neither the ledger nor this plan" in said, said[-2000:]
        assert proxy.server.count(*LIST) > listed_before  # OLD1 and NOBODY: the ledger was asked
        stored = await stored_records(sb, "invoice")
        assert sorted(stored) == ["INV-1", "INV-2"]  # NOBODY's never sent
        assert proxy.server.count("POST", "/v1/customerinvoice") + proxy.server.count("POST", "/v2/customerinvoice") \
            == 2
