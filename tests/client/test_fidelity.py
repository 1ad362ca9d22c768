"""Every read path against answers in the live API's shape, every field of the response schemas
filled (tests/support/fidelity_corpus.py), served by a real aiohttp app on loopback.

- export writes every field that has an import column in that column, with its value, and
  lists exactly the rest as left out (read-only fields and arrays no column takes);
- verify of a file made of the flattened corpus finds every record ``ok``, by GET and by list;
- the upsert key prefetch finds every key in DTO list items, with and without ``metadata``;
- the recovery lookups take only an exact match: a loose list or another record is never proof.

Every nested object of the read schemas reachable from the entities is touched by an
assertion: :func:`test_the_assertions_reach_every_read_schema` compares the schemas the
checked leaves came through with those reachable from each entity's ``read_schema``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from importer.client import ApiClient, StaticToken
from importer.client.http import LookupUnavailable
from importer.entities import ENTITIES, Entity
from importer.ledger.export import export_records
from importer.ledger.verify import verify_records
from importer.load.lookups import MAX_REFERENCE_PAGES, Lookups
from importer.load.prefetch import prefetch_keys
from importer.mapping.columns import DOCUMENT_KEY, LINE_PREFIX, ledger_totals, valid_columns
from importer.mapping.flatten import DTO_RENAMES, LINE_RENAMES, WRITE_ONLY, RecordFlattener
from tests.support.fidelity_corpus import Corpus, Leaf, build_corpus, key_of, reachable_schemas
from tests.support.hostile_server import HostileServer, hostile
from tests.support.runs import TOKEN, read_lines

DOCUMENTS = [e for e in ENTITIES.values() if e.key_field]  # what can be listed and looked up
MAX_PAGE = 2  # small, so five documents take three pages
COUNT = 5

# flatten turns the response schemas' YYYYMM postPeriod into the import's MMYYYY; with an
# older flatten the column keeps YYYYMM, which the import refuses.
_POST_PERIOD_READ = RecordFlattener(ENTITIES["invoice"]).flatten({"postPeriod": "202403"}).header.get("postPeriod")
POST_PERIOD_CONVERTED = _POST_PERIOD_READ == "032024"


def _import_value(column: str, value: Any) -> Any:
    """What an export writes for a DTO value: the same, but postPeriod in the import's MMYYYY."""
    if column == "postPeriod" and POST_PERIOD_CONVERTED:
        return f"{value[4:]}{value[:4]}"
    return value


# -- the served API --------------------------------------------------------------------------


