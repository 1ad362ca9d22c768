"""A company whose invoices are numbered by a series of each kind, for the numbering tests.

``company_with(kind)``: the demo company, with invoices from series ARINV: ``"automatic"``
(next AR000042, no manual numbering on imports), ``"allowing"`` (the same, allowing manual
numbering on imports) or ``"manual"``. Customers are numbered leniently (the number sent is kept).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import importer
from importer.company import Company
from importer.company.demo import demo_company
from importer.company.file import company_document, company_from_document
from importer.schema import unwrap_value
from tests.support.runs import TOKEN, get_json

FIRST = "AR000042"  # the next number of the automatic series


def _series(manual: bool) -> dict[str, Any]:
    return {"numberingId": "ARINV", "description": "Customer invoices", "manualNumbering": manual,
            "newNumberSymbol": "<NEW>",
            "sequence": [{"numberingId": "ARINV", "startNbr": "AR000001", "endNbr": "AR999999",
                          "startDate": "2000-01-01T00:00:00", "lastNbr": None if manual else "AR000041",
                          "warnNbr": None, "nbrStep": 1, "nextNumber": None if manual else FIRST}]}


def company_with(kind: str) -> Company:
    doc = company_document(demo_company(dt.date(2024, 1, 1)))
    doc["numberSeries"] = [*doc.get("numberSeries", []), _series(kind == "manual")]
    doc["numbering"] = {"invoice": {"series": "ARINV", "allowManualOnImports": kind == "allowing"}}
    return company_from_document(doc)


def write_files(folder: Path, numbers: list[str | None]) -> tuple[Path, Path]:
    """customers.csv (K1) and invoices.csv, one invoice per entry of ``numbers`` (None: no number)."""
    customers = folder / "customers.csv"
    customers.write_text("number,name,customerClassId\nK1,Kunde 1,1\n", encoding="utf-8")
    rows = "".join(f"{n or ''},DOC-{i},K1,2024-02-01,Vare {i},1,{100 + i}\n" for i, n in enumerate(numbers, 1))
    invoices = folder / "invoices.csv"
    invoices.write_text("referenceNumber,documentKey,customerNumber,documentDate,line.description,line.quantity,"
                        "line.unitPriceInCurrency\n" + rows, encoding="utf-8")
    return customers, invoices


async def run_numbered(sb: Any, path: Path, entity: str, **options: Any) -> importer.Summary:
    """An import into ``sb`` for a company that numbers invoices itself."""
    options.setdefault("retry_base", 0.01)
    return await importer.import_records(path, entity=entity, base_url=sb.url, token=TOKEN,
                                         company=company_with("automatic"), **options)


async def stored_invoices(sb: Any) -> dict[str, tuple[Any, Any]]:
    """The ledger's invoices: number -> (customerRefNumber, the first line's unit price)."""
    stored = await get_json(f"{sb.url}/sandbox/records/invoice")
    assert isinstance(stored, list)
    return {str(unwrap_value(d["referenceNumber"])): (unwrap_value(d.get("customerRefNumber")),
                                                      unwrap_value(d["invoiceLines"][0]["unitPriceInCurrency"]))
            for d in stored}


async def creates(sb: Any) -> int:
    """How many creates the sandbox answered 201."""
    stats = await get_json(f"{sb.url}/sandbox/stats")
    assert isinstance(stats, dict)
    return int(stats["by_status"].get("201", 0))
