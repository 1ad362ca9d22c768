"""Plans: ordered steps, documents of failed customers skipped, resume for a whole plan."""

import json

import pytest

from importer.errors import ConfigError
from importer.plans.plan import load_plan
from tests.support.runs import SAMPLES, TOKEN, assert_one_final_line_per_record, final_lines, get_json, run_cli


def write_plan(tmp_path, text: str):
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


PLAN = """
[defaults]
concurrency = 8

[[step]]
name = "customers"
input = "customers.csv"
entity = "customer"

[[step]]
name = "invoices"
input = "invoices.csv"
entity = "invoice"
release = true

[[step]]
name = "dunning"
input = "dunning.csv"
entity = "dunning-letter"
"""


def write_migration(tmp_path) -> None:
    (tmp_path / "customers.csv").write_text(
        "number,name,creditLimit\n1,Ærlig AS,100\n2,Blåbær AS,mye\n3,Ok AS,5\n", encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "referenceNumber,customerNumber,line.description,line.quantity\n"
        "100,1,a,1\n100,1,b,2\n200,2,c,1\n300,3,d,1\n", encoding="utf-8")
    (tmp_path / "dunning.csv").write_text(
        "customerNumber,dunningLetterDate,levelFrom,levelTo\n1,2020-01-21,1,2\n2,2020-01-21,1,2\n",
        encoding="utf-8")


async def test_a_plan_skips_documents_whose_customer_failed(sandbox, profile, tmp_path):
    write_migration(tmp_path)
    plan = write_plan(tmp_path, PLAN)
    code, out, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN,
                                   "--summary-json", str(tmp_path / "s.json"))
    assert code == 1, err  # customer 2 is invalid
    steps = json.loads((tmp_path / "s.json").read_text())
    assert [s["step"] for s in steps] == ["customers", "invoices", "dunning"]
    invoices = {line["key"]: line for line in final_lines(tmp_path / "invoices.csv.results.ndjson")}
    assert invoices["100"]["outcome"] == "created" and invoices["100"]["release"]["outcome"] == "done"
    assert invoices["200"]["outcome"] == "skipped"
    assert "customer 2 invalid in step 'customers'" in invoices["200"]["error"]
    dunning = final_lines(tmp_path / "dunning.csv.results.ndjson")
    done = {"standard": "done", "live": "queued"}[profile]  # the live API queues dunning letters
    assert {line["records"][0]: line["outcome"] for line in dunning} == {1: done, 2: "skipped"}
    assert len(await get_json(f"{sandbox.url}/sandbox/records/invoice")) == 2


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_fixing_the_customer_and_resuming_the_plan_sends_what_waited(sandbox, tmp_path):
    write_migration(tmp_path)
    plan = write_plan(tmp_path, PLAN)
    await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN)
    (tmp_path / "customers.csv").write_text(
        "number,name,creditLimit\n1,Ærlig AS,100\n2,Blåbær AS,250\n3,Ok AS,5\n", encoding="utf-8")
    code, _, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN,
                                 "--resume", "--retry-failed")
    assert code == 0, err
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    assert stats["records"]["customer"] == 3 and stats["records"]["invoice"] == 3
    assert stats["records"]["dunning-letter"] == 2


async def test_the_sample_migration_plan_runs_on_the_embedded_sandbox(tmp_path):
    code, out, err = await run_cli("plan", str(SAMPLES / "migration.toml"), "--sandbox",
                                   "--results-dir", str(tmp_path), "--summary-json", "-")
    assert code == 0, err
    steps = json.loads(out)
    assert [s["records"] for s in steps] == [6, 3, 2, 5, 2, 3, 2]  # 23 records in all
    for s in steps:
        o = s["outcomes"]
        assert s["exit_code"] == 0 and s["error"] is None, s
        assert o["skipped"] == o["failed"] == o["invalid"] == 0, (s["step"], o)
        assert o["created"] + o["updated"] + o["done"] == s["records"], (s["step"], o)
        finals = assert_one_final_line_per_record(s["results"], s["records"])
        assert all(line["outcome"] in ("created", "updated", "done") for line in finals), s["step"]
    assert steps[2]["outcomes"]["updated"] == 2  # the address changes update, not create
    assert steps[6]["outcomes"]["done"] == 2  # dunning letters are actions


