"""export and verify: against the sandbox on a real loopback socket, plus the DTO rename table."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.ledger.export import ExportFilters, export_records, parse_last_modified
from importer.ledger.verify import verify_records
from importer.mapping import valid_columns
from importer.mapping.flatten import DTO_RENAMES, LINE_RENAMES, WRITE_ONLY, RecordFlattener
from tests.support.runs import TOKEN, get_json, read_lines
from tests.support.stored import stored_records

OPENAPI = Path("/work/shared/visma-openapi/customer-ledger.openapi.json")

CUSTOMERS = """\
number,name,customerClassId,creditLimit,overrideWithClassValues,mainAddress.addressLine1,mainAddress.city,mainAddress.countryId,mainContact.email
10000,Fjord AS,1,50000.50,true,Storgata 1,Oslo,NO,post@fjord.no
10001,Ærlig Rørlegger,2,25000,false,Bryggen 3,Bergen,NO,
10002,"Blåbær & Tyttebær, Gård",1,0.1,true,,Tromsø,NO,hei@blabaer.no
"""

INVOICES = """\
referenceNumber,customerNumber,documentDate,financialPeriod,invoiceText,hold,currencyId,line.inventoryNumber,line.description,line.quantity,line.unitPriceInCurrency,line.vatCodeId
INV-1,10000,2020-01-27,202001,Poteter,false,NOK,222,Poteter,500,12.5,3
INV-2,10001,2020-02-03,202002,"Rør, februar",false,NOK,TIME,Arbeid,7.5,950,3
INV-2,10001,2020-02-03,202002,"Rør, februar",false,NOK,MAT,Rør og koblinger,1,2340.8,3
INV-2,10001,2020-02-03,202002,"Rør, februar",false,NOK,KJØR,Kjøring,1,450,3
INV-3,10002,2020-02-10,202002,Syltetøy,true,NOK,SYLT,Syltetøy 400 g,120,39.9,3
INV-3,10002,2020-02-10,202002,Syltetøy,true,NOK,FRAKT,Frakt,1,99,3
"""

# Fields the sandbox writes itself and that differ between two sandboxes.
_SYSTEM = ("createdDateTime", "lastModifiedDateTime")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def _load(sb, tmp_path: Path, customers: str = CUSTOMERS, invoices: str | None = INVOICES) -> None:
    """Import the customers (and invoices) into the sandbox ``sb``; every record must be created."""
    done = await importer.import_records(
        _write(tmp_path / "customers.csv", customers), entity="customer", base_url=sb.url, token=TOKEN,
    )
    assert done.ok, done.to_dict()
    if invoices is not None:
        done = await importer.import_records(
            _write(tmp_path / "invoices.csv", invoices), entity="invoice", base_url=sb.url, token=TOKEN,
        )
        assert done.ok, done.to_dict()


def _client(sb, **kwargs: Any) -> ApiClient:
    return ApiClient(sb.url, StaticToken(TOKEN), **kwargs)


def _csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


_records = stored_records


# -- export ------------------------------------------------------------------------------------


async def test_export_csv_follows_the_import_convention_and_round_trips(start_sandbox, profile, tmp_path):
    async with start_sandbox() as source, start_sandbox() as fresh:
        await _load(source, tmp_path)
        async with _client(source) as client:
            customers = await export_records(client, "customer", tmp_path / "out-customers.csv")
            invoices = await export_records(client, "invoice", tmp_path / "out-invoices.csv")
        assert customers.ok and invoices.ok
        # Without metadata (live), a short first page may be a clamped one: one more call ends it.
        pages = {"standard": 1, "live": 2}[profile]
        assert (customers.records, customers.rows, customers.calls) == (3, 3, pages)
        assert (invoices.records, invoices.rows, invoices.calls) == (3, 6, pages)  # a row per line

        header, rows = _csv_rows(tmp_path / "out-customers.csv")
        accepted = set(valid_columns(ENTITIES["customer"]))
        assert header[0] == "number" and set(header) <= accepted
        assert {"mainAddress.city", "mainContact.email", "creditLimit", "customerClassId"} <= set(header)
        assert rows[0]["creditLimit"] == "50000.50"  # an amount: the currency's two decimals
        assert "overrideWithClassValues" not in header  # write-only: no read answers it
        assert rows[2]["name"] == "Blåbær & Tyttebær, Gård"
        # What no column takes is left out, and said so.
        assert customers.left_out == {"createdDateTime": 3, "lastModifiedDateTime": 3}

        header, rows = _csv_rows(tmp_path / "out-invoices.csv")
        totals = ["amount", "balance", "vatTotal", "status"]  # the ledger's, read past on import
        assert header[0] == "referenceNumber" and set(header) <= {*valid_columns(ENTITIES["invoice"]), *totals}
        assert "line.quantity" in header and "line.vatCodeId" in header
        assert header[header.index("amount"):header.index("amount") + 4] == totals
        assert max(header.index(c) for c in totals) < min(i for i, c in enumerate(header) if c.startswith("line."))
        assert [r["referenceNumber"] for r in rows] == ["INV-1", "INV-2", "INV-2", "INV-2", "INV-3", "INV-3"]
        assert [r["line.description"] for r in rows[1:4]] == ["Arbeid", "Rør og koblinger", "Kjøring"]
        assert all(r["invoiceText"] == "Rør, februar" for r in rows[1:4])  # header repeated per line
        # Other read-only DTO fields (the customer's name, timestamps, ...) are left out, every one named.
        assert {"detailTotal", "customer.name", "createdDateTime"} <= set(invoices.left_out)
        assert not set(invoices.left_out) & set(totals)
        assert not set(invoices.left_out) & set(valid_columns(ENTITIES["invoice"]))
        # Every expand flag is sent; only the invoice address fills columns of the export.
        assert invoices.params == {
            "expandApplications": "false", "expandDunningInformation": "false", "expandAttachments": "false",
            "expandTaxDetails": "false", "expandInvoiceAddress": "true",
        }

        # Re-import the exported files into a fresh sandbox: the same records come out.
        for entity, name in (("customer", "out-customers.csv"), ("invoice", "out-invoices.csv")):
            again = await importer.import_records(tmp_path / name, entity=entity, base_url=fresh.url, token=TOKEN)
            assert again.ok and again.sent_units == 3, again.to_dict()  # 3 documents from 6 rows
            assert await _records(fresh, entity) == await _records(source, entity)


async def test_export_ndjson_rows_are_flat_and_reimport(start_sandbox, tmp_path):
    async with start_sandbox() as source, start_sandbox() as fresh:
        await _load(source, tmp_path)
        async with _client(source) as client:
            summary = await export_records(client, ENTITIES["invoice"], tmp_path / "inv.ndjson")
            customers = await export_records(client, "customer", tmp_path / "cust.ndjson.gz")
        assert summary.ok and summary.rows == 6 and customers.records == 3
        lines = read_lines(tmp_path / "inv.ndjson")
        assert all(not isinstance(v, dict | list) for line in lines for v in line.values())
        assert lines[0]["line.quantity"] == 500 and lines[0]["line.unitPriceInCurrency"] == 12.5
        assert lines[4]["hold"] is True and next(iter(lines[0])) == "referenceNumber"
        assert not (tmp_path / "inv.ndjson.partial").exists()
        for entity, name in (("customer", "cust.ndjson.gz"), ("invoice", "inv.ndjson")):
            again = await importer.import_records(tmp_path / name, entity=entity, base_url=fresh.url, token=TOKEN)
            assert again.ok, again.to_dict()
        assert await _records(fresh, "invoice") == await _records(source, "invoice")


# Paging by the metadata's maxPageSize and totalCount: the standard profile's answers.
@pytest.mark.parametrize("profile", ["standard"])
async def test_export_pages_through_everything_with_the_largest_page(start_sandbox, tmp_path):
    customers = "number,name,corporateId\n" + "".join(f"{20000 + i},Kunde {i},\n" for i in range(7))
    customers += "20007,Kunde 7,987654321\n"  # a column page 1 has no value in
    async with start_sandbox(max_page_size=3) as sb:
        await _load(sb, tmp_path, customers, None)
        async with _client(sb) as client:
            out = io.BytesIO()
            summary = await export_records(client, "customer", out, format="csv")
            every = await export_records(client, "customer", tmp_path / "all.csv", columns="all")
            ndjson = await export_records(client, "customer", tmp_path / "c.ndjson", page_size=2)
            exact = await export_records(
                client, "customer", tmp_path / "six.ndjson", filters=ExportFilters(status="active"), page_size=4,
            )
    # 8 records, 3 per page: 3 calls, the first asking for the most and learning maxPageSize.
    assert (summary.records, summary.pages, summary.calls, summary.page_size, summary.total_count) == (8, 3, 3, 3, 8)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert [r["number"] for r in rows] == [str(20000 + i) for i in range(8)]
    # corporateId first shows on page 3: not in the header, so counted, never silently lost.
    assert summary.dropped == {"corporateId": 1} and not summary.ok and summary.exit_code == 1
    assert every.ok and "corporateId" in every.columns and every.columns[0] == "number"
    assert (ndjson.pages, ndjson.page_size, ndjson.records) == (4, 2, 8)
    assert read_lines(tmp_path / "c.ndjson")[7]["corporateId"] == "987654321"
    assert (exact.pages, exact.calls) == (3, 3)  # a page size above maxPageSize is clamped to it


# Paging by the metadata's maxPageSize and totalCount: the standard profile's answers.
@pytest.mark.parametrize("profile", ["standard"])
async def test_export_ends_on_total_count_without_an_empty_page(start_sandbox, tmp_path):
    customers = "number,name\n" + "".join(f"{30000 + i},K {i}\n" for i in range(6))
    async with start_sandbox(max_page_size=3) as sb:
        await _load(sb, tmp_path, customers, None)
        async with _client(sb) as client:
            full = await export_records(client, "customer", tmp_path / "c.csv")
            empty = await export_records(
                client, "customer", tmp_path / "none.csv", filters=ExportFilters(status="Inactive"),
            )
    assert (full.records, full.calls) == (6, 2)
    assert (empty.records, empty.calls, empty.ok) == (0, 1, True)
    assert (tmp_path / "none.csv").read_text().strip() == "number"


async def test_export_filters_reach_the_api(start_sandbox, tmp_path):
    async with start_sandbox() as sb:
        await _load(sb, tmp_path)
        async with _client(sb) as client:

            async def keys(entity: str, **filters: Any) -> list[str]:
                out = io.BytesIO()
                summary = await export_records(client, entity, out, format="ndjson", filters=ExportFilters(**filters))
                assert summary.ok, summary.error
                key = ENTITIES[entity].key_field
                return sorted({json.loads(line)[key] for line in out.getvalue().splitlines()})

            assert await keys("invoice", financial_period="202002") == ["INV-2", "INV-3"]
            assert await keys("invoice", status="balanced") == ["INV-1", "INV-2"]  # any case
            assert await keys("invoice", status="HOLD") == ["INV-3"]
            assert await keys("invoice", financial_period="202001", status="hold") == []
            assert await keys("invoice", expand_attachments=True, expand_tax_details=True) == ["INV-1", "INV-2", "INV-3"]

            # lastModified: 10001 is changed later; its timestamp splits the customers.
            await asyncio.sleep(0.01)
            update = await importer.import_records(
                [{"number": "10001", "name": "Ærlig Rørlegger AS"}], entity="customer", mode="update",
                client=client, results=str(tmp_path / "upd.ndjson"),
            )
            assert update.ok
            stored = {r["number"]: r["lastModifiedDateTime"] for r in await get_json(f"{sb.url}/sandbox/records/customer")}
            bound = stored["10001"]  # 2024-05-01T12:00:00.123Z -> 2024-05-01 12:00:00.123
            text = bound[:10] + " " + bound[11:23]
            for condition in (">", ">=", "<", "<="):
                expected = sorted(
                    k for k, ts in stored.items()
                    if {">": ts > bound, ">=": ts >= bound, "<": ts < bound, "<=": ts <= bound}[condition]
                )
                assert await keys("customer", last_modified=f"{condition}{text}") == expected, condition
            assert await keys("customer", last_modified=">=" + bound[:10]) == ["10000", "10001", "10002"]
            assert await keys("customer", last_modified="<2000-01-01 00:00:00") == []
            assert await keys("customer", last_modified=f">= {text}") == ["10001"]


def test_last_modified_and_filter_parsing():
    assert parse_last_modified(">=2020-01-14") == ("2020-01-14", ">=")
    assert parse_last_modified(" > 2020-01-14 13:13:13") == ("2020-01-14 13:13:13", ">")
    assert parse_last_modified("<2001-01-01 13:13:13.133") == ("2001-01-01 13:13:13.133", "<")
    assert parse_last_modified("<=2001-01-01") == ("2001-01-01", "<=")
    for bad in ("2020-01-14", "=2020-01-14", ">=14.01.2020", ">=2020-02-30", ">=2020-01-14 25:00:00", ">=", ">=2020-01-14 10:00"):
        with pytest.raises(ConfigError, match="--last-modified"):
            parse_last_modified(bad)
    invoice, customer = ENTITIES["invoice"], ENTITIES["customer"]
    params = ExportFilters(
        last_modified=">=2020-01-14", financial_period="202001", status="balanced", project="20",
        expand_attachments=True,
    ).params(invoice)
    assert params == {
        "lastModifiedDateTime": "2020-01-14", "lastModifiedDateTimeCondition": ">=",
        "financialPeriod": "202001", "status": "Balanced", "project": "20",
    }
    assert ExportFilters(status="onhold").params(customer) == {"status": "OnHold"}
    with pytest.raises(ConfigError, match="--financial-period"):
        ExportFilters(financial_period="012020").params(invoice)
    with pytest.raises(ConfigError, match="--status"):
        ExportFilters(status="balanced").params(customer)
    with pytest.raises(ConfigError, match="--project, --expand-attachments apply to invoices"):
        ExportFilters(project="20", expand_attachments=True).params(customer)


async def test_export_refuses_bad_arguments_before_any_call(sandbox, tmp_path):
    async with _client(sandbox) as client:
        with pytest.raises(ConfigError, match="action"):
            await export_records(client, "dunning-letter", tmp_path / "x.csv")
        with pytest.raises(ConfigError, match="--format"):
            await export_records(client, "customer", "-")
        with pytest.raises(ConfigError, match="cannot tell the format"):
            await export_records(client, "customer", tmp_path / "x.dat")
        with pytest.raises(ConfigError, match="unknown column"):
            await export_records(client, "customer", tmp_path / "x.csv", columns=["number", "nmae"])
        assert client.stats.calls == 0


async def test_export_failure_leaves_only_a_partial_file(sandbox, tmp_path):
    async with ApiClient(sandbox.url, StaticToken("wrong-token")) as client:
        summary = await export_records(client, "customer", tmp_path / "c.csv")
    assert summary.error and "401" in summary.error and summary.exit_code == 1
    assert not (tmp_path / "c.csv").exists() and summary.partial_path == str(tmp_path / "c.csv.partial")


# -- the live DTO shape --------------------------------------------------------------------


def test_dto_shaped_records_become_import_columns():
    customer = {
        "internalId": 17, "number": "10000", "name": "Fjord AS", "status": "Active",
        "mainAddress": {"addressId": 5, "addressLine1": "Storgata 1", "city": "Oslo",
                        "country": {"id": "NO", "name": "Norway"}, "county": {"id": "03", "name": "Oslo"}},
        "mainContact": {"contactId": 9, "email": "post@fjord.no"},
        "customerClass": {"id": "1", "description": "Standard"},
        "creditTerms": {"id": "30D", "description": "30 days"},
        "parentRecord": {"number": "9000", "name": "Parent"},
        "vatZone": {"id": "01", "description": "Domestic", "defaultVatCategory": "x"},
        "glAccounts": {"salesAccount": {"type": "Income", "number": "3000", "description": "Sales"}},
        "creditLimit": 50000.5, "attributes": [{"id": "A", "value": "B"}], "attributeLines": [],
        "lastModifiedDateTime": "2024-05-01T12:00:00.123", "metadata": {"totalCount": 1, "maxPageSize": 1000},
    }
    flat = RecordFlattener(ENTITIES["customer"]).flatten(customer)
    assert flat.key == "10000" and flat.lines is None
    assert flat.header == {
        "number": "10000", "name": "Fjord AS", "status": "Active",
        "mainAddress.addressLine1": "Storgata 1", "mainAddress.city": "Oslo",
        "mainAddress.countryId": "NO", "mainAddress.county": "03", "mainContact.email": "post@fjord.no",
        "customerClassId": "1", "creditTermsId": "30D", "parentRecordNumber": "9000", "vatZoneId": "01",
        "glAccounts.salesAccount": "3000", "creditLimit": 50000.5,
    }
    assert "metadata" not in flat.left_out and "attributeLines" not in flat.left_out  # no data
    assert {"internalId", "customerClass.description", "mainAddress.country.name", "attributes",
            "lastModifiedDateTime"} <= set(flat.left_out)

    invoice = {
        "referenceNumber": "INV-1", "customer": {"number": "10000", "name": "Fjord AS"},
        "documentDate": "2020-01-27T00:00:00", "financialPeriod": "202001", "status": "Balanced",
        "creditTerms": {"id": "30D"}, "branchNumber": {"number": "1", "name": "Main"},
        "project": {"id": "20", "description": "P"}, "salesPerson": {"id": "7"},
        "invoiceAddress": {"addressLine1": "Storgata 1", "country": {"id": "NO"}, "overrideAddress": True},
        "invoiceContact": {"contactId": 3, "businessName": "Fjord AS", "email": "a@b.no"},
        "amount": 6250.0, "taxDetails": [{"vatId": {"id": "3"}}],
        "invoiceLines": [
            {"lineNumber": 1, "inventoryNumber": "222", "quantity": 500.0, "unitPriceInCurrency": 12.5,
             "vatCode": {"id": "3", "description": "25%"}, "account": {"number": "3000", "type": "Income"},
             "projectTask": {"id": "T1"}, "seller": {"id": "7"}, "amount": 6250.0,
             "branchNumber": {"number": "1"}},
            {"lineNumber": 2, "description": "Frakt", "quantity": 1, "unitPriceInCurrency": 99,
             "vatCode": {"id": "3"}, "salesperson": "8", "seller": {"id": "7"}},
        ],
        "metadata": {"totalCount": 1, "maxPageSize": 1000},
    }
    flat = RecordFlattener(ENTITIES["invoice"]).flatten(invoice)
    assert flat.key == "INV-1"
    assert flat.header == {
        "referenceNumber": "INV-1", "customerNumber": "10000", "documentDate": "2020-01-27T00:00:00",
        "financialPeriod": "202001", "creditTermsId": "30D", "branchNumber": "1", "project": "20",
        "salesperson": "7", "billingAddress.addressLine1": "Storgata 1", "billingAddress.countryId": "NO",
        "billingAddress.overrideAddress": True, "invoiceContact.name": "Fjord AS", "invoiceContact.email": "a@b.no",
    }
    assert flat.lines == [
        {"line.lineNumber": 1, "line.inventoryNumber": "222", "line.quantity": 500.0,
         "line.unitPriceInCurrency": 12.5, "line.vatCodeId": "3", "line.accountNumber": "3000",
         "line.taskId": "T1", "line.salesperson": "7", "line.branchNumber": "1"},
        {"line.lineNumber": 2, "line.description": "Frakt", "line.quantity": 1,
         "line.unitPriceInCurrency": 99, "line.salesperson": "8", "line.vatCodeId": "3"},
    ]
    # The deprecated salesperson wins over seller.id when both are given; seller is then left out.
    assert {"status", "amount", "taxDetails", "invoiceLines[].amount", "invoiceLines[].seller.id",
            "invoiceLines[].vatCode.description"} <= set(flat.left_out)
    rows = list(flat.rows())
    assert len(rows) == 2 and rows[1]["customerNumber"] == "10000" and rows[1]["line.description"] == "Frakt"


def test_rename_tables_name_real_import_columns():
    for name, table in DTO_RENAMES.items():
        accepted = set(valid_columns(ENTITIES[name]))
        assert set(table.values()) <= accepted, name
        assert WRITE_ONLY[name] <= accepted, name
    for name, table in LINE_RENAMES.items():
        accepted = {c[5:] for c in valid_columns(ENTITIES[name]) if c.startswith("line.")}
        assert set(table.values()) <= accepted, name


def _dto_paths(spec: dict[str, Any], schema: str, prefix: str = "", depth: int = 0) -> dict[str, str | None]:
    """Dotted leaf paths of a response schema; arrays are leaves (value: their item schema)."""
    schemas = spec["components"]["schemas"]

    def ref(node: dict[str, Any]) -> str | None:
        if "$ref" in node:
            return node["$ref"].rsplit("/", 1)[1]
        for part in node.get("allOf", ()):
            return ref(part)
        return None

    out: dict[str, str | None] = {}
    for name, node in schemas[schema].get("properties", {}).items():
        target = ref(node)
        if target and "properties" in schemas[target] and depth < 4:
            out.update(_dto_paths(spec, target, f"{prefix}{name}.", depth + 1))
        elif node.get("type") == "array":
            out[prefix + name] = ref(node.get("items", {}))
        else:
            out[prefix + name] = None
    return out


@pytest.mark.skipif(not OPENAPI.exists(), reason="the OpenAPI document is not at hand")
def test_rename_tables_match_the_openapi_document():
    """Re-derive the tables' facts: sources are DTO paths, WRITE_ONLY is what no DTO path gives."""
    spec = json.loads(OPENAPI.read_text())
    dtos = {"customer": "CustomerDto", "invoice": "CustomerInvoiceDto",
            "credit-note": "CustomerCreditNoteDto", "debit-note": "CustomerDebitNoteDto"}
    for name, dto in dtos.items():
        entity = ENTITIES[name]
        paths = _dto_paths(spec, dto)
        renames = DTO_RENAMES[name]
        assert set(renames) <= set(paths), (name, set(renames) - set(paths))
        answered = {p for p in paths if p not in renames} | set(renames.values())
        if entity.line_field:
            line_paths = _dto_paths(spec, paths[entity.line_field])  # type: ignore[arg-type]
            line_renames = LINE_RENAMES[name]
            assert set(line_renames) <= set(line_paths), (name, set(line_renames) - set(line_paths))
            answered |= {"line." + p for p in line_paths if p not in line_renames}
            answered |= {"line." + t for t in line_renames.values()}
        unanswered = set(valid_columns(entity)) - answered - {"documentKey"}
        assert unanswered == WRITE_ONLY[name], name


