"""importer from Airflow: a task that imports one file through the Python API.

:func:`import_file` is plain Python (what Airflow's ``@task`` wraps below, and what a test calls):
it imports ``path`` with ``resume=True``, so a retried task sends only what the try before it
did not finish, and returns the summary as a dict (the task's XCom: run id, outcomes, calls...).
A run that was stopped, or whose API stopped answering, raises :class:`ImportIncomplete`: worth
a retry. Records that failed or were invalid raise :class:`ImportFailed`: a retry sends the same
records to the same answer, so the task fails at once (``AirflowFailException``) for a person to
fix them (the failed-records file beside the input lists them).

The connection comes from the environment, as for the command line (``VISMA_BASE_URL``, and
``VISMA_TOKEN`` or ``VISMA_CLIENT_ID``/``VISMA_CLIENT_SECRET``/``VISMA_TENANT_ID``); in Airflow,
set them from a Connection or a secrets backend on the worker. Put this file in the DAGs folder.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import importer


class ImportIncomplete(RuntimeError):
    """The run stopped short (stopped, API down): a retry resumes it."""


class ImportFailed(RuntimeError):
    """Records failed or were invalid, or nothing could go in: a retry would not help."""


def import_file(path: str, entity: str, *, results: str | None = None, grace: float = 20.0,
                environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Import ``path`` as ``entity``; the summary as a dict, or an exception saying what to do."""
    env = os.environ if environ is None else environ
    connection = {name: env[var] for name, var in (
        ("base_url", "VISMA_BASE_URL"), ("token", "VISMA_TOKEN"), ("client_id", "VISMA_CLIENT_ID"),
        ("client_secret", "VISMA_CLIENT_SECRET"), ("tenant_id", "VISMA_TENANT_ID"),
        ("token_url", "VISMA_TOKEN_URL")) if env.get(var)}
    summary = importer.import_records_sync(
        path, entity=entity, resume=True, results=results, grace=grace,
        handle_signals=True,  # Airflow stops a task with SIGTERM: requests in flight get `grace` seconds
        **connection,
    )
    data = summary.to_dict()
    if summary.interrupted or summary.api_down or summary.unrecorded or summary.not_processed:
        raise ImportIncomplete(f"run {summary.run_id} stopped short ({summary.error or 'stopped'}); "
                               "a retry resumes it")
    if summary.exit_code != 0:
        raise ImportFailed(f"run {summary.run_id}: {summary.error or 'records failed or were invalid'}; "
                           f"see {summary.failed_path or summary.results_path}")
    return data


try:  # the DAG itself, where Airflow is installed
    from airflow.decorators import dag, task
    from airflow.exceptions import AirflowFailException
except ImportError:  # imported for its task function alone (a test, a script)
    pass
else:

    @dag(schedule="15 2 * * *", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1,
         default_args={"retries": 3, "retry_delay": timedelta(minutes=5)}, tags=["importer"])
    def importer_nightly() -> None:
        @task(execution_timeout=timedelta(hours=6))
        def customers() -> dict[str, Any]:
            try:
                return import_file("/srv/import/customers.csv", "customer")
            except ImportFailed as exc:
                raise AirflowFailException(str(exc)) from exc  # no retry: a person fixes the records

        customers()

    importer_nightly()
