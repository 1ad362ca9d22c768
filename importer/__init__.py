"""Async, high-throughput batch importer for the Visma.net ERP customer ledger.

    import importer

    summary = importer.import_records_sync(
        "samples/customers.csv", entity="customer",
        base_url="http://127.0.0.1:8080", token="sandbox-token",
    )
    assert summary.ok, summary.outcomes
"""

import logging as _logging

from importer.version import __version__

# A library logs only where its user says: the CLI sets handlers up (-v, --log-format).
_logging.getLogger("importer").addHandler(_logging.NullHandler())

from importer.api import build_client, import_records, import_records_sync
from importer.client import (
    ApiClient,
    ClientCredentials,
    Pacer,
    Response,
    RetryPolicy,
    StaticToken,
)
from importer.entities import ENTITIES, Entity
from importer.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ImporterError,
    RecordError,
    ResultsWriteError,
    SourceError,
    UnknownColumnError,
    UnknownColumnsError,
)
from importer.load.state import read_results
from importer.options import Behaviour, Connection, ImportOptions, InputFormat, Pace, SaftSettings, State
from importer.plans.fleet import FleetResult, run_fleet, run_fleet_sync
from importer.saft import source as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.summary import Summary

__all__ = [
    "__version__",
    "import_records", "import_records_sync", "build_client",
    "ImportOptions", "Summary", "read_results",
    "Connection", "Pace", "InputFormat", "State", "Behaviour", "SaftSettings",
    "run_fleet", "run_fleet_sync", "FleetResult",
    "ApiClient", "ClientCredentials", "StaticToken", "RetryPolicy", "Pacer", "Response",
    "Entity", "ENTITIES",
    "ImporterError", "ConfigError", "UnknownColumnError", "UnknownColumnsError", "SourceError", "RecordError",
    "AuthError", "ApiError", "ResultsWriteError",
]
