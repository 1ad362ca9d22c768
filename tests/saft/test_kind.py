"""SAF-T's input kind is registered without its reader, and opens the reader when a file is read."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.one_profile


def test_the_kind_names_the_readers_format_and_loads_the_reader_only_to_open_a_file() -> None:
    code = (
        "import sys\n"
        "from importer.saft import kind\n"
        "from importer.sources.kinds import kind_by_suffix\n"
        "assert kind_by_suffix('.xml') is kind.SAFT_INPUT\n"
        "assert 'importer.saft.source' not in sys.modules and 'importer.saft.reader' not in sys.modules\n"
        "from importer.saft import source\n"
        "assert source.FORMAT == kind.FORMAT == kind.SAFT_INPUT.format\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
