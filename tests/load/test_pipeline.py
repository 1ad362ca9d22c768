"""The load stage against a server that lies: nothing is recorded a success that was not proved.

Each test asks what the results file says and what the server was sent.
"""

from __future__ import annotations

import pytest

import importer
from tests.support.hostile_server import (
    SIGN_IN_PAGE,
    created,
    error,
    hostile,
    html_page,
    json_answer,
    lying_list,
    lying_record,
    redirect,
    sequence,
)
from tests.support.runs import TOKEN, final_lines, read_lines, run_cli


def customers(tmp_path, count: int = 1):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n" + "".join(f"C{i},Kunde {i}\n" for i in range(1, count + 1)), encoding="utf-8")
    return path


def run(path, server, **options):
    return importer.import_records(path, entity=options.pop("entity", "customer"), base_url=server.url,
                                   token=TOKEN, retry_base=0.01, **options)


async def test_an_html_200_to_a_create_is_not_a_success(tmp_path):
    async with hostile({"POST /v1/customer": html_page(), "GET /v1/customer/*": error(404)}) as srv:
        summary = await run(customers(tmp_path), srv)
        # unproved → looked up → "not there" → sent once more → still unproved: not sent a third time
        assert srv.count("POST", "/v1/customer") == 2
    [line] = final_lines(tmp_path / "c.csv.results.ndjson")
    # The lookup proved it is not there: failed, and a --retry-failed sends it again.
    assert line["outcome"] == "failed" and line["unknown"] is False
    assert "not JSON" in line["error"] and line["url"] == f"{srv.url}/v1/customer"
    assert summary.outcomes["created"] == 0 and summary.exit_code in (1, 2)


async def test_a_redirect_to_a_login_page_is_never_followed_for_a_write(tmp_path):
    routes = {"POST /v1/customer": redirect("/login"), "GET /login": html_page(), "GET /v1/customer/*": error(404)}
    async with hostile(routes) as srv:
        await run(customers(tmp_path), srv)
        assert srv.count("GET", "/login") == 0
    [line] = final_lines(tmp_path / "c.csv.results.ndjson")
    assert line["outcome"] == "failed" and "/login" in line["error"]


async def test_after_a_500_a_lookup_answering_another_record_is_no_proof(tmp_path):
    routes = {"POST /v1/customer": error(500, "boom"), "GET /v1/customer/*": lying_record("number", "SOMEONE-ELSE")}
    async with hostile(routes) as srv:
        await run(customers(tmp_path), srv)
        assert srv.count("POST", "/v1/customer") == 1  # could not tell: never sent again
    [line] = final_lines(tmp_path / "c.csv.results.ndjson")
    assert line["outcome"] == "failed" and not line["recovered"] and line["unknown"] is True
    assert "SOMEONE-ELSE" in line["error"]


async def test_a_duplicate_refused_with_a_500_is_not_taken_for_this_create(tmp_path):
    # The live API may answer a refused duplicate with a 500: the lookup then finds the record
    # that was there before. It holds other values, so this create did not go through.
    routes = {
        "POST /v1/customer": error(500, "Customer 'C1' already exists"),
        "GET /v1/customer/*": json_answer({"number": "C1", "name": "Someone Else AS", "status": "Active"}),
    }
    async with hostile(routes) as srv:
        summary = await run(customers(tmp_path), srv)
        assert srv.count("POST", "/v1/customer") == 1  # never sent again
    [line] = final_lines(tmp_path / "c.csv.results.ndjson")
    assert line["outcome"] == "failed" and not line["recovered"]
    assert "other values" in line["error"] and "Someone Else AS" in line["error"]
    assert summary.outcomes["created"] == 0


async def test_after_a_500_a_record_holding_what_was_sent_is_this_create_gone_through(tmp_path):
    routes = {
        "POST /v1/customer": error(500, "boom"),
        "GET /v1/customer/*": json_answer({"number": "C1", "name": "Kunde 1", "status": "Active"}),
    }
    async with hostile(routes) as srv:
        await run(customers(tmp_path), srv)
    [line] = final_lines(tmp_path / "c.csv.results.ndjson")
    assert line["outcome"] == "created" and line["recovered"] is True


