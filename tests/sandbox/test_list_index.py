"""List pages come from the tenant's index of keys, never from a copy of its table.

A list GET without filters reads the records of its page and no others, whatever the
tenant holds; the index follows every write (an insert appends, a replace keeps its place)
and a restart from the state file. What is read is counted on the ledger's own table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from importer.entities import ENTITIES
from importer.sandbox.auth import STATIC_TENANT
from importer.sandbox.ledger import Ledger
from importer.sandbox.store import Record, Store


class CountedTable(dict[str, Record]):
    """A table that counts the records read out of it (by key or by walking it)."""

    reads = 0

    def __getitem__(self, key: str) -> Record:
        self.reads += 1
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)

    def values(self) -> Iterator[Record]:  # type: ignore[override]
        for value in super().values():
            self.reads += 1
            yield value

    def items(self) -> Iterator[tuple[str, Record]]:  # type: ignore[override]
        for item in super().items():
            self.reads += 1
            yield item


def _customer(number: str, name: str) -> bytes:
    return orjson.dumps({"number": {"value": number}, "name": {"value": name}})


def _listed(ledger: Ledger, **query: str) -> list[dict[str, Any]]:
    answer = ledger.list(ledger.rules["customer"], query)
    assert answer.status == 200
    items: list[dict[str, Any]] = orjson.loads(answer.body)
    return items


def _ledger(store: Store) -> Ledger:
    return Ledger(store.tenant(STATIC_TENANT), 1000)


def test_a_page_of_ten_out_of_ten_thousand_reads_ten_records() -> None:
    store = Store(ENTITIES)
    table = CountedTable()
    store.tenant(STATIC_TENANT).records["customer"] = table
    ledger = _ledger(store)
    customers = ledger.rules["customer"]
    for n in range(10_000):
        assert ledger.create(customers, _customer(f"C{n:05d}", f"Customer {n}"), "").status == 201
    table.reads = 0
    page = _listed(ledger, pageSize="10", pageNumber="500")
    assert [item["number"] for item in page] == [f"C{n:05d}" for n in range(4_990, 5_000)]
    assert {item["metadata"]["totalCount"] for item in page} == {10_000}
    assert table.reads == 10
    table.reads = 0
    assert _listed(ledger, pageSize="10", pageNumber="1001") == []  # past the end: nothing read
    assert table.reads == 0
    # A filter still tests every record, and answers the same page as before.
    assert [item["number"] for item in _listed(ledger, name="Customer 4321", pageSize="10")] == ["C04321"]


def test_the_index_follows_inserts_and_replacements_in_stored_order() -> None:
    ledger = _ledger(Store(ENTITIES))
    customers = ledger.rules["customer"]
    for number in ("B", "C", "A"):
        ledger.create(customers, _customer(number, f"Name {number}"), "")
    ledger.update(customers, "C", orjson.dumps({"name": {"value": "Renamed"}}))
    items = _listed(ledger)
    assert [(i["number"], i["name"]) for i in items] == [("B", "Name B"), ("C", "Renamed"), ("A", "Name A")]
    assert [i["number"] for i in _listed(ledger, pageSize="2", pageNumber="2")] == ["A"]
    assert ledger.tables.order["customer"] == ["B", "C", "A"]  # a replacement is not a second entry


def test_the_index_is_rebuilt_from_the_state_file(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    store = Store(ENTITIES, state)
    ledger = _ledger(store)
    for number in ("Z", "M", "A"):
        ledger.create(ledger.rules["customer"], _customer(number, f"Name {number}"), "")
    before = _listed(ledger)
    store.close()
    again = Store(ENTITIES, state)
    try:
        restarted = _ledger(again)
        assert _listed(restarted) == before
        assert sorted(restarted.tables.order["customer"]) == ["A", "M", "Z"]
        assert [i["number"] for i in _listed(restarted, pageSize="1", pageNumber="3")] == \
            [before[2]["number"]]
    finally:
        again.close()
