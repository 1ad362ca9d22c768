"""``importer signoff``: the sign-off document an accountant reads, prints or saves as PDF, and signs.

    document = SignOff(receivables, runs_of(["rehearsal/"]), gl_check=None)
    written = write_signoff(document, "out/signoff.html")  # and out/signoff.customers.csv, ...

One self-contained HTML file (no script, no external file: the numbers are plain table
cells; print CSS keeps it to A4 width), in this order:

1. the company and when the document was made;
2. the inputs with their sha256 fingerprints (and the aged-receivables file, if any);
3. the runs: each results file with its id (the first 12 hex digits of its sha256), its
   entity, records, outcomes and first and last times;
4. counts per entity, file against ledger;
5. amounts per currency: net, VAT and gross of the file and of the ledger, the difference,
   and the ledger's balance against the legacy balance;
6. the per-customer table, rows that differ first, then the documents that make the
   differences (missing, extra, different amount);
7. the subledger against the general ledger: the check's result when a SAF-T input gave
   one (``gl_check``), else a line saying it was not run;
8. the open items that remain: documents not released, and problems met on the way.

Each table is also written as CSV beside the HTML (``NAME.<table>.csv``, UTF-8), with the
same figures, so a spreadsheet can add them up again.
"""

from __future__ import annotations

import csv
import hashlib
import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from importer.ledger.receivables import Receivables, owed_dict
from importer.report.build import build_report, results_files

__all__ = ["SignOff", "runs_of", "write_signoff", "TABLES"]

Table = tuple[list[str], list[list[str]]]
TABLES = ("inputs", "runs", "counts", "currencies", "customers", "documents", "open-items")

_CSS = """
@page { size: A4; margin: 14mm; }
body { font: 10pt/1.35 system-ui, sans-serif; color: #111; max-width: 182mm; margin: 0 auto; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11.5pt; margin: 6mm 0 2mm; }
table { border-collapse: collapse; width: 100%; margin-bottom: 3mm; font-size: 8pt; }
th, td { border-bottom: 1px solid #ccc; padding: 0.8mm 0.7mm; text-align: left; vertical-align: top; }
td { overflow-wrap: break-word; } th { font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } td.n { white-space: nowrap; }
tr.differs td { background: #fde8e8; } .ok { color: #1b6e20; } .bad { color: #a11; font-weight: 600; }
code { font-size: 8pt; word-break: break-all; } .sign { margin-top: 14mm; display: flex; gap: 20mm; }
.sign div { border-top: 1px solid #111; padding-top: 1mm; width: 70mm; }
@media print { tr { break-inside: avoid; } h2 { break-after: avoid; } }
"""
_NUMERIC = {"file net", "file VAT", "file gross", "ledger net", "ledger VAT", "ledger gross", "difference",
            "net difference", "ledger balance", "legacy balance", "balance difference", "file", "ledger",
            "records", "documents", "gross", "customers", "customers close", "account closes"}


@dataclass
class Run:
    file: str
    id: str
    entity: str
    records: int
    outcomes: str
    first_at: str
    last_at: str


@dataclass
class SignOff:
    receivables: Receivables
    runs: list[Run] = field(default_factory=list)
    gl_check: Any = None  # importer.saft.subledger.SubledgerCheck of a SAF-T input; None: not run
    made_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def runs_of(paths: Iterable[str | os.PathLike[str]]) -> list[Run]:
    """The runs the results files (or folders of them) record, one per file and entity."""
    listed = list(paths)
    if not listed:
        return []
    ids = {os.fspath(p): hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in results_files(listed)}
    report = build_report(listed)
    return [
        Run(g.file, ids.get(g.file, ""), g.entity, g.records,
            ", ".join(f"{k} {v}" for k, v in sorted(g.outcomes.items())),
            str(g.to_dict()["first_at"] or ""), str(g.to_dict()["last_at"] or ""))
        for g in report.groups
    ]


# -- the tables ------------------------------------------------------------------------------


def tables(doc: SignOff) -> dict[str, Table]:
    r = doc.receivables
    inputs = [[i["path"], i["entity"], str(i["documents"]), i["sha256"]] for i in r.inputs]
    if r.aged:
        inputs.append([r.aged["path"], "aged receivables", "", r.aged["sha256"]])
    money = ["file net", "file VAT", "file gross", "ledger net", "ledger VAT", "ledger gross", "difference",
             "ledger balance", "legacy balance", "balance difference"]
    keys = ["file_net", "file_vat", "file_gross", "ledger_net", "ledger_vat", "ledger_gross", "difference",
            "ledger_balance", "legacy_balance", "balance_difference"]

    def figures(o: Any) -> list[str]:
        d = owed_dict(o)
        return [d[k] or "" for k in keys]

    return {
        "inputs": (["input", "entity", "documents", "sha256"], inputs),
        "runs": (["results file", "run id", "entity", "records", "outcomes", "first", "last"],
                 [[x.file, x.id, x.entity, str(x.records), x.outcomes, x.first_at, x.last_at] for x in doc.runs]),
        "counts": (["entity", "file", "ledger"],
                   [[e, str(c["file"]), str(c["ledger"])] for e, c in sorted(r.counts.items())]),
        "currencies": (["currency", *money], [[k, *figures(o)] for k, o in r.totals().items()]),
        "customers": (["customer", "currency", *money, "agrees"],
                      [[c, k, *figures(o), "yes" if o.agrees else "no"] for c, k, o in r.sorted_rows()]),
        "documents": (["what", "entity", "document", "customer", "currency", "file gross", "ledger gross",
                       "difference", "file net", "ledger net", "net difference"],
                      [[d["kind"], d["entity"], d["key"], d["customer"], d["currency"], d["file_gross"] or "",
                        d["ledger_gross"] or "", d["difference"], d["file_net"] or "", d["ledger_net"] or "",
                        d["net_difference"]] for d in r.differences()]),
        "open-items": (["what", "document", "customer", "currency", "gross", "status"],
                       [[o["why"], f"{o['entity']} {o['key']}", o["customer"], o["currency"], o["gross"],
                         o["status"]] for o in r.open_items] + [[p, "", "", "", "", ""] for p in r.problems]),
        "subledger": (["account", "customers", "customers close", "account closes", "difference", "agrees"],
                      _gl_rows(doc.gl_check)),
    }


