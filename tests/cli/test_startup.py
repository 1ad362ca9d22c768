"""``importer --version`` and ``--help`` load only what they print: no event loop, no readers, no server.

Each is run in a fresh interpreter (one short subprocess each) that lists the modules the
command left loaded; what the commands that send or read need must not be among them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from importer.version import __version__

pytestmark = pytest.mark.one_profile

ROOT = Path(__file__).resolve().parents[2]
# What only the commands that read a file, talk to the API or serve the sandbox use.
HEAVY = ("asyncio", "anyio", "aiohttp", "importer.sources.csv", "importer.sources.inputs", "importer.company",
         "importer.sandbox.cli", "importer.sandbox.auth")
_PROBE = """
import contextlib, io, sys
import orjson
from importer.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
sys.stderr.write(orjson.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}).decode())
"""


def _loaded(*argv: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, cwd=ROOT, timeout=60,
                          check=False)
    return orjson.loads(done.stderr)


def test_version_builds_no_parser_and_help_loads_no_reader_loop_or_server():
    version = _loaded("--version")
    assert (version["code"], version["out"].strip()) == (0, f"importer {__version__}")
    assert "argparse" not in version["modules"] and "importer.cli.parser" not in version["modules"]
    shown = _loaded("--help")
    assert shown["code"] == 0 and "sandbox" in shown["out"] and "reconcile" in shown["out"]
    assert [m for m in HEAVY if m in version["modules"] or m in shown["modules"]] == []
