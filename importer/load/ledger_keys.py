"""Which key the ledger holds a record under, by what the import's results file says.

The ledger's key is not always the file's: a company that numbers its own documents
replaces the number sent, and an auto-numbered document has none in the file at all.
The import records the key the ledger gave (``key``, with the file's as ``sent_key``
where they differ) and the ``externalReference`` it set; ``verify`` and ``reconcile``
read them back here, so they look at the documents the import made:

    keys = LedgerKeys.beside("invoices.csv", results=None)   # None when no results file
    work = keys.applied(entity, work)      # the key (and the payload's key field) the ledger's
    keys.reference(work.identity)          # the externalReference recorded for it
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from importer.entities import Entity
from importer.errors import ConfigError
from importer.load.identity import identify
from importer.load.state import SUCCEEDED, ResultsState, read_results
from importer.mapping import Work

__all__ = ["LedgerKeys"]


class LedgerKeys:
    def __init__(self, state: ResultsState, path: str) -> None:
        self._state = state
        self.path = path

    @classmethod
    def beside(cls, source: str | os.PathLike[str], results: str | os.PathLike[str] | None) -> LedgerKeys | None:
        """The keys of ``results``, which must exist; without it ``SOURCE.results.ndjson`` when there is one."""
        if results is not None:
            if not Path(results).is_file():
                raise ConfigError(f"no results file at {os.fspath(results)}")
            return cls(read_results(results), os.fspath(results))
        if os.fspath(source) == "-":
            return None
        default = Path(f"{os.fspath(source)}.results.ndjson")
        return cls(read_results(default), os.fspath(default)) if default.is_file() else None

    def close(self) -> None:
        self._state.close()

    def identity(self, entity: Entity, work: Work) -> str:
        return identify(entity, work)[0]

    def key(self, identity: str) -> str | None:
        """The key the ledger gave the record, when the import created or updated it."""
        earlier = self._state.get(identity)
        return earlier.key if earlier is not None and earlier.state == SUCCEEDED and earlier.key else None

    def reference(self, identity: str) -> str | None:
        earlier = self._state.get(identity)
        return earlier.reference if earlier is not None else None

    def applied(self, entity: Entity, work: Work) -> Work:
        """``work`` under the key the ledger gave it (its payload's key field too); as it is when none."""
        if work.error is not None or work.payload is None or not entity.key_field:
            return work
        key = self.key(self.identity(entity, work))
        if key is None or key == work.key:
            return work
        sent = work.payload.get(entity.key_field)
        payload = {**work.payload, entity.key_field: {"value": key} if isinstance(sent, dict) or sent is None else key}
        return replace(work, key=key, payload=payload)
