"""The sign-off in a real browser: headless Chromium renders the page (no script on it) and
the totals are in the DOM it built, the per-customer table with the row that differs first.

Chromium is a Debian package (``apt-get install chromium``); without it this test fails,
saying so (``test_browser.chromium``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from importer.sandbox.server import RunningSandbox
from tests.support.browser import BROWSER_SECONDS as _BROWSER_SECONDS
from tests.support.browser import run_browser
from tests.support.receivables import inputs, migrated
from tests.support.runs import TOKEN, run_cli

pytestmark = [pytest.mark.one_profile, pytest.mark.timeout(2 * _BROWSER_SECONDS)]


async def test_the_signoff_renders_with_its_totals_visible(sandbox: RunningSandbox, tmp_path: Path) -> None:
    paths = await migrated(sandbox, tmp_path)
    page = tmp_path / "signoff.html"
    code, _, err = await run_cli("signoff", *inputs(paths), "--out", str(page),
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err
    done = run_browser("--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    currencies = re.search(r'<table id="currencies">.*?</table>', dom, re.S)
    assert currencies is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", currencies.group(0))
    assert cells[:8] == ["NOK", "2440.00", "476.00", "2916.00", "1740.00", "405.00", "2145.00", "-771.00"], cells
    customers = re.search(r'<table id="customers">.*?</table>', dom, re.S)
    assert customers is not None
    first = re.search(r'<tr class="differs"><td[^>]*>([^<]*)</td>', customers.group(0))
    assert first is not None and first.group(1) == "C2"
