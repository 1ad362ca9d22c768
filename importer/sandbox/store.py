"""The sandbox's records, number sequences and counters; in memory, optionally kept in SQLite.

Each tenant (company) has tables of its own (``TenantTables``): its records by entity and
key, and its auto-number sequences, so two companies may both hold customer ``10001``, as
separate companies do in the live API. A tenant's tables are made on first use. The
counters (``Stats``) are the server's, shared by every tenant.

Memory is the source of truth while the server runs. With a state file (state_file.py),
every write is also queued and flushed to SQLite shortly after (one upsert per changed
record, one transaction per flush), so a rehearsal can be stopped and continued. A clean
stop flushes everything; a hard kill loses at most the last ``flush_delay`` seconds, unless
the server flushes what a request changed before answering it (:meth:`Store.flush_pending`,
``SandboxConfig.durable``): then nothing it answered is lost.

Records are replaced, never changed in place, once stored: a queued flush always writes
the latest version, and readers may hold on to a record they fetched. Each entity's index
is its keys in the order they were first stored (``TenantTables.order``), appended to on
each insert, from which a list GET reads a page without copying the table
(``TenantTables.page``). Only a DELETE of an unreleased document removes a record
(``TenantTables.remove``): it leaves the index and the state file too (a reset forgets
whole tenants).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from importer.sandbox.auth import STATIC_TENANT
from importer.sandbox.state_file import StateFile
from importer.sandbox.stats import Stats

__all__ = ["Store", "TenantTables", "Record"]

Record = dict[str, Any]


class TenantTables:
    """One tenant's records by entity and key (insertion-ordered) and its number sequences.

    ``order[entity]`` is the index a list reads its pages from: the entity's keys in the
    order their records were first stored, the order of ``records[entity]`` too. Only
    ``put`` and ``load`` store records, and both keep it up to date.
    """

    __slots__ = ("name", "records", "order", "sequences", "stats", "_store")

    def __init__(self, name: str, entities: Iterable[str], stats: Stats, store: Store | None) -> None:
        self.name = name
        self.records: dict[str, dict[str, Record]] = {entity: {} for entity in entities}
        self.order: dict[str, list[str]] = {entity: [] for entity in self.records}
        self.sequences: dict[str, int] = {}
        self.stats = stats  # the server's counters
        # The store to persist writes through; None in memory, and once the tenant is
        # forgotten (a reset), so a queued job finishing later writes nowhere.
        self._store = store

    def put(self, entity: str, key: str, record: Record) -> None:
        """Store (insert or replace) ``record``; persisted on the next flush."""
        self.load(entity, key, record)
        store = self._store
        if store is not None:
            store.changed(self.name, entity, key, record)

    def load(self, entity: str, key: str, record: Record) -> None:
        """Hold ``record`` without persisting it (it was read from the state file)."""
        table = self.records[entity]
        if key not in table:
            self.order[entity].append(key)
        table[key] = record

    def remove(self, entity: str, key: str) -> None:
        """Forget ``entity``'s record ``key`` (a DELETE); persisted on the next flush."""
        if self.records[entity].pop(key, None) is None:
            return
        self.order[entity].remove(key)
        store = self._store
        if store is not None:
            store.changed(self.name, entity, key, None)

    def page(self, entity: str, start: int, size: int) -> list[Record]:
        """``size`` records of ``entity`` from position ``start`` on, in stored order: read
        through the index, so it touches those records alone however many are held."""
        table = self.records[entity]
        return [table[key] for key in self.order[entity][start:start + size]]

    def next_number(self, entity: str) -> str:
        """The next free auto-number of ``entity`` ("000001", ...), skipping used keys."""
        table = self.records[entity]
        n = self.sequences.get(entity, 0)
        while True:
            n += 1
            key = f"{n:06d}"
            if key not in table:
                break
        self.sequences[entity] = n
        store = self._store
        if store is not None:
            store.sequence_changed(self.name, entity, n)
        return key

    def set_sequence(self, name: str, last: int) -> None:
        """Set the sequence ``name`` (e.g. a number series' draws) to ``last``; persisted."""
        self.sequences[name] = last
        store = self._store
        if store is not None:
            store.sequence_changed(self.name, name, last)

    def counts(self) -> dict[str, int]:
        """Records held per entity."""
        return {entity: len(table) for entity, table in self.records.items()}

    def persist_through(self, store: Store | None) -> None:
        """Persist later writes through ``store``; None stops it (the tenant was forgotten)."""
        self._store = store


