"""(h) A hostile input: a small gzip holding one 1 GB line among ordinary records.

The readers take a line in pieces of at most ``--max-field-size`` bytes and skip the
rest of a longer one without keeping it, so the CLI's memory must not follow the line's
size: one ``--dry-run`` subprocess reads the file (its encoding check decompresses all
of it once, the reading a second time), and its peak RSS is the ``ru_maxrss`` that
``wait4`` returns for it, as in (d). The long line must come out as one invalid record
and every ordinary record around it must still be read. The file is generated here, in
chunks: a line of one repeated byte compresses about a thousandfold.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ..paths import PYTHON, REPO, child_env
from ..procs import run_measured
from ..records import COLUMNS, customer_record
from ..report import BenchResult, Row, Target
from .common import Context

TITLE = "hostile input: peak RSS of the CLI on a gzip with one 1 GB line"
RSS_TARGET = Target("<=", 150.0, " MB")
_CHUNK = 1 << 20


def write_file(path: Path, line_bytes: int, around: int) -> int:
    """``around`` customers, the long line, ``around`` more; returns the gzip's size in bytes."""

    def rows(start: int) -> bytes:
        return "".join(",".join(customer_record(n).values()) + "\n" for n in range(start, start + around)).encode()

    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write((",".join(COLUMNS) + "\n").encode())
        f.write(rows(1))
        f.write(f"{around + 1},".encode())
        block = b"x" * _CHUNK
        for _ in range(line_bytes // _CHUNK):
            f.write(block)
        f.write(b"\n" + rows(around + 2))
    return path.stat().st_size


def run(ctx: Context) -> BenchResult:
    line_bytes = (100 << 20) if ctx.quick else (1 << 30)
    around = 5_000
    path = ctx.scratch / "h-long-line.csv.gz"
    size = write_file(path, line_bytes, around)
    ctx.log(f"generated {path.name}: {size / 1e6:.1f} MB of gzip, a {line_bytes / 2**20:,.0f} MiB line "
            f"between 2 × {around:,} records")
    summary_path = ctx.scratch / "h-summary.json"
    results = ctx.scratch / "h.dry-run.ndjson"
    cmd = [PYTHON, "-m", "importer", "run", str(path), "--entity", "customer", "--dry-run",
           "--results", str(results), "--summary-json", str(summary_path)]
    done = run_measured(cmd, timeout=900, cwd=REPO, env=child_env())
    path.unlink()
    results.unlink(missing_ok=True)
    if not summary_path.exists():
        raise RuntimeError(f"the importer CLI failed ({done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(summary_path.read_text())
    summary_path.unlink()
    invalid = summary["outcomes"]["invalid"]
    ordinary = summary["records"] - invalid
    ctx.log(f"peak RSS {done.peak_rss_mb:.1f} MB, {done.wall_s:.1f} s; {ordinary:,} records read, "
            f"{invalid} invalid")
    result = BenchResult("h", TITLE)
    result.rows = [
        Row("h", f"peak RSS, --dry-run, gzip with a {line_bytes / 2**20:,.0f} MiB line", done.peak_rss_mb,
            f"{done.peak_rss_mb:.1f} MB", RSS_TARGET,
            note=f"{size / 1e6:.1f} MB gzip; {done.wall_s:.1f} s, CPU {done.cpu_pct:.0f}%"),
        Row("h", "ordinary records read around it", float(ordinary), f"{ordinary:,}",
            Target(">=", float(2 * around)), note=f"the long line: {invalid} invalid record (expected 1)"),
    ]
    if invalid != 1:
        result.notes.append(f"WARNING: the long line should be 1 invalid record; the run had {invalid}")
    result.notes.append("peak RSS = ru_maxrss of the importer process (wait4); the line is read in "
                        "pieces of --max-field-size (default 1 MiB) and skipped past without keeping it")
    result.data = {"line_bytes": line_bytes, "gzip_bytes": size, "records_around": 2 * around,
                   "wall_s": done.wall_s, "cpu_s": done.cpu_s, "peak_rss_mb": done.peak_rss_mb,
                   "returncode": done.returncode, "summary": summary}
    return result
