"""One reading of an input through the importer's reader, in a process of its own:
``python -m benchmarks.benchlib.xlsxread PATH``.

Prints one JSON object: ``cpu_s``, the process's own CPU time for the reading alone (imports
and start-up left out), ``rows`` read, and ``invalid`` (records the reader could not take).
The reader is the one the file's extension picks: the workbook reader for ``.xlsx``, the
CSV reader for ``.csv``, so the two readings of the same data are measured alike.
"""

from __future__ import annotations

import json
import resource
import sys

from importer.sources import SourceOptions, open_input


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    started = _cpu()
    rows = invalid = 0
    with open_input(argv[0], SourceOptions()) as opened:
        for record in opened.reader:  # type: ignore[union-attr]
            rows += 1
            invalid += record.error is not None
    print(json.dumps({"cpu_s": _cpu() - started, "rows": rows, "invalid": invalid}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
