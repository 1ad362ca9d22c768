"""``undo --fleet``: two companies loaded by a fleet, each on its own sandbox with its own token;
a dry run of both, then one company undone from the command line (``--only``) and the other
in process; what each sandbox stores after; a company the fleet never ran has nothing to undo."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from importer.cli import main
from importer.cli.undo import fleet_exit_code, undo_fleet
from importer.plans.fleet import run_fleet
from importer.plans.manifest import load_manifest
from tests.support.runs import TOKEN, run_cli
from tests.support.stored import stored_records

pytestmark = pytest.mark.one_profile

ENV = {"NORTH_TOKEN": TOKEN, "SOUTH_TOKEN": TOKEN, "EAST_TOKEN": TOKEN}
INVOICES = ("referenceNumber,customerNumber,documentDate,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
            "{p}-1,{p}1,2026-01-05,222,2,10\n{p}-1,{p}1,2026-01-05,222,1,5\n{p}-2,{p}2,2026-01-06,222,3,10\n")


def _company(tmp_path: Path, name: str, url: str) -> str:
    prefix = name[0].upper()
    folder = tmp_path / name
    folder.mkdir()
    (folder / "customers.csv").write_text(f"number,name\n{prefix}1,En\n{prefix}2,To\n", encoding="utf-8")
    (folder / "invoices.csv").write_text(INVOICES.format(p=prefix), encoding="utf-8")
    return (f'[[company]]\nname = "{name}"\ntoken_env = "{name.upper()}_TOKEN"\nbase_url = "{url}"\n'
            f'[[company.step]]\nname = "customers"\ninput = "{name}/customers.csv"\nentity = "customer"\n'
            f'[[company.step]]\nname = "invoices"\ninput = "{name}/invoices.csv"\nentity = "invoice"\n\n')


async def _ledger(sandbox) -> tuple[list[str], dict[str, str]]:
    customers = await stored_records(sandbox, "customer")
    return sorted(await stored_records(sandbox, "invoice")), {n: c["status"] for n, c in customers.items()}


async def test_a_fleet_is_undone_company_by_company(start_sandbox, tmp_path):
    async with start_sandbox() as north, start_sandbox() as south:
        manifest_path = tmp_path / "bureau.toml"
        manifest_path.write_text('[defaults]\npreflight_company = "none"\n\n' + _company(tmp_path, "north", north.url)
                                 + _company(tmp_path, "south", south.url) + _company(tmp_path, "east", north.url),
                                 encoding="utf-8")
        loaded = await run_fleet(manifest_path, only="north,south", environ=ENV)
        assert loaded.exit_code == 0, loaded.to_dict()
        loaded_north, loaded_south = await _ledger(north), await _ledger(south)
        assert loaded_north == (["N-1", "N-2"], {"N1": "Active", "N2": "Active"})
        manifest = load_manifest(manifest_path, environ=ENV)

        dry = await undo_fleet(manifest, yes=False, environ=ENV)
        assert [(u.name, u.state, u.files) for u in dry] == [("north", "done", 2), ("south", "done", 2),
                                                             ("east", "nothing to undo", 0)]
        assert [dict(u.summary.counts) for u in dry[:2]] == [{"delete": 2, "left": 2}] * 2
        assert (await _ledger(north), await _ledger(south)) == (loaded_north, loaded_south)  # nothing changed

        summary = tmp_path / "undo.json"
        code, out, err = await run_cli("undo", "--fleet", str(manifest_path), "--only", "north", "--yes",
                                       "--inactivate-customers", "--summary-json", str(summary), env=ENV)
        assert code == 0, (out, err)
        assert await _ledger(north) == ([], {"N1": "Inactive", "N2": "Inactive"})
        assert await _ledger(south) == loaded_south  # another company's: untouched
        (entry,) = orjson.loads(summary.read_bytes())["companies"]
        assert (entry["company"], entry["counts"]) == ("north", {"deleted": 2, "inactivated": 2})
        assert [f["undo"] for f in entry["files"]] == [  # the last step first
            str(tmp_path / "results" / "north" / f"{name}.csv.undo.ndjson") for name in ("invoices", "customers")]
        assert "north" in out and "set inactive" in out and TOKEN not in out + err

        done = await undo_fleet(manifest, yes=True, inactivate_customers=True, environ=ENV)
        assert fleet_exit_code(done) == 0
        assert (done[0].summary.earlier, done[0].summary.calls) == (4, 0)  # undone before: nothing sent again
        assert dict(done[1].summary.counts) == {"deleted": 2, "inactivated": 2}
        assert await _ledger(south) == ([], {"S1": "Inactive", "S2": "Inactive"})
        assert await _ledger(north) == ([], {"N1": "Inactive", "N2": "Inactive"})


async def test_a_company_whose_credentials_are_refused_fails_alone(start_sandbox, tmp_path):
    async with start_sandbox() as north, start_sandbox() as south:
        manifest_path = tmp_path / "bureau.toml"
        manifest_path.write_text('[defaults]\npreflight_company = "none"\n\n' + _company(tmp_path, "north", north.url)
                                 + _company(tmp_path, "south", south.url), encoding="utf-8")
        assert (await run_fleet(manifest_path, environ=ENV)).exit_code == 0
        env = {**ENV, "SOUTH_TOKEN": "not-the-token-4c1e"}
        done = await undo_fleet(load_manifest(manifest_path, environ=env), yes=True, environ=env)
        assert [(u.name, u.state) for u in done] == [("north", "done"), ("south", "failed")]
        assert fleet_exit_code(done) == 2 and "not-the-token" not in str(done[1].error)
        assert (await _ledger(north))[0] == [] and (await _ledger(south))[0] == ["S-1", "S-2"]


def test_fleet_flags_are_checked_before_any_call(tmp_path, monkeypatch, capsys):
    """Flags that do not go with --fleet, and a fleet with no results file anywhere, are named; exit 2."""
    manifest = tmp_path / "bureau.toml"
    manifest.write_text(_company(tmp_path, "north", "http://127.0.0.1:9"), encoding="utf-8")  # never called
    monkeypatch.setenv("NORTH_TOKEN", TOKEN)
    cases = [
        (["undo", "x.results.ndjson", "--only", "north"], "--only goes with --fleet"),
        (["undo", "--fleet", str(manifest), "--token", "t"], "leave out --token"),
        (["undo", "--fleet", str(manifest), "--plan", "p.toml"], "leave out --plan"),
        (["undo", "--fleet", str(manifest), "--only", "west"], "no company 'west'"),
        (["undo", "--fleet", str(manifest)], "no company has a results file"),
    ]
    for argv, said in cases:
        assert main(argv) == 2, argv
        assert said in capsys.readouterr().err, argv
