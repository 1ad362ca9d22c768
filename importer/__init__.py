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

from typing import TYPE_CHECKING

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
from importer.lazy import lazy_exports

if TYPE_CHECKING:
    from importer.api import build_client, import_records, import_records_sync
    from importer.client import ApiClient, ClientCredentials, Pacer, Response, RetryPolicy, StaticToken
    from importer.entities import ENTITIES, Entity
    from importer.load.state import read_results
    from importer.options import Behaviour, Connection, ImportOptions, InputFormat, Pace, SaftSettings, State
    from importer.plans.fleet import FleetResult, run_fleet, run_fleet_sync
    from importer.summary import Summary

# The rest of the public names are imported when first used (PEP 562), so that
# `importer --version`, `importer --help` and a module of ours imported alone do not pay
# for aiohttp, the load stage and the plans. `from importer import X` works as before.
_LAZY: dict[str, str] = {
    "build_client": "importer.api", "import_records": "importer.api", "import_records_sync": "importer.api",
    "ApiClient": "importer.client", "ClientCredentials": "importer.client", "Pacer": "importer.client",
    "Response": "importer.client", "RetryPolicy": "importer.client", "StaticToken": "importer.client",
    "ENTITIES": "importer.entities", "Entity": "importer.entities",
    "read_results": "importer.load.state",
    "Behaviour": "importer.options", "Connection": "importer.options", "ImportOptions": "importer.options",
    "InputFormat": "importer.options", "Pace": "importer.options", "SaftSettings": "importer.options",
    "State": "importer.options",
    "FleetResult": "importer.plans.fleet", "run_fleet": "importer.plans.fleet", "run_fleet_sync": "importer.plans.fleet",
    "Summary": "importer.summary",
}


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

__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