# -- verify --------------------------------------------------------------------------------


async def test_verify_reports_ok_missing_different_and_invalid(start_sandbox, tmp_path):
    check_customers = """\
number,name,creditLimit,overrideWithClassValues,mainAddress.city,mainContact.email
10000,Fjord AS,50000.500,true,Oslo,
10001,Ærlig Rørlegger AS,25000.00,false,Bergen,
10002,"Blåbær & Tyttebær, Gård",0.1,yes,Tromsø,feil@blabaer.no
10009,Finnes Ikke,1,true,Oslo,
10010,Ugyldig,tusen,true,Oslo,
"""
    check_invoices = """\
referenceNumber,customerNumber,documentDate,line.quantity,line.unitPriceInCurrency,line.description
INV-1,10000,2020-01-27T00:00:00,500.0,12.50,
INV-2,10001,2020-02-03,7.5,950,
INV-2,10001,2020-02-03,1,2340.8,Rør og koblinger
INV-2,10001,2020-02-03,,,Kjøring
INV-3,10002,2020-02-10,120,39.9,Syltetøy 400 g
INV-3,10002,2020-02-10,2,99,Frakt
INV-3,10002,2020-02-10,1,10,Ekstra
,10000,2020-01-01,1,1,
"""
    async with start_sandbox() as sb:
        await _load(sb, tmp_path)
        async with _client(sb, concurrency=4) as client:
            customers = await verify_records(
                client, _write(tmp_path / "check.csv", check_customers), "customer", tmp_path / "c.verify.ndjson",
                strategy="get",
            )
            invoices = await verify_records(
                client, _write(tmp_path / "check-inv.csv", check_invoices), ENTITIES["invoice"],
                tmp_path / "i.verify.ndjson", strategy="get",
            )
    assert customers.counts == {"ok": 1, "missing": 1, "different": 2, "invalid": 1, "error": 0}
    assert customers.exit_code == 1 and customers.strategy == "get"
    assert customers.calls == 4  # one GET per record with a key that maps
    report = {line["key"]: line for line in read_lines(tmp_path / "c.verify.ndjson")}
    assert report["10000"]["status"] == "ok"  # 50000.500 == 50000.5; an empty cell is no difference
    assert report["10001"]["differences"] == [{"field": "name", "expected": "Ærlig Rørlegger AS", "actual": "Ærlig Rørlegger"}]
    assert report["10002"]["differences"] == [
        {"field": "mainContact.email", "expected": "feil@blabaer.no", "actual": "hei@blabaer.no"},
    ]
    assert report["10009"] == {"key": "10009", "records": [4], "status": "missing"}
    invalid = next(line for line in report.values() if line["status"] == "invalid")
    assert invalid["records"] == [5] and "creditLimit" in invalid["error"]

    assert invoices.counts == {"ok": 2, "missing": 0, "different": 1, "invalid": 1, "error": 0}
    report = {line["key"]: line for line in read_lines(tmp_path / "i.verify.ndjson")}
    assert report["INV-1"]["status"] == "ok"  # dates by date, 500.0 == 500, 12.50 == 12.5
    assert report["INV-2"]["status"] == "ok"  # lines by position, only the fields given
    assert report["INV-3"]["records"] == [5, 6, 7]
    assert report["INV-3"]["differences"] == [
        {"field": "lines", "expected": 3, "actual": 2},
        {"field": "line.quantity", "line": 2, "expected": 2, "actual": 1},
        {"field": "line", "line": 3, "expected": {"line.quantity": 1, "line.unitPriceInCurrency": 10,
                                                  "line.description": "Ekstra"}, "actual": None},
    ]
    assert "auto-numbered" in report[None]["error"]


