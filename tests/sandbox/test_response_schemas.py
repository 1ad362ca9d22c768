"""Every kind of sandbox read, validated against the OpenAPI document's response schemas.

A real JSON-schema validator (``jsonschema``, draft 2020-12) checks each answer against the
schema the document gives its path, method and status: types (integer vs number, string,
boolean, object, array), enums, and the formats ``date-time`` (a date and a time of day, as
the API answers ``2020-02-03T00:00:00``; a bare ``2020-02-03`` is a violation), ``int32`` /
``int64`` ranges and ``uuid``. No field of the response schemas is nullable, so ``null`` is
a violation too. Covered: GET by key and lists (with and without the ``expand*`` groups,
paged) of customers, invoices, credit notes and debit notes; documents on hold, balanced
and released; the release and createDunningLetter answers; the background API's 202, its
state while waiting and when finished, and its content (checked against the schema of the
read it answers); both profiles; a sandbox that checks nothing (every field sent) and one
that is the built-in demo company (the usage guide's examples). On failure the count of
violations per endpoint is printed with the first few.

The document lives in ``../shared``; without it these tests skip.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from importer.company.demo import demo_company
from importer.entities import ENTITIES
from importer.sandbox import SandboxConfig
from tests.support.bodies import full_body
from tests.support.sandbox_api import GUIDE_CUSTOMER, Api, running_api, w
from tests.support.schemas import OPENAPI, openapi_document, validator

pytestmark = pytest.mark.skipif(OPENAPI is None, reason="../shared/visma-openapi is not present")

BACKGROUND = {"erp-api-background": "none"}
DOCUMENTS = [e for e in ENTITIES.values() if e.is_document]
# Each readable entity's path templates, as the document names them.
_KEYS = {"customer": "customerCd", "invoice": "invoiceNumber", "credit-note": "creditNoteNumber",
         "debit-note": "debitNoteNumber"}


class Reads:
    """Sends reads, validates every answer, keeps the violations per endpoint."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.checked: Counter[str] = Counter()
        self.violations: dict[str, list[str]] = {}

    def check(self, endpoint: tuple[str, str, int], body: Any, label: str, name: str | None = None) -> None:
        """``body`` against ``endpoint``'s schema; counted under ``name`` (default: the endpoint)."""
        name = name or f"{endpoint[0]} {endpoint[1]} {endpoint[2]}"
        self.checked[name] += 1
        for error in validator(*endpoint).iter_errors(body):
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            self.violations.setdefault(name, []).append(f"{label}: {where}: {error.message[:160]}")

    async def read(self, template: str, path: str, status: int = 200, **kw: Any) -> Any:
        got_status, body, _ = await self.api.call("GET", path, **kw)
        assert got_status == status, (path, got_status, body)
        self.check(("GET", template, status), body, path)
        return body

    async def action(self, template: str, path: str, body: Any = None) -> Any:
        status, answer, _ = await self.api.call("POST", path, json=body)
        assert status == 200, (path, status, answer)
        self.check(("POST", template, 200), answer, path)
        return answer

    async def background(self, template: str, path: str) -> None:
        """``path`` read through the background API: 202, state while waiting and when done, content."""
        status, accepted, _ = await self.api.call("GET", path, headers=BACKGROUND)
        assert status == 202, (path, accepted)
        self.check(("GET", template, 202), accepted, f"{path} (queued)")
        state_template = "/v1/background/{requestId}"
        state_path = f"/v1/background/{accepted['id']}"
        await self.read(state_template, state_path)
        async with asyncio.timeout(5):
            while (state := await self.read(state_template, state_path))["status"] == "Started":
                await asyncio.sleep(0.01)
        assert state["statusCode"] == 200, state
        status, content, _ = await self.api.call("GET", f"{state_path}/content")
        assert status == 200
        # The document types content as any object; it is the read's own answer (a list is an
        # array), so it is held to the schema of the read it answers.
        self.check(("GET", template, 200), content, f"{path} (background content)",
                   f"GET {state_template}/content 200")

    def assert_clean(self) -> None:
        counts = {name: len(found) for name, found in sorted(self.violations.items())}
        report = "\n".join(
            f"{name}: {len(found)} violation(s)\n  " + "\n  ".join(found[:5])
            for name, found in sorted(self.violations.items())
        )
        assert not counts, f"{sum(counts.values())} response-schema violations\n{report}"


async def _read_everything(reads: Reads, keys: Mapping[str, list[str]]) -> None:
    """Every read kind of every entity, for the records ``keys`` names (entity -> keys)."""
    for name, entity_keys in keys.items():
        entity = ENTITIES[name]
        collection = entity.path
        item = f"{collection}/{{{_KEYS[name]}}}"
        for key in entity_keys:
            await reads.read(item, f"{collection}/{key}")
        items = await reads.read(collection, collection)
        assert len(items) == len(entity_keys)
        await reads.read(collection, collection, params={"pageSize": "1", "pageNumber": "2"})
        if entity.is_document:
            every = {f"expand{g}": "true" for g in
                     ("Applications", "DunningInformation", "InvoiceAddress", "Attachments", "TaxDetails")}
            none = dict.fromkeys(every, "false")
            await reads.read(collection, collection, params=every)
            await reads.read(collection, collection, params=none)
            await reads.read(item, f"{collection}/{entity_keys[0]}", params=none)
        await reads.background(item, f"{collection}/{entity_keys[0]}")
        await reads.background(collection, collection)


async def _release_all(reads: Reads, keys: Mapping[str, list[str]]) -> None:
    for entity in DOCUMENTS:
        key = keys[entity.name][0]
        template = f"{entity.path}/{{{_KEYS[entity.name]}}}/action/release"
        await reads.action(template, f"{entity.path}/{key}/action/release")


