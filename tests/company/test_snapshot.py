"""``importer company snapshot``: a company read over real sockets, written, and served again.

Each test seeds a sandbox with a company, takes a snapshot of it with the CLI as a real
subprocess, and compares the file with the company the sandbox holds. Lists are paged
two records at a time, so a reader that did not follow an endpoint's paging style would
miss records and the comparison would fail.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from importer.company import Company, Numbering, dump_company, load_company
from importer.company.demo import demo_company
from importer.company.file import company_document
from importer.company.kinds import KINDS
from importer.plans.manifest import load_manifest
from importer.plans.plan import load_plan
from importer.sandbox import SandboxConfig, serve
from tests.support.runs import final_lines, run_cli

PAGE = 2  # the sandbox's largest page in these tests
SECRET = "cs-Hemmelig-7f3a91"  # the client secret the CLI signs in with
STATIC = "st-Hemmelig-51c0de"  # the sandbox's static token


def rehearsal_company() -> Company:
    """The demo company with more than two records of every paged kind, a number series,
    numbering a person wrote down, and one kind the token may not read."""
    demo = demo_company()
    records: dict[str, list[dict[str, Any]]] = {name: [dict(r) for r in rows] for name, rows in demo.records.items()}
    records["vatZones"].append({"id": "03", "description": "EU", "defaultVatCategory": "52"})
    records["subaccounts"] += [{"subaccountNumber": n, "description": f"Avdeling {n}", "active": True,
                                "segments": [{"segmentId": 1, "segmentValue": n}]} for n in ("10", "20")]
    records["salespersons"] += [{"salespersonID": n, "name": f"Selger {n}", "isActive": True} for n in ("2", "3")]
    records["paymentMethods"].append({"paymentMethodID": "KORT", "description": "Kort", "active": True,
                                      "meansOfPayment": "CreditCard"})
    records["numberSeries"] = [{"numberingId": "ARINVOICE", "description": "Fakturaer", "manualNumbering": False,
                                "newNumberSymbol": "<NY>", "sequence": [{"startNbr": "100000", "endNbr": "999999",
                                                                         "lastNbr": "100041"}]}]
    return Company.of("Rehearsal AS", records, customer_dimension=demo.customer_dimension,
                      numbering={"invoice": Numbering("ARINVOICE", True)}, unavailable={"branches": 403})


def sandbox_config(company: Company | None) -> SandboxConfig:
    return SandboxConfig(seed=1, company=company, max_page_size=PAGE, clients={"snap": SECRET},
                         static_token=STATIC)


def client_env() -> dict[str, str]:
    return {"VISMA_CLIENT_ID": "snap", "VISMA_CLIENT_SECRET": SECRET, "VISMA_TENANT_ID": "rehearsal"}


def without_taken_at(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "takenAt"}


def calls_printed(stdout: str) -> int:
    line = next(line for line in stdout.splitlines() if line.startswith("calls: "))
    return int(line.removeprefix("calls: ").replace(",", ""))


def expected_calls(company: Company) -> int:
    """The GETs a snapshot needs with pages of PAGE: a last, short or empty, page ends each list."""
    calls = 1  # the customer dimension
    for k in KINDS:
        n = len(company.records[k.name])
        if k.name in company.unavailable or k.paging == "none":
            calls += 1
        elif k.paging == "skip":
            calls += n // PAGE + 1  # a full page asks for the next; a short or empty one ends it
        else:  # the total count ends a list whose last page is full
            calls += max(math.ceil(n / PAGE), 1)
    return calls


async def test_a_snapshot_of_a_company_is_that_company(tmp_path: Path) -> None:
    company = rehearsal_company()
    out = tmp_path / "rehearsal.company.json"
    async with serve(sandbox_config(company)) as sb:
        code, stdout, stderr = await run_cli(
            "company", "snapshot", "--out", str(out), "--base-url", sb.url, "--token-url", sb.token_url,
            "--name", "Rehearsal AS", env=client_env())
        stats = sb.sandbox.stats
        served = stats.requests + stats.tokens_issued
        issued = [t for t in sb.sandbox.auth._tokens if t != STATIC]
    assert code == 0, stderr
    assert stderr == ""
    snapshot = load_company(out)
    # Everything but what the API cannot tell (numbering) is what the sandbox served.
    assert snapshot.numbering == {}
    assert company_document(snapshot) == company_document(Company.of(
        company.name, company.records | {"branches": ()}, customer_dimension=company.customer_dimension,
        unavailable=company.unavailable))
    assert snapshot.unavailable == {"branches": 403}
    assert "not readable (HTTP 403)" in stdout and "branches" in stdout
    # The calls it printed are the calls the sandbox answered (a token call among them), and
    # every paged list took more than one.
    assert stats.tokens_issued == 1
    assert calls_printed(stdout) == served == expected_calls(company) + 1
    assert served > 2 * len(KINDS)
    # No credential reached the file or the terminal.
    assert len(issued) == 1
    text = out.read_text(encoding="utf-8") + stdout + stderr
    for secret in (SECRET, issued[0]):
        assert secret not in text


async def test_a_snapshot_served_again_reads_the_same(tmp_path: Path) -> None:
    """company -> sandbox -> snapshot -> sandbox -> snapshot: the two files are equal but for takenAt,
    and a snapshot taken again over the first keeps what a person wrote in it (numbering)."""
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    async with serve(sandbox_config(rehearsal_company())) as sb:
        code, _, stderr = await run_cli("company", "snapshot", "-o", str(first), "--base-url", sb.url,
                                        "--name", "Rehearsal AS", env={"VISMA_TOKEN": STATIC})
    assert code == 0, stderr
    async with serve(sandbox_config(load_company(first))) as sb:
        code, stdout, stderr = await run_cli("company", "snapshot", "-o", str(second), "--base-url", sb.url,
                                             "--name", "Rehearsal AS", env={"VISMA_TOKEN": STATIC})
        assert code == 0, stderr
        assert calls_printed(stdout) == sb.sandbox.stats.requests  # a static token: no token call
    a, b = orjson.loads(first.read_bytes()), orjson.loads(second.read_bytes())
    assert a["takenAt"] and b["takenAt"]
    assert without_taken_at(a) == without_taken_at(b)
    assert first.read_bytes().replace(a["takenAt"].encode(), b"") == second.read_bytes().replace(
        b["takenAt"].encode(), b"")
    for text in (first.read_text(), second.read_text(), stdout, stderr):
        assert STATIC not in text

    # A person writes the numbering down; the next snapshot over that file keeps it.
    doc = orjson.loads(second.read_bytes())
    doc["numbering"] = {"invoice": {"series": "ARINVOICE", "allowManualOnImports": True}}
    second.write_bytes(orjson.dumps(doc))
    async with serve(sandbox_config(load_company(first))) as sb:
        code, _, stderr = await run_cli("company", "snapshot", "-o", str(second), "--base-url", sb.url,
                                        env={"VISMA_TOKEN": STATIC})
    assert code == 0, stderr
    kept = load_company(second)
    assert kept.numbering == {"invoice": Numbering("ARINVOICE", True)}
    assert kept.name == "Rehearsal AS"


async def test_the_sandbox_pages_each_kind_in_its_own_style() -> None:
    """What the API answers, endpoint by endpoint: wrappers, metadata, skip paging, by id, 404s."""
    company = rehearsal_company()
    headers = {"Authorization": f"Bearer {STATIC}"}
    async with serve(sandbox_config(company)) as sb, aiohttp.ClientSession(
            headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as http:
        async def get(path: str, **params: str) -> tuple[int, Any]:
            async with http.get(sb.url + path, params=params) as resp:
                return resp.status, orjson.loads(await resp.read())

        status, terms = await get("/v1/creditTerm", pageNumber="2", pageSize="50")
        assert status == 200
        terms_ids = sorted(company.ids("creditTerms"), key=str.casefold)
        assert terms["pageNumber"] == 2 and terms["pageSize"] == PAGE and terms["totalCount"] == len(terms_ids)
        assert [r["termsId"] for r in terms["records"]] == terms_ids[PAGE:2 * PAGE]
        status, zones = await get("/v1/vatZone", pageNumber="2")
        assert [z["id"] for z in zones] == ["03"]
        assert zones[0]["metadata"] == {"totalCount": 3, "maxPageSize": PAGE}
        status, vats = await get("/v1/vat", numberToRead="2", skipRecords="3")
        assert [v["vatId"] for v in vats] == ["5", "52"] and "metadata" not in vats[0]
        status, classes = await get("/v1/customer/customerClass")
        assert [c["id"] for c in classes] == ["1", "2"]
        status, item = await get("/v1/inventory/%20sylt")
        assert status == 200 and item["inventoryNumber"] == "SYLT" and item["vatCode"] == {"id": "31"}
        status, missing = await get("/v1/vatCategory/99")
        assert status == 404 and missing == {"message": "VAT category '99' was not found."}
        status, forbidden = await get("/v1/branch")
        assert status == 403 and "message" in forbidden
        status, dimension = await get("/v1/dimension/customer", expandSegmentsValues="false")
        assert status == 200 and dimension["id"] == "CUSTOMER" and dimension["segments"][0]["segmentValues"] == []
        status, bad = await get("/v1/inventory", pageNumber="0")
        assert status == 400 and "pageNumber" in bad["ExceptionMessage"]
        async with http.post(sb.url + "/v1/vat", data=b"{}") as resp:
            assert resp.status == 405
        # A customer is still a customer: the ledger's routes are where they were.
        status, customer = await get("/v1/customer/10001")
        assert status == 404 and "Customer" in customer["message"]

    async with serve(sandbox_config(None)) as sb, aiohttp.ClientSession(headers=headers) as http:
        for path in ("/v1/vat", "/v1/vat/3", "/v1/customer/customerClass", "/v1/dimension/CUSTOMER"):
            async with http.get(sb.url + path) as resp:
                assert resp.status == 404, path
                assert "No HTTP resource was found" in orjson.loads(await resp.read())["message"]


SANDBOX = ("sandbox", "--port", "0", "--company")  # importer sandbox --company FILE
SNAPSHOT = ("company", "snapshot", "--sandbox", "--company")  # a command's embedded sandbox


@pytest.mark.parametrize("command, content, reason", [
    (SANDBOX, None, "cannot read company file"),
    (SNAPSHOT, b"{not json", "is not JSON"),
    (SANDBOX, b'{"format": "something-else/1"}', "not a company snapshot"),
    (SNAPSHOT, b'{"format": "importer-company/1", "vats": [{"description": "no id"}]}',
     "vats record 1 has no vatId"),
])
async def test_an_unusable_company_file_is_one_line(
        tmp_path: Path, command: tuple[str, ...], content: bytes | None, reason: str) -> None:
    path = tmp_path / "company.json"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out.json"
    code, stdout, stderr = await run_cli(*command, str(path), "--out", str(out), timeout=20) \
        if command == SNAPSHOT else await run_cli(*command, str(path), timeout=20)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert str(path) in lines[0] and reason in lines[0]
    assert stdout == ""
    assert not out.exists()


async def test_an_existing_file_that_is_not_a_snapshot_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"
    out.write_bytes(b"number,name\n1,Acme\n")
    company = tmp_path / "company.json"
    dump_company(rehearsal_company(), company)
    code, stdout, stderr = await run_cli("company", "snapshot", "--sandbox", "--company", str(company),
                                         "--out", str(out), timeout=20)
    assert code == 2
    assert "is not a company snapshot" in stderr and str(out) in stderr and len(stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"number,name\n1,Acme\n"


async def test_a_rehearsal_runs_on_the_company_it_is_given(tmp_path: Path) -> None:
    """``--sandbox --company FILE`` and a plan's ``sandbox_company``: the embedded sandbox is that company."""
    company = tmp_path / "company.json"
    dump_company(rehearsal_company(), company)
    out = tmp_path / "snap.json"
    code, stdout, stderr = await run_cli("company", "snapshot", "--sandbox", "--company", str(company),
                                         "--out", str(out), timeout=20)
    assert code == 0, stderr
    assert load_company(out).records == rehearsal_company().records | {"branches": ()}
    assert load_company(out).name == "Rehearsal AS"  # the sandbox's company names a first snapshot
    code, _, stderr = await run_cli("company", "snapshot", "--sandbox", "--company", "none",
                                    "--out", str(tmp_path / "none.json"), timeout=20)
    assert code == 1 and "no reference data could be read (HTTP 404 to every list)" in stderr
    code, _, stderr = await run_cli("company", "snapshot", "--company", str(company), "--out", str(out), timeout=20)
    assert code == 2 and "--company needs --sandbox" in stderr


