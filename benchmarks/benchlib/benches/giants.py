"""(i) Giant inputs: peak RSS of the CLI on a SAF-T file with one huge text element, and on a huge document.

The readers keep at most ``--max-field-size`` (1 MiB by default) of any one value, a SAF-T
element's text included, and a document holds at most 10,000 lines: past that its rows are
counted, not kept. So the CLI's memory must not follow the size of an element or a document:

- a SAF-T file whose first customer's ``<Name>`` is one 900 MB text (300 MB with
  ``--quick``), read as customers (``--dry-run``); then the same file as ``.xml.gz``, about
  a thousandth of its size, which inflates to it as it is read;
- a CSV of 400,000 rows under one ``referenceNumber`` (40,000 with ``--quick``), read as
  invoices (``--dry-run``): one document far past the limit.

Each is one CLI subprocess; its peak RSS is the ``ru_maxrss`` that ``wait4`` returns for it,
as in (d). Each must also come out right: the huge name one invalid customer and the others
valid; every row of the huge document invalid, in results lines small enough that
``importer report`` reads them (it does, in a subprocess of its own). The files are
generated here, in chunks.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ..paths import PYTHON, REPO, child_env
from ..procs import Finished, run_measured
from ..report import BenchResult, Row, Target
from ..saftgen import saft_head
from .common import Context

TITLE = "giant inputs: peak RSS of the CLI on a huge SAF-T text element and a huge document"
RSS_TARGET = Target("<=", 150.0, " MB")
_CHUNK = 1 << 20
_CUSTOMERS = 1_000  # ordinary customers after the one with the huge name
_HEAD = saft_head(period_end=2) + "<MasterFiles><Customers>\n"


def _customer(number: int, name: str) -> str:
    return (f"<Customer><RegistrationNumber>9{number:08d}</RegistrationNumber><Name>{name}</Name>"
            f"<CustomerID>K{number:05d}</CustomerID><AccountID>1500</AccountID>"
            "<OpeningDebitBalance>0</OpeningDebitBalance><ClosingDebitBalance>0</ClosingDebitBalance></Customer>\n")


def write_saft(path: Path, text_bytes: int, *, gz: bool) -> int:
    """A SAF-T file whose first customer's name is ``text_bytes`` of text; returns its size in bytes."""
    opened = gzip.open(path, "wb", compresslevel=6) if gz else open(path, "wb")  # noqa: SIM115 - closed below
    with opened as f:
        f.write(_HEAD.encode())
        head, tail = _customer(1, "\0").encode().split(b"\0")
        f.write(head)
        block = b"x" * _CHUNK
        for _ in range(text_bytes // _CHUNK):
            f.write(block)
        f.write(tail)
        f.write("".join(_customer(n, f"Kunde {n} AS") for n in range(2, _CUSTOMERS + 2)).encode())
        f.write(b"</Customers></MasterFiles>\n</AuditFile>\n")
    return path.stat().st_size


def write_document(path: Path, rows: int) -> int:
    """A CSV of one invoice with ``rows`` lines; returns its size in bytes."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("referenceNumber,customerNumber,currencyId,line.description,line.quantity,line.unitPriceInCurrency\n")
        for start in range(0, rows, 10_000):
            f.write("".join(f"BIG,10000,NOK,line {n},1,10\n" for n in range(start, min(rows, start + 10_000))))
    return path.stat().st_size


def _dry_run(ctx: Context, path: Path, entity: str, *extra: str) -> tuple[Finished, dict, Path]:
    """``importer run PATH --dry-run`` measured; its finished process, its summary and its results file."""
    results = ctx.scratch / f"i-{path.name}.results.ndjson"
    summary_path = ctx.scratch / f"i-{path.name}.summary.json"
    cmd = [PYTHON, "-m", "importer", "run", str(path), "--entity", entity, "--dry-run",
           "--results", str(results), "--summary-json", str(summary_path), *extra]
    done = run_measured(cmd, timeout=900, cwd=REPO, env=child_env())
    if not summary_path.exists():
        raise RuntimeError(f"the importer CLI failed ({done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(summary_path.read_text())
    summary_path.unlink()
    ctx.log(f"{path.name}: peak RSS {done.peak_rss_mb:.1f} MB, {done.wall_s:.1f} s; outcomes {summary['outcomes']}")
    return done, summary, results


def _longest_line(path: Path) -> int:
    longest = 0
    with open(path, "rb") as f:
        for line in f:
            longest = max(longest, len(line))
    return longest


def run(ctx: Context) -> BenchResult:
    text_bytes = (300 << 20) if ctx.quick else (900 << 20)
    rows = 40_000 if ctx.quick else 400_000
    terms = ctx.scratch / "i-terms.toml"
    terms.write_text('ignore = ["PaymentTerms.Days"]\n', encoding="utf-8")
    result = BenchResult("i", TITLE)
    data: dict[str, object] = {"text_bytes": text_bytes, "document_rows": rows}
    for gz in (False, True):
        path = ctx.scratch / ("i-giant-text.xml.gz" if gz else "i-giant-text.xml")
        size = write_saft(path, text_bytes, gz=gz)
        ctx.log(f"generated {path.name}: {size / 1e6:,.1f} MB, one <Name> of {text_bytes / 2**20:,.0f} MiB "
                f"and {_CUSTOMERS:,} ordinary customers")
        done, summary, results = _dry_run(ctx, path, "customer", "--map", str(terms))
        path.unlink()
        results.unlink(missing_ok=True)
        invalid, valid = summary["outcomes"]["invalid"], summary["outcomes"]["valid"]
        kind = ".xml.gz" if gz else ".xml"
        result.rows.append(Row(
            "i", f"peak RSS, --dry-run, SAF-T {kind} with a {text_bytes / 2**20:,.0f} MiB <Name>", done.peak_rss_mb,
            f"{done.peak_rss_mb:.1f} MB", RSS_TARGET,
            note=f"{size / 1e6:,.1f} MB file; {done.wall_s:.1f} s, CPU {done.cpu_pct:.0f}%; "
                 f"{invalid} invalid (expected 1), {valid:,} valid (expected {_CUSTOMERS:,})"))
        if invalid != 1 or valid != _CUSTOMERS:
            result.notes.append(f"WARNING: the SAF-T {kind} run should have 1 invalid and {_CUSTOMERS:,} valid "
                                f"customers; it had {invalid} and {valid}")
        data[f"saft{kind}"] = {"bytes": size, "wall_s": done.wall_s, "cpu_s": done.cpu_s,
                               "peak_rss_mb": done.peak_rss_mb, "returncode": done.returncode, "summary": summary}

    path = ctx.scratch / "i-giant-document.csv"
    size = write_document(path, rows)
    ctx.log(f"generated {path.name}: {size / 1e6:,.1f} MB, {rows:,} rows of one invoice")
    done, summary, results = _dry_run(ctx, path, "invoice")
    path.unlink()
    longest = _longest_line(results)
    report = run_measured([PYTHON, "-m", "importer", "report", str(results)], timeout=300, cwd=REPO, env=child_env())
    results.unlink(missing_ok=True)
    invalid = summary["outcomes"]["invalid"]
    result.rows += [
        Row("i", f"peak RSS, --dry-run, one document of {rows:,} rows", done.peak_rss_mb,
            f"{done.peak_rss_mb:.1f} MB", RSS_TARGET,
            note=f"{size / 1e6:,.1f} MB CSV; {done.wall_s:.1f} s, CPU {done.cpu_pct:.0f}%; "
                 f"{invalid:,} of {rows:,} rows invalid (expected all)"),
        Row("i", "longest results line of that run", longest / 1024, f"{longest / 1024:,.0f} KiB",
            Target("<=", 1024.0, " KiB"),
            note=f"importer report read the file: exit {report.returncode} (expected 0), "
                 f"peak RSS {report.peak_rss_mb:.1f} MB"),
    ]
    if invalid != rows:
        result.notes.append(f"WARNING: every row of the huge document should be invalid; {invalid:,} of {rows:,} were")
    if report.returncode != 0:
        result.notes.append(f"WARNING: importer report refused the run's results file: {report.stderr[-500:]}")
    result.notes.append("peak RSS = ru_maxrss of the importer process (wait4); an element's text is kept up to "
                        "--max-field-size (default 1 MiB), a document's rows up to 10,000 lines")
    data["document"] = {"bytes": size, "wall_s": done.wall_s, "cpu_s": done.cpu_s, "peak_rss_mb": done.peak_rss_mb,
                        "returncode": done.returncode, "summary": summary, "longest_results_line": longest,
                        "report_returncode": report.returncode, "report_peak_rss_mb": report.peak_rss_mb}
    result.data = data
    return result