# -- writing ---------------------------------------------------------------------------------


def csv_path(html_path: str | os.PathLike[str], table: str) -> Path:
    path = Path(html_path)
    return path.with_name(f"{path.stem}.{table}.csv")


def write_signoff(doc: SignOff, path: str | os.PathLike[str]) -> list[Path]:
    """Write the HTML and one CSV per table (the folder is made); the paths written."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    made = tables(doc)
    written = [out]
    out.write_text(render(doc, made), encoding="utf-8")
    for name, (header, rows) in made.items():
        target = csv_path(out, name)
        with open(target, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(target)
    return written


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], name: str, marked: Sequence[bool] = ()) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f'<th class="{"n" if h in _NUMERIC else ""}">{html.escape(h)}</th>' for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="differs"' if i < len(marked) and marked[i] else ""
        cells = "".join(f'<td class="{"n" if h in _NUMERIC else ""}">{html.escape(c)}</td>'
                        for h, c in zip(header, row, strict=False))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f'<table id="{name}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _shown_inputs(table: Table) -> Table:
    """The inputs as the page shows them at A4 width: a fingerprint's first 16 digits (the CSV has it whole)."""
    header, rows = table
    at = header.index("sha256")
    return header, [[*r[:at], r[at][:16] + "…" if len(r[at]) > 16 else r[at], *r[at + 1:]] for r in rows]


def _shown_runs(table: Table) -> Table:
    """The runs as the page shows them: times to the second, without the T and the offset."""
    header, rows = table
    times = [i for i, h in enumerate(header) if h in ("first", "last")]
    return header, [[c.replace("T", " ")[:19] if i in times else c for i, c in enumerate(r)] for r in rows]


def _gl_rows(check: Any) -> list[list[str]]:
    """A row per receivables account of the SAF-T check (importer.saft.subledger); none when not run."""
    if check is None:
        return []
    return [[a.name, str(a.customers), f"{a.customers_closing:.2f}",
             "" if a.closing is None else f"{a.closing:.2f}", f"{a.difference:.2f}", "yes" if a.agrees else "no"]
            for a in check.accounts]


def _gl(doc: SignOff, made: dict[str, Table]) -> str:
    """The subledger-against-GL section: the check's paragraph and a row per account, else why not."""
    check = doc.gl_check
    if check is None:
        return "<p>Not run: no SAF-T input was given, so there is no general ledger to hold the customers against.</p>"
    verdict = "ok" if check.agrees else "bad"
    return f'<p class="{verdict}">{html.escape(check.text())}</p>' + _table(*made["subledger"], "subledger")


def render(doc: SignOff, made: dict[str, Table]) -> str:
    r = doc.receivables
    verdict = ('<p class="ok">File and ledger agree for every customer.</p>' if r.ok else
               f'<p class="bad">{sum(not o.agrees for o in r.rows.values())} customer row(s) differ; '
               f'{len(r.differences())} document(s) make the differences.</p>')
    customers = [not o.agrees for _, _, o in r.sorted_rows()]
    sections = [
        ("Inputs", _table(*_shown_inputs(made["inputs"]), "inputs")),
        ("Runs", _table(*_shown_runs(made["runs"]), "runs")),
        ("Counts per entity", _table(*made["counts"], "counts")),
        ("Amounts per currency", _table(*made["currencies"], "currencies")),
        ("Per customer (differences first)", _table(*made["customers"], "customers", customers)),
        ("Documents that make the differences", _table(*made["documents"], "documents")),
        ("Subledger against the general ledger", _gl(doc, made)),
        ("Open items", _table(*made["open-items"], "open-items")),
    ]
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Sign-off: {html.escape(r.company)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Customer ledger sign-off: {html.escape(r.company)}</h1>"
        f"<p>Made {html.escape(doc.made_at)}. Differences are ledger − file; a credit note counts negative. "
        f"The ledger was read with {r.calls} calls.</p>{verdict}{body}"
        '<div class="sign"><div>Consultant, date</div><div>Accountant, date</div></div></body></html>\n'
    )
