"""The company a live run read, and ``--resume``: kept only for a run that wrote outcomes.

A run the preflight refused sent nothing and wrote no outcome, so its ``--resume`` is a
first run: it reads the company again rather than trust what it read before the company
was fixed. A results file from before the preflight has no company beside it: its resume
reads the company once, and the next resume reuses it. A kept company that cannot be read
is read again. The sandbox (the demo company) sits behind a counting proxy of the test's
own, so each test knows how often the company was read, and asks the sandbox what it stored.
"""

from __future__ import annotations

from pathlib import Path

from importer.sandbox import SandboxConfig, serve
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, final_lines, run_cli
from tests.support.stored import stored_records

HEADER = "number,name,creditTermsId\n"


def _customers(path: Path, bad: bool) -> Path:
    """Three customers; with ``bad``, the second names credit terms the demo company lacks."""
    path.write_text(HEADER + "C1,En,30\n" + f"C2,To,{'30 dager' if bad else '14'}\n" + "C3,Tre,10\n",
                    encoding="utf-8")
    return path


async def test_the_resume_of_a_refused_run_reads_the_company_again(tmp_path: Path) -> None:
    data = _customers(tmp_path / "c.csv", bad=True)
    results = Path(f"{data}.results.ndjson")
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        live = ("run", str(data), "-e", "customer", "--base-url", proxy.url, "--token", TOKEN)
        code, out, err = await run_cli(*live)
        assert code == 2 and "the company would refuse 1 of the 3 records" in err, (out, err)
        assert not results.exists() and proxy.server.count("POST") == 0
        assert proxy.server.count("GET", "/v1/creditTerm") == 1

        # Nothing was written: the resume starts the run, with the company as it is now.
        code, out, err = await run_cli(*live, "--resume", "--send-valid")
        assert code == 1, (out, err)
        assert "nothing to resume" in err
        assert proxy.server.count("GET", "/v1/creditTerm") == 2
        lines = {line["records"][0]: line for line in final_lines(results)}
        assert [lines[n]["outcome"] for n in (1, 2, 3)] == ["created", "invalid", "created"]
        assert lines[2]["error"].startswith("record 2, column creditTermsId: `30 dager` is not a credit terms id")
        assert sorted(await stored_records(sb, "customer")) == ["C1", "C3"]

        # Outcomes are written now: the next resume checks against the company this run read.
        _customers(data, bad=False)
        code, out, err = await run_cli(*live, "--resume", "--retry-failed")
        assert code == 0, (out, err)
        assert proxy.server.count("GET", "/v1/creditTerm") == 2
        assert sorted(await stored_records(sb, "customer")) == ["C1", "C2", "C3"]


async def test_a_results_file_without_a_company_beside_it_reads_it_once(tmp_path: Path) -> None:
    data = _customers(tmp_path / "c.csv", bad=False)
    kept = Path(f"{data}.results.ndjson.company.json")
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        live = ("run", str(data), "-e", "customer", "--base-url", proxy.url, "--token", TOKEN)
        code, out, err = await run_cli(*live, "--company", "none")  # as a run before the preflight was
        assert code == 0, (out, err)
        assert not kept.exists() and proxy.server.count("GET", "/v1/creditTerm") == 0

        with data.open("a", encoding="utf-8") as f:  # two records more: one the company takes, one not
            f.write("C4,Fire,30\nC5,Fem,30 dager\n")
        code, out, err = await run_cli(*live, "--resume", "--send-valid")
        assert code == 1, (out, err)
        assert proxy.server.count("GET", "/v1/creditTerm") == 1 and kept.is_file()
        finals = final_lines(f"{data}.results.ndjson")
        assert sorted((x["key"], x["outcome"]) for x in finals[3:]) == [("C4", "created"), ("C5", "invalid")]

        # A kept company that cannot be read is said, and read again (and kept whole).
        kept.write_bytes(kept.read_bytes()[:100])
        code, out, err = await run_cli(*live, "--resume", "--send-valid", "--retry-failed")
        assert code == 1, (out, err)
        assert "the company kept beside the results cannot be used, so it is read again" in err
        assert proxy.server.count("GET", "/v1/creditTerm") == 2
        code, out, err = await run_cli(*live, "--resume", "--send-valid", "--retry-failed")
        assert code == 1 and proxy.server.count("GET", "/v1/creditTerm") == 2, (out, err)
        assert sorted(await stored_records(sb, "customer")) == ["C1", "C2", "C3", "C4"]
        assert proxy.server.count("POST") == 4  # C5 never sent: refused by each resume's preflight