@pytest.mark.parametrize("text,message", [
    ("[[step]]\ninput = 'a.csv'\n", "entity is required"),
    ("[[step]]\ninput = 'a.csv'\nentity = 'kunde'\n", "unknown entity"),
    ("[[step]]\ninput = 'a.csv'\nentity = ['customer']\n", "unknown entity"),
    ("[[step]]\ninput = 'a.csv'\nentity = 'customer'\nspeed = 3\n", "unknown option 'speed'"),
    ("[[step]]\ninput = 'a.csv'\nentity = 'customer'\ntoken = 'x'\n", "does not belong"),
    ("[defaults]\n", r"no \[\[step\]\]"),
    ("[[step]\n", "not valid TOML"),
])
def test_plan_mistakes_are_named(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_plan(write_plan(tmp_path, text))


async def test_plan_steps_take_a_mapping_file_relative_to_the_plan(sandbox, tmp_path):
    import shutil

    for name in ("kunder.csv", "kunder.map.toml", "fakturaer.csv", "fakturaer.map.toml"):
        shutil.copy(SAMPLES / "legacy" / name, tmp_path / name)
    plan = write_plan(tmp_path, """
[[step]]
name = "kunder"
input = "kunder.csv"
entity = "customer"
map = "kunder.map.toml"

[[step]]
name = "fakturaer"
input = "fakturaer.csv"
entity = "invoice"
map = "fakturaer.map.toml"
""")
    code, out, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, (out, err)
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    assert stats["records"]["customer"] == 8 and stats["records"]["invoice"] == 4


def write_mapped_migration(tmp_path) -> None:
    """Legacy-headed customers (one invalid) and invoices, each with a map naming its entity."""
    (tmp_path / "kunder.csv").write_text("Nr,Navn,Kreditt\n1,Ærlig AS,100\n2,Blåbær AS,mye\n", encoding="utf-8")
    (tmp_path / "kunder.map.toml").write_text(
        'entity = "customer"\n[columns]\nNr = "number"\nNavn = "name"\nKreditt = "creditLimit"\n', encoding="utf-8")
    (tmp_path / "fakturaer.csv").write_text(
        "Faktura,Kunde,Tekst,Antall\n100,1,a,1\n200,2,b,1\n", encoding="utf-8")
    (tmp_path / "fakturaer.map.toml").write_text(
        'entity = "invoice"\n[columns]\nFaktura = "referenceNumber"\nKunde = "customerNumber"\n'
        'Tekst = "line.description"\nAntall = "line.quantity"\n', encoding="utf-8")


MAPPED_PLAN = """
[[step]]
name = "kunder"
input = "kunder.csv"
map = "kunder.map.toml"

[[step]]
name = "fakturaer"
input = "fakturaer.csv"
map = "fakturaer.map.toml"
"""


def test_a_step_takes_its_entity_from_its_map(tmp_path):
    write_mapped_migration(tmp_path)
    plan = load_plan(write_plan(tmp_path, MAPPED_PLAN))
    assert [s.entity for s in plan.steps] == ["customer", "invoice"]


async def test_a_plan_of_map_only_steps_still_holds_back_documents_of_failed_customers(sandbox, tmp_path):
    write_mapped_migration(tmp_path)
    plan = write_plan(tmp_path, MAPPED_PLAN)
    code, out, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, (out, err)  # customer 2 is invalid
    invoices = {line["key"]: line for line in final_lines(tmp_path / "fakturaer.csv.results.ndjson")}
    assert invoices["100"]["outcome"] == "created"
    # the gate learned from the "kunder" step only because its entity was resolved from the map
    assert invoices["200"]["outcome"] == "skipped", invoices["200"]
    assert "customer 2 invalid in step 'kunder'" in invoices["200"]["error"]


@pytest.mark.parametrize("map_text,step_entity,message", [
    ('[columns]\nNr = "number"\n', None, "step 'kunder'.*entity: not set"),
    ('entity = "invoice"\n', "customer", "step 'kunder'.*the map is for 'invoice'"),
    (None, None, "step 'kunder'.*mapping file not found"),
    ('entity = "kunde"\n', None, "step 'kunder'.*unknown entity 'kunde'"),
])
def test_a_steps_map_is_checked_when_the_plan_is_loaded(tmp_path, map_text, step_entity, message):
    if map_text is not None:
        (tmp_path / "kunder.map.toml").write_text(map_text, encoding="utf-8")
    entity = f'entity = "{step_entity}"\n' if step_entity else ""
    plan = write_plan(tmp_path, f'[[step]]\nname = "kunder"\ninput = "kunder.csv"\n{entity}map = "kunder.map.toml"\n')
    with pytest.raises(ConfigError, match=message):
        load_plan(plan)


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_steps_share_one_client_one_token_and_the_window(start_sandbox, tmp_path):
    """Step 1 spends 10 of a window of 12; step 2 sends the 2 left, then waits: no 429s, one token."""
    from importer.plans.plan import run_plan

    for name, first in (("a.csv", 1), ("b.csv", 11)):
        (tmp_path / name).write_text("number,name\n" + "".join(f"{n},C{n}\n" for n in range(first, first + 10)))
    plan = load_plan(write_plan(tmp_path, "[defaults]\nconcurrency = 8\n"
                                "[[step]]\ninput = 'a.csv'\nentity = 'customer'\n"
                                "[[step]]\ninput = 'b.csv'\nentity = 'customer'\nconcurrency = 2\n"))
    async with start_sandbox(rate_limit=12, rate_window=2.0) as sb:
        credentials = {"base_url": sb.url, "token_url": f"{sb.url}/connect/token", "client_id": "sandbox",
                       "client_secret": "sandbox-secret", "tenant_id": "t1"}
        done = await run_plan(plan, overrides=credentials)
        stats = await get_json(f"{sb.url}/sandbox/stats")
    assert [s.outcomes["created"] for _, s in done] == [10, 10]
    assert [s.throttled for _, s in done] == [0, 0] and stats["throttled"] == 0
    assert [s.token_calls for _, s in done] == [1, 0] and stats["tokens_issued"] == 1
    assert [s.calls for _, s in done] == [11, 10]  # each step its own calls, though the client is one
