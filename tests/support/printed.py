"""What a user reads and types: the ``importer …`` commands the CLI prints, and a run stopped
with Ctrl-C (SIGINT, as a terminal sends it) once some of its records are done."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import sys
from pathlib import Path

# A command on a line of its own (``  importer plan … --resume``) or after a colon
# (``rehearse it with: importer run …``); ``importer: error: …`` is no command.
_PRINTED = re.compile(r"(?:^|: )\s*importer (?!:)(\S.*)$", re.MULTILINE)


def printed_commands(*outputs: str) -> list[list[str]]:
    """The ``importer …`` command lines in a command's outputs, split as a shell would (less ``importer``)."""
    return [shlex.split(m.group(1)) for text in outputs for m in _PRINTED.finditer(text)]


async def stopped(args: list[str], results: Path, cwd: Path, done: int = 5,
                  env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``importer ARGS`` until ``results`` holds ``done`` created records, then Ctrl-C it;
    (exit code, stdout, stderr)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    full_env.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", *args, env=full_env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    for _ in range(1500):  # 30 s at most
        await asyncio.sleep(0.02)
        if results.exists() and results.read_bytes().count(b'"created"') >= done:
            break
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
