"""Migration workflows against the sandbox: upsert, release, background, failed records."""

import csv
import io

import pytest

import importer
from tests.support.runs import TOKEN, final_lines, get_json, run_cli


def write_customers(path, numbers, name="Kunde") -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("number,name\n")
        for n in numbers:
            f.write(f"{n},{name} {n}\n")


async def test_upsert_prefetches_keys_in_pages_and_costs_about_one_call_per_record(start_sandbox, profile, tmp_path):
    async with start_sandbox(max_page_size=5) as sb:
        await importer.import_records(
            [{"number": str(n), "name": f"Gammel {n}"} for n in range(1, 21)],
            entity="customer", base_url=sb.url, token=TOKEN,
        )
        path = tmp_path / "c.csv"
        write_customers(path, range(11, 41), name="Ny")  # 10 exist already, 20 are new
        summary = await importer.import_records(path, entity="customer", mode="upsert",
                                                base_url=sb.url, token=TOKEN)
        stored = {c["number"]: c["name"] for c in await get_json(f"{sb.url}/sandbox/records/customer")}
    assert summary.outcomes["updated"] == 10 and summary.outcomes["created"] == 20
    # The records, plus 4 pages of 5 existing keys (and, without metadata, the empty page that ends them).
    assert summary.calls == 30 + {"standard": 4, "live": 5}[profile]
    assert stored["11"] == "Ny 11" and stored["1"] == "Gammel 1" and stored["40"] == "Ny 40"
    actions = {line["records"][0]: line["action"] for line in final_lines(f"{path}.results.ndjson")}
    assert actions[1] == "update" and actions[30] == "create"


async def test_upsert_of_a_small_file_asks_per_record(start_sandbox, profile, tmp_path):
    async with start_sandbox(max_page_size=5) as sb:
        await importer.import_records(
            [{"number": str(n), "name": "x"} for n in range(1, 41)],
            entity="customer", base_url=sb.url, token=TOKEN,
        )
        path = tmp_path / "c.csv"
        write_customers(path, ["3", "99"])
        summary = await importer.import_records(path, entity="customer", mode="upsert",
                                                base_url=sb.url, token=TOKEN)
    assert summary.outcomes["updated"] == 1 and summary.outcomes["created"] == 1
    # One page to learn the size, then GET + write per record. Without metadata (live) the
    # size is learnt by paging, given up once it costs more pages than the file has lines.
    pages = {"standard": 1, "live": 4}[profile]
    assert summary.calls == pages + 2 * 2


async def test_upsert_from_a_stream_works_without_a_file_to_count(sandbox):
    stream = io.BytesIO(b"number,name\n1,A\n2,B\n")
    stream.name = "<stdin>"  # what sys.stdin.buffer is called: not a file on disk
    summary = await importer.import_records(stream, entity="customer", mode="upsert",
                                            base_url=sandbox.url, token=TOKEN)
    assert summary.outcomes["created"] == 2 and summary.error is None


