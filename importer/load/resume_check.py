"""What ``--resume`` checks of a results file before anything is read from the input or sent.

    same_run(path, state, "invoice", None, "https://…")   # ConfigError: the file is of customers
    nothing_to_resume(path, "customer", "c.csv", "c.csv")  # ConfigError naming c.csv.results.ndjson

A results file belongs to one entity, one API and (where it is known) one company: its
lines say which (:mod:`importer.load.results`). ``--resume`` that finds no file at its
path looks for results files of the same input beside the path and beside the input:
named after it (``INPUT.results.ndjson``, and ``INPUT.results.ndjson.<time>`` that
``--restart`` kept), or any ``*.results.ndjson`` whose lines name the input.
"""

from __future__ import annotations

import logging
import os

from importer.errors import ConfigError
from importer.load.results import probe_results
from importer.load.state import ResultsState
from importer.logs import tell
from importer.outputs import same_file

__all__ = ["same_run", "nothing_to_resume", "results_files_of"]


def same_run(path: str, state: ResultsState, entity: str, company: str | None, base_url: str) -> None:
    """ConfigError unless the results file is of this run's entity, API (``base_url``) and company."""
    others = sorted(state.entities - {entity})
    if others:
        raise ConfigError(
            f"{path} holds the outcomes of {', '.join(others)} records, and this run imports {entity}: "
            "a results file belongs to one entity, and another's identities would be taken for this "
            "run's. Nothing was sent. Pass another --results (the default is INPUT.results.ndjson)"
        )
    target = base_url.rstrip("/")
    if state.apis and target not in state.apis:  # e.g. a rehearsal's results, resumed against the live API
        raise ConfigError(
            f"{path} holds the outcomes of a run against {', '.join(sorted(state.apis))}, and this run "
            f"goes to {target}: records done there are not done here. Pass --restart, or another --results"
        )
    if company and state.companies and company not in state.companies:
        raise ConfigError(
            f"{path} holds the outcomes of a run for company {', '.join(sorted(state.companies))}, and this "
            f"run is for company {company}: records done there are not done here. Nothing was sent. "
            "Pass --restart, or another --results"
        )


def nothing_to_resume(path: str, entity: str, input_path: str | None, base: str | None) -> None:
    """``--resume`` found no results file at ``path``: refused when results files of this input
    are beside it or the input (named), else said and the run starts one."""
    found = results_files_of(path, entity, input_path, base) if input_path else []
    if found:
        names = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise ConfigError(
            f"--resume: there is no results file at {path}, but {names} "
            f"{'holds' if len(found) == 1 else 'hold'} results of this input; nothing was sent. "
            f"Resume that file with --results {found[0]}, or leave out --resume to start a new one"
        )
    tell(f"--resume: there is no results file at {path}: nothing to resume, so this run starts it",
         logging.WARNING)


def results_files_of(path: str, entity: str, input_path: str, base: str | None) -> list[str]:
    """Results files beside ``path`` or the input that belong to this input: named after it
    (``INPUT.results.ndjson``, and ``….<time>`` kept by --restart), or whose lines name it."""
    wanted = os.path.abspath(input_path)
    prefix = os.path.basename(base or input_path) + ".results.ndjson"
    folders = {os.path.dirname(os.path.abspath(path)), os.path.dirname(wanted)}
    found: list[str] = []
    for folder in sorted(folders):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries[:100_000]:
            if ".results.ndjson" not in entry.name or same_file(entry.path, path) or not entry.is_file():
                continue
            about = probe_results(entry.path)
            if about is None or about.get("entity", entity) != entity:
                continue
            if about["input"] == wanted if "input" in about else entry.name.startswith(prefix):
                found.append(os.path.relpath(entry.path))
    return found
