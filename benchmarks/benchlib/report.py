"""Rows with their targets, and the three renderings: rich table, markdown, JSON.

A ``Row`` holds the measured number itself (never a pre-formatted guess), so the
verdict and the margin to the target are computed in one place for every output.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

__all__ = [
    "Target", "Row", "BenchResult", "median", "console_width", "render_table", "render_markdown", "merge_markdown",
    "write_json",
]


def console_width(stream: object) -> int | None:
    """The terminal's width, or a wide table when the output goes to a file or a pipe."""
    return None if getattr(stream, "isatty", lambda: False)() else 180


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


_SYMBOL = {">=": "≥", "<=": "≤", "<": "<"}


@dataclass(frozen=True, slots=True)
class Target:
    op: Literal[">=", "<=", "<"]
    limit: float
    unit: str = ""

    def met(self, value: float) -> bool:
        if self.op == ">=":
            return value >= self.limit
        return value <= self.limit if self.op == "<=" else value < self.limit

    def describe(self) -> str:
        return f"{_SYMBOL[self.op]} {self.limit:g}{self.unit}"

    def margin(self, value: float) -> str:
        """How far past (+) or short of (−) the target: relative to it, or in percentage
        points when the target is itself a percentage."""
        better = (value - self.limit) if self.op == ">=" else (self.limit - value)
        if self.unit == "%":
            return f"{better:+.1f} pp"
        if self.limit == 0:
            return f"{better:+g}{self.unit}"
        return f"{100.0 * better / abs(self.limit):+.1f}%"


@dataclass(frozen=True, slots=True)
class Row:
    bench: str  # the benchmark's letter
    measure: str
    value: float | None
    shown: str  # the value as printed, with its unit
    target: Target | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.value is None:
            return "n/a"
        return "PASS" if self.target.met(self.value) else "MISS"

    @property
    def margin(self) -> str:
        if self.target is None or self.value is None:
            return ""
        return self.target.margin(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench, "measure": self.measure, "value": self.value, "shown": self.shown,
            "target": asdict(self.target) if self.target else None,
            "verdict": self.verdict or None, "margin": self.margin or None, "note": self.note,
        }


@dataclass(slots=True)
class BenchResult:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # definitions and caveats, printed under the table
    data: dict[str, Any] = field(default_factory=dict)  # every raw number, for the JSON file
    error: str | None = None  # the benchmark could not finish: why


_HEADER = ("", "measure", "result", "target", "verdict", "margin", "note")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.bench, row.measure, row.shown, row.target.describe() if row.target else "",
            row.verdict, row.margin, row.note)


def _all_notes(results: Iterable[BenchResult], run_notes: Sequence[str] = ()) -> list[str]:
    notes = list(run_notes)
    for r in results:
        notes += [f"({r.key}) {n}" for n in r.notes]
        if r.error:
            notes.append(f"({r.key}) DID NOT FINISH: {r.error}")
    return notes


def render_table(
    results: Sequence[BenchResult], title: str, console: Console, run_notes: Sequence[str] = ()
) -> None:
    """The one table of the run, then its notes."""
    table = Table(title=title, show_lines=False, title_justify="left")
    for name in _HEADER:
        table.add_column(name, overflow="fold", no_wrap=name in ("verdict", "margin"))
    for i, result in enumerate(results):
        if i:
            table.add_section()
        for row in result.rows:
            style = {"PASS": "green", "MISS": "bold red", "n/a": "yellow"}.get(row.verdict)
            cells = list(_cells(row))
            if style:
                cells[4] = f"[{style}]{cells[4]}[/]"
            table.add_row(*cells)
    console.print(table)
    notes = _all_notes(results, run_notes)
    if notes:
        console.print("Notes:", style="bold")
        for note in notes:
            console.print(f"  • {note}", highlight=False)


