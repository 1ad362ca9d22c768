"""One reading of a SAF-T file, in a process of its own: ``python -m benchmarks.benchlib.saftread MODE PATH``.

Prints one JSON object: ``cpu_s``, the process's own CPU time (user + system) for the reading
alone (imports and start-up left out), and what the reading found. Modes:

- ``expat``: the bare floor: expat parses the file in the reader's chunk size, namespaces
  split as the reader asks, with start, end and text handlers that do nothing: what merely
  visiting every element from Python costs;
- ``expat-c``: expat with no handlers at all (C only), for information;
- ``balances``: the importer's balance checks (``SaftSource.disagreements`` as ``--entity invoice``);
- ``open-items``: the same with ``--saft-documents invoices``: balances and open invoices.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from xml.parsers import expat

_CHUNK = 1 << 16


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _nothing(*_args: object) -> None:
    return None


def bare_pass(path: Path, handlers: bool) -> dict[str, object]:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    if handlers:
        parser.StartElementHandler = _nothing
        parser.EndElementHandler = _nothing
        parser.CharacterDataHandler = _nothing
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return {}


def importer_pass(path: Path, documents: str) -> dict[str, object]:
    from importer.options import SaftSettings
    from importer.saft.source import SaftSource

    source = SaftSource(path, SaftSettings(entity="invoice", documents=documents))  # type: ignore[arg-type]
    wrong = source.disagreements()
    return {"customers": len(source.book().customers), "disagreements": len(wrong)}


def main(argv: list[str]) -> int:
    mode, path = argv[0], Path(argv[1])
    if mode in ("balances", "open-items"):
        import importer.saft.reader  # noqa: F401
        import importer.saft.source  # noqa: F401 - imports before the clock starts
    started = _cpu()
    if mode == "expat":
        found = bare_pass(path, handlers=True)
    elif mode == "expat-c":
        found = bare_pass(path, handlers=False)
    else:
        found = importer_pass(path, "invoices" if mode == "open-items" else "balances")
    print(json.dumps({"mode": mode, "cpu_s": _cpu() - started, **found}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