async def test_a_lookup_by_reference_takes_only_an_exact_match(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("documentKey,customerNumber,line.description\nD1,C1,a\n", encoding="utf-8")
    routes = {
        "POST /v2/customerinvoice": sequence(error(503, "busy"), created("900")),
        # loose matches of the reference sent, none it
        "GET /v1/customerinvoice": lying_list(["{sent}0", "{sent}-old", "{sent}".upper()]),
    }
    async with hostile(routes) as srv:
        summary = await run(path, srv, entity="invoice")
        assert srv.count("POST", "/v2/customerinvoice") == 2  # "not there" after the whole list: sent again
    [line] = final_lines(tmp_path / "i.csv.results.ndjson")
    assert line["outcome"] == "created" and not line["recovered"] and line["key"] == "900"
    assert summary.outcomes["created"] == 1


async def test_a_document_carrying_the_reference_but_other_values_is_no_proof(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("documentKey,customerNumber,line.description\nD1,C1,a\n", encoding="utf-8")
    routes = {
        "POST /v2/customerinvoice": error(500, "stored, then failed"),
        "GET /v1/customerinvoice": lying_list(["{sent}"]),  # it carries the reference, and nothing sent
    }
    async with hostile(routes) as srv:
        await run(path, srv, entity="invoice")
        assert srv.count("POST", "/v2/customerinvoice") == 1  # could not tell: not sent again
    [line] = final_lines(tmp_path / "i.csv.results.ndjson")
    assert line["outcome"] == "failed" and line["unknown"] is True and not line["recovered"]
    assert "other values" in line["error"]


async def test_two_documents_carrying_the_reference_are_no_proof(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("documentKey,customerNumber,line.description\nD1,C1,a\n", encoding="utf-8")
    routes = {
        "POST /v2/customerinvoice": error(500, "stored, then failed"),
        "GET /v1/customerinvoice": lying_list(["{sent}", "{sent}"]),
    }
    async with hostile(routes) as srv:
        await run(path, srv, entity="invoice")
        assert srv.count("POST", "/v2/customerinvoice") == 1
    [line] = final_lines(tmp_path / "i.csv.results.ndjson")
    assert line["outcome"] == "failed" and line["unknown"] is True
    assert "2 documents carry" in line["error"]


@pytest.mark.parametrize("company", ["live", "none"])
async def test_a_wrong_token_costs_a_handful_of_calls_and_exits_2(tmp_path, company):
    path = customers(tmp_path, 500)
    async with hostile({"* *": error(401, "Unauthorized")}) as srv:
        code, out, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", srv.url,
                                       "--token", "wrong", "--concurrency", "32", "--company", company)
        assert srv.count() <= 10
    assert code == 2, out + err
    assert "refused the token (HTTP 401)" in (out + err) and "Traceback" not in out + err
    results = tmp_path / "c.csv.results.ndjson"
    if company == "live":  # refused at the first read of the company: nothing sent, no outcome to resume
        assert srv.count() == 1 and srv.count("GET", "/v1/creditTerm") == 1
        assert not results.exists() and "--resume" not in err
        return
    assert "--resume" in err  # every unsent record can be sent later
    lines = read_lines(results)
    assert sum(1 for x in lines if x["outcome"] == "failed") <= 10


async def test_a_wrong_base_url_answering_404_everywhere_stops_the_run(tmp_path):
    path = customers(tmp_path, 300)
    async with hostile({"* *": error(404, "Not Found")}) as srv:
        summary = await run(path, srv, concurrency=16)
        assert srv.count() <= 10
    assert summary.halted and summary.exit_code == 2 and "base URL" in summary.error
    assert summary.not_processed >= 290


async def test_a_sign_in_page_to_the_first_record_stops_the_run(tmp_path):
    path = customers(tmp_path, 300)
    async with hostile({"* *": html_page()}) as srv:
        summary = await run(path, srv, concurrency=8)
        assert srv.count("POST", "/v1/customer") == 1 and srv.count() <= 3  # the create and its lookup
    assert summary.halted and "sign-in page" in summary.error and summary.not_processed == 299
    [line] = [x for x in final_lines(tmp_path / "c.csv.results.ndjson") if x["outcome"] != "unsent"]
    assert line["records"] == [1] and line["outcome"] == "failed" and "not JSON" in line["error"]


async def test_a_queued_release_is_not_done(tmp_path, monkeypatch):
    import importer.load.actions

    monkeypatch.setattr(importer.load.actions, "FOLLOW_UP_DELAYS", (0.01, 0.01))
    path = tmp_path / "i.csv"
    path.write_text("referenceNumber,customerNumber,line.description\n100,C1,a\n", encoding="utf-8")
    routes = {
        "POST /v2/customerinvoice": created("100"),
        "POST /v1/customerinvoice/100/action/release": sequence(
            json_answer({"actionId": "a1", "actionResult": "Queued"}),
            json_answer({"actionId": "a2", "actionResult": "Done"}),
        ),
        "GET /v1/customerinvoice/100": json_answer({"referenceNumber": "100", "status": "Balanced"}),
    }
    async with hostile(routes) as srv:
        summary = await run(path, srv, entity="invoice", release=True)
        assert srv.count("GET", "/v1/customerinvoice/100") == 2  # followed up, bounded
        [line] = final_lines(tmp_path / "i.csv.results.ndjson")
        assert line["outcome"] == "created" and line["release"]["outcome"] == "queued"
        assert "Queued" in line["release"]["error"] and "Balanced" in line["release"]["error"]
        assert summary.release_queued == 1 and summary.exit_code == 1

        # --retry-failed releases it alone: no second create.
        again = await run(path, srv, entity="invoice", release=True, retry_failed=True)
        assert srv.count("POST", "/v2/customerinvoice") == 1
        assert srv.count("POST", "/v1/customerinvoice/100/action/release") == 2
    assert again.released == 1 and again.ok
    assert final_lines(tmp_path / "i.csv.results.ndjson")[-1]["action"] == "release"


async def test_a_dunning_letter_in_process_is_queued_not_done(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("customerNumber,dunningLetterDate,levelFrom,levelTo\nC1,2024-01-31,1,2\n", encoding="utf-8")
    routes = {"POST /v1/customer/C1/action/createDunningLetter":
              json_answer({"actionId": "a1", "actionResult": "InProcess"})}
    async with hostile(routes) as srv:
        summary = await run(path, srv, entity="dunning-letter")
    [line] = final_lines(tmp_path / "d.csv.results.ndjson")
    # Accepted, not confirmed: recorded as queued, never as done; not a failure of the run.
    assert line["outcome"] == "queued" and summary.outcomes["done"] == 0 and summary.exit_code == 0


async def test_a_sign_in_page_to_a_lookup_is_could_not_tell(tmp_path):
    routes = {"POST /v1/customer": error(502, "bad gateway"), "GET /v1/customer/*": html_page()}
    async with hostile(routes) as srv:
        await run(customers(tmp_path), srv)
        assert srv.count("POST", "/v1/customer") == 1
    [line] = final_lines(tmp_path / "c.csv.results.ndjson")
    assert line["outcome"] == "failed" and line["unknown"] and "not JSON" in line["error"]
    assert SIGN_IN_PAGE.decode() not in line["error"]


async def test_a_run_that_stops_short_leaves_the_last_failed_file_as_it_was(tmp_path):
    path = customers(tmp_path, 50)
    earlier = tmp_path / "c.failed.csv"
    earlier.write_text("number,name,error\nC7,Kunde 7,HTTP 400: from the last run\n", encoding="utf-8")
    async with hostile({"* *": error(401, "Unauthorized")}) as srv:
        summary = await run(path, srv, concurrency=4)
    assert summary.halted and summary.not_processed > 0 and summary.failed_path is None
    assert earlier.read_text(encoding="utf-8").endswith("from the last run\n")
    assert not (tmp_path / "c.failed.csv.partial").exists()
