"""What the CLI prints on a terminal fits it: the run summary, the plan table, the progress line.

Each test runs ``python -m importer`` on a real pseudo-terminal of 80 or 120 columns (its size
set with TIOCSWINSZ, and COLUMNS as a shell sets it) against the sandbox, reads everything it
wrote, and checks that no line, its ANSI escapes left out, is wider than the terminal and that
no header broke inside a word. The sandbox then holds every record sent.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.support.runs import TOKEN, get_json

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("profile", ["standard"])]

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
COUNT = 60


def _in_pty(args: list[str], columns: int, cwd: Path, timeout: float = 30) -> tuple[int, list[str]]:
    """Run ``python -m importer ARGS`` on a terminal ``columns`` wide; (exit code, lines shown)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    env.update(COLUMNS=str(columns), LINES="40", TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-m", "importer", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=cwd, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the terminal closed: everything was read
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = ESCAPES.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]


def _too_wide(lines: list[str], columns: int) -> list[str]:
    return [line for line in lines if len(line) > columns]


def _customers(tmp_path: Path) -> Path:
    source = tmp_path / "kunder.csv"
    source.write_text("number,name\n" + "".join(f"{i},Kunde {i}\n" for i in range(1, COUNT + 1)), encoding="utf-8")
    return source


@pytest.mark.parametrize("columns", [80, 120])
async def test_a_run_and_its_progress_line_fit_the_terminal(start_sandbox, tmp_path, columns):
    source = _customers(tmp_path)
    async with start_sandbox(latency_ms=15) as sb:
        code, lines = await asyncio.to_thread(
            _in_pty, ["run", str(source), "-e", "customer", "--base-url", sb.url, "--token", TOKEN,
                      "--concurrency", "2"], columns, tmp_path)
        stored = await get_json(f"{sb.url}/sandbox/records/customer")
    assert code == 0, "\n".join(lines)
    assert len(stored) == COUNT
    assert _too_wide(lines, columns) == [], "\n".join(lines)
    assert any(line.startswith("customer ") and " ok" in line for line in lines), "\n".join(lines)  # progress
    assert any("records read" in line for line in lines), "\n".join(lines)  # the summary
    # Its results path on one line: shortened in the middle, as the plan table's, when too long.
    path = f"{source}.results.ndjson"
    (row,) = [line for line in lines if line.split()[:1] == ["results"]]
    assert row.rstrip().endswith("/kunder.csv.results.ndjson"), "\n".join(lines)
    shown = row.split()[1]
    assert shown == path or ("…" in shown and path.startswith(shown.split("…")[0])), "\n".join(lines)
    if columns == 80:  # a test's folder is longer than what is left of 80 columns
        assert "…" in shown, "\n".join(lines)
    assert TOKEN not in "\n".join(lines)


@pytest.mark.parametrize("columns", [80, 120])
async def test_the_plan_table_fits_with_its_headers_whole_and_the_path_shortened(start_sandbox, tmp_path, columns):
    _customers(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text('[[step]]\nname = "customers"\ninput = "kunder.csv"\nentity = "customer"\n', encoding="utf-8")
    out_dir = tmp_path / "a-results-folder-with-a-long-name" / "for-the-rehearsal-of-the-norwegian-legacy-export"
    async with start_sandbox() as sb:
        code, lines = await asyncio.to_thread(
            _in_pty, ["plan", str(plan), "--base-url", sb.url, "--token", TOKEN, "--results-dir", str(out_dir)],
            columns, tmp_path)
        stored = await get_json(f"{sb.url}/sandbox/records/customer")
    shown = "\n".join(lines)
    assert code == 0, shown
    assert len(stored) == COUNT
    assert _too_wide(lines, columns) == [], shown
    header = next(line for line in lines if line.startswith("┃"))
    names = [cell.strip() for cell in header.split("┃")[1:-1]]
    assert {"step", "ok", "failed", "invalid", "results"} <= set(names), shown
    assert all(" " not in name or name == "not processed" for name in names), shown  # no `entit y`
    row = next(line for line in lines if line.startswith("│") and "customers" in line)
    cells = dict(zip(names, (cell.strip() for cell in row.split("│")[1:-1])))
    assert cells["ok"] == str(COUNT), shown
    assert cells["results"].endswith("kunder.csv.results.ndjson"), shown
    if columns == 80:
        assert "…" in cells["results"], shown  # shortened in the middle, its file name kept
    else:
        assert {"read", "skipped", "queued", "not processed"} <= set(names), shown  # dropped later than entity