async def test_plans_and_manifests_name_their_sandbox_company(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("number,name\n1,Acme\n", encoding="utf-8")
    (tmp_path / "broken.json").write_text("[]", encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text('sandbox_company = "broken.json"\n[[step]]\ninput = "customers.csv"\nentity = "customer"\n',
                    encoding="utf-8")
    manifest = tmp_path / "fleet.toml"
    manifest.write_text('sandbox_company = "broken.json"\n[[company]]\nname = "acme"\ntoken_env = "ACME_TOKEN"\n'
                        '[[company.step]]\ninput = "customers.csv"\nentity = "customer"\n', encoding="utf-8")
    assert load_plan(plan).sandbox_company == str(tmp_path / "broken.json")
    assert load_manifest(manifest, check_credentials=False).sandbox_company == str(tmp_path / "broken.json")
    # Rehearsing loads it, and a file that is no snapshot stops the run before anything is sent.
    for args in (("plan", str(plan), "--sandbox"), ("fleet", str(manifest), "--sandbox")):
        code, stdout, stderr = await run_cli(*args, timeout=20)
        assert code == 2, (args, stdout, stderr)
        assert stderr.strip().splitlines() == [
            f"importer: error: company file {tmp_path / 'broken.json'}: not a company snapshot (expected a JSON object)"]
        assert not (tmp_path / "customers.csv.results.ndjson").exists()
    # --company on the command line wins over the file's key.
    code, _, stderr = await run_cli("plan", str(plan), "--sandbox", "--company", "none", timeout=30)
    assert code == 0, stderr
    assert [line["outcome"] for line in final_lines(tmp_path / "customers.csv.results.ndjson")] == ["created"]
