"""Headless Chromium for the tests a person would look at (the report, the sign-off).

Chromium is a Debian package (``apt-get install chromium``); without it these tests fail,
saying so. Each run has a profile of its own and is bounded in time; pages are file://
only, so nothing leaves the machine.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest

__all__ = ["chromium", "run_browser", "BROWSER_SECONDS"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("headless Chromium is needed for this test: install it with `apt-get install -y chromium`")
    return path


# A cold first start on a loaded 2-core machine has taken over 30 s; a dialog would hang forever.
BROWSER_SECONDS = 90


def run_browser(*args: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run, bounded; file:// pages only, so nothing leaves the machine."""
    # A profile of its own: two runs at once (test workers) must not meet on Chromium's lock.
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return _run(profile, args)


def _run(profile: str, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [chromium(), f"--user-data-dir={profile}", "--headless", "--disable-gpu", "--no-sandbox",
             "--no-first-run", "--hide-scrollbars", "--disable-extensions", "--disable-background-networking", "--virtual-time-budget=1000", *args],
            capture_output=True, text=True, timeout=BROWSER_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"Chromium did not finish the page in {BROWSER_SECONDS} s: did the page open a dialog (alert)?")
