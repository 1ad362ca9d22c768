"""The ``externalReference`` the importer gives a document, so it can be found again.

A create whose answer is lost leaves one way to learn whether it went through: find
the document. A document the company numbers (no ``referenceNumber`` sent, or one the
company replaces with its own) can only be found by a field the importer chose, so a
document the file gives no ``externalReference`` gets one:

    references = References()               # one per run
    references.of("doc:INV-7")               # 'imp-3k5q0v8c2mfa7r1d'
    references.add(job, entity)              # set in the job's payload (and on the job), or the file's own

The reference is a hash of the whole identity and a nonce drawn once per results file
(its ``reference_key``, on the started lines of documents), so it is unique across
records, files and runs of a company: the same documentKey in next month's file, or a
file of the same name, never names a document of another import. A resume of the file
makes the same reference of the same identity, and the started line of each record
carries the one it was sent with (``reference``), so a record whose lines were damaged
is still found by what it was sent with.
Twenty characters, letters and digits only, well within the API's field.
"""

from __future__ import annotations

import base64
import secrets
from hashlib import blake2b

from importer.entities import Entity
from importer.load.sink import RECHECK, Job
from importer.schema import unwrap_value

__all__ = ["References", "PREFIX"]

PREFIX = "imp-"


class References:
    """``enabled``: whether documents without one get a reference (``--no-external-reference``);
    ``legacy_prefix``: what earlier versions built references from (the input's stem);
    ``nonce``: the results file's ``reference_key`` (a new one when None); ``earlier``: the
    results file's earlier runs made their references with it too."""

    def __init__(self, enabled: bool = True, legacy_prefix: str = "import", nonce: bytes | None = None,
                 *, earlier: bool = False) -> None:
        self.enabled = enabled
        self.legacy_prefix = legacy_prefix[:24]
        self._nonce = nonce if nonce is not None else secrets.token_bytes(16)
        self._earlier = earlier

    def of(self, identity: str) -> str:
        """The reference of the record with ``identity`` in this run."""
        digest = blake2b(identity.encode("utf-8"), digest_size=10, key=self._nonce).digest()
        return PREFIX + base64.b32encode(digest).decode("ascii").lower()

    def add(self, job: Job, entity: Entity) -> str | None:
        """The externalReference ``job``'s document is found again by, set in its payload.

        The file's own, when it gives one (a lookup never takes it as unique); else the one an
        earlier run recorded for this identity (:func:`~importer.load.decide.decide` put it on
        the job); else a new one of this run's. Idempotent: the started line records it.
        """
        payload = job.work.payload
        if not entity.is_document or payload is None:
            return None
        if "externalReference" in payload:
            given = unwrap_value(payload["externalReference"])
            job.reference = str(given) if given is not None else None
            return job.reference
        if not self.enabled:
            return None
        if job.reference is None and job.how == RECHECK and not self._earlier:  # sent by an earlier version
            job.reference = f"{self.legacy_prefix}:{job.identity.split(':', 1)[1][:40]}"
        if job.reference is None:
            job.reference = self.of(job.identity)
        payload["externalReference"] = {"value": job.reference}
        return job.reference
