"""A small migration of receivables into the company sandbox, then changed in the ledger: the
per-customer reconcile's and the sign-off's tests hold their figures against it.

Customers, invoices with mixed VAT (25 %, 15 %, 12 %), a credit note and a debit note are
imported; then invoice I2's amount is changed with a PUT, invoice I3 is deleted from the
ledger, and the rest released.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson

from importer.sandbox.server import RunningSandbox
from tests.support.runs import TOKEN, run_cli

__all__ = ["call", "migrated", "inputs", "PATHS"]

CUSTOMERS = "number,name,customerClassId\nC1,Første AS,1\nC2,Andre AS,1\n"
INVOICES = ("referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency,"
            "line.vatCodeId\n"
            "I1,C1,2024-05-10,Arbeid,1,1000,3\nI1,C1,2024-05-10,Mat,1,200,31\n"
            "I2,C1,2024-05-11,Arbeid,1,500,3\nI3,C2,2024-05-12,Transport,1,800,33\n")
CREDIT_NOTES = ("referenceNumber,customerNumber,documentDate,line.description,line.quantity,"
                "line.unitPriceInCurrency,line.vatCodeId\nK1,C1,2024-05-20,Retur,1,100,3\n")
DEBIT_NOTES = ("referenceNumber,customerNumber,documentDate,line.description,line.quantity,"
               "line.unitPriceInCurrency,line.vatCodeId\nD1,C2,2024-05-21,Gebyr,1,40,5\n")
PATHS = {"invoice": "customerinvoice", "credit-note": "customerCreditNote", "debit-note": "customerDebitNote"}


async def call(sb: RunningSandbox, method: str, path: str, body: object = None) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.request(method, sb.url + path, json=body, headers=headers) as resp:
            text = await resp.read()
            return resp.status, orjson.loads(text) if text else None


async def migrated(sb: RunningSandbox, folder: Path) -> dict[str, Path]:
    """The files imported, I2 changed to 600 net by a PUT, I3 deleted, every other document released."""
    files = {"customer": CUSTOMERS, "invoice": INVOICES, "credit-note": CREDIT_NOTES, "debit-note": DEBIT_NOTES}
    paths = {}
    for entity, text in files.items():
        path = paths[entity] = folder / f"{entity}s.csv"
        path.write_text(text, encoding="utf-8")
        code, out, err = await run_cli("run", str(path), "--entity", entity, "--base-url", sb.url, "--token", TOKEN)
        assert code == 0, (entity, out, err)
    change = {"invoiceLines": [{"operation": "Update", "lineNumber": {"value": 1},
                                "unitPriceInCurrency": {"value": 600}}]}
    status, answer = await call(sb, "PUT", "/v1/customerinvoice/I2", change)
    assert status == 204, answer
    (ledger,) = sb.sandbox.ledgers.values()
    del ledger.tables.records["invoice"]["I3"]  # the API has no DELETE: gone from the ledger's store
    for entity, key in (("invoice", "I1"), ("invoice", "I2"), ("credit-note", "K1"), ("debit-note", "D1")):
        status, answer = await call(sb, "POST", f"/v1/{PATHS[entity]}/{key}/action/release")
        assert status == 200, answer
    return paths


def inputs(paths: dict[str, Path]) -> list[str]:
    return [f"{e}={paths[e]}" for e in ("invoice", "credit-note", "debit-note")]
