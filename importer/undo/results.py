"""Undo's own results file: written ahead like an import's, and read back to resume.

Each line is a results line (:mod:`importer.load.results`) naming the import's record by its
identity, fingerprint and record numbers, with undo's own ``action`` (``delete``,
``inactivate``, ``none``) and, on a final line, ``undo``: what became of it::

    {"records": [1, 2], "entity": "invoice", "identity": "key:INV-1", ..., "action": "delete",
     "outcome": "started", "api": "https://…"}
    {"records": [1, 2], ..., "action": "delete", "outcome": "done", "undo": "deleted",
     "http_status": 204, "request": "DELETE /v1/customerinvoice/INV-1", "error": null, "remedy": null, "at": "…"}

``undo`` is ``deleted`` or ``inactivated`` (outcome ``done``); ``absent`` (the ledger no
longer holds it), ``inactive`` (set inactive already), ``released``, ``different`` (the ledger's
record is not the one the run sent) or ``left`` (nothing undo does; ``remedy`` says what
would), all ``skipped``; ``failed``; and on a dry run's file ``delete`` or ``inactivate``
(outcome ``valid``: what ``--yes`` would do).

A ``started`` line is in the file before its DELETE or PUT goes out. Run again, undo takes
up the file: a record whose last word is ``done`` is never sent again, and one whose last
word is ``started`` (the run was killed with its request out) is looked up first: gone from
the ledger, it was deleted; still there, it is checked again like any other. A record left
for good (``released``, ``absent``, ``inactive``, or ``left`` for the same reason as before)
keeps its line and is counted as it says; the rest is looked at again (a failure retried, a
document that differed checked again, a customer left now set inactive), and gets a new
final line only when its outcome is not what the last one said: a record's last final line
is its outcome, and an undo run again on a settled file adds no line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson

from importer.errors import ConfigError
from importer.load.identity import identity_key
from importer.load.results import RESULTS_LINE_LIMIT

__all__ = ["default_undo_path", "Earlier", "read_undone", "UNDO_KINDS"]

UNDO_KINDS = ("deleted", "inactivated", "absent", "inactive", "released", "different", "left", "failed",
              "delete", "inactivate")
_SUFFIX = ".results.ndjson"


def default_undo_path(results: str | os.PathLike[str], *, dry_run: bool) -> str:
    """``invoices.csv.undo.ndjson`` for ``invoices.csv.results.ndjson`` (a dry run's:
    ``invoices.csv.undo.dry-run.ndjson``); ``X.undo.ndjson`` for any other name."""
    text = os.fspath(results)
    stem = text[: -len(_SUFFIX)] if text.endswith(_SUFFIX) else text
    return f"{stem}.undo.dry-run.ndjson" if dry_run else f"{stem}.undo.ndjson"


@dataclass(frozen=True, slots=True)
class Earlier:
    """The last word of an earlier undo on one record."""

    outcome: str  # started, done, skipped, failed
    undo: str | None
    remedy: str | None = None
    error: str | None = None


def read_undone(path: str | os.PathLike[str]) -> dict[str, Earlier]:
    """The last word on each identity (by :func:`identity_key`) of an undo file; {} when there is none.

    A line cut short at the end (the process was killed while writing it) is not read; any
    other line that is not JSON is an error naming it (the writer has checked the file is ours).
    """
    found: dict[str, Earlier] = {}
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return found
    except OSError as exc:
        raise ConfigError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
    with f:
        number = 0
        while raw := f.readline(RESULTS_LINE_LIMIT):
            number += 1
            if not raw.endswith(b"\n"):
                break  # torn: written halfway when the process died
            if not raw.strip():
                continue
            try:
                line = orjson.loads(raw)
                identity, outcome = line["identity"], line["outcome"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise ConfigError(f"{os.fspath(path)}: line {number} is not an undo line; was the file edited? "
                                  "Restore it, or pass --undo-results with a new file") from None
            if outcome == "unsent":
                found.pop(identity_key(identity), None)
                continue
            undo, remedy, error = line.get("undo"), line.get("remedy"), line.get("error")
            found[identity_key(identity)] = Earlier(
                outcome, undo if isinstance(undo, str) else None, remedy if isinstance(remedy, str) else None,
                error if isinstance(error, str) else None)
    return found
