"""The two readers benchmark (k) compares, each run in a fresh process of its own.

    python -m benchmarks.benchlib.exporters '{"kind": "export", "base_url": ..., ...}'

prints one JSON line with what it measured, as :mod:`.workers` does (same timed window:
this process's own CPU, the sandbox's, the machine's; the same event loop).

Kinds:

- ``pager``: the least a reader can do: one aiohttp session GETs every page of the
  invoice list (``pageNumber`` from 1, the sandbox's largest page) and parses each with
  ``orjson``; nothing is kept or written. The baseline;
- ``export``: ``importer.ledger.export.export_records`` of the same list to a CSV file,
  as ``importer export`` runs it (flattening, the CSV writer, the file renamed into place).

Invoices are loaded before (``load_invoices``), so both read the same pages.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .sandbox import TOKEN
from .workers import _uvloop, _Window

__all__ = ["ExportSpec", "load_invoices", "main"]

_PATH = "/v1/customerinvoice"
_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
_CUSTOMERS = 50
# Every flag the export sends for an invoice CSV of every column, so both read the same bodies.
_EXPAND = {"expandApplications": "false", "expandDunningInformation": "false", "expandAttachments": "false",
           "expandTaxDetails": "false", "expandInvoiceAddress": "true"}


@dataclass(frozen=True, slots=True)
class ExportSpec:
    kind: str  # pager | export
    base_url: str
    sandbox_pid: int
    count: int  # invoices the sandbox holds
    output: str = ""  # export: the CSV file
    timeout: float = 600.0


def invoice_rows(count: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """``_CUSTOMERS`` customers of class 1 and ``count`` invoices of two lines each, as CSV rows."""
    customers = [{"number": str(10000 + n), "name": f"Kunde {n} AS", "customerClassId": "1"}
                 for n in range(_CUSTOMERS)]
    invoices = []
    for n in range(count):
        head = {"referenceNumber": f"INV-{n + 1}", "customerNumber": str(10000 + n % _CUSTOMERS),
                "documentDate": "2020-02-03", "financialPeriod": "202002", "invoiceText": f"Faktura {n + 1}",
                "currencyId": "NOK"}
        invoices.append({**head, "line.inventoryNumber": "TIME", "line.description": "Arbeid",
                         "line.quantity": "7.5", "line.unitPriceInCurrency": "950", "line.vatCodeId": "3"})
        invoices.append({**head, "line.inventoryNumber": "MAT", "line.description": "Rør og koblinger",
                         "line.quantity": "1", "line.unitPriceInCurrency": f"{n % 997}.8", "line.vatCodeId": "3"})
    return customers, invoices


async def load_invoices(base_url: str, count: int, concurrency: int, scratch: Path) -> None:
    """Create the customers and ``count`` invoices in the sandbox from CSV files written in
    ``scratch`` (the rows of a document grouped by ``referenceNumber``, as a file is read)."""
    import importer

    for entity, rows in zip(("customer", "invoice"), invoice_rows(count)):
        path = scratch / f"k-{entity}.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        results = scratch / f"k-{entity}.results.ndjson"
        results.unlink(missing_ok=True)  # a new load, not the rest of an earlier one
        done = await importer.import_records(path, entity=entity, base_url=base_url, token=TOKEN,
                                             concurrency=concurrency, results=results)
        if not done.ok:
            raise RuntimeError(f"loading {entity} failed: {done.to_dict()}")


async def _pager(spec: ExportSpec) -> dict[str, Any]:
    import aiohttp

    records = pages = 0
    async with aiohttp.ClientSession() as session:
        window = _Window(spec.sandbox_pid)
        with window.measure():
            size, number = 10_000, 1
            while True:
                query = {**_EXPAND, "pageNumber": str(number), "pageSize": str(size)}
                async with session.get(spec.base_url + _PATH, params=query, headers=_HEADERS) as resp:
                    items = orjson.loads(await resp.read())
                pages += 1
                records += len(items)
                if number == 1 and items:
                    size = items[0]["metadata"]["maxPageSize"]
                if len(items) < size or records >= items[0]["metadata"]["totalCount"]:
                    break
                number += 1
    return {"ok": records, "pages": pages, **window.as_dict(records)}


async def _export(spec: ExportSpec) -> dict[str, Any]:
    from importer.client import ApiClient, StaticToken
    from importer.ledger.export import export_records

    async with ApiClient(spec.base_url, StaticToken(TOKEN)) as client:
        await client.authenticate()
        window = _Window(spec.sandbox_pid)
        with window.measure():
            summary = await export_records(client, "invoice", spec.output, columns="all")
    Path(spec.output).unlink(missing_ok=True)
    ok = summary.records if summary.ok else 0
    return {"ok": ok, "pages": summary.pages, "rows": summary.rows, "error": summary.error, **window.as_dict(ok)}


def main(argv: list[str]) -> int:
    spec = ExportSpec(**json.loads(argv[0]))
    runner = {"pager": _pager, "export": _export}.get(spec.kind)
    if runner is None:
        print(f"unknown kind {spec.kind!r}; expected pager or export", file=sys.stderr)
        return 2

    import anyio

    async def timed() -> dict[str, Any]:
        return await asyncio.wait_for(runner(spec), spec.timeout)

    result = anyio.run(timed, backend_options={"use_uvloop": True} if _uvloop() else {})
    print(json.dumps({"kind": spec.kind, "count": spec.count, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
