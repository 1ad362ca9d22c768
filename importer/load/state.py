"""Load state by identity, kept on disk: what earlier runs recorded, and what this input holds.

Both can hold as many entries as the input has records, so both live in a temporary
SQLite database (a file the OS removes when it is closed, of which SQLite keeps only
a small page cache in memory): a million records cost disk, not memory.

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

    seen = SeenIdentities()
    seen.first("key:C1", 7)              # None: first time; else the record that had it first

    held = HeldUnits()                   # units that wait for the end of the input, on disk
    held.hold(job); list(held)           # in the order they came

SQLite writes these files to the directory ``SQLITE_TMPDIR`` or ``TMPDIR`` names (else
``/var/tmp``, ``/usr/tmp``, ``/tmp``). When that directory fills up, the run stops as it
does when the results file cannot be written (a :class:`TemporarySpaceError`, which
is a ``ResultsWriteError``): nothing in flight is lost, ``--resume`` continues it, and
the message names the directory, what it has free, the room the index needs and how to
point ``TMPDIR`` elsewhere, never ``database or disk is full``.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson

from importer.errors import ConfigError, ResultsWriteError
from importer.load.identity import identity_key
from importer.load.results import SUCCESS, iter_results
from importer.logs import tell
from importer.outputs import written_whole
from importer.vocabulary import LoadState

__all__ = ["Earlier", "ResultsState", "SeenIdentities", "HeldUnits", "read_results", "temporary_db",
           "TemporarySpaceError", "temporary_directory"]

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


_CACHE_KIB = 2048  # the memory an index may keep; the rest is in its file
# What SQLite answers when it cannot write its file: SQLITE_FULL, SQLITE_IOERR (and its
# extended codes), SQLITE_CANTOPEN; and the answer of an index a failed write left broken.
_NO_ROOM = {13, 10, 14}
_BROKEN = 11  # SQLITE_CORRUPT


class TemporarySpaceError(ResultsWriteError):
    """The temporary directory has no room for an index: the run stops, and ``--resume`` continues it.

    A ``ResultsWriteError``, because the run cannot keep track of what it does without the
    index, just as without its results file: it stops the same way.
    """


def temporary_directory() -> tuple[str, str]:
    """The directory SQLite keeps its temporary files in, and what chose it (as SQLite's unix VFS does)."""
    for name in ("SQLITE_TMPDIR", "TMPDIR"):
        value = os.environ.get(name)
        if value and os.path.isdir(value) and os.access(value, os.W_OK | os.X_OK):
            return value, name
    for value in ("/var/tmp", "/usr/tmp", "/tmp"):
        if os.path.isdir(value) and os.access(value, os.W_OK | os.X_OK):
            return value, "the default"
    return ".", "the default"


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"  # pragma: no cover - the loop returns


def no_room(what: str, exc: sqlite3.Error, need: str | None = None) -> TemporarySpaceError:
    """Why an index could not be written, in words: where, how much is free, what to do."""
    where, chosen = temporary_directory()
    try:
        usage = shutil.disk_usage(where)
        free = f"{_size(usage.free)} free of {_size(usage.total)}"
    except OSError:
        free = "its free space unknown"
    source = f"from {chosen}" if chosen != "the default" else "the default: TMPDIR is not set"
    need = need or (f"it grows with the input, by some 30 to 100 bytes a record once past the "
                    f"{_size(_CACHE_KIB * 1024)} it keeps in memory")
    reason = "is full" if getattr(exc, "sqlite_errorcode", 13) == 13 else f"cannot be written ({exc})"
    return TemporarySpaceError(
        f"the temporary directory {where} ({source}) {reason}: the importer keeps {what} in a file there, "
        f"and it has {free} ({need}). Free some space there, or point TMPDIR at a directory with room "
        f"(TMPDIR=/var/tmp importer ...)"
    )


class _Index(sqlite3.Connection):
    """A connection whose failures to write its file are a :class:`TemporarySpaceError`, not SQLite's words."""

    what = "an index"  # set by temporary_db
    need: str | None = None  # the room it needs, where that can be told
    broken: TemporarySpaceError | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.broken is not None:
            raise self.broken
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        if self.broken is not None:
            raise self.broken
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: sqlite3.DatabaseError) -> Exception:
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code not in _NO_ROOM and code != _BROKEN:
            return exc  # a bug of ours: not the disk's
        self.broken = no_room(self.what, exc, self.need)
        return self.broken


def temporary_db(what: str = "an index of the records it reads") -> sqlite3.Connection:
    """A SQLite database in a temporary file, for indexes too big for memory (gone when closed).

    ``what`` names what it holds, for the message when the temporary directory is full.
    """
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False, factory=_Index)  # "": a temporary file
    assert isinstance(db, _Index)
    db.what = what
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")  # KiB: the memory it may keep (the rest is in the file)
    db.execute("BEGIN")  # one transaction for the life of the run: nothing here must survive it
    return db


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
            state._db.need = f"up to about the size of that file, {_size(size)}"  # type: ignore[attr-defined]
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


class SeenIdentities:
    """The identities one input has held so far, and the first record of each."""

    def __init__(self) -> None:
        self._db = temporary_db("the identities of the records read so far (to find any that repeat)")
        self._db.execute("CREATE TABLE seen (identity TEXT PRIMARY KEY, record INTEGER) WITHOUT ROWID")

    def first(self, identity: str, record: int) -> int | None:
        """None when ``identity`` is new (it is remembered); else the record that had it first."""
        identity = identity_key(identity)  # "C1" and "c1" are one customer to the API
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (identity, record))
        if cursor.rowcount == 1:
            return None
        return self._db.execute("SELECT record FROM seen WHERE identity = ?", (identity,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()


class HeldUnits:
    """Units of work held until the input is read, kept on disk (as many as the input holds)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None  # made for the first unit held
        self.count = 0

    def hold(self, unit: object) -> None:
        if self._db is None:
            self._db = temporary_db("the documents it holds until the whole input is read")
            self._db.execute("CREATE TABLE held (n INTEGER PRIMARY KEY, unit BLOB)")
        self._db.execute("INSERT INTO held (unit) VALUES (?)", (pickle.dumps(unit, pickle.HIGHEST_PROTOCOL),))
        self.count += 1

    def __iter__(self) -> Iterator[object]:
        """The units held, in the order they came, each once (read back a page at a time)."""
        after = 0
        while self._db is not None:
            rows = self._db.execute("SELECT n, unit FROM held WHERE n > ? ORDER BY n LIMIT 256", (after,)).fetchall()
            if not rows:
                return
            for n, blob in rows:
                after = n
                yield pickle.loads(blob)  # noqa: S301 - written by this process, to its own temporary file

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


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