# Paging by the metadata's maxPageSize and totalCount: the standard profile's answers.
@pytest.mark.parametrize("profile", ["standard"])
async def test_verify_an_export_against_its_source_by_list(start_sandbox, tmp_path):
    customers = "number,name,creditLimit\n" + "".join(f"{40000 + i},Kunde {i},{i}.5\n" for i in range(30))
    async with start_sandbox(max_page_size=10) as sb:
        await _load(sb, tmp_path, customers, None)
        async with _client(sb) as client:
            exported = await export_records(client, "customer", tmp_path / "c.csv")
            auto = await verify_records(client, tmp_path / "c.csv", "customer", tmp_path / "auto.ndjson")
            by_key = await verify_records(client, tmp_path / "c.csv", "customer", None, strategy="get")
            # The input names one customer the API lacks: the listing is read to the end.
            _write(tmp_path / "more.csv", customers + "49999,Ny,1\n")
            listed = await verify_records(client, tmp_path / "more.csv", "customer", tmp_path / "l.ndjson", strategy="list")
    assert exported.ok and exported.calls == 3
    # 30 records, a listing costs 3 pages: auto probes once (1 call) and lists (3 calls).
    assert auto.strategy == "list" and auto.list_calls_estimate == 3 and auto.calls == 4
    assert auto.ok and auto.counts["ok"] == 30 and auto.exit_code == 0
    assert by_key.ok and by_key.calls == 30 and by_key.calls_per_record == 1.0
    assert listed.counts["missing"] == 1 and listed.counts["ok"] == 30 and listed.calls == 3
    assert read_lines(tmp_path / "l.ndjson")[-1] == {"key": "49999", "records": [31], "status": "missing"}