async def test_release_after_create(sandbox, tmp_path):
    await importer.import_records([{"number": "10000", "name": "A"}], entity="customer",
                                  base_url=sandbox.url, token=TOKEN)
    path = tmp_path / "i.csv"
    path.write_text("referenceNumber,customerNumber,line.description,line.quantity\n"
                    "1,10000,a,1\n1,10000,b,2\n2,10000,c,1\n")
    code, out, err = await run_cli("run", str(path), "--entity", "invoice", "--release",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    lines = final_lines(f"{path}.results.ndjson")
    assert [line["release"]["outcome"] for line in lines] == ["done", "done"]
    invoices = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert all(inv["released"] and inv["status"] == "Open" for inv in invoices)
    assert "released" in out


async def test_release_that_fails_is_reported_and_fails_the_run(sandbox, tmp_path):
    await importer.import_records([{"number": "10000", "name": "A"}], entity="customer",
                                  base_url=sandbox.url, token=TOKEN)
    rows = [{"referenceNumber": "7", "customerNumber": "10000", "hold": "true", "line.description": "x"}]
    summary = await importer.import_records(rows, entity="invoice", base_url=sandbox.url, token=TOKEN,
                                            release=True, results=str(tmp_path / "r.ndjson"))
    [line] = final_lines(tmp_path / "r.ndjson")
    assert line["outcome"] == "created" and line["release"]["outcome"] == "failed"
    assert line["release"]["error"]
    assert summary.release_failed == 1 and summary.exit_code == 1


async def test_background_requests_are_polled_to_their_outcome(start_sandbox, tmp_path):
    async with start_sandbox(background_delay_ms=20) as sb:
        path = tmp_path / "c.csv"
        write_customers(path, ["1", "2", "2"])
        summary = await importer.import_records(path, entity="customer", background=True,
                                                base_url=sb.url, token=TOKEN)
        stored = await get_json(f"{sb.url}/sandbox/records/customer")
    lines = final_lines(f"{path}.results.ndjson")
    by_record = {line["records"][0]: line for line in lines}
    assert [by_record[r]["outcome"] for r in (1, 2, 3)] == ["created", "created", "invalid"]
    assert by_record[1]["http_status"] == 201 and by_record[1]["location"].endswith("/v1/customer/1")
    assert by_record[3]["error"] == "record 3: same number as record 2"  # refused before a call
    assert len(stored) == 2 and summary.calls > 2  # polls are calls too


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_failed_records_file_can_be_fixed_and_imported_again(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_text("number;name;creditLimit\n1;Ærlig AS;100\n2;Blåbær AS;mye\n3;Ok AS;5\n3;Dobbel AS;7\n",
                    encoding="utf-8")
    code, out, _ = await run_cli("run", str(path), "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1
    failed = tmp_path / "kunder.failed.csv"
    assert str(failed) in out
    with open(failed, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert [r["number"] for r in rows] == ["2", "3"]
    assert rows[0]["name"] == "Blåbær AS" and "creditLimit" in rows[0]["error"]
    assert rows[1]["error"] == "record 4: same number as record 3"  # refused before a call
    # The user fixes the two rows in a spreadsheet and imports the failed file itself.
    rows[0]["creditLimit"] = "250"
    rows[1]["number"] = "4"
    with open(failed, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    code, _, err = await run_cli("run", str(failed), "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    numbers = sorted(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert numbers == ["1", "2", "3", "4"]


async def test_a_dead_api_stops_the_run_early_and_leaves_it_resumable(tmp_path):
    path = tmp_path / "c.csv"
    write_customers(path, range(1, 1001))
    # Nothing listens on this loopback port: every connection is refused at once.
    summary = await importer.import_records(path, entity="customer", base_url="http://127.0.0.1:9",
                                            token=TOKEN, max_attempts=1, concurrency=4,
                                            retry_base=0.001)
    assert summary.api_down and "stopped answering" in summary.error
    assert summary.outcomes["failed"] >= 50 and summary.not_processed > 0
    assert summary.outcomes["failed"] + summary.not_processed == 1000


async def test_upsert_and_release_refuse_what_does_not_apply(tmp_path):
    import pytest

    with pytest.raises(importer.ConfigError, match="--mode upsert"):
        await importer.import_records([], entity="dunning-letter", mode="upsert", dry_run=True)
    with pytest.raises(importer.ConfigError, match="--release"):
        await importer.import_records([], entity="customer", release=True, dry_run=True)


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_legacy_export_with_a_mapping_file_through_the_cli(sandbox, tmp_path):
    import shutil

    from tests.support.runs import SAMPLES

    legacy = SAMPLES / "legacy"
    for name, entity in (("kunder", "customer"), ("fakturaer", "invoice")):
        code, out, err = await run_cli(
            "run", str(legacy / f"{name}.csv"), "--entity", entity, "--map", str(legacy / f"{name}.map.toml"),
            "--results", str(tmp_path / f"{name}.ndjson"), "--failed", str(tmp_path / f"{name}.failed.csv"),
            "--base-url", sandbox.url, "--token", TOKEN)
        assert code == 0, (name, out, err)
    customers = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert customers["20001"]["mainAddress"]["countryId"] == "NO"
    assert customers["20001"]["creditLimit"] == 150000.0 and customers["20001"]["customerClassId"] == "1"
    # A bad value in the legacy file: the failed file keeps the legacy columns, ready to fix.
    bad = tmp_path / "kunder.csv"
    text = (legacy / "kunder.csv").read_text(encoding="utf-8").replace("Norge", "Atlantis", 1)
    bad.write_text(text.replace("20001;", "29001;", 1), encoding="utf-8")
    shutil.copy(legacy / "kunder.map.toml", tmp_path)
    code, _, _ = await run_cli("run", str(bad), "--entity", "customer", "--map", str(tmp_path / "kunder.map.toml"),
                               "--mode", "upsert", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1
    with open(tmp_path / "kunder.failed.csv", encoding="utf-8", newline="") as f:
        [row] = list(csv.DictReader(f, delimiter=";"))
    assert row["Kundenr"] == "29001" and row["Land"] == "Atlantis" and "Atlantis" in row["error"]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_an_unmapped_legacy_column_stops_before_sending(sandbox, tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("Kundenr;Navn;Fritekst\n1;A;x\n", encoding="utf-8")
    mapping = tmp_path / "k.map.toml"
    mapping.write_text('[columns]\n"Kundenr" = "number"\n"Navn" = "name"\n', encoding="utf-8")
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--map", str(mapping),
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 2 and "Fritekst" in err
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == 0
