"""The summary and the report agree, whatever the mix of outcomes: a property test.

Each example is an input of customers, each to be created, refused by the API (a 400),
invalid in the file (a credit limit that is no number), or a second record with the number
of one before it; it is imported against a small server of the test's own on loopback that
stores what it accepts. The run's summary, the report of its results file and the server's
store must then tell the same story, per unit and per record.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importer
from importer.report.build import build_report
from importer.report.text import short_report
from tests.support.runs import TOKEN

KINDS = ("created", "refused", "invalid", "duplicate")


@asynccontextmanager
async def customer_api() -> AsyncIterator[tuple[str, dict[str, dict]]]:
    """POST /v1/customer: stored and 201, or 400 for a name starting ``REFUSE``."""
    stored: dict[str, dict] = {}

    async def create(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        number = body["number"]["value"] if isinstance(body.get("number"), dict) else body.get("number")
        name = body["name"]["value"] if isinstance(body.get("name"), dict) else body.get("name")
        if str(name).startswith("REFUSE"):
            return web.json_response({"message": f"name {name} is refused"}, status=400)
        stored[str(number)] = body
        return web.Response(status=201, headers={"Location": f"{request.url.origin()}/v1/customer/{number}"})

    app = web.Application()
    app.router.add_post("/v1/customer", create)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", stored
    finally:
        await runner.cleanup()


def _csv(kinds: list[str]) -> str:
    rows = ["number,name,creditLimit"]
    for i, kind in enumerate(kinds, 1):
        if kind == "duplicate" and i > 1:
            rows.append(rows[1])  # the first record again, cell for cell
        elif kind == "refused":
            rows.append(f"{i},REFUSE {i},")
        elif kind == "invalid":
            rows.append(f"{i},Kunde {i},12x")
        else:
            rows.append(f"{i},Kunde {i},")
    return "\n".join(rows) + "\n"


async def _import(path: Path) -> tuple[importer.Summary, dict[str, dict]]:
    async with customer_api() as (url, stored):
        summary = await importer.import_records(path, entity="customer", base_url=url, token=TOKEN,
                                                preflight_company="none", concurrency=3)
    return summary, stored


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=12))
def test_the_summary_and_the_report_tell_the_same_counts(tmp_path_factory, kinds):
    folder = tmp_path_factory.mktemp("mix")
    path = folder / "customers.csv"
    path.write_text(_csv(kinds), encoding="utf-8")
    summary, stored = asyncio.run(_import(path))
    assert summary.results_path is not None
    report = build_report([summary.results_path])

    # Every record of the input has one outcome, in the summary and in the report alike.
    assert summary.records == summary.done == report.records == len(kinds)
    assert summary.units == summary.units_done == report.units == len(kinds)
    for outcome, count in summary.outcomes.items():
        in_report = report.total(outcome) + (report.total("unknown") if outcome == "failed" else 0)
        assert count == in_report, (outcome, summary.outcomes, report.to_dict()["totals"])
        units = report.total_units(outcome) + (report.total_units("unknown") if outcome == "failed" else 0)
        assert summary.unit_outcomes[outcome] == units
    # ... and the server holds what both call created.
    assert summary.outcomes["created"] == len(stored)
    refused = sum(1 for i, kind in enumerate(kinds) if kind == "refused")
    assert summary.outcomes["failed"] == refused
    # The short report's first line says the same numbers as the summary's rows.
    line = short_report([summary.results_path]).splitlines()[0]
    assert line.startswith(f"report: {len(kinds)} records in 1 file(s): ")
    said = {part.split(" ", 1)[1]: int(part.split(" ", 1)[0].replace(",", ""))
            for part in line.rsplit(": ", 1)[1].split(", ")}
    assert said == {o: n for o, n in summary.outcomes.items() if n}, line
