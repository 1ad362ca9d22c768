"""``importer fleet``: several companies on one sandbox, each at its own window, one with wrong
credentials and one whose API answers 503; then what each company's results and ledger hold."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

import anyio
import orjson
import pytest

import importer
from tests.support.hostile_server import error, hostile
from tests.support.printed import printed_commands, stopped
from tests.support.runs import assert_one_final_line_per_record, final_lines, get_json, run_cli

# Companies kept apart, their windows and their stops are the fleet's own: the standard profile is enough.
pytestmark = pytest.mark.one_profile

SECRET = "bureau-secret-7f3a"  # must never show in any output
WRONG = "not-the-secret-91c2"
CLIENTS = {"bureau": SECRET}


def customers(path: Path, prefix: str, count: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("number,name\n" + "".join(f"{prefix}{i:03d},{prefix} customer {i}\n" for i in range(1, count + 1)))


def company(name: str, tenant: str, credentials: str, *, extra: str = "", count: int = 25, folder: Path) -> str:
    customers(folder / name / "customers.csv", name[:2].upper(), count)
    return (f'[[company]]\nname = "{name}"\ntenant_id = "{tenant}"\n{credentials}\n{extra}\n'
            f'[[company.step]]\nname = "customers"\ninput = "{name}/customers.csv"\nentity = "customer"\n\n')


def bureau_manifest(tmp_path: Path, sandbox_url: str, down_url: str) -> Path:
    secrets = tmp_path / "south.secrets.toml"
    secrets.write_text(f'client_id = "bureau"\nclient_secret = "{SECRET}"\n')
    secrets.chmod(0o600)
    env_pair = 'client_id_env = "BUREAU_ID"\nclient_secret_env = "BUREAU_SECRET"'
    # No preflight (preflight_company = "none"): these tests count each company's window from its
    # first write, which the company's read (tests/e2e/test_fleet_preflight.py) would share.
    text = (f'[defaults]\nconcurrency = 4\npreflight_company = "none"\nbase_url = "{sandbox_url}"\n'
            f'token_url = "{sandbox_url}/connect/token"\n\n'
            + company("north", "t-north", env_pair, folder=tmp_path)
            + company("south", "t-south", 'secrets_file = "south.secrets.toml"', folder=tmp_path)
            + company("wrong", "t-wrong", 'client_id_env = "BUREAU_ID"\nclient_secret_env = "WRONG_SECRET"',
                      folder=tmp_path, count=5)
            + company("down", "t-down", 'token_env = "DOWN_TOKEN"',
                      extra=f'base_url = "{down_url}"\nmax_attempts = 2\nretry_base = 0.01', folder=tmp_path, count=5))
    manifest = tmp_path / "bureau.toml"
    manifest.write_text(text)
    return manifest


ENV = {"BUREAU_ID": "bureau", "BUREAU_SECRET": SECRET, "WRONG_SECRET": WRONG, "DOWN_TOKEN": "down-token-55aa"}


async def tenant_numbers(sandbox_url: str, tenant: str) -> list[str]:
    """Customer numbers the sandbox holds for one company (its control route: no window to wait for)."""
    records = await get_json(f"{sandbox_url}/sandbox/records/customer?tenant={tenant}")
    return sorted(record["number"] for record in records)


async def test_bureau_run_keeps_companies_apart(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox(clients=CLIENTS, rate_limit=10, rate_window=1.0) as sandbox, \
            hostile({"* /*": error(503, "Service Unavailable")}) as down:
        manifest = bureau_manifest(tmp_path, sandbox.url, down.url)
        summary = tmp_path / "fleet.json"
        code, out, err = await run_cli("fleet", str(manifest), "--summary-json", str(summary), "-v",
                                       env=ENV, timeout=90)
        data = orjson.loads(summary.read_bytes())
        by_name = {c["company"]: c for c in data["companies"]}
        for name in ("north", "south"):  # all in, each within its own window: no 429
            entry = by_name[name]
            assert entry["exit_code"] == 0, entry
            (step,) = entry["steps"]
            assert step["outcomes"]["created"] == 25 and step["throttled"] == 0
            assert_one_final_line_per_record(tmp_path / "results" / name / "customers.csv.results.ndjson", 25)
        # Each company has a window of its own: in the first window's time both together sent
        # more than one window holds (one window shared by the client would allow 10).
        times = sorted(datetime.fromisoformat(line["at"]).timestamp() for name in ("north", "south")
                       for line in final_lines(tmp_path / "results" / name / "customers.csv.results.ndjson"))
        assert sum(t < times[0] + 0.9 for t in times) > 10
        assert by_name["wrong"]["exit_code"] == 2 and "refused" in by_name["wrong"]["error"]
        assert by_name["wrong"]["steps"] == []
        (step,) = by_name["down"]["steps"]
        assert step["halted"] and "HTTP 503" in step["error"]  # stopped: the rest not sent in vain
        assert step["outcomes"]["failed"] == 5 and by_name["down"]["exit_code"] == 2
        assert "step 'customers'" in by_name["down"]["error"] and "HTTP 503" in by_name["down"]["error"]
        assert by_name["north"]["error"] is None
        # One run id for the fleet and every company's steps; each step names its target.
        assert {s["run_id"] for c in data["companies"] for s in c["steps"]} == {data["run_id"]}
        assert by_name["north"]["steps"][0]["target"] == {"base_url": sandbox.url, "company": "north"}
        assert data["started"] < data["finished"]
        assert by_name["down"]["state"] == "failed" and by_name["north"]["state"] == "done"
        assert down.count("POST", "/v1/customer") >= 1
        assert code == 2 == data["exit_code"]  # the worst company's
        assert data["total"]["records"] == 25 + 25 + 5 and data["total"]["succeeded"] == 50
        assert data["total"]["companies_ok"] == 2
        stats = await get_json(f"{sandbox.url}/sandbox/stats")
        assert stats["throttled"] == 0
        # Each company's ledger holds its own records, and only those.
        assert await tenant_numbers(sandbox.url, "t-north") == [f"NO{i:03d}" for i in range(1, 26)]
        assert await tenant_numbers(sandbox.url, "t-south") == [f"SO{i:03d}" for i in range(1, 26)]
    assert "[north]" in err and "[down]" in err  # -v lines name their company
    text = out + err + summary.read_text() + "".join(
        p.read_text() for p in (tmp_path / "results").rglob("*") if p.is_file())
    assert SECRET not in text and WRONG not in text and "down-token-55aa" not in text
    assert "--resume --only wrong,down --retry-failed" in err  # how to continue the two that stopped short


async def test_only_runs_a_subset_and_resume_sends_nothing_twice(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox(clients=CLIENTS) as sandbox, hostile({"* /*": error(503)}) as down:
        manifest = bureau_manifest(tmp_path, sandbox.url, down.url)
        code, out, err = await run_cli("fleet", str(manifest), "--only", "south", env=ENV)
        assert code == 0, err
        assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["south"]
        before = (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"]
        code, out, err = await run_cli("fleet", str(manifest), "--only", "south", "--resume",
                                       "--summary-json", "-", env=ENV)
        assert code == 0, err
        (entry,) = orjson.loads(out)["companies"]
        assert entry["steps"][0]["already_done"] == 25 and entry["steps"][0]["outcomes"]["created"] == 0
        assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == before  # not one call more
        code, _, err = await run_cli("fleet", str(manifest), "--only", "south,nowhere", env=ENV)
        assert code == 2 and "no company 'nowhere'" in err and "north, south, wrong, down" in err


async def test_one_ctrl_c_stops_every_company_and_resume_finishes_them(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox(clients=CLIENTS, rate_limit=10, rate_window=1.0) as sandbox:
        text = f'[defaults]\nconcurrency = 2\nbase_url = "{sandbox.url}"\ntoken_url = "{sandbox.url}/connect/token"\n\n'
        pair = 'client_id_env = "BUREAU_ID"\nclient_secret_env = "BUREAU_SECRET"'
        text += company("east", "t-east", pair, count=40, folder=tmp_path)
        text += company("west", "t-west", pair, count=40, folder=tmp_path)
        manifest = tmp_path / "two.toml"
        manifest.write_text(text)
        env = {**os.environ, **ENV}
        env = {k: v for k, v in env.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
        results = tmp_path / "results" / "east" / "customers.csv.results.ndjson"
        process = await anyio.open_process([sys.executable, "-m", "importer", "fleet", str(manifest)], env=env)
        with anyio.fail_after(30):
            while not results.exists() or len(final_lines(results)) < 5:
                await anyio.sleep(0.05)
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(30):
            code = await process.wait()
        assert code == 130
        for name in ("east", "west"):
            done = final_lines(tmp_path / "results" / name / "customers.csv.results.ndjson")
            assert 0 < len(done) < 40  # stopped in the middle, each of them
        code, _, err = await run_cli("fleet", str(manifest), "--resume", env=ENV, timeout=60)
        assert code == 0, err
        for name, prefix in (("east", "EA"), ("west", "WE")):
            assert_one_final_line_per_record(tmp_path / "results" / name / "customers.csv.results.ndjson", 40)
            assert await tenant_numbers(sandbox.url, f"t-{name}") == [f"{prefix}{i:03d}" for i in range(1, 41)]


async def test_a_stopped_sandbox_fleet_starts_over_as_printed(tmp_path: Path) -> None:
    """Ctrl-C of ``fleet --sandbox``: its ledger went with its process, so the printed command
    starts the companies over (``--restart --only …``); run as printed, every record is created
    once in the new ledger (one sent twice there would be refused: its number is taken)."""
    pair = 'client_id_env = "UNSET_ID"\nclient_secret_env = "UNSET_SECRET"'
    (tmp_path / "two.toml").write_text('[defaults]\nconcurrency = 1\nrate = 40\n\n'
                                       + company("east", "t-east", pair, count=40, folder=tmp_path)
                                       + company("west", "t-west", pair, count=40, folder=tmp_path))
    results = {name: tmp_path / "results" / name / "customers.csv.results.ndjson" for name in ("east", "west")}
    code, out, err = await stopped(["fleet", "two.toml", "--sandbox"], results["east"], tmp_path)
    assert code == 130, out + err
    assert 0 < len(final_lines(results["east"])) < 40
    commands = printed_commands(out, err)
    assert ["fleet", "two.toml", "--sandbox", "--restart", "--only", "east,west"] in commands, out + err
    for argv in commands:  # as printed (the report's command too), where the first was typed
        code, more, again = await run_cli(*argv, cwd=str(tmp_path), timeout=60)
        assert code == 0, (argv, more, again)
        assert all(c[0] == "report" for c in printed_commands(more, again)), more + again  # nothing left to resume
    for name, prefix in (("east", "EA"), ("west", "WE")):
        lines = assert_one_final_line_per_record(results[name], 40)
        assert {line["outcome"] for line in lines} == {"created"}
        assert sorted(line["key"] for line in lines) == [f"{prefix}{i:03d}" for i in range(1, 41)]
        assert len(list(results[name].parent.glob("customers.csv.results.ndjson.*"))) == 1  # the stopped run's, kept


async def test_python_api_rehearses_on_a_sandbox(start_sandbox, tmp_path: Path) -> None:
    """``sandbox=``: no credentials needed; each company in its own tenant there."""
    async with start_sandbox() as sandbox:
        pair = 'client_id_env = "UNSET_ID"\nclient_secret_env = "UNSET_SECRET"'
        manifest = tmp_path / "m.toml"
        customers(tmp_path / "two" / "more.csv", "MO", 4)
        manifest.write_text(company("one", "t1", pair, count=3, folder=tmp_path)
                            + company("two", "t2", pair, count=3, folder=tmp_path)
                            + '[[company.step]]\nname = "more"\ninput = "two/more.csv"\nentity = "customer"\n')
        seen: list[str] = []
        result = await importer.run_fleet(manifest, sandbox=sandbox.url, on_company=lambda run: seen.append(run.name))
        assert result.exit_code == 0 and sorted(seen) == ["one", "two"]
        one, two = result.companies
        # One client per company for all its steps (one token), each step counting its own calls.
        assert [s.calls for _, s in two.steps] == [3 + 1, 4] and two.total("token_calls") == 1
        assert result.succeeded == 10 and result.to_dict()["total"]["calls"] == 3 + 1 + 3 + 4 + 1
        stats = await get_json(f"{sandbox.url}/sandbox/stats")
        assert stats["records"]["customer"] == 10
        with pytest.raises(importer.ConfigError, match="UNSET_ID is not set"):
            await importer.run_fleet(manifest)  # for real, the variables must be there


async def test_sample_bureau_rehearses_and_dry_runs(tmp_path: Path) -> None:
    """samples/bureau.toml as its comment says to run it: on the embedded sandbox, and dry."""
    samples = Path(__file__).resolve().parents[2] / "samples"
    code, out, err = await run_cli("fleet", str(samples / "bureau.toml"), "--sandbox",
                                   "--results-dir", str(tmp_path / "rehearsal"), "--summary-json", "-")
    assert code == 0, err
    data = orjson.loads(out)
    assert [c["state"] for c in data["companies"]] == ["done", "done", "done"]
    assert data["total"]["failed"] == data["total"]["invalid"] == 0 and data["total"]["succeeded"] > 20
    code, out, err = await run_cli("fleet", str(samples / "bureau.toml"), "--dry-run",
                                   "--results-dir", str(tmp_path / "dry"))
    assert code == 0, err
    assert (tmp_path / "dry" / "fjord" / "invoices.csv.dry-run.ndjson").is_file()


async def test_a_full_disk_under_one_company_leaves_the_others_be(
    start_sandbox, tmp_path: Path, small_disk,  # noqa: F811 (the fixture, imported)
) -> None:
    """One company's results folder on a full disk: it stops, the other loads; its resume then creates nothing twice."""
    import subprocess

    async with start_sandbox(clients=CLIENTS) as sandbox:
        pair = 'client_id_env = "BUREAU_ID"\nclient_secret_env = "BUREAU_SECRET"'
        text = f'[defaults]\nbase_url = "{sandbox.url}"\ntoken_url = "{sandbox.url}/connect/token"\n\n'
        text += company("full", "t-full", pair, extra=f'results_dir = "{small_disk / "full"}"', count=300,
                        folder=tmp_path)
        text += company("fine", "t-fine", pair, count=30, folder=tmp_path)
        manifest = tmp_path / "disk.toml"
        manifest.write_text(text)
        code, out, err = await run_cli("fleet", str(manifest), "--summary-json", "-", env=ENV)
        data = orjson.loads(out)
        full, fine = data["companies"]
        assert fine["exit_code"] == 0 and fine["steps"][0]["outcomes"]["created"] == 30
        assert full["exit_code"] != 0 and code == data["exit_code"] != 0
        assert "the disk is full" in (full["steps"][0]["error"] if full["steps"] else full["error"])
        subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
        code, _, err = await run_cli("fleet", str(manifest), "--only", "full", "--resume", env=ENV)
        assert code == 0, err
        assert_one_final_line_per_record(small_disk / "full" / "customers.csv.results.ndjson", 300)
        assert await tenant_numbers(sandbox.url, "t-full") == [f"FU{i:03d}" for i in range(1, 301)]
        assert await tenant_numbers(sandbox.url, "t-fine") == [f"FI{i:03d}" for i in range(1, 31)]
