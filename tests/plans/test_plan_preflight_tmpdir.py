"""A plan whose preflight has no room for the customers it creates stops before any step sends.

The customers a plan's customers step creates are kept in a temporary index for the document
steps after it. Where ``TMPDIR`` is full, that index cannot grow; the plan then stops with the
words of a full temporary directory, before a single customer is sent, instead of skipping the
check and half-loading the company. A tmpfs mounted by the test (CI runs as root); where
mounting is not allowed the test is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from importer.sandbox import SandboxConfig, serve
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, run_cli, tmpfs
from tests.support.stored import stored_records


async def test_no_room_for_the_plans_customers_stops_the_plan_before_anything_is_sent(tmp_path: Path) -> None:
    # Long names make the index of the plan's customers outgrow its memory (2 MiB) after ~1,000 customers.
    count = 1_500
    (tmp_path / "customers.csv").write_text(
        "number,name,creditTermsId,customerClassId,vatZoneId\n"
        + "".join(f"K{n:05d}{'k' * 2000},Kunde {n},30,1,01\n" for n in range(count)), encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "referenceNumber,customerNumber,documentDate,currencyId,line.inventoryNumber,line.quantity,"
        "line.unitPriceInCurrency,line.uom,line.vatCodeId\n"
        f"I1,K00000{'k' * 2000},2024-01-27,NOK,222,2,100,STK,3\n", encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text("".join(f'[[step]]\nname = "{name}"\ninput = "{name}.csv"\nentity = "{entity}"\n\n'
                            for name, entity in (("customers", "customer"), ("invoices", "invoice"))),
                    encoding="utf-8")
    with tmpfs(tmp_path / "tmp", "4k") as small:
        async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
            code, out, err = await run_cli("plan", str(plan), "--base-url", proxy.url, "--token", TOKEN,
                                           env={"TMPDIR": str(small), "SQLITE_TMPDIR": ""})
            said = " ".join((out + err).split())
            assert code == 1, (out, err)
            assert f"the temporary directory {small} (from TMPDIR) is full" in said, said[-2000:]
            assert "point TMPDIR at a directory with room" in said
            assert "Traceback" not in said and "database or disk is full" not in said
            assert proxy.server.count("POST") == 0
            assert await stored_records(sb, "customer") == {}
            assert not (tmp_path / "customers.csv.results.ndjson").exists()  # no outcome written
        assert os.listdir(small) == []  # the index's file is gone with the plan