def render_markdown(
    results: Sequence[BenchResult], title: str, machine: dict[str, Any], run_notes: Sequence[str] = ()
) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", "", "| " + " | ".join(h or "bench" for h in _HEADER) + " |",
             "|" + "---|" * len(_HEADER)]
    for result in results:
        lines += ["| " + " | ".join(esc(c) for c in _cells(row)) + " |" for row in result.rows]
    notes = _all_notes(results, run_notes)
    if notes:
        lines += ["", "Notes:", ""] + [f"- {esc(n)}" for n in notes]
    lines += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in _flatten(machine)]
    return "\n".join(lines) + "\n"


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def write_json(
    path: Path, results: Sequence[BenchResult], machine: dict[str, Any], options: dict[str, Any],
    run_notes: Sequence[str] = (),
) -> None:
    doc = {
        "machine": machine,
        "options": options,
        "notes": list(run_notes),
        "benchmarks": {
            r.key: {"title": r.title, "rows": [row.to_dict() for row in r.rows], "notes": r.notes,
                    "error": r.error, "data": r.data}
            for r in results
        },
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


_STAMP = re.compile(r"\d{8}T\d{6}Z(?: \(quick\))?")  # a run's stamp in its title


def merge_markdown(previous: str, current: str, keys: Iterable[str]) -> str:
    """``current`` (a run of only ``keys``) with the rows and notes of every other benchmark
    kept from ``previous``, so a partial run does not drop the rest of the table.

    The title says which run each benchmark's rows came from (``rows by run: STAMP: a, n;
    STAMP: b, c, ...``), carried over from merge to merge; the machine section is the
    current run's.
    """
    ran = set(keys)

    def parts(text: str) -> tuple[str, list[str], list[str], list[str]]:
        lines = text.splitlines()
        title = lines[0] if lines else ""
        rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| bench ")]
        machine_at = lines.index("## Machine") if "## Machine" in lines else len(lines)
        notes = [ln for ln in lines[:machine_at] if ln.startswith("- ")]
        return title, rows, notes, lines[machine_at:]

    def letter(line: str) -> str:
        return line[2:].split(maxsplit=1)[0].strip("|()") if len(line) > 2 else ""

    old_title, old_rows, old_notes, _ = parts(previous)
    title, rows, notes, machine = parts(current)
    rows = sorted(rows + [r for r in old_rows if letter(r) not in ran], key=letter)
    lettered = [n for n in notes if n.startswith("- (")]
    kept_notes = [n for n in old_notes if n.startswith("- (") and letter(n) not in ran]
    notes = [n for n in notes if not n.startswith("- (")] + sorted(lettered + kept_notes, key=letter)
    origin = _origins(old_title, {letter(r) for r in old_rows})
    origin.update(dict.fromkeys(ran, _stamp(title)))
    by_run: dict[str, list[str]] = {}
    for key in sorted({letter(r) for r in rows}):
        by_run.setdefault(origin.get(key, "an earlier run"), []).append(key)
    runs = "; ".join(f"{stamp}: {', '.join(letters)}" for stamp, letters in
                     sorted(by_run.items(), key=lambda item: item[0] if item[0][:1].isdigit() else "", reverse=True))
    lines = [f"{title} (rows by run: {runs})", "",
             "| " + " | ".join(h or "bench" for h in _HEADER) + " |", "|" + "---|" * len(_HEADER), *rows]
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines + ([""] + machine if machine else [])) + "\n"


def _stamp(title: str) -> str:
    """The run a results title names: its stamp, and `` (quick)`` for a quick run."""
    found = _STAMP.search(title)
    return found.group(0) if found else "an earlier run"


def _origins(title: str, letters: set[str]) -> dict[str, str]:
    """Which run each benchmark's rows in a results file came from, as its title says
    (a title that lists none: all of them from its own run)."""
    if " (rows by run: " not in title:
        return dict.fromkeys(letters, _stamp(title))
    origin = {}
    for part in title.rsplit(" (rows by run: ", 1)[1].removesuffix(")").split("; "):
        stamp, _, keys = part.partition(": ")
        origin.update(dict.fromkeys((k.strip() for k in keys.split(",")), stamp))
    return origin
