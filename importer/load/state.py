"""Load state by identity, kept on disk: what earlier runs recorded in a results file.

It can hold as many entries as the file has lines, so it lives in a temporary SQLite
database (:func:`~importer.load.tempdb.temporary_db`): a million records cost disk, not memory.

    state = read_results("customers.csv.results.ndjson")
    earlier = state.get("key:C1")        # Earlier(state="success", fingerprint=..., ...) or None
    state.mark_seen("key:C1")            # to count what the input no longer holds
    state.unseen()                       # identities recorded that the input did not have
    state.renamed_from("a1b2…", "doc:1") # a success of that fingerprint the input no longer names

``--resume`` loads with ``salvage=True``: a damaged line (NUL bytes, a torn line run into
the next, garbage) is named in :attr:`ResultsState.damaged`, copied as it was to a side
file (``<results>.damaged``) and read as what it may have been: the identities it still
names are in flight (looked up before anything is sent, never sent blind). When it names
fewer identities than it holds pieces of lines, any identity may have been in it, so every
identity the file does not name is in flight too (:attr:`ResultsState.any_may_be_sent`).

Identities are kept and asked for as :func:`~importer.load.identity.identity_key` makes
them, so ``key:C1`` written by an older version (or padded, or in another case) is found
by ``key:c1``; what :meth:`ResultsState.get` returns says how the line spelled it.

What this run's input holds (:class:`SeenIdentities`, :class:`HeldUnits`) is kept by
:mod:`importer.load.input_state`, and the temporary databases and the message of a full
temporary directory (:class:`TemporarySpaceError`) by :mod:`importer.load.tempdb`; both
are importable from here too.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Final

import orjson

from importer.errors import ConfigError
from importer.load.identity import identity_key
from importer.load.input_state import HeldUnits, SeenIdentities
from importer.load.results import SUCCESS, iter_results
from importer.load.tempdb import (
    TemporarySpaceError,
    no_room,
    readable_size,
    temporary_db,
    temporary_directory,
)
from importer.logs import tell
from importer.outputs import written_whole
from importer.vocabulary import LoadState

__all__ = ["Earlier", "ResultsState", "SeenIdentities", "HeldUnits", "read_results", "temporary_db",
           "TemporarySpaceError", "temporary_directory", "no_room"]

# The states an identity can be left in (importer.vocabulary.LoadState).
SUCCEEDED: Final = "success"
FAILED: Final = "failed"
INVALID: Final = "invalid"
IN_FLIGHT: Final = "started"
SKIPPED: Final = "skipped"
QUEUED: Final = "queued"
_STATE_OF: dict[str, LoadState] = {"started": IN_FLIGHT, "failed": FAILED, "invalid": INVALID, "skipped": SKIPPED,
             "queued": QUEUED, "valid": SKIPPED}
_STATE_OF.update({o: SUCCEEDED for o in SUCCESS})


@dataclass(frozen=True, slots=True)
class Earlier:
    """The latest word of an earlier run on one identity."""

    state: LoadState
    fingerprint: str
    key: str | None
    error: str | None
    unknown: bool  # a failure that may have reached the API: look it up before sending
    release: str | None  # the outcome of its --release, if it had one
    identity: str | None = None  # as the line wrote it
    location: str | None = None  # where the API holds it, when the line said
    reference: str | None = None  # a document's externalReference, as its started line recorded it

    @property
    def release_pending(self) -> bool:
        return self.state == SUCCEEDED and self.release not in (None, "done")


class ResultsState:
    """Identities of a results file with their latest state."""

    def __init__(self, what: str = "what a results file holds, by identity, for --resume") -> None:
        self._db = temporary_db(what)
        self._db.execute(
            "CREATE TABLE earlier (identity TEXT PRIMARY KEY, state TEXT, fingerprint TEXT, key TEXT, "
            "error TEXT, unknown INTEGER, release TEXT, seen INTEGER DEFAULT 0, written TEXT, "
            "location TEXT, reference TEXT) WITHOUT ROWID"
        )
        # Successes by fingerprint: a record renamed in the input is found by its content.
        self._db.execute("CREATE INDEX earlier_fingerprint ON earlier (fingerprint, state)")
        self.apis: set[str] = set()  # the base URLs its records were sent to
        self.entities: set[str] = set()  # the entities its lines name
        self.companies: set[str] = set()  # the companies (tenants) its started lines name
        self.inputs: set[str] = set()  # the input files its started lines name
        self.damaged: list[int] = []  # numbers of the lines set aside (salvage=True)
        self.damaged_path: str | None = None  # where they were copied to
        self.any_may_be_sent = False  # a damaged line may have been any identity it does not name
        self.reference_key: str | None = None  # what its documents' references are made with

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, salvage: bool = False) -> ResultsState:
        state = cls(f"what {os.fspath(path)} holds, by identity, for --resume")
        try:
            size = os.path.getsize(path)
        except OSError:
            size = None
        if size is not None:
            state._db.need = f"up to about the size of that file, {readable_size(size)}"  # type: ignore[attr-defined]
        upsert = (
            "INSERT INTO earlier VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT(identity) DO UPDATE SET "
            "state = excluded.state, fingerprint = excluded.fingerprint, "
            # the key the ledger gave a record stays its key (a later run's lines name the file's)
            "key = CASE WHEN earlier.state = 'success' AND excluded.state != 'success' "
            "THEN coalesce(earlier.key, excluded.key) ELSE excluded.key END, "
            "error = excluded.error, unknown = excluded.unknown, release = excluded.release, "
            "written = excluded.written, location = coalesce(excluded.location, earlier.location), "
            "reference = coalesce(excluded.reference, earlier.reference) "
            # A success stays one: a later row refused before sending (a duplicate, a row
            # broken or changed since) says nothing about what the API holds.
            "WHERE NOT (earlier.state = 'success' AND excluded.state IN ('invalid', 'skipped'))"
        )
        release_done = "UPDATE earlier SET release = ?, error = ? WHERE identity = ?"
        db = state._db
        damaged: list[tuple[int, bytes]] | None = [] if salvage else None
        done = 0  # damaged lines read as what they may have been
        for line in iter_results(path, damaged):
            while damaged is not None and done < len(damaged):  # in order: later lines win
                state._may_have_been(damaged[done][1])
                done += 1
            if line.api is not None:
                state.apis.add(line.api.rstrip("/"))
            if line.reference_key is not None and state.reference_key is None:
                state.reference_key = line.reference_key
            for seen, value in ((state.entities, line.entity), (state.companies, line.company),
                                (state.inputs, line.input)):
                if value is not None:
                    seen.add(value)
            identity = identity_key(line.identity)
            if line.outcome == "unsent":  # taken back: never reached the API
                db.execute("DELETE FROM earlier WHERE identity = ?", (identity,))
                continue
            if line.action == "release":  # a release sent alone, for a document created before
                db.execute(release_done, (line.outcome, line.error, identity))
                continue
            db.execute(upsert, (
                identity, _STATE_OF[line.outcome], line.fingerprint, line.key, line.error,
                int(line.unknown), line.release, line.identity, line.location, line.reference,
            ))
        if damaged:
            for _, raw in damaged[done:]:
                state._may_have_been(raw)
            state._set_aside(path, damaged)
        return state

    def _may_have_been(self, raw: bytes) -> None:
        """A damaged line: the identities it still names are in flight (looked up before any send)."""
        found = list(_IDENTITY.finditer(raw))
        pieces = max(raw.count(b'{"records":'), raw.count(b'"outcome":'), 1)
        if len(found) < pieces:
            self.any_may_be_sent = True
        for i, match in enumerate(found):
            identity = _json_text(match.group(1))
            if not identity:
                self.any_may_be_sent = True
                continue
            # Its reference, where the same piece of line still has it (after the identity).
            end = found[i + 1].start() if i + 1 < len(found) else len(raw)
            ref = _REFERENCE.search(raw, match.end(), end)
            reference = _json_text(ref.group(1)) if ref is not None else None
            self._db.execute(
                "INSERT INTO earlier VALUES (?, 'started', '', NULL, ?, 1, NULL, 0, ?, NULL, ?) "
                "ON CONFLICT(identity) DO UPDATE SET state = 'started', unknown = 1, "
                "reference = coalesce(excluded.reference, earlier.reference)",
                (identity_key(identity), "its results line is damaged", identity, reference),
            )

    def _set_aside(self, path: str | os.PathLike[str], damaged: list[tuple[int, bytes]]) -> None:
        """Copy the damaged lines, as they were, to a side file; name them and it."""
        self.damaged = [number for number, _ in damaged]
        data = b"".join(raw if raw.endswith(b"\n") else raw + b"\n" for _, raw in damaged)
        side, n = f"{os.fspath(path)}.damaged", 1
        while True:
            try:
                with open(side, "rb") as f:
                    if f.read(len(data) + 1) == data:
                        break  # set aside by an earlier resume
            except FileNotFoundError:
                try:
                    with written_whole(side, "wb") as f:
                        f.write(data)
                except OSError as exc:
                    raise ConfigError(f"cannot set aside the damaged lines of {path} in {side}: "
                                      f"{exc.strerror}") from None
                break
            except OSError:
                pass
            n += 1
            side = f"{os.fspath(path)}.damaged.{n}"
        self.damaged_path = side
        count = len(self.damaged)
        numbers = ", ".join(str(n) for n in self.damaged[:10]) + (", …" if count > 10 else "")
        tell(f"{path}: line{'s' if count > 1 else ''} {numbers} {'are' if count > 1 else 'is'} damaged (not results "
             f"lines); set aside in {side}. The records {'they' if count > 1 else 'it'} may have been are looked up "
             "before anything is sent to them" + (
                 " (the damage hides whole lines, so every record this file does not name is looked up first)"
                 if self.any_may_be_sent else ""), logging.WARNING)

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM earlier").fetchone()[0] + int(self.any_may_be_sent)

    def count(self, state: LoadState) -> int:
        """Identities left in ``state`` (``"success"``, ``"failed"``, ``"started"``, ...)."""
        return self._db.execute("SELECT count(*) FROM earlier WHERE state = ?", (state,)).fetchone()[0]

    def get(self, identity: str) -> Earlier | None:
        row = self._db.execute(
            "SELECT state, fingerprint, key, error, unknown, release, written, location, reference FROM earlier "
            "WHERE identity = ?", (identity_key(identity),),
        ).fetchone()
        if row is None:
            if self.any_may_be_sent:  # it may have been in a damaged line: looked up first
                return Earlier(IN_FLIGHT, "", None, "its results line may be damaged", True, None, identity)
            return None
        return Earlier(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7], row[8])

    def mark_seen(self, identity: str) -> None:
        self._db.execute("UPDATE earlier SET seen = 1 WHERE identity = ?", (identity_key(identity),))

    def seen(self, identity: str) -> bool:
        """Whether this run's input has held ``identity`` so far (or a rename claimed it)."""
        row = self._db.execute("SELECT seen FROM earlier WHERE identity = ?", (identity_key(identity),)).fetchone()
        return row is not None and bool(row[0])

    def has_success(self, fingerprint: str, like: str) -> bool:
        """Whether a success of ``fingerprint`` is recorded under an identity starting ``like``."""
        return self._db.execute(
            "SELECT 1 FROM earlier WHERE fingerprint = ? AND state = ? AND identity >= ? AND identity < ? LIMIT 1",
            (fingerprint, SUCCEEDED, like, like + "\uffff"),
        ).fetchone() is not None

    def renamed_from(self, fingerprint: str, like: str) -> Earlier | None:
        """A success of ``fingerprint``, under an identity starting ``like`` that this input did
        not hold: claimed (marked seen), so each earlier record is renamed at most once."""
        row = self._db.execute(
            "SELECT identity FROM earlier WHERE fingerprint = ? AND state = ? AND seen = 0 "
            "AND identity >= ? AND identity < ? ORDER BY identity LIMIT 1",
            (fingerprint, SUCCEEDED, like, like + "\uffff"),
        ).fetchone()
        if row is None:
            return None
        earlier = self.get(row[0])
        self._db.execute("UPDATE earlier SET seen = 1 WHERE identity = ?", (row[0],))
        return earlier

    def unseen(self) -> int:
        """Identities the results file has and this run's input did not."""
        return self._db.execute("SELECT count(*) FROM earlier WHERE seen = 0").fetchone()[0]

    def close(self) -> None:
        self._db.close()


_IDENTITY = re.compile(rb'"identity":("(?:[^"\\\x00]|\\.)*")')
_REFERENCE = re.compile(rb'"reference":("(?:[^"\\\x00]|\\.)*")')


def _json_text(quoted: bytes) -> str | None:
    try:
        text = orjson.loads(quoted)
    except orjson.JSONDecodeError:
        return None
    return text if isinstance(text, str) else None


def read_results(path: str | os.PathLike[str], *, salvage: bool = False) -> ResultsState:
    """What an earlier run recorded in ``path``, by identity: for ``--resume``."""
    return ResultsState.load(path, salvage=salvage)