async def test_verify_compares_with_a_dto_shaped_answer():
    """The comparison reads the live API's DTO through the rename table."""
    from importer.mapping import RecordMapper
    from importer.mapping.compare import Comparer as _Comparer
    from importer.mapping.compare import expected_record as _expected
    from importer.sources import SourceRecord

    entity = ENTITIES["invoice"]
    mapper = RecordMapper(entity)
    works = list(mapper.works([
        SourceRecord(1, {"referenceNumber": "INV-1", "customerNumber": "10000", "documentDate": "2020-01-27",
                         "line.quantity": "500", "line.vatCodeId": "3", "line.operation": "Insert"}),
    ]))
    unchecked: dict[str, int] = {}
    comparer = _Comparer(entity, unchecked)
    answer = {
        "referenceNumber": "INV-1", "customer": {"number": "10000"}, "documentDate": "2020-01-27T00:00:00",
        "invoiceLines": [{"lineNumber": 1, "quantity": 500.0, "vatCode": {"id": "3"}}],
    }
    assert comparer.differences(_expected(entity, works[0].payload), answer) == []
    answer["invoiceLines"][0]["vatCode"] = {"id": "5"}
    answer["customer"] = {"number": "10001"}
    assert comparer.differences(_expected(entity, works[0].payload), answer) == [
        {"field": "customerNumber", "expected": "10000", "actual": "10001"},
        {"field": "line.vatCodeId", "line": 1, "expected": "3", "actual": "5"},
    ]


