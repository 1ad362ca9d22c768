"""The ``externalReference`` the importer gives a document, so it can be found again.

A create whose answer is lost leaves one way to learn whether it went through: find
the document. A document the company numbers (no ``referenceNumber`` sent, or one the
company replaces with its own) can only be found by a field the importer chose, so a
document the file gives no ``externalReference`` gets one:

    references = References()               # one per run
    references.of("doc:INV-7")               # 'imp-3k5q0v8c2mfa7r1d'

The reference is a hash of the whole identity and a nonce drawn once per run, so it is
unique across records, files and runs of a company: the same documentKey in next
month's file, or a file of the same name, never names a document of another run. The
started line of the record carries it (``reference``), which is how a resume finds a
document an earlier run sent: what an earlier run recorded wins over a new one.
Twenty characters, letters and digits only, well within the API's field.
"""

from __future__ import annotations

import base64
import secrets
from hashlib import blake2b

__all__ = ["References", "PREFIX"]

PREFIX = "imp-"


class References:
    def __init__(self, nonce: bytes | None = None) -> None:
        self._nonce = nonce if nonce is not None else secrets.token_bytes(16)

    def of(self, identity: str) -> str:
        """The reference of the record with ``identity`` in this run."""
        digest = blake2b(identity.encode("utf-8"), digest_size=10, key=self._nonce).digest()
        return PREFIX + base64.b32encode(digest).decode("ascii").lower()
