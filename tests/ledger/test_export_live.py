"""export and verify against what the live API answers: YYYYMM post periods, expand flags, filters.

The sandbox answers the response DTOs. Where a test needs to see the query a list GET
sent, or an answer the sandbox does not give, a small aiohttp app on a loopback port serves
DTO documents checked against ``importer.schema.read_fields`` and records every query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import importer
from importer.client import ApiClient, StaticToken
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.ledger.export import ExportFilters, export_records
from importer.ledger.verify import verify_records
from importer.mapping.compare import same_period
from importer.mapping.flatten import RecordFlattener, as_mmyyyy, period_parts
from importer.schema import read_fields
from tests.support.hostile_server import HostileServer, hostile
from tests.support.runs import SAMPLES, TOKEN, read_lines, run_cli

# -- a DTO server ----------------------------------------------------------------------------


def dto(schema: str, **values: Any) -> dict[str, Any]:
    """A response document of ``schema``; every field, at any depth, must be one the schema has."""
    spec = read_fields(schema)
    for name, value in values.items():
        assert name in spec, f"{schema} has no field {name!r}"
        ref = spec[name].ref
        if isinstance(value, dict):
            assert ref, f"{schema}.{name} is no object"
            dto(ref, **value)
        elif isinstance(value, list):
            for item in value:
                dto(ref, **item)  # type: ignore[arg-type]
    return values


class DtoServer:
    """Answers list GETs of ``path`` with ``records`` (one page) and records each query."""

    def __init__(self, records: dict[str, list[dict[str, Any]]]) -> None:
        self.records = records
        self.queries: list[tuple[str, dict[str, str]]] = []
        self.url = ""

    async def _list(self, request: web.Request, server: HostileServer) -> web.Response:
        self.queries.append((request.path, dict(request.query)))
        items = self.records.get(request.path, [])
        meta = {"totalCount": len(items), "maxPageSize": 1000}
        return web.json_response([{**item, "metadata": meta} for item in items])

    async def _one(self, request: web.Request, server: HostileServer) -> web.Response:
        self.queries.append((request.path, dict(request.query)))
        collection, key = request.path.rsplit("/", 1)
        field = "number" if collection.endswith("/customer") else "referenceNumber"
        for item in self.records.get(collection, []):
            if item.get(field) == key:
                return web.json_response(item)
        return web.json_response({"message": "not found"}, status=404)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[DtoServer]:
        async with hostile({"GET /v1/*/*": self._one, "GET /v1/*": self._list}) as server:
            self.url = server.url
            yield self

    def last_query(self, path: str) -> dict[str, str]:
        return [q for p, q in self.queries if p == path][-1]


DEBIT_NOTE = dto(
    "CustomerDebitNoteDto",
    referenceNumber="000077", customer={"number": "10000", "name": "NewCustomer"},
    documentDate="2024-01-16T00:00:00", postPeriod="202401", financialPeriod="202401",
    invoiceText="Renter", status="Open",
    lines=[{"lineNumber": 1, "description": "Rente", "quantity": 1.0, "unitPriceInCurrency": 70.0}],
)
CUSTOMER = dto(
    "CustomerDto",
    number="10000", name="NewCustomer", status="Active",
    glAccounts={"salesAccount": {"type": "Income", "number": "3000", "description": "Salg"}},
    mainAddress={"city": "Oslo", "country": {"id": "NO", "name": "Norge"}},
)


def _client(url: str) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN))


async def _import(url: str, path: Path, entity: str, tmp_path: Path) -> None:
    """Import ``path`` into the server at ``url``; every record must be sent well."""
    results = tmp_path / f"{path.name}.{url.rsplit(':', 1)[-1]}.results.ndjson"  # one file per server
    done = await importer.import_records(path, entity=entity, base_url=url, token=TOKEN, results=str(results))
    assert done.ok, done.to_dict()


# -- post periods ------------------------------------------------------------------------------


def test_period_layouts_never_collide():
    # The first two digits decide: a month (01-12) means MMYYYY, a century (19-21) YYYYMM.
    assert period_parts("012024") == (2024, 1) and period_parts("202401") == (2024, 1)
    assert period_parts("122020") == (2020, 12) and period_parts("202012") == (2020, 12)
    assert period_parts("199912") == (1999, 12) and period_parts("121999") == (1999, 12)
    # 201220: as YYYYMM month 20, as MMYYYY month 20 too: no period at all, kept as text.
    for neither in ("201220", "012200", "002024", "202400", "2024-1", "20240", "٢٠٢٤٠١", None, 202401):
        assert period_parts(neither) is None, neither
    assert as_mmyyyy("202401") == "012024" and as_mmyyyy("012024") == "012024"
    assert as_mmyyyy("201220") == "201220"
    assert same_period("012024", "202401") and same_period("122020", "202012")
    assert not same_period("012024", "202402") and not same_period("201220", "122020")
    assert same_period("201220", "201220")  # no period: compared as written


def test_a_yyyymm_post_period_flattens_to_the_import_layout():
    flat = RecordFlattener(ENTITIES["debit-note"]).flatten(DEBIT_NOTE)
    assert flat.header["postPeriod"] == "012024" and flat.header["financialPeriod"] == "202401"
    odd = RecordFlattener(ENTITIES["debit-note"]).flatten({**DEBIT_NOTE, "postPeriod": "201220"})
    assert odd.header["postPeriod"] == "201220"


async def test_debit_notes_round_trip_their_post_period(start_sandbox, tmp_path):
    async with start_sandbox() as source, start_sandbox() as fresh:
        for sb in (source, fresh):
            await _import(sb.url, SAMPLES / "customers.csv", "customer", tmp_path)
        await _import(source.url, SAMPLES / "debit-notes.csv", "debit-note", tmp_path)
        async with _client(source.url) as client:
            answered = (await client.request("GET", "/v1/customerDebitNote/000050")).response.json()
            checked = await verify_records(client, SAMPLES / "debit-notes.csv", "debit-note", tmp_path / "v.ndjson")
            exported = await export_records(client, "debit-note", tmp_path / "debit.csv")
        assert checked.ok, read_lines(tmp_path / "v.ndjson")
        assert exported.ok and exported.records == 2
        rows = (tmp_path / "debit.csv").read_text(encoding="utf-8").splitlines()
        header = rows[0].split(",")
        assert {r.split(",")[header.index("postPeriod")] for r in rows[1:]} == {"012020"}
        await _import(fresh.url, tmp_path / "debit.csv", "debit-note", tmp_path)
        async with _client(fresh.url) as client:
            again = await verify_records(client, SAMPLES / "debit-notes.csv", "debit-note", None)
        assert again.ok and again.counts["ok"] == 2
    # The period travels as YYYYMM when the answer says so (the standard profile does).
    assert isinstance(answered, dict) and period_parts(answered["postPeriod"]) == (2020, 1)


async def test_verify_matches_a_period_by_meaning(tmp_path):
    server = DtoServer({"/v1/customerDebitNote": [DEBIT_NOTE]})
    (tmp_path / "mm.csv").write_text("referenceNumber,postPeriod\n000077,012024\n", encoding="utf-8")
    (tmp_path / "wrong.csv").write_text("referenceNumber,postPeriod\n000077,022024\n", encoding="utf-8")
    async with server.running(), _client(server.url) as client:
        same = await verify_records(client, tmp_path / "mm.csv", "debit-note", None)
        other = await verify_records(client, tmp_path / "wrong.csv", "debit-note", tmp_path / "w.ndjson")
        exported = await export_records(client, "debit-note", tmp_path / "d.ndjson")
    assert same.ok and not other.ok
    assert read_lines(tmp_path / "w.ndjson")[0]["differences"] == [
        {"field": "postPeriod", "expected": "022024", "actual": "012024"},
    ]
    assert exported.ok and read_lines(tmp_path / "d.ndjson")[0]["postPeriod"] == "012024"


# -- expand flags ------------------------------------------------------------------------------


async def test_export_asks_for_the_expansions_its_columns_need(tmp_path):
    server = DtoServer({"/v1/customer": [CUSTOMER], "/v1/customerDebitNote": [DEBIT_NOTE]})
    async with server.running(), _client(server.url) as client:
        every = await export_records(client, "customer", tmp_path / "c.csv")
        gl_only = await export_records(client, "customer", tmp_path / "gl.csv", columns=["number", "glAccounts.salesAccount"])
        last_customer = server.last_query("/v1/customer")
        payment = await export_records(client, "customer", tmp_path / "p.csv",
                                       columns=["number", "defaultPaymentMethod.paymentMethodId"])
        plain = await export_records(client, "debit-note", tmp_path / "plain.csv", columns=["referenceNumber"])
        plain_query = server.last_query("/v1/customerDebitNote")
        address = await export_records(client, "debit-note", tmp_path / "a.ndjson",
                                       filters=ExportFilters(expand_tax_details=True))
        address_query = server.last_query("/v1/customerDebitNote")
    assert every.params == {"expandAccountInformation": "true", "expandPaymentMethods": "true",
                            "expandDirectDebit": "false"}
    assert "glAccounts.salesAccount" in every.columns  # the expanded part reaches the file
    assert last_customer["expandAccountInformation"] == "true" and last_customer["expandPaymentMethods"] == "false"
    assert gl_only.ok and payment.params["expandPaymentMethods"] == "true"
    assert payment.params["expandAccountInformation"] == "false"
    assert plain.ok and plain_query["expandInvoiceAddress"] == "false"
    assert address.ok and address_query["expandInvoiceAddress"] == "true"
    assert address_query["expandTaxDetails"] == "true" and address_query["expandAttachments"] == "false"


async def test_verify_by_list_asks_for_the_expansions_its_input_needs(tmp_path):
    server = DtoServer({"/v1/customer": [CUSTOMER]})
    (tmp_path / "gl.csv").write_text("number,glAccounts.salesAccount\n10000,3000\n", encoding="utf-8")
    (tmp_path / "city.csv").write_text("number,mainAddress.city\n10000,Oslo\n", encoding="utf-8")
    async with server.running(), _client(server.url) as client:
        gl = await verify_records(client, tmp_path / "gl.csv", "customer", None, strategy="list")
        gl_query = server.last_query("/v1/customer")
        city = await verify_records(client, tmp_path / "city.csv", "customer", None, strategy="list")
        city_query = server.last_query("/v1/customer")
    assert gl.ok and city.ok
    assert gl_query["expandAccountInformation"] == "true"
    assert city_query["expandAccountInformation"] == "false" and city_query["expandPaymentMethods"] == "false"


# -- filters -----------------------------------------------------------------------------------

DOCUMENT_FILTERS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"created": ">=2024-01-01"}, {"createdDateTime": "2024-01-01", "createdDateTimeCondition": ">="}),
    ({"document_type": "debitnote"}, {"documentType": "DebitNote"}),
    ({"customer": " 10000 "}, {"customer": "10000"}),
    ({"released": "yes"}, {"released": "1"}),
    ({"released": "no"}, {"released": "0"}),
    ({"document_date": "<2024-02-01 00:00:00"},
     {"documentDate": "2024-02-01 00:00:00", "documentDateCondition": "<"}),
    ({"due_date": "<=2024-03-01"}, {"documentDueDate": "2024-03-01", "documentDueDateCondition": "<="}),
    ({"external_reference": "EXT-1"}, {"externalReference": "EXT-1"}),
    ({"customer_ref": "PO 4471"}, {"customerRefNumber": "PO 4471"}),
    ({"branch": "1"}, {"branch": "1"}),
    ({"dunning_level": "2"}, {"dunningLevel": "2"}),
]
CUSTOMER_FILTERS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"created": ">2024-01-01"}, {"createdDateTime": "2024-01-01", "createdDateTimeCondition": ">"}),
    ({"name": "NewCustomer"}, {"name": "NewCustomer"}),
    ({"corporate_id": "912345678"}, {"corporateId": "912345678"}),
    ({"vat_registration_id": "NO912345678MVA"}, {"vatRegistrationId": "NO912345678MVA"}),
    ({"email": "post@newcustomer.no"}, {"email": "post@newcustomer.no"}),
    ({"phone": "+47 22 33 44 55"}, {"phone": "+47 22 33 44 55"}),
]


async def test_each_filter_is_sent_as_its_query_parameter(tmp_path):
    server = DtoServer({"/v1/customer": [CUSTOMER], "/v1/customerDebitNote": [DEBIT_NOTE]})
    async with server.running(), _client(server.url) as client:
        for entity, path, cases in (("debit-note", "/v1/customerDebitNote", DOCUMENT_FILTERS),
                                    ("customer", "/v1/customer", CUSTOMER_FILTERS)):
            for given, sent in cases:
                summary = await export_records(client, entity, tmp_path / "x.ndjson", filters=ExportFilters(**given))
                assert summary.ok, (given, summary.error)
                query = server.last_query(path)
                assert {k: query.get(k) for k in sent} == sent, given
                assert not set(query) - set(sent) - {"pageNumber", "pageSize"} - {
                    k for k in query if k.startswith("expand")}, given


async def test_filters_select_in_the_sandbox(start_sandbox, tmp_path):
    async with start_sandbox() as sb:
        await _import(sb.url, SAMPLES / "customers.csv", "customer", tmp_path)
        await _import(sb.url, SAMPLES / "debit-notes.csv", "debit-note", tmp_path)
        async with _client(sb.url) as client:

            async def keys(entity: str, **given: Any) -> list[str]:
                summary = await export_records(client, entity, tmp_path / "k.ndjson", filters=ExportFilters(**given))
                assert summary.ok, summary.error
                key = ENTITIES[entity].key_field or ""
                return sorted({line[key] for line in read_lines(tmp_path / "k.ndjson")})

            assert await keys("debit-note", customer="10003") == ["000051"]
            assert await keys("debit-note", document_date=">=2020-01-17") == ["000051"]
            assert await keys("debit-note", document_date="<2020-01-17") == ["000050"]
            assert await keys("debit-note", created=">=2000-01-01") == ["000050", "000051"]
            assert await keys("debit-note", created="<2000-01-01") == []
            assert await keys("customer", name="Ærlig Rørlegger AS") == ["10001"]
            assert await keys("customer", corporate_id="912345678") == ["10001"]
            assert await keys("customer", email="post@newcustomer.no") == ["10000"]
            assert await keys("customer", phone="+47 22 33 44 55") == ["10001"]


def test_bad_filters_are_refused_naming_the_flag():
    debit, customer = ENTITIES["debit-note"], ENTITIES["customer"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"created": "2024-01-01"}, "--created"),
        ({"document_date": ">=01.02.2024"}, "--document-date"),
        ({"due_date": "=2024-01-01"}, "--due-date"),
        ({"document_type": "Faktura"}, "--document-type"),
        ({"released": "maybe"}, "--released"),
        ({"dunning_level": "-1"}, "--dunning-level"),
        ({"dunning_level": "two"}, "--dunning-level"),
        ({"customer": "  "}, "--customer"),
        ({"branch": ""}, "--branch"),
    ]
    for given, flag in bad:
        with pytest.raises(ConfigError, match=flag):
            ExportFilters(**given).params(debit)
    with pytest.raises(ConfigError, match="--customer, --released apply to invoices"):
        ExportFilters(customer="1", released="yes").params(customer)
    with pytest.raises(ConfigError, match="--name, --email apply to customers"):
        ExportFilters(name="x", email="y").params(debit)
    with pytest.raises(ConfigError, match="--corporate-id"):
        ExportFilters(corporate_id=" ").params(customer)


async def test_export_filters_from_the_command_line(tmp_path):
    server = DtoServer({"/v1/customerDebitNote": [DEBIT_NOTE]})
    async with server.running():
        auth = ["--base-url", server.url, "--token", TOKEN]
        code, out, err = await run_cli(
            "export", "--entity", "debit-note", "-o", str(tmp_path / "d.csv"), "--customer", "10000",
            "--released", "no", "--due-date", ">=2024-01-01", "--dunning-level", "0", *auth,
        )
        assert code == 0, err
        query = server.last_query("/v1/customerDebitNote")
        assert (query["customer"], query["released"], query["documentDueDate"], query["dunningLevel"]) == (
            "10000", "0", "2024-01-01", "0")
        assert "012024" in (tmp_path / "d.csv").read_text(encoding="utf-8")
        calls = len(server.queries)
        code, _, err = await run_cli("export", "--entity", "debit-note", "--format", "csv",
                                     "--dunning-level", "high", *auth)
        assert code == 2 and "--dunning-level" in err and "Traceback" not in err
        code, _, err = await run_cli("export", "--entity", "customer", "--format", "csv", "--customer", "1", *auth)
        assert code == 2 and "--customer apply to invoices" in err
        assert len(server.queries) == calls  # refused before any call
