"""Fixtures every test folder shares, and the suite's own settings.

- ``sandbox`` and ``start_sandbox``: the embedded sandbox on a loopback port, once per
  profile (``profile``); ``small_disk``: a tmpfs that fills up.
- Markers: everything under tests/e2e/ is marked ``e2e`` (``pytest -m "not e2e"`` is the
  fast loop); tests marked ``one_profile`` run against the standard profile only.
- Hypothesis: every property test draws the same examples on every run (the seed is pinned,
  per test), and first replays the failing examples kept in tests/fuzz-examples/.

Helpers (the CLI as a subprocess, results files read back, misbehaving servers) are in
tests/support/, imported as ``from tests.support.MODULE import NAME``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import aioresponses.core
import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase, ReadOnlyDatabase

from importer.sandbox import RunningSandbox, SandboxConfig, serve
from tests.support.runs import tmpfs

TESTS = Path(__file__).resolve().parent

# Every request of the suite goes to loopback over plain HTTP: no certificate is ever checked.
# aiohttp reads the CA bundle when it is imported (about 60-100 ms in each of the hundreds
# of CLI subprocesses the suite starts); an empty bundle spares that and changes nothing a
# test can see. A test of TLS would set its own.
os.environ["SSL_CERT_FILE"] = os.devnull
os.environ["SSL_CERT_DIR"] = str(TESTS / "no-certificates")


def pytest_configure(config: pytest.Config) -> None:
    """Compile importer/ once, before the workers start: where PYTHONDONTWRITEBYTECODE is set
    (as on CI machines), every CLI subprocess would otherwise compile each module it imports
    again, a third of its start-up."""
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        import compileall

        compileall.compile_dir(str(TESTS.parent / "importer"), quiet=1, workers=1)
E2E = TESTS / "e2e"
FUZZ_EXAMPLES = TESTS / "fuzz-examples"


# aiohttp 3.14 made ClientResponse take a ``stream_writer``; aioresponses 0.7.9 does not
# pass one yet. A finished request only reads its ``output_size``.
if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:

    class _MockedResponse(aiohttp.ClientResponse):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _MockedResponse


# -- Hypothesis: a pinned seed, and the kept examples replayed first ------------------------

def _kept_examples() -> ExampleDatabase:
    """The examples in tests/fuzz-examples/: read-only in CI (``CI`` set), so the committed
    ones replay there and a run never changes them; elsewhere a new failure is saved there,
    to be committed with its fix."""
    kept = DirectoryBasedExampleDatabase(FUZZ_EXAMPLES)
    return ReadOnlyDatabase(kept) if os.environ.get("CI") else kept


# ``derandomize`` seeds each test from its own code, so every run draws the same examples;
# the database, set on top of it, is replayed before them. ``--hypothesis-profile explore``
# draws new examples each run (more of them), and keeps what fails in the same folder.
_PINNED = settings(settings.get_profile("default"), derandomize=True, deadline=None, print_blob=True)
settings.register_profile("pinned", _PINNED, database=_kept_examples())
settings.register_profile("explore", settings.get_profile("default"), max_examples=1000, deadline=None,
                          print_blob=True, database=DirectoryBasedExampleDatabase(FUZZ_EXAMPLES))
settings.load_profile("pinned")


# -- markers ---------------------------------------------------------------------------

# Every end-to-end test runs against both sandbox profiles: the API as its document
# describes it, and "live" with what integrators report of the live API on top.
PROFILES = ("standard", "live")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/e2e/ are marked ``e2e``: whole runs of the CLI, left out of the fast
    loop (``pytest -m "not e2e"``).

    Tests marked ``one_profile`` run against the standard profile only: what they check
    (files refused, inputs read, flags layered) is settled before the live API's quirks could
    matter, and the suite's time goes to the tests where they do."""
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.e2e)
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        live = spec is not None and spec.params.get("profile") not in (None, "standard")
        (drop if live and item.get_closest_marker("one_profile") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- the sandbox, on a real loopback socket ----------------------------------------------

@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def sandbox(profile: str) -> AsyncIterator[RunningSandbox]:
    async with serve(SandboxConfig(seed=1, profile=profile)) as running:
        yield running


@pytest.fixture
def start_sandbox(profile: str) -> Callable[..., AbstractAsyncContextManager[RunningSandbox]]:
    """``async with start_sandbox(rate_limit=20, rate_window=1) as sb: ...`` (the test's profile)."""

    def start(**config) -> AbstractAsyncContextManager[RunningSandbox]:
        config.setdefault("seed", 1)
        config.setdefault("profile", profile)
        return serve(SandboxConfig(**config))

    return start


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 KiB tmpfs: a results file on it fills the disk (skipped where mounting is not allowed)."""
    with tmpfs(tmp_path / "disk", "48k") as mount:
        yield mount
