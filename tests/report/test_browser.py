"""The HTML report in a real browser: headless Chromium draws its inline SVG charts.

Chromium is a Debian package (``apt-get install chromium``); without it this test
fails, saying so, rather than passing unseen.
"""

from __future__ import annotations

import asyncio
import re
import struct
import subprocess
import zlib

import pytest

from importer.report.build import build_report
from importer.report.html import write_html
from tests.support.browser import BROWSER_SECONDS as _BROWSER_SECONDS
from tests.support.browser import run_browser
from tests.support.migration import HOSTILE_KEY, add_hostile_lines, run_migration

CHARTS = ("outcomes", "rate", "calls", "latency", "reasons")
pytestmark = pytest.mark.timeout(4 * _BROWSER_SECONDS)  # the fixture and the probe each run it once


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to its console, as ``--enable-logging=stderr`` shows it."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def png_colours(data: bytes, enough: int) -> int:
    """Distinct colours of an 8-bit RGB(A) PNG, its scanlines unfiltered; stops once there are ``enough``."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), f"PNG of depth {depth}, colour type {colour_type}"
    size = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * size
    previous, colours = bytearray(stride), set()
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, size * 7))  # every 7th pixel is plenty
        previous = line
        if len(colours) >= enough:
            break
    return len(colours)


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """The report of a real plan (and a hostile line) in Chromium: its DOM and console, and a screenshot."""
    folder = tmp_path_factory.mktemp("browser")
    results, _, _ = asyncio.run(run_migration(folder))
    add_hostile_lines(sorted(results.glob("*.results.ndjson"))[-1])
    page, shot = folder / "report.html", folder / "report.png"
    write_html(build_report([results]), page)
    run = run_browser("--enable-logging=stderr", "--v=0", "--window-size=1000,1800", f"--screenshot={shot}",
                      "--dump-dom", page.as_uri())
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    return run, shot.read_bytes()


def test_the_console_check_sees_a_page_error(tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text("<html><body><script>console.error('probe-7731')</script></body></html>", encoding="utf-8")
    shown = run_browser("--enable-logging=stderr", "--v=0", "--dump-dom", probe.as_uri())
    assert any("probe-7731" in line for line in console_messages(shown.stderr)), shown.stderr[-2000:]


def test_the_charts_render_with_no_console_error_and_no_injected_markup(shown):
    run, _ = shown
    dom = run.stdout
    assert console_messages(run.stderr) == []
    for chart in CHARTS:
        start = dom.index(f'id="chart-{chart}"')
        end = dom.find('class="chart"', start + 1)
        block = dom[start:end if end > 0 else len(dom)]
        # the browser parsed each chart as SVG with shapes in it, not as text
        assert "<svg " in block and re.search(r"<(rect|polyline) ", block), f"chart {chart} was not drawn"
    assert "<title>importer report</title>" in dom
    # the hostile key is text in the page, never an element: no <img> came of it
    assert not re.search(r"<img\b", dom)
    assert "&lt;/td&gt;&lt;img src=x" in dom and HOSTILE_KEY not in dom
    # a reason's markup is text in its chart too, above its bar
    reasons = dom[dom.index('id="chart-reasons"'):]
    assert "1. Customer '…' already exists" in reasons
    assert "&lt;script&gt;alert('…')&lt;/script&gt; refused" in reasons and "<script" not in dom


def test_the_page_is_not_blank(shown):
    _, png = shown
    assert png_colours(png, enough=40) >= 40  # tables and charts in many colours, not one empty canvas