async def _wait_released(api: Api, keys: Mapping[str, list[str]]) -> None:
    """Until every released document reads Open (the live profile finishes a release a moment later)."""
    async with asyncio.timeout(5):
        for entity in DOCUMENTS:
            while (await api.call("GET", f"{entity.path}/{keys[entity.name][0]}"))[1]["status"] != "Open":
                await asyncio.sleep(0.02)


def test_the_checker_flags_what_the_api_never_answers() -> None:
    """The validator is no rubber stamp: a bare date, a null, a wrong type, enum and range are caught."""
    endpoint = ("GET", "/v1/customerinvoice/{invoiceNumber}", 200)
    for bad in ({"documentDate": "2020-02-03"}, {"documentDate": "2020-02-30T00:00:00"},
                {"dunningLetterDate": None}, {"dunningLetterLevel": 1.5}, {"dunningLetterLevel": 2**31},
                {"status": "Nonsense"}, {"customer": {"number": 10000}}, {"hold": "false"}):
        assert list(validator(*endpoint).iter_errors(bad)), bad
    good = {"documentDate": "2020-02-03T00:00:00", "lastModifiedDateTime": "2024-05-01T12:00:00.123Z",
            "dunningLetterLevel": 0, "status": "Open", "customer": {"number": "10000", "name": "A"}}
    assert not list(validator(*endpoint).iter_errors(good))


@pytest.mark.parametrize("profile", ["standard", "live"])
async def test_every_read_of_records_with_every_field_fits(profile: str) -> None:
    """A sandbox that checks no references, each record sent with every field its request schema has."""
    config = SandboxConfig(profile=profile, company=None, background_delay_ms=5)
    async with running_api(config) as api:
        reads = Reads(api)
        customer = full_body("CustomerUpdateDto") | {"number": w("10000"), "name": w("Acme AS")}
        assert (await api.call("POST", "/v1/customer", json=customer))[0] == 201
        assert (await api.call("POST", "/v1/customer", json={"name": w("Bare AS"), "number": w("10001")}))[0] == 201
        keys = {"customer": ["10000", "10001"]}
        for entity in DOCUMENTS:
            full = full_body(entity.schema) | {"referenceNumber": w("D1"), "hold": w(False)}
            held = {"customerNumber": w("10001"), "referenceNumber": w("D2"), "hold": w(True)}
            for body in (full, held):
                status, err, _ = await api.call("POST", entity.path, json=body)
                assert status == 201, err
            keys[entity.name] = ["D1", "D2"]
        # A field cleared by a PUT has no value: it is left out, not answered null.
        assert (await api.call("PUT", "/v1/customer/10000", json={"corporateId": w(None)}))[0] == 204
        await _read_everything(reads, keys)
        await _release_all(reads, keys)
        await _wait_released(api, keys)
        await _read_everything(reads, keys)
        await reads.action("/v1/customer/{customer}/action/createDunningLetter",
                           "/v1/customer/10000/action/createDunningLetter",
                           {"dunningLetterDate": "2020-01-21T09:39:48.538Z", "levelFrom": 1, "levelTo": 2})
        assert (await api.call("GET", "/v1/customer/10000"))[1].get("corporateId") is None
    reads.assert_clean()
    every_get = {f"GET {p} 200" for p, ops in openapi_document()["paths"].items() if "get" in ops}
    assert every_get <= set(reads.checked), every_get - set(reads.checked)
    assert sum(reads.checked.values()) > 80


@pytest.mark.parametrize("profile", ["standard", "live"])
async def test_the_usage_guides_records_in_the_demo_company_read_as_the_api_answers(profile: str) -> None:
    """The guide's customer and documents in the built-in demo company: what a rehearsal reads back."""
    config = SandboxConfig(profile=profile, company=demo_company(), background_delay_ms=5)
    async with running_api(config) as api:
        reads = Reads(api)
        assert (await api.call("POST", "/v1/customer", json=GUIDE_CUSTOMER))[0] == 201
        line = {"operation": "Insert", "inventoryNumber": w("6"), "quantity": w(1), "unitPriceInCurrency": w(1)}
        common = {"customerNumber": w("10000"), "documentDate": w("2020-01-16"), "postPeriod": w("012020"),
                  "financialPeriod": w("202001")}
        bodies = {
            "invoice": {**common, "referenceNumber": w("156589"), "invoiceText": w("Payment for potatoes"),
                        "invoiceLines": [{"operation": "Insert", "inventoryNumber": w("222"),
                                          "quantity": w(500), "uom": w("STK")}]},
            "credit-note": {**common, "referenceNumber": w("25698"), "currencyId": w("NOK"),
                            "externalReference": w("ExRef"), "lines": [line]},
            "debit-note": {**common, "referenceNumber": w("000050"), "invoiceText": w("DebitNote"),
                           "lines": [{"operation": "Insert", "description": w("Test"), "quantity": w(2),
                                      "unitPriceInCurrency": w(2), "uom": w("STK")}]},
        }
        keys = {"customer": ["10000"]}
        for entity in DOCUMENTS:
            status, err, _ = await api.call("POST", entity.path, json=bodies[entity.name])
            assert status == 201, err
            keys[entity.name] = [bodies[entity.name]["referenceNumber"]["value"]]
        invoice = await reads.read("/v1/customerinvoice/{invoiceNumber}", "/v1/customerinvoice/156589")
        assert invoice["documentDate"] == "2020-01-16T00:00:00"  # as sent, a date; as read, a date-time
        await _read_everything(reads, keys)
        await _release_all(reads, keys)
        await _wait_released(api, keys)
        await _read_everything(reads, keys)
    reads.assert_clean()