def test_verify_value_comparisons():
    from importer.mapping.compare import same_value as _same
    from importer.schema import Field

    number = Field("x", "scalar", "number", True, None, None)
    when = Field("x", "scalar", "datetime", True, None, None)
    flag = Field("x", "scalar", "boolean", True, None, None)
    text = Field("x", "scalar", "string", True, None, None)
    choice = Field("x", "scalar", "string", True, ("OpenItem", "BalanceBroughtForward"), None)
    assert _same(number, 12.5, 12.50) and _same(number, 12.5, "12.50") and not _same(number, 12.5, 12.51)
    assert not _same(number, 1, True) and not _same(number, 1, None)
    assert _same(when, "2020-01-27", "2020-01-27T00:00:00") and not _same(when, "2020-01-27", "2020-01-28")
    assert _same(when, "2020-01-21T09:39:48.538Z", "2020-01-21T09:39:48.538")
    assert not _same(when, "2020-01-21T09:39:48Z", "2020-01-21T09:39:49Z")
    assert _same(flag, True, True) and not _same(flag, True, False)
    assert _same(text, "Oslo", "Oslo") and not _same(text, "Oslo", "oslo") and not _same(text, "Oslo ", "Oslo")
    assert _same(text, "12", 12) and _same(choice, "OpenItem", "openitem")


