"""Records have an identity: edited files, reruns, two processes and outputs that are inputs.

Every test asks the sandbox what the ledger holds, not only what the importer printed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter

import orjson
import pytest

import importer
import importer.load.identity
from importer.schema import unwrap_value
from tests.support.runs import TOKEN, get_json, read_lines, run_cli


def write_customers(path, rows: list[tuple[str, str]], extra: str = "") -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("number,name,numberOfEmployees\n")
        for number, name in rows:
            f.write(f"{number},{name},{extra}\n")


async def stored(sandbox, entity: str = "customer") -> Counter:
    records = await get_json(f"{sandbox.url}/sandbox/records/{entity}")
    key = "number" if entity == "customer" else "referenceNumber"
    return Counter(unwrap_value(r.get(key)) for r in records)


async def posts(sandbox) -> int:
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    return stats["requests"]


def run(path, sandbox, **options):
    return importer.import_records(path, entity=options.pop("entity", "customer"),
                                   base_url=sandbox.url, token=TOKEN, **options)


ROWS = [(f"C{i}", f"Kunde {i}") for i in range(1, 9)]


async def test_edit_then_resume_sends_only_what_is_new_or_fixed(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    rows = list(ROWS)
    write_customers(path, rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write("C9,Kunde 9,mange\n")  # invalid: not a whole number
    first = await run(path, sandbox)
    assert first.outcomes["created"] == 8 and first.outcomes["invalid"] == 1
    before = await posts(sandbox)

    # The consultant fixes C9, deletes C2, adds a forgotten customer at the top, swaps two rows.
    edited = [("C0", "Glemt AS")] + [r for r in rows if r[0] != "C2"] + [("C9", "Kunde 9")]
    edited[1], edited[2] = edited[2], edited[1]
    write_customers(path, edited)
    second = await run(path, sandbox, resume=True, retry_failed=True)

    assert second.outcomes["created"] == 2, second.to_dict()  # C0 and the fixed C9, nothing else
    assert second.already_done == 7
    assert (second.new, second.changed, second.gone) == (1, 1, 1)
    assert await posts(sandbox) - before == 2  # not one call for a record that was done
    held = await stored(sandbox)
    assert held == Counter({n: 1 for n in ["C0", *[r[0] for r in rows], "C9"]})
    assert second.ok


async def test_a_record_changed_after_it_was_created_is_not_created_again(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:3])
    await run(path, sandbox)
    write_customers(path, [ROWS[0], ("C2", "Nytt Navn AS"), ROWS[2]])
    again = await run(path, sandbox, resume=True)
    [line] = [x for x in read_lines(f"{path}.results.ndjson")[-1:]]
    assert again.outcomes["skipped"] == 1 and again.outcomes["created"] == 0 and again.changed == 1
    assert "changed since it was created" in line["error"] and "--mode upsert" in line["error"]
    assert again.exit_code == 1
    # ...and upsert then sends the change as an update.
    upsert = await run(path, sandbox, resume=True, mode="upsert")
    assert upsert.outcomes["updated"] == 1 and upsert.outcomes["created"] == 0
    [c2] = [r for r in await get_json(f"{sandbox.url}/sandbox/records/customer") if r["number"] == "C2"]
    assert unwrap_value(c2["name"]) == "Nytt Navn AS"
    assert await stored(sandbox) == Counter({"C1": 1, "C2": 1, "C3": 1})


async def test_auto_numbered_invoices_resume_by_document_key_after_reordering(sandbox, tmp_path):
    customers = tmp_path / "c.csv"
    write_customers(customers, [("K1", "Kunde AS")])
    await run(customers, sandbox)
    path = tmp_path / "inv.csv"
    header = "documentKey,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
    rows = [f"D{i},K1,2024-01-0{i},Linje {i},1,{i}00\n" for i in range(1, 5)]
    path.write_text(header + "".join(rows), encoding="utf-8")
    first = await run(path, sandbox, entity="invoice")
    assert first.outcomes["created"] == 4
    path.write_text(header + "".join(reversed(rows)) + "D5,K1,2024-01-05,Linje 5,1,500\n", encoding="utf-8")
    second = await run(path, sandbox, entity="invoice", resume=True)
    assert second.outcomes["created"] == 1 and second.already_done == 4
    invoices = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert len(invoices) == 5  # none created twice
    references = Counter(unwrap_value(i.get("externalReference")) for i in invoices)
    assert len(references) == 5 and all(r.startswith("imp-") and n == 1 for r, n in references.items())


async def test_a_key_repeated_in_one_file_is_refused_before_a_call(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, [("C1", "A"), ("C2", "B"), ("C1", "A igjen")])
    dry = await run(path, sandbox, dry_run=True)
    lines = read_lines(f"{path}.dry-run.ndjson")
    assert [x["outcome"] for x in lines] == ["valid", "valid", "invalid"]
    assert lines[2]["error"] == "record 3: same number as record 1"
    assert dry.exit_code == 1
    summary = await run(path, sandbox)
    assert summary.outcomes == {**summary.outcomes, "created": 2, "invalid": 1}
    assert await posts(sandbox) == 2
    assert (await stats_duplicates(sandbox)) == 0


async def stats_duplicates(sandbox) -> int:
    return (await get_json(f"{sandbox.url}/sandbox/stats"))["duplicates_refused"]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_rerun_without_resume_is_refused_and_restart_keeps_the_old_file(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:2])
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN)
    assert code == 0, err
    sent = await posts(sandbox)
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                   "--token", TOKEN)
    assert code == 2
    assert f"{path}.results.ndjson already holds the outcomes" in err
    assert "--resume" in err and "--restart" in err and "Traceback" not in err
    assert await posts(sandbox) == sent  # refused before anything was sent, the company's read included
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN, "--restart")
    assert code == 1  # both records now exist: each refused by the API, as asked
    company = "c.csv.results.ndjson.company.json"  # the company the preflight read, kept for a --resume
    kept = [p for p in os.listdir(tmp_path) if p.startswith("c.csv.results.ndjson.") and p != company]
    assert len(kept) == 1 and len(read_lines(tmp_path / kept[0])) == 4
    assert await stored(sandbox) == Counter({"C1": 1, "C2": 1})


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_two_processes_on_one_results_file(start_sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, [(f"C{i}", f"Kunde {i}") for i in range(200)])
    async with start_sandbox(latency_ms=40) as sb:  # 4 s of sending: time for a second process to start
        args = ("run", str(path), "--entity", "customer", "--base-url", sb.url, "--token", TOKEN,
                "--concurrency", "2")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
        first = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "importer", *args, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        results = tmp_path / "c.csv.results.ndjson"
        for _ in range(600):  # until the first run holds the file (at most 30 s on a busy machine)
            if results.exists() and results.stat().st_size:
                break
            await asyncio.sleep(0.05)
        code, _, err = await run_cli(*args, "--resume")
        assert first.returncode is None or code == 2, "the first run ended before the second met it"
        assert code == 2
        assert f"is in use by process {first.pid}" in err and "Traceback" not in err
        assert (await first.wait()) == 0
        assert await stored(sb) == Counter({f"C{i}": 1 for i in range(200)})


@pytest.mark.parametrize("flag", ["--results", "--failed", "--summary-json"])
@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_an_output_that_is_the_input_is_refused(sandbox, tmp_path, flag):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:2])
    before = path.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(path)
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN, flag, str(link))
    assert code == 2, err
    assert "may not overwrite an input" in err and "Traceback" not in err
    assert path.read_bytes() == before and await posts(sandbox) == 0


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_results_and_failed_may_not_be_one_file(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:1])
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN, "--results", str(tmp_path / "x"), "--failed", str(tmp_path / "x"))
    assert code == 2 and "another output" in err


@pytest.mark.one_profile  # a results file's salvage: the same against either profile
async def test_a_hand_edited_results_file_is_named_and_set_aside_on_resume(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:2])
    await run(path, sandbox)
    results = tmp_path / "c.csv.results.ndjson"
    lines = results.read_bytes().splitlines(keepends=True)
    for n, broken in enumerate((b"[1, 2]\n", b'{"outcome": "created", "records": [1e99]}\n', b"not json\n",
                                b'{"outcome": "created", "identity": "key:C1", "fingerprint": "x", "records": [-1],'
                                b' "action": "create"}\n'), 1):
        results.write_bytes(b"".join(lines[:2]) + broken + b"".join(lines[2:]))
        code, _, err = await run_cli("report", str(results))
        assert code == 2 and f"{results}: line 3 is not a results line" in err and "Traceback" not in err, err
        code, out, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                       "--token", TOKEN, "--resume")
        assert code == 0, err
        side = f"{results}.damaged" + (f".{n}" if n > 1 else "")
        assert f"{results}: line 3 is damaged" in err and f"set aside in {side}" in err and "Traceback" not in err
        assert open(side, "rb").read() == broken
        code, out, err = await run_cli("report", str(results))  # a line set aside is passed over
        assert code == 0, err
    numbers = [c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")]
    assert all(numbers.count(number) == 1 for number, _ in ROWS[:2])


async def test_each_results_line_names_identity_and_fingerprint(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:1])
    await run(path, sandbox)
    started, final = read_lines(f"{path}.results.ndjson")
    assert started["identity"] == final["identity"] == "key:C1"
    assert started["fingerprint"] == final["fingerprint"] and len(final["fingerprint"]) == 16
    body = orjson.dumps({"name": {"value": "Kunde 1"}, "number": {"value": "C1"}}, option=orjson.OPT_SORT_KEYS)
    assert final["fingerprint"] == importer.load.identity.fingerprint_of(orjson.loads(body))


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_the_failed_file_of_a_cp1252_map_run_goes_back_through_the_same_map(sandbox, tmp_path):
    from tests.support.runs import SAMPLES

    source = (SAMPLES / "legacy" / "kunder.csv").read_text(encoding="utf-8").splitlines()
    header, rows = source[0], source[1:4]
    broken = rows[1].replace("Norge", "Atlantis")  # not in the map's country values: invalid
    path = tmp_path / "kunder.csv"
    path.write_bytes(("\r\n".join([header, rows[0], broken, rows[2]]) + "\r\n").encode("cp1252"))
    the_map = str(SAMPLES / "legacy" / "kunder.map.toml")
    args = ("run", str(path), "--entity", "customer", "--map", the_map, "--encoding", "cp1252",
            "--base-url", sandbox.url, "--token", TOKEN)
    code, out, err = await run_cli(*args)
    assert code == 1, err
    failed = tmp_path / "kunder.failed.csv"
    data = failed.read_bytes()
    assert data.startswith(header.encode("cp1252") + b";error\r\n")  # the legacy layout, cp1252, CRLF
    assert broken.encode("cp1252") + b";" in data and "Atlantis".encode("cp1252") in data
    assert b"\xef\xbf\xbd" not in data and b"?" not in data  # no U+FFFD, no character lost
    # The consultant fixes the country in the failed file, keeping its encoding, and imports it.
    failed.write_bytes(data.replace(b"Atlantis", b"Norge"))
    code, out, err = await run_cli("run", str(failed), "--entity", "customer", "--map", the_map,
                                   "--encoding", "cp1252", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, out + err
    stored_names = {c["number"]: c["name"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    expected = rows[1].split(";")
    assert stored_names[expected[0]] == expected[1]  # Æ, Ø, Å as they were
    assert len(stored_names) == 3


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_rehearsals_results_are_not_resumed_against_another_api(start_sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, ROWS[:3])
    async with start_sandbox() as rehearsal:
        await run(path, rehearsal)
    async with start_sandbox() as live:
        code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", live.url,
                                     "--token", TOKEN, "--resume")
        assert code == 2
        assert f"against {rehearsal.url}" in err and f"goes to {live.url}" in err
        assert await posts(live) == 0  # not "already done": refused, nothing sent


async def test_a_second_file_with_the_same_numbers_changes_nothing_in_the_ledger(sandbox, tmp_path):
    # Another file naming customers that exist: every create is refused as a duplicate (the
    # live profile answers a share of those with a 500). None may be reported created, and
    # the ledger keeps the names it had.
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_customers(first, ROWS)
    write_customers(second, [(number, f"Ny {name}") for number, name in ROWS])
    await run(first, sandbox)
    summary = await run(second, sandbox, retry_base=0.01)
    records = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert sorted(r["name"] for r in records) == sorted(name for _, name in ROWS)
    finals = [line for line in read_lines(f"{second}.results.ndjson") if line["outcome"] != "started"]
    assert [line["outcome"] for line in finals] == ["failed"] * len(ROWS)
    assert not any(line["recovered"] for line in finals) and summary.outcomes["created"] == 0


async def test_a_resume_never_sends_a_dunning_letter_again(sandbox, tmp_path):
    # The live profile queues dunning letters: "queued" must not read as "send it again".
    customers, letters = tmp_path / "c.csv", tmp_path / "d.csv"
    write_customers(customers, [("10000", "A"), ("10003", "B")])
    letters.write_text("customerNumber,dunningLetterDate,levelFrom,levelTo\n"
                       "10000,2020-01-21,1,2\n10003,2020-01-21,1,3\n", encoding="utf-8")
    await run(customers, sandbox)
    first = await run(letters, sandbox, entity="dunning-letter")
    again = await run(letters, sandbox, entity="dunning-letter", resume=True, retry_failed=True)
    await asyncio.sleep(0.3)  # a queued letter finishes a moment later
    assert len(await get_json(f"{sandbox.url}/sandbox/records/dunning-letter")) == 2
    assert first.exit_code == 0 and again.already_done == 2 and again.sent_units == 0
