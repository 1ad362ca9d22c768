"""Whether a failed-records file is still as the importer wrote it, and the name to write instead.

    path, kept = free_path(Path("kunder.failed.csv"))
    # (kunder.failed.csv, None): free, or unchanged since the importer wrote it
    # (kunder.failed-2.csv, kunder.failed.csv): the user changed it; it is left as it is

Beside each file it writes, :class:`~importer.load.failed.FailedRecords` keeps its size and
SHA-256 in ``.<name>.written``; a file that does not match them (or has none) is the user's.
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from importer.errors import ConfigError

__all__ = ["as_written", "free_path", "written_note"]


def written_note(path: Path) -> Path:
    return path.with_name(f".{path.name}.written")


def free_path(asked: Path) -> tuple[Path, Path | None]:
    """``asked``, unless a file there was changed since the importer wrote it: then the next
    ``<stem>-N<suffix>`` that is free or holds an unchanged file of ours, and ``asked``."""
    if _special(asked) or as_written(asked):
        return asked, None
    stem = asked.name[: -len(asked.suffix)] if asked.suffix else asked.name
    for n in range(2, 10_000):
        other = asked.with_name(f"{stem}-{n}{asked.suffix}")
        if as_written(other):
            return other, asked
    raise ConfigError(f"cannot find a free name beside the failed-records file {asked}")


def _special(path: Path) -> bool:
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def as_written(path: Path) -> bool:
    """Whether ``path`` is free, or holds just what the importer wrote there (size and hash)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        note = json.loads(written_note(path).read_bytes())
        if not isinstance(note, dict) or note.get("size") != size:
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return bool(digest.hexdigest() == note.get("sha256"))
    except (OSError, ValueError):
        return False