class Store:
    """Every tenant's tables, the server's counters, and the state file if there is one."""

    def __init__(
        self, entities: Iterable[str], path: str | None = None, flush_delay: float = 0.05,
        legacy_tenant: str = STATIC_TENANT,
    ) -> None:
        self.entities = tuple(entities)
        self.tenants: dict[str, TenantTables] = {}
        self.stats = Stats()
        self._flush_delay = flush_delay
        self._pending: dict[tuple[str, str, str], Record | None] = {}  # None: removed
        self._pending_sequences: dict[tuple[str, str], int] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._file: StateFile | None = None
        if path is not None:
            self._open(Path(path), legacy_tenant)

    def tenant(self, name: str) -> TenantTables:
        """``name``'s tables, made empty on first use."""
        tables = self.tenants.get(name)
        if tables is None:
            persist = self if self._file is not None else None
            tables = self.tenants[name] = TenantTables(name, self.entities, self.stats, persist)
        return tables

    @property
    def records(self) -> dict[str, dict[str, Record]]:
        """Every tenant's records merged per entity, a fresh snapshot for inspection.

        A key two tenants both hold shows the later tenant's record; read one tenant's
        tables (``tenant(name).records``) to tell companies apart.
        """
        merged: dict[str, dict[str, Record]] = {entity: {} for entity in self.entities}
        for tables in self.tenants.values():
            for entity, table in tables.records.items():
                merged[entity].update(table)
        return merged

    def counts(self) -> dict[str, int]:
        """Records held per entity, over every tenant."""
        totals = dict.fromkeys(self.entities, 0)
        for tables in self.tenants.values():
            for entity, table in tables.records.items():
                totals[entity] += len(table)
        return totals

    def reset(self) -> None:
        """Forget every tenant, record, sequence and counter (and wipe the state file)."""
        for tables in self.tenants.values():
            tables.persist_through(None)
        self.tenants.clear()
        self.stats.clear()
        self._pending.clear()
        self._pending_sequences.clear()
        if self._file is not None:
            self._file.wipe()

    # -- persistence ---------------------------------------------------------------------

    def changed(self, tenant: str, entity: str, key: str, record: Record | None) -> None:
        """Queue a stored record (None: a removed one) for the next flush."""
        self._pending[(tenant, entity, key)] = record
        self._schedule_flush()

    def sequence_changed(self, tenant: str, entity: str, last: int) -> None:
        """Queue a sequence's new last number for the next flush."""
        self._pending_sequences[(tenant, entity)] = last
        self._schedule_flush()

    def _open(self, path: Path, legacy_tenant: str) -> None:
        state = StateFile(path, legacy_tenant)
        try:
            saved = state.stats()
            if saved is not None:
                self.stats = Stats.from_json(saved)  # before any tenant holds on to the counters
            for tenant, entity, key, record in state.records():
                tables = self.tenant(tenant)
                if entity in tables.records:
                    tables.load(entity, key, record)
            for tenant, entity, last in state.sequences():
                self.tenant(tenant).sequences[entity] = int(last)
        except BaseException:
            state.close()
            raise
        self._file = state
        for tables in self.tenants.values():
            tables.persist_through(self)  # loaded without persisting; from now on writes are kept

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # used outside a server (a script, a test): write at once
            self.flush()
            return
        self._flush_handle = loop.call_later(self._flush_delay, self.flush)

    def flush_pending(self) -> None:
        """Write what is queued now, if anything is (before an answer that reports it goes out)."""
        if not self._pending and not self._pending_sequences:
            return
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self.flush()

    def flush(self) -> None:
        """Write queued records, sequences and counters in one transaction."""
        self._flush_handle = None
        state = self._file
        if state is None:
            return
        rows = [(t, e, k, orjson.dumps(rec)) for (t, e, k), rec in self._pending.items() if rec is not None]
        removed = [(t, e, k) for (t, e, k), rec in self._pending.items() if rec is None]
        sequences = [(t, e, n) for (t, e), n in self._pending_sequences.items()]
        self._pending.clear()
        self._pending_sequences.clear()
        state.write(rows, sequences, self.stats.to_json(), removed)

    def close(self) -> None:
        """Flush what is queued and close the state file (idempotent)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None
