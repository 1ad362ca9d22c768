"""Outputs never overwrite inputs, nor one another.

    check_outputs({"input": "c.csv"}, {"--results": "c.csv", "--failed": "c.failed.csv"})
    # ConfigError: --results is the input c.csv ...

Paths are compared as the files they name: the same file reached through another
path, a symbolic link or a hard link counts as the same. Checked before anything
is read or sent.

    with written_whole("report.html", "wb") as f:  # a temporary file beside it, renamed
        f.write(page)                               # over it only once it is complete

What is read from a file and shown on a terminal goes through :func:`printable`: a
value's control characters (escape sequences) are shown as ``?``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

from importer.errors import ConfigError

__all__ = ["check_outputs", "same_file", "written_whole", "printable"]

Path = str | os.PathLike[str]


def _identity(path: Path) -> tuple[object, ...]:
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return ("path", real)  # not there yet: its resolved name is what it will be
    return ("file", st.st_dev, st.st_ino)


def same_file(a: Path, b: Path) -> bool:
    return _identity(a) == _identity(b)


def check_outputs(inputs: Mapping[str, Path | None], outputs: Mapping[str, Path | None]) -> None:
    """ConfigError when an output is an input, or two outputs are one file."""
    ins = {label: path for label, path in inputs.items() if path is not None and os.fspath(path) != "-"}
    outs = {label: path for label, path in outputs.items() if path is not None and os.fspath(path) != "-"}
    seen: dict[tuple[object, ...], tuple[str, Path]] = {}
    for label, path in ins.items():
        seen.setdefault(_identity(path), (label, path))
    for label, path in outs.items():
        ident = _identity(path)
        other = seen.get(ident)
        if other is not None:
            what = f"the {other[0]} {os.fspath(other[1])}" if other[0] in ins else f"also {other[0]}"
            raise ConfigError(
                f"{label} {os.fspath(path)} is {what}: an output may not overwrite "
                + ("an input" if other[0] in ins else "another output") + "; choose another name"
            )
        seen[ident] = (label, path)


@contextlib.contextmanager
def written_whole(path: Path, mode: str = "w", **open_args: Any) -> Iterator[IO[Any]]:
    """A file to write ``path`` through, whole or not at all: a half-written file never
    replaces a good one. Raises OSError (the caller names the file in its own error)."""
    target = os.fspath(path)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=f".{os.path.basename(target)}.",
                                suffix=".partial")
    try:
        with os.fdopen(fd, mode, **open_args) as f:
            yield f
        os.chmod(temp, 0o644)  # mkstemp makes it 0600
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """A value read from a file, as terminal text: no escape sequences get through."""
    return _CONTROL.sub("?", str(text))