def _ledger(entity: Entity, documents: list[dict[str, Any]], corpus: Corpus, *, metadata: bool,
            by_key_answers: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Routes of an API holding ``documents``: a paged list (pageSize clamped to MAX_PAGE, the
    externalReference filter matching loosely, as live) and GET by key (or ``by_key_answers``)."""

    async def listing(request: web.Request, server: HostileServer) -> web.StreamResponse:
        query = request.rel_url.query
        number, size = int(query.get("pageNumber", "1")), min(int(query.get("pageSize", "100")), MAX_PAGE)
        chosen = documents
        if "externalReference" in query:
            wanted = query["externalReference"].casefold()
            chosen = [d for d in documents if wanted in str(d.get("externalReference", "")).casefold()]
        items = corpus.list_items(metadata=metadata, documents=chosen, max_page_size=MAX_PAGE)
        page = items[(number - 1) * size:number * size]
        return web.Response(body=orjson.dumps(page), content_type="application/json")

    async def by_key(request: web.Request, server: HostileServer) -> web.StreamResponse:
        key = request.rel_url.path.rsplit("/", 1)[1]
        answers = by_key_answers or {key_of(entity, d): corpus.by_key(d) for d in documents}
        if key not in answers:
            return web.json_response({"message": f"{key} not found"}, status=404)
        return web.Response(body=orjson.dumps(answers[key]), content_type="application/json")

    return {f"GET {entity.path}": listing, f"GET {entity.path}/*": by_key}


@asynccontextmanager
async def serving(corpus: Corpus, *, metadata: bool = True, documents: list[dict[str, Any]] | None = None,
                  by_key_answers: dict[str, dict[str, Any]] | None = None,
                  ) -> AsyncIterator[tuple[HostileServer, ApiClient]]:
    routes = _ledger(corpus.entity, corpus.documents if documents is None else documents, corpus,
                     metadata=metadata, by_key_answers=by_key_answers)
    async with hostile(routes) as server:
        async with ApiClient(server.url, StaticToken(TOKEN), timeout=10) as client:
            yield server, client


# -- what an export must write ----------------------------------------------------------------


def _column(renames: dict[str, str], accepted: set[str], path: str) -> str | None:
    """The import column a DTO leaf fills: its rename, or the column of the same name."""
    if path in renames and renames[path] in accepted:
        return renames[path]
    return path if path in accepted else None


def check_export(corpus: Corpus, rows: list[dict[str, Any]], left_out: dict[str, int]) -> set[str]:
    """Assert that ``rows`` (an NDJSON export of the whole corpus) and ``left_out`` say what the
    corpus holds; returns the response schemas the checked leaves came through."""
    entity = corpus.entity
    # the import's columns, and the ledger's totals an export adds (read past on import)
    columns = (set(valid_columns(entity)) | set(ledger_totals(entity))) - {DOCUMENT_KEY}
    header_columns = {c for c in columns if not c.startswith(LINE_PREFIX)}
    line_columns = {c[len(LINE_PREFIX):] for c in columns if c.startswith(LINE_PREFIX)}
    renames, line_renames = DTO_RENAMES.get(entity.name, {}), LINE_RENAMES.get(entity.name, {})
    touched: set[str] = set()
    expected_left_out: dict[str, int] = {}
    written: set[str] = set()

    def check(found: dict[str, Leaf], row: dict[str, Any], renames: dict[str, str], accepted: set[str],
              prefix: str, where: str, unmapped: set[str]) -> None:
        for path, leaf in found.items():
            column = _column(renames, accepted, path) if not isinstance(leaf.value, list | dict) else None
            if column is None:
                unmapped.add(where + path)
            else:
                assert row.get(prefix + column) == _import_value(column, leaf.value), (entity.name, path, column)
                written.add(prefix + column)
            touched.update(leaf.schemas)

    assert len(rows) == sum(max(1, len(leaves.lines)) for leaves in corpus.leaves)
    at = 0
    for leaves in corpus.leaves:
        unmapped: set[str] = set()  # a record names each path it leaves out once
        for line_number, line in enumerate(leaves.lines or [{}]):
            row = rows[at + line_number]
            check(leaves.header, row, renames, header_columns, "", "", unmapped)
            if entity.line_field:
                check(line, row, line_renames, line_columns, LINE_PREFIX, f"{entity.line_field}[].", unmapped)
        at += max(1, len(leaves.lines))
        for path in unmapped:
            expected_left_out[path] = expected_left_out.get(path, 0) + 1

    # Every column the API answers is filled; only the columns no answer carries are not.
    assert columns - written == WRITE_ONLY.get(entity.name, frozenset())
    assert {c for row in rows for c in row} == written
    # Left out: each path once per document holding it, and only paths no import column takes.
    assert left_out == expected_left_out
    for path in left_out:
        where, _, bare = path.rpartition("[].")
        table, accepted = (line_renames, line_columns) if where else (renames, header_columns)
        assert _column(table, accepted, bare) is None, path
    return touched


async def _export(client: ApiClient, entity: Entity, out: Path) -> Any:
    summary = await export_records(client, entity, out)
    assert summary.ok and summary.error is None, summary.to_dict()
    return summary


# -- export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("metadata", [True, False], ids=["metadata", "no-metadata"])
@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_export_writes_every_answered_field_in_its_column(entity, metadata, tmp_path):
    corpus = build_corpus(entity, COUNT)
    async with serving(corpus, metadata=metadata) as (server, client):
        summary = await _export(client, entity, tmp_path / "out.ndjson")
    assert summary.records == COUNT
    # With metadata the count ends the paging; without it, the short last page does.
    assert summary.pages == math.ceil(COUNT / MAX_PAGE) == server.count("GET", entity.path)
    assert summary.total_count == (COUNT if metadata else None)
    check_export(corpus, read_lines(tmp_path / "out.ndjson"), summary.left_out)


@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_export_as_csv_drops_nothing(entity, tmp_path):
    corpus = build_corpus(entity, COUNT)
    async with serving(corpus, metadata=False) as (_, client):
        summary = await _export(client, entity, tmp_path / "out.csv")
    assert summary.dropped == {} and summary.records == COUNT
    expected = [c for c in [*valid_columns(entity), *ledger_totals(entity)]
                if c != DOCUMENT_KEY and c not in WRITE_ONLY.get(entity.name, frozenset())]
    assert sorted(summary.columns) == sorted(expected)


def test_post_period_is_written_as_the_import_reads_it():
    # The one assertion that waits for flatten's postPeriod change (YYYYMM answers -> MMYYYY).
    if not POST_PERIOD_CONVERTED:
        pytest.xfail("flatten does not turn the response schemas' YYYYMM postPeriod into MMYYYY yet")
    corpus = build_corpus(ENTITIES["debit-note"], 1)
    answered = corpus.documents[0]["postPeriod"]
    flat = RecordFlattener(ENTITIES["debit-note"]).flatten(corpus.documents[0])
    assert flat.header["postPeriod"] == answered[4:] + answered[:4]


# -- verify -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "fmt"), [("get", "ndjson"), ("list", "csv")])
@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_verify_finds_the_flattened_corpus_ok(entity, strategy, fmt, tmp_path):
    if not POST_PERIOD_CONVERTED and "postPeriod" in {f for f in valid_columns(entity)}:
        pytest.xfail("flatten writes postPeriod as YYYYMM, which the import refuses (see the postPeriod test)")
    corpus = build_corpus(entity, COUNT)
    source = tmp_path / f"expected.{fmt}"
    async with serving(corpus, metadata=False) as (_, client):
        await _export(client, entity, source)
        summary = await verify_records(client, source, entity, tmp_path / "report.ndjson", strategy=strategy)
    assert summary.strategy == strategy
    assert summary.counts["ok"] == summary.units == COUNT, [
        line for line in read_lines(tmp_path / "report.ndjson") if line.get("status") != "ok"][:2]


async def test_verify_tells_a_changed_nested_reference_from_the_corpus(tmp_path):
    # The counter-proof: the same file against answers whose vat code reference differs.
    entity = ENTITIES["invoice"]
    corpus = build_corpus(entity, 2)
    source = tmp_path / "expected.ndjson"
    async with serving(corpus) as (_, client):
        await _export(client, entity, source)
    changed = build_corpus(entity, 2)
    changed.documents[1]["invoiceLines"][0]["vatCode"]["id"] = "another"
    async with serving(changed) as (_, client):
        summary = await verify_records(client, source, entity, tmp_path / "report.ndjson", strategy="get")
    assert (summary.counts["ok"], summary.counts["different"]) == (1, 1)
    [different] = [line for line in read_lines(tmp_path / "report.ndjson") if line["status"] == "different"]
    assert "line.vatCodeId" in orjson.dumps(different).decode()


# -- upsert's key prefetch ----------------------------------------------------------------------


@pytest.mark.parametrize("metadata", [True, False], ids=["metadata", "no-metadata"])
@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_the_upsert_prefetch_finds_every_key_in_dto_items(entity, metadata):
    corpus = build_corpus(entity, COUNT)
    async with serving(corpus, metadata=metadata) as (server, client):
        keys = await prefetch_keys(client, entity, None)
    assert keys == set(corpus.keys)
    assert server.count("GET", entity.path) == math.ceil(COUNT / MAX_PAGE)


# -- the recovery lookups -------------------------------------------------------------------


@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_a_lookup_by_key_takes_the_record_asked_for_and_nothing_else(entity):
    corpus = build_corpus(entity, 2)
    first, second = corpus.keys
    async with serving(corpus) as (_, client):
        lookups = Lookups(client, entity)
        found = await lookups.by_key(first)
        assert found is not None and orjson.loads(found.body)[entity.key_field] == first
        assert await lookups.by_key(f"{first}0") is None  # a 404: plainly not there
        assert await lookups.exists(second) is True
    # An API that answers another record (a near miss: asked R1, answered R10) proves nothing.
    near = build_corpus(entity, 1, start=10).documents[0]
    async with serving(corpus, by_key_answers={first: corpus.by_key(near)}) as (_, client):
        with pytest.raises(LookupUnavailable, match=f"asked for '{first}'"):
            await Lookups(client, entity).by_key(first)
        cannot_tell = await Lookups(client, entity).exists(first)
        assert not isinstance(cannot_tell, bool) and "could not check" in (cannot_tell.error or "")


def _with_references(corpus: Corpus, references: list[str]) -> list[dict[str, Any]]:
    documents = []
    for document, reference in zip(corpus.documents, references, strict=True):
        documents.append({**document, "externalReference": reference})
    return documents


@pytest.mark.parametrize("entity", [e for e in DOCUMENTS if e.is_document], ids=lambda e: e.name)
async def test_a_lookup_by_reference_takes_only_the_exact_match(entity):
    wanted = "invoices.csv:INV-7"
    corpus = build_corpus(entity, 5)
    # The loose live filter answers these for ``wanted``: other documents come first.
    near_misses = [f"{wanted}0", wanted.upper(), f"old-{wanted}", f"{wanted} (copy)"]
    documents = _with_references(corpus, [*near_misses, wanted])
    async with serving(corpus, metadata=False, documents=documents) as (server, client):
        found = await Lookups(client, entity).by_reference(wanted)
        assert found is not None
        answer = orjson.loads(found.body)
        assert (answer["externalReference"], answer[entity.key_field]) == (wanted, corpus.keys[-1])
    async with serving(corpus, metadata=False, documents=documents[:-1]) as (server, client):
        assert await Lookups(client, entity).by_reference(wanted) is None  # the whole list read: not there


async def test_a_reference_matched_by_too_many_others_cannot_be_told():
    entity = ENTITIES["credit-note"]
    corpus = build_corpus(entity, 1)
    wanted = "notes.ndjson:7"
    # More near misses than a lookup pages through: it must not call the record absent.
    many = [{**corpus.documents[0], "referenceNumber": f"N{i}", "externalReference": f"{wanted}{i}"}
            for i in range(MAX_REFERENCE_PAGES * 100 + 1)]
    routes = _ledger(entity, many, corpus, metadata=False)

    async def wide_pages(request: web.Request, server: HostileServer) -> web.StreamResponse:
        query = request.rel_url.query
        number, size = int(query["pageNumber"]), int(query["pageSize"])  # this API takes 100 a page
        chosen = [d for d in many if query["externalReference"].casefold() in d["externalReference"].casefold()]
        return web.Response(body=orjson.dumps(chosen[(number - 1) * size:number * size]),
                            content_type="application/json")

    routes[f"GET {entity.path}"] = wide_pages
    async with hostile(routes) as server:
        async with ApiClient(server.url, StaticToken(TOKEN), timeout=10) as client:
            with pytest.raises(LookupUnavailable, match="and there are more"):
                await Lookups(client, entity).by_reference(wanted)
    assert server.count("GET", entity.path) == MAX_REFERENCE_PAGES


# -- coverage -----------------------------------------------------------------------------------


async def test_the_assertions_reach_every_read_schema(tmp_path):
    touched: set[str] = set()
    reachable: set[str] = set()
    for entity in DOCUMENTS:
        corpus = build_corpus(entity, 2)
        reachable |= reachable_schemas(entity.read_schema)
        assert corpus.visited == reachable_schemas(entity.read_schema), entity.name  # every one filled
        async with serving(corpus) as (_, client):
            summary = await _export(client, entity, tmp_path / f"{entity.name}.ndjson")
        touched |= check_export(corpus, read_lines(tmp_path / f"{entity.name}.ndjson"), summary.left_out)
    assert reachable - touched == set()
    assert "MetadataDto" in touched and "customerInCustomerInvoiceDto" in touched