async def test_verify_refuses_what_it_cannot_check(sandbox, tmp_path):
    async with _client(sandbox) as client:
        with pytest.raises(ConfigError, match="cannot be verified"):
            await verify_records(client, tmp_path / "x.csv", "dunning-letter", None)
        with pytest.raises(ConfigError, match="nmae"):
            await verify_records(client, _write(tmp_path / "x.csv", "number,nmae\n1,a\n"), "customer", None)
        with pytest.raises(ConfigError, match="strategy"):
            await verify_records(client, tmp_path / "x.csv", "customer", None, strategy="fast")
        assert client.stats.calls == 0


async def test_verify_reads_the_input_as_the_import_does(start_sandbox, tmp_path):
    """Semicolon CSV: decimal comma by default; --date-format applies to dates."""
    async with start_sandbox() as sb:
        await _load(sb, tmp_path)
        _write(tmp_path / "semi.csv", "number;creditLimit\n10000;50 000,50\n10002;0,1\n")
        _write(tmp_path / "dates.csv", "referenceNumber,documentDate\nINV-1,27.01.2020\nINV-2,04.02.2020\n")
        async with _client(sb) as client:
            semi = await verify_records(client, tmp_path / "semi.csv", "customer", None)
            dates = await verify_records(
                client, tmp_path / "dates.csv", "invoice", tmp_path / "d.ndjson", date_format="%d.%m.%Y",
            )
    assert semi.ok and semi.counts["ok"] == 2
    assert dates.counts == {"ok": 1, "missing": 0, "different": 1, "invalid": 0, "error": 0}
    report = {line["key"]: line for line in read_lines(tmp_path / "d.ndjson")}
    assert report["INV-2"]["differences"] == [
        {"field": "documentDate", "expected": "2020-02-04", "actual": "2020-02-03T00:00:00"},  # as answered
    ]


