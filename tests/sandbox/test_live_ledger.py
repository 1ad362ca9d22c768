"""The live profile's ledger-level quirks, each checked against the standard profile too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import orjson
import pytest

from importer.entities import ENTITIES
from importer.sandbox.auth import STATIC_TENANT
from importer.sandbox.ledger import Ledger
from importer.sandbox.store import Store
from tests.support.sandbox_api import Api, customer_body, w

SandboxWith = Callable[..., AbstractAsyncContextManager[Api]]
PROFILES = ["standard", "live"]


async def listed(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    status, body, _ = await api.call("GET", path, params=params)
    assert status == 200, body
    return body


async def with_documents(api: Api, *references: str) -> None:
    assert await api.post_customer("10000") == 201
    for i, ext in enumerate(references, 1):
        body = {"customerNumber": w("10000"), "referenceNumber": w(f"I{i}"), "externalReference": w(ext)}
        assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201


@pytest.mark.parametrize("profile", PROFILES)
async def test_external_reference_filter(sandbox_with: SandboxWith, profile: str) -> None:
    async with sandbox_with(profile=profile) as api:
        await with_documents(api, "ORD-100", "ord-1000", "ORD-200")
        refs = [d["referenceNumber"] for d in await listed(api, "/v1/customerinvoice", externalReference="ord-100")]
        exact = [d["referenceNumber"] for d in await listed(api, "/v1/customerinvoice", externalReference="ORD-100")]
        if profile == "live":  # any reference containing it, whatever the case: a lookup finds others too
            assert refs == ["I1", "I2"] and exact == ["I1", "I2"]
        else:
            assert refs == [] and exact == ["I1"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_list_metadata(sandbox_with: SandboxWith, profile: str) -> None:
    async with sandbox_with(profile=profile, max_page_size=2) as api:
        await with_documents(api, "A", "B", "C")
        for path in ("/v1/customer", "/v1/customerinvoice"):
            items = await listed(api, path)
            assert items
            if profile == "live":
                assert all("metadata" not in item for item in items), path
            else:
                assert all("metadata" in item for item in items), path
        # Either way a client that pages until a short page gets everything, once.
        seen: list[str] = []
        for page in range(1, 5):
            items = await listed(api, "/v1/customerinvoice", pageNumber=page, pageSize=50)  # clamped to 2
            assert len(items) <= 2
            seen += [d["referenceNumber"] for d in items]
            if len(items) < 2:
                break
        assert seen == ["I1", "I2", "I3"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_deprecated_paging_parameters_are_ignored(sandbox_with: SandboxWith, profile: str) -> None:
    async with sandbox_with(profile=profile) as api:
        await with_documents(api, "A", "B", "C")
        items = await listed(api, "/v1/customerinvoice", numberToRead=1, skipRecords=2)
        assert [d["referenceNumber"] for d in items] == ["I1", "I2", "I3"]


async def test_live_release_is_queued_then_done(sandbox_with: SandboxWith) -> None:
    async with sandbox_with(profile="live") as api:
        await with_documents(api, "A")
        status, answer, _ = await api.call("POST", "/v1/customerinvoice/I1/action/release")
        assert status == 200 and answer["actionResult"] == "Queued" and len(answer["actionId"]) == 36
        _, doc, _ = await api.call("GET", "/v1/customerinvoice/I1")
        assert doc["status"] == "Balanced"  # not yet
        assert [d["referenceNumber"] for d in await listed(api, "/v1/customerinvoice", status="Open")] == []
        # While queued the document takes no changes and no second release.
        assert (await api.call("PUT", "/v1/customerinvoice/I1", json={"invoiceText": w("x")}))[0] in (400, 500)
        assert (await api.call("POST", "/v1/customerinvoice/I1/action/release"))[0] in (400, 500)
        for _ in range(40):  # the delay is 0.1 s; allow a busy machine 2 s
            await asyncio.sleep(0.05)
            _, doc, _ = await api.call("GET", "/v1/customerinvoice/I1")
            if doc["status"] != "Balanced":
                break
        assert doc["status"] == "Open"
        assert [d["referenceNumber"] for d in await listed(api, "/v1/customerinvoice", released="1")] == ["I1"]
        (stored,) = await api.records("invoice")
        assert stored["released"] is True and "releaseQueued" not in stored


async def test_standard_release_is_done_at_once(sandbox_with: SandboxWith) -> None:
    async with sandbox_with(profile="standard") as api:
        await with_documents(api, "A")
        _, answer, _ = await api.call("POST", "/v1/customerinvoice/I1/action/release")
        assert answer["actionResult"] == "Done"
        assert (await api.call("GET", "/v1/customerinvoice/I1"))[1]["status"] == "Open"


@pytest.mark.parametrize("profile", PROFILES)
async def test_dunning_letter_result(sandbox_with: SandboxWith, profile: str) -> None:
    async with sandbox_with(profile=profile) as api:
        assert await api.post_customer("10000") == 201
        status, answer, _ = await api.call(
            "POST", "/v1/customer/10000/action/createDunningLetter", json={"levelFrom": 1, "levelTo": 2},
        )
        assert status == 200
        (letter,) = await api.records("dunning-letter")
        if profile == "standard":
            assert answer["actionResult"] == letter["actionResult"] == "Done"
            return
        assert answer["actionResult"] == letter["actionResult"] == "Queued"
        for _ in range(40):
            await asyncio.sleep(0.05)
            (letter,) = await api.records("dunning-letter")
            if letter["actionResult"] != "Queued":
                break
        assert letter["actionResult"] == "Done" and letter["actionId"] == answer["actionId"]


async def test_queued_release_survives_a_restart(tmp_path: Path) -> None:
    """A release still queued when the server stops is finished when it starts again."""
    state = str(tmp_path / "state.sqlite")
    store = Store(ENTITIES, state)
    ledger = Ledger(store.tenant(STATIC_TENANT), 1000, profile="live", queue_delay=60.0)  # never finishes here
    rules = ledger.rules
    ledger.create(rules["customer"], orjson.dumps(customer_body("10000")), "http://127.0.0.1")
    body = {"customerNumber": w("10000"), "referenceNumber": w("I1")}
    ledger.create(rules["invoice"], orjson.dumps(body), "http://127.0.0.1")
    answer = ledger.release(rules["invoice"], "I1")
    assert orjson.loads(answer.body)["actionResult"] == "Queued"
    assert orjson.loads(ledger.get(rules["invoice"], "I1", {}).body)["status"] == "Balanced"
    store.close()
    again = Store(ENTITIES, state)
    try:
        restarted = Ledger(again.tenant(STATIC_TENANT), 1000, profile="live", queue_delay=60.0)
        assert orjson.loads(restarted.get(restarted.rules["invoice"], "I1", {}).body)["status"] == "Open"
    finally:
        again.close()
