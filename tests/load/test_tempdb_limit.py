"""All the temporary indexes of a process share one memory limit, so a fleet's hundred runs do not
each fill a cache of their own (importer.load.tempdb).

Each case runs in a fresh interpreter: the limit is SQLite's, for the whole process, and is set
by the first index a process opens.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from importer.load.tempdb import _ALL_INDEXES_KIB

pytestmark = pytest.mark.one_profile

_LIMIT = """
import sqlite3
from importer.load.tempdb import temporary_db
{before}
dbs = [temporary_db("keys") for _ in range(3)]
for db in dbs:
    db.execute("CREATE TABLE seen (k TEXT PRIMARY KEY) WITHOUT ROWID")
    db.executemany("INSERT INTO seen VALUES (?)", ((f"key {{n}}",) for n in range(2000)))
print(sqlite3.connect(":memory:").execute("PRAGMA soft_heap_limit").fetchone()[0])
"""


def _limit_after(before: str = "") -> int:
    done = subprocess.run([sys.executable, "-c", _LIMIT.format(before=before)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_the_first_index_sets_one_limit_for_every_index_of_the_process() -> None:
    assert _limit_after() == _ALL_INDEXES_KIB * 1024


def test_a_lower_limit_set_by_whoever_embeds_the_importer_stays() -> None:
    lower = 4 * 1024 * 1024
    assert _limit_after(f'sqlite3.connect(":memory:").execute("PRAGMA soft_heap_limit = {lower}")') == lower
