"""Identity as the API sees it: re-saved files, renamed documents, padded keys, unknowns settled.

Each test asks what the ledger holds (the sandbox, or a small server of the test's own
on loopback), not only what the results file says.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import orjson
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

import importer
from importer.entities import ENTITIES
from importer.load.identity import canonical, fingerprint_of, identify, identity_key
from importer.load.results import Outcome, ResultsWriter
from importer.load.state import read_results
from importer.mapping import Work
from importer.schema import unwrap_value
from tests.support.hostile_server import HostileServer, hostile
from tests.support.runs import TOKEN, assert_one_final_line_per_record, final_lines, get_json, read_lines, run_cli

CUSTOMERS = [{"number": f"{10100 + i}", "name": f"Kunde {i}"} for i in range(20)]


async def ledger(sandbox, entity: str) -> list[dict]:
    return await get_json(f"{sandbox.url}/sandbox/records/{entity}")


async def requests_made(sandbox) -> int:
    return (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"]


def cli(sandbox, path, entity: str, *more: str) -> tuple[str, ...]:
    return ("run", str(path), "--entity", entity, "--base-url", sandbox.url, "--token", TOKEN, *more)


# -- the same record, spelled otherwise ------------------------------------------------------


def write_letters(path, midnight: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("customerNumber,dunningLetterDate,levelFrom,levelTo\n")
        for c in CUSTOMERS:
            f.write(f"{c['number']},2024-02-01{midnight},1,2\n")


async def test_letters_re_saved_with_midnight_times_are_not_sent_again(sandbox, tmp_path):
    await importer.import_records(CUSTOMERS, entity="customer", base_url=sandbox.url, token=TOKEN)
    path = tmp_path / "letters.csv"
    write_letters(path, "")
    code, out, err = await run_cli(*cli(sandbox, path, "dunning-letter"))
    assert code == 0, (out, err)
    assert len(await ledger(sandbox, "dunning-letter")) == 20
    before = await requests_made(sandbox)

    write_letters(path, "T00:00:00")  # the spreadsheet saved the dates as date-times
    code, out, err = await run_cli(*cli(sandbox, path, "dunning-letter", "--resume"))
    assert code == 0, (out, err)
    assert len(await ledger(sandbox, "dunning-letter")) == 20  # not one letter more
    assert await requests_made(sandbox) == before
    finals = assert_one_final_line_per_record(f"{path}.results.ndjson", 20)
    assert {line["outcome"] for line in finals} <= {"done", "queued"}
    assert len(finals) == 20  # the resume wrote nothing: every letter was already done


def write_invoices(path, keys: list[str], price: str = "1250.00") -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("documentKey,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n")
        for n, key in enumerate(keys, 1):
            f.write(f"{key},10100,2024-01-05,Linje {n},{n},{price}\n")


async def test_invoices_whose_document_keys_lost_their_zeros_are_renamed_not_created(sandbox, tmp_path):
    await importer.import_records(CUSTOMERS[:1], entity="customer", base_url=sandbox.url, token=TOKEN)
    path = tmp_path / "invoices.csv"
    padded = [f"{n:04d}" for n in range(1, 31)]
    write_invoices(path, padded)
    code, out, err = await run_cli(*cli(sandbox, path, "invoice"))
    assert code == 0, (out, err)
    first = {line["identity"]: line for line in assert_one_final_line_per_record(f"{path}.results.ndjson", 30)}
    written = len(read_lines(f"{path}.results.ndjson"))
    assert len(await ledger(sandbox, "invoice")) == 30

    write_invoices(path, [key.lstrip("0") for key in padded], price="1250")  # and 1250.00 as 1250
    code, out, err = await run_cli(*cli(sandbox, path, "invoice", "--resume"))
    assert code == 0, (out, err)
    invoices = await ledger(sandbox, "invoice")
    assert len(invoices) == 30, "a renamed invoice must not be created again"
    renamed = read_lines(f"{path}.results.ndjson")[written:]  # final lines only: nothing was sent
    assert len(renamed) == 30 and {line["outcome"] for line in renamed} == {"renamed"}
    held = {unwrap_value(inv["referenceNumber"]) for inv in invoices}
    for line in renamed:
        earlier = first[line["renamed_from"]]
        assert line["identity"] == f"doc:{line['renamed_from'].removeprefix('doc:0').lstrip('0')}"
        assert (line["key"], line["location"]) == (earlier["key"], earlier["location"])
        assert line["reference"] == earlier["reference"] and line["reference"].startswith("imp-")
        assert line["key"] in held
    assert "renamed" in out

    # A later resume finds the new identities done: nothing is sent, nothing written. (Not even
    # read: the preflight, which lists the ledger's customers for the documents, checks nothing.)
    before = await requests_made(sandbox)
    code, out, err = await run_cli(*cli(sandbox, path, "invoice", "--resume", "--company", "none"))
    assert code == 0, (out, err)
    assert await requests_made(sandbox) == before and len(await ledger(sandbox, "invoice")) == 30
    assert len(read_lines(f"{path}.results.ndjson")) == written + 30


async def test_a_document_key_still_in_the_input_is_no_rename(sandbox, tmp_path):
    await importer.import_records(CUSTOMERS[:1], entity="customer", base_url=sandbox.url, token=TOKEN)
    path = tmp_path / "invoices.csv"
    write_invoices(path, ["A1"])
    await importer.import_records(path, entity="invoice", base_url=sandbox.url, token=TOKEN)
    # A second document with the same content, under a key of its own, *after* the first:
    # only the end of the input shows A1 is still there, so B1 is a new invoice.
    with open(path, "a", encoding="utf-8") as f:
        f.write("B1,10100,2024-01-05,Linje 1,1,1250.00\n")
    with open(path, encoding="utf-8") as f:
        header, a1, b1 = f.read().splitlines()
    path.write_text(f"{header}\n{b1}\n{a1}\n", encoding="utf-8")
    summary = await importer.import_records(path, entity="invoice", base_url=sandbox.url, token=TOKEN, resume=True)
    assert summary.outcomes["created"] == 1 and summary.outcomes["renamed"] == 0 and summary.already_done == 1
    assert summary.new == 1
    assert len(await ledger(sandbox, "invoice")) == 2


async def test_padded_keys_are_sent_looked_up_and_recorded_trimmed(sandbox, tmp_path):
    path = tmp_path / "fixed-width.csv"
    path.write_text("number,name\n10001   ,Ærlig Rørlegger AS\n10002 ,Blåbær AS\n", encoding="utf-8")
    code, out, err = await run_cli(*cli(sandbox, path, "customer"))
    assert code == 0, (out, err)
    customers = await ledger(sandbox, "customer")
    assert sorted(unwrap_value(c["number"]) for c in customers) == ["10001", "10002"]
    finals = assert_one_final_line_per_record(f"{path}.results.ndjson", 2)
    assert [(line["outcome"], line["key"], line["identity"]) for line in finals] == [
        ("created", "10001", "key:10001"), ("created", "10002", "key:10002")]
    before = await requests_made(sandbox)
    code, out, err = await run_cli(*cli(sandbox, path, "customer", "--resume"))
    assert code == 0, (out, err)
    assert await requests_made(sandbox) == before  # nothing sent, not even a lookup
    assert len(await ledger(sandbox, "customer")) == 2


def test_identities_written_by_older_versions_are_read_as_the_api_sees_them(tmp_path):
    path = tmp_path / "old.results.ndjson"
    with ResultsWriter(path) as writer:
        writer.write(Outcome([1], "customer", "key:10001   ", "f1", "10001   ", "create", "created"))
        writer.write(Outcome([2], "dunning-letter", "letter:10000|2024-02-01T00:00:00|1-2", "f2", "10000",
                             "action", "done"))
    state = read_results(path)
    assert state.get("key:10001").state == "success"
    assert state.get("letter:10000|2024-02-01|1-2").identity == "letter:10000|2024-02-01T00:00:00|1-2"
    assert identity_key("key:ab1 ") == identity_key("key:AB1")


# -- normalisation --------------------------------------------------------------------------


def _invoice(price, quantity, date) -> dict:
    return {"customerNumber": {"value": "10000"}, "documentDate": {"value": date},
            "invoiceLines": [{"description": {"value": "x"}, "quantity": {"value": quantity},
                              "unitPriceInCurrency": {"value": price}, "operation": "Insert"}]}


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(min_value=-10**9, max_value=10**9), day=st.dates(), quantity=st.integers(0, 10**6),
       spelling=st.sampled_from(["int", "float", "text", "text2"]), midnight=st.sampled_from(
           ["", "T00:00:00", "T00:00", "T00:00:00Z", "T00:00:00.000", "T00:00:00+00:00"]))
def test_amounts_and_dates_spelled_otherwise_give_one_fingerprint(cents, day, quantity, spelling, midnight):
    amount = Decimal(cents) / 100
    as_written = {"int": float(amount) if amount % 1 else int(amount), "float": float(amount),
                  "text": f"{amount:.2f}", "text2": f"{amount:.4f}"}[spelling]
    invoice = ENTITIES["invoice"]
    canonical_one = _invoice(float(amount) if amount % 1 else int(amount), quantity, day.isoformat())
    spelled = _invoice(as_written, float(quantity), day.isoformat() + midnight)
    one = identify(invoice, Work([1], None, canonical_one, group="k"))
    two = identify(invoice, Work([1], None, spelled, group="k"))
    assert one == two
    # Values already canonical hash as they always did: older results files stay valid.
    assert one[1] == fingerprint_of(canonical_one)
    assert canonical(canonical_one, invoice.schema) is canonical_one


def test_other_values_still_change_the_fingerprint():
    invoice = ENTITIES["invoice"]
    base = identify(invoice, Work([1], None, _invoice(1250, 1, "2024-02-01"), group="k"))[1]
    for changed in (_invoice(1250.5, 1, "2024-02-01"), _invoice(1250, 1, "2024-02-01T10:00:00"),
                    _invoice(1250, 2, "2024-02-01")):
        assert identify(invoice, Work([1], None, changed, group="k"))[1] != base
    text = {"number": {"value": "1"}, "name": {"value": "0001"}}  # text stays text
    assert canonical(text, ENTITIES["customer"].schema) is text


# -- unknowns are settled, never resent blind ------------------------------------------------


async def test_unknown_letters_stay_out_of_the_failed_file_and_are_never_sent_again(start_sandbox, tmp_path):
    async with start_sandbox(fault_rate=1.0, faults=("store-then-fail",), seed=5) as sb:
        await importer.import_records(CUSTOMERS[:3], entity="customer", base_url=sb.url, token=TOKEN,
                                      retry_base=0.01)
        path = tmp_path / "letters.csv"
        path.write_text("customerNumber,dunningLetterDate,levelFrom,levelTo\n"
                        "10100,2024-02-01,1,2\n10101,2024-02-01,1,2\n10102,2024-02-01,x,2\n", encoding="utf-8")
        code, out, err = await run_cli(*cli(sb, path, "dunning-letter"))
        assert code == 1, (out, err)
        finals = sorted(assert_one_final_line_per_record(f"{path}.results.ndjson", 3), key=lambda x: x["records"])
        assert [(x["outcome"], x.get("unknown")) for x in finals] == [
            ("failed", True), ("failed", True), ("invalid", False)], finals
        assert len(await ledger(sb, "dunning-letter")) == 2  # stored, though never answered
        assert "outcome unknown" in out and "--resume" in err  # how to settle them

        failed = tmp_path / "letters.failed.csv"
        rows = failed.read_text(encoding="utf-8").splitlines()
        assert len(rows) == 2 and rows[1].startswith("10102,"), rows  # the invalid one only
        fixed = rows[1].replace(",x,2,", ",1,2,", 1)
        failed.write_text(f"{rows[0]}\n{fixed}\n", encoding="utf-8")
        code, out, err = await run_cli(*cli(sb, failed, "dunning-letter"))
        assert len(await ledger(sb, "dunning-letter")) == 3, "only the fixed letter is new"

        # No lookup can prove a letter absent: a resume with --retry-failed does not send them.
        code, out, err = await run_cli(*cli(sb, path, "dunning-letter", "--resume", "--retry-failed",
                                            ))
        assert len(await ledger(sb, "dunning-letter")) == 3
        last = sorted(final_lines(f"{path}.results.ndjson")[-3:], key=lambda x: x["records"])
        assert [(x["outcome"], x.get("unknown")) for x in last] == [
            ("failed", True), ("failed", True), ("invalid", False)], last


class Ledger:
    """A customer endpoint of the test's own: it can drop a POST's connection before or after
    storing it, and answer lookups 503 (cannot tell) or truly."""

    def __init__(self) -> None:
        self.customers: dict[str, dict] = {}
        self.posts: Counter[str] = Counter()
        self.drop_after_store: set[str] = set()
        self.drop_before_store: set[str] = set()
        self.blind = True  # lookups cannot tell

    async def post(self, request: web.Request, server: HostileServer) -> web.StreamResponse:
        body = orjson.loads(server.bodies[-1])
        number = unwrap_value(body["number"])
        self.posts[number] += 1
        if number in self.drop_before_store:
            self.drop_before_store.discard(number)
            return _drop(request)
        if number in self.customers:
            return web.json_response({"message": f"Customer '{number}' already exists."}, status=400)
        self.customers[number] = {"number": number, "name": unwrap_value(body.get("name"))}
        if number in self.drop_after_store:
            self.drop_after_store.discard(number)
            return _drop(request)
        return web.json_response(self.customers[number], status=201,
                                 headers={"Location": f"{server.url}/v1/customer/{number}"})

    async def get(self, request: web.Request, server: HostileServer) -> web.StreamResponse:
        if self.blind:
            return web.json_response({"message": "busy"}, status=503)
        found = self.customers.get(request.match_info.get("tail", "").rsplit("/", 1)[-1])
        return web.json_response(found) if found else web.json_response({"message": "not found"}, status=404)


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)  # never sent


async def test_unknown_customers_are_looked_up_and_sent_only_when_absent(tmp_path):
    book = Ledger()
    book.drop_after_store, book.drop_before_store = {"C1"}, {"C2"}
    path = tmp_path / "c.csv"
    path.write_text("number,name\nC1,Kunde 1\nC2,Kunde 2\n", encoding="utf-8")
    async with hostile({"POST /v1/customer": book.post, "GET /v1/customer/*": book.get}) as srv:
        run = ("run", str(path), "--entity", "customer", "--base-url", srv.url, "--token", TOKEN,
               "--max-attempts", "2")
        code, out, err = await run_cli(*run)
        finals = assert_one_final_line_per_record(f"{path}.results.ndjson", 2)
        assert [line.get("unknown") for line in finals] == [True, True], finals
        assert set(book.customers) == {"C1"}  # C1 went in, C2 did not: nobody could tell
        assert not (tmp_path / "c.failed.csv").exists()  # importing it would send both blind

        book.blind = False  # the lookups answer again
        code, out, err = await run_cli(*run, "--resume")
        assert code == 0, (out, err)
    assert set(book.customers) == {"C1", "C2"}
    assert book.posts == Counter({"C1": 1, "C2": 2})  # C1 found, not sent again; C2 sent once more
    last = {line["key"]: line for line in read_lines(f"{path}.results.ndjson")[-2:]}
    assert last["C1"]["outcome"] == "created" and last["C1"]["recovered"]
    assert last["C2"]["outcome"] == "created" and not last["C2"].get("unknown")


async def test_a_padded_document_key_with_a_bad_row_stays_one_document(sandbox, tmp_path):
    """Rows of one document whose key a fixed-width export padded, one of them bad: one invalid
    document, nothing of it sent (never two documents under one key)."""
    path = tmp_path / "i.csv"
    path.write_text("referenceNumber,customerNumber,line.description,line.quantity\n"
                    "INV1  ,10000,a,1\nINV1  ,10000,b,abc\nINV1  ,10000,c,3\n", encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "-e", "invoice", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, out + err
    finals = final_lines(f"{path}.results.ndjson")
    assert [(line["records"], line["outcome"]) for line in finals] == [([1, 2, 3], "invalid")]
    assert await get_json(f"{sandbox.url}/sandbox/records/invoice") == []