async def test_export_and_verify_from_the_command_line(sandbox, tmp_path):
    from tests.support.runs import SAMPLES, TOKEN, run_cli

    auth = ["--base-url", sandbox.url, "--token", TOKEN]
    code, _, err = await run_cli("run", str(SAMPLES / "customers.csv"), "--entity", "customer",
                                 "--results", str(tmp_path / "r.ndjson"), *auth)
    assert code == 0, err
    code, out, err = await run_cli("export", "--entity", "customer", "-o", str(tmp_path / "out.csv"), *auth)
    assert code == 0, err
    exported = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert exported.startswith("number,") and "Ærlig Rørlegger AS" in exported
    code, out, err = await run_cli("verify", str(SAMPLES / "customers.csv"), "--entity", "customer",
                                   "--report", str(tmp_path / "v.ndjson"), *auth)
    assert code == 0, (out, err)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        (SAMPLES / "customers.csv").read_text(encoding="utf-8").replace("Storgata 12", "Storgata 99"),
        encoding="utf-8")
    code, out, _ = await run_cli("verify", str(changed), "--entity", "customer",
                                 "--report", str(tmp_path / "v2.ndjson"), *auth)
    assert code == 1
    report = [json.loads(line) for line in (tmp_path / "v2.ndjson").read_text().splitlines()]
    [different] = [line for line in report if line["status"] == "different"]
    assert different["differences"][0]["field"] == "mainAddress.addressLine1"
    code, out, err = await run_cli("export", "--entity", "customer", "--last-modified", "2020-01-14", *auth)
    assert code == 2 and "--last-modified" in err
