"""A run's own files, opened as it starts: its results file (and what it holds, on ``--resume``),
and when its failed-records file may replace the last one.

:func:`open_results` locks the results file and refuses, before anything is read or sent, one
that holds another run's outcomes (without ``--resume`` or ``--restart``) or another entity's,
API's or company's. :func:`settle_failed` keeps the old failed-records file when the run did
not see every record.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from contextlib import ExitStack
from typing import Any

from importer.client import ApiClient
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.failed import FailedRecords
from importer.load.results import ResultsWriter
from importer.load.resume_check import nothing_to_resume, same_run
from importer.load.state import ResultsState, read_results
from importer.options import ImportOptions
from importer.summary import Summary

__all__ = ["open_results", "settle_failed"]

log = logging.getLogger("importer")


def settle_failed(failed: FailedRecords, summary: Summary) -> Any:
    """The failed-records file replaces the last one only when this run saw every record."""

    def settle(kind: type[BaseException] | None, *_: object) -> None:
        whole = kind is None and not summary.interrupted and not summary.not_processed and not summary.unrecorded
        if whole:
            failed.close()
        else:
            failed.discard()
            summary.failed_path = None

    return settle


def open_results(
    path: str | None, opts: ImportOptions, stack: ExitStack, client: ApiClient | None,
    input_path: str | None = None, base: str | None = None,
) -> tuple[ResultsWriter | None, ResultsState | None]:
    """The results file, locked for this run, and what it already holds (``--resume``).

    Nothing is written to it before it is known to be a results file a run of this kind
    may write (:class:`ResultsWriter`). A file that holds outcomes is refused without
    ``--resume`` (or ``--restart``, which keeps a copy beside it and empties it first), and
    so is one of another entity, API or company, before anything is read or sent.
    ``--resume`` without a file at ``path`` says so, and is refused when results files of
    this input are beside it.
    """
    if path is None:
        return None, None
    state, tenant = opts.state, opts.connection.tenant_id
    existed = os.path.exists(path)
    if state.resume and not existed and not state.dry_run:
        nothing_to_resume(path, opts.entity, input_path, base)
    stamp = {"input": os.path.abspath(input_path) if input_path else None, "company": tenant}
    writer = ResultsWriter(path, fsync=state.fsync, fresh=state.dry_run, stamp=stamp, dry_run=state.dry_run)
    stack.callback(writer.close)
    if not existed:  # made by this run: not left behind empty when the run fails before a line

        def forget(kind: type[BaseException] | None, *_: object) -> None:
            if kind is not None and writer.size == 0 and os.path.exists(path):
                writer.close()  # first: Windows deletes no file that is open
                os.unlink(path)

        stack.push(forget)
    if ENTITIES[opts.entity].is_document and not state.dry_run:  # see importer.load.references
        writer.stamp["reference_key"] = secrets.token_hex(16)
    if writer.size == 0 or state.dry_run:
        return writer, None
    if state.restart:
        kept = f"{path}.{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        try:  # a copy, then the file emptied, its lock held throughout (Windows renames no open file)
            writer.restart(kept)
        except OSError as exc:
            raise ConfigError(f"--restart: cannot keep the earlier results in {kept}: "
                              f"{exc.strerror or exc}") from None
        log.warning("--restart: the earlier results are kept in %s", kept)
        return writer, None
    if not state.resume:
        raise ConfigError(
            f"{path} already holds the outcomes of an earlier run: pass --resume to continue it "
            "(records already done are not sent again), --results OTHER for a new file, or "
            "--restart to start over (the old file is kept beside it)"
        )
    held = read_results(path, salvage=True)
    stack.callback(held.close)
    same_run(path, held, opts.entity, tenant,
             (client.base_url if client is not None else opts.connection.base_url))
    if held.reference_key is not None:  # its documents' references stay what they were
        writer.stamp["reference_key"] = held.reference_key
    return writer, held
