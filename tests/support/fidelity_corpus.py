"""Response documents as the live API answers them, every field and nested object filled.

    corpus = build_corpus(ENTITIES["invoice"], count=5)
    corpus.documents[0]            # a CustomerInvoiceDto with every field of the read table
    corpus.list_items(metadata=False)  # what a list GET answers: a bare array of such items
    corpus.leaves[0].header["customer.number"]  # Leaf(value, schemas it was reached through)

Everything comes from the response tables (``importer.schema.read_fields``, from the
entity's ``read_schema``): scalars get deterministic values of their type (enum members,
integers inside their range, periods as ``YYYYMM`` as the response schemas write them),
nested objects are filled to the bottom, arrays hold two items. The same document index
always gives the same document. Leaves are recorded the way
:mod:`importer.mapping.flatten` sees an answer: dotted paths through objects, an array
other than the document lines as one leaf (it has no flat column), and each line's own
leaves apart. Each leaf keeps the schemas it was reached through, so a test can tell which
nested objects its assertions touched (:func:`reachable_schemas`).

A DTO field that the rename table (``DTO_RENAMES`` / ``LINE_RENAMES``) maps onto a column
that a same-named DTO field fills too (a line's deprecated ``salesperson`` beside
``seller.id``) holds that field's value: a live answer names one salesperson, not two.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from importer.entities import Entity
from importer.mapping.columns import LINE_PREFIX, valid_columns
from importer.mapping.flatten import DTO_RENAMES, LINE_RENAMES, SKIPPED_FIELDS
from importer.schema import Field, read_fields

__all__ = ["Leaf", "DocumentLeaves", "Corpus", "build_corpus", "reachable_schemas", "key_of", "PERIOD_SUFFIX"]

PERIOD_SUFFIX = "Period"  # financialPeriod, postPeriod, closedFinancialPeriod, applicationPeriod
_MAX_DEPTH = 8  # the read tables nest five deep; a cycle would stop here
_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Leaf:
    value: Any
    schemas: frozenset[str]  # every response schema on the way to it, and under it (arrays)


@dataclass(slots=True)
class DocumentLeaves:
    header: dict[str, Leaf] = field(default_factory=dict)  # dotted path -> leaf ("metadata" apart)
    lines: list[dict[str, Leaf]] = field(default_factory=list)  # each line's dotted paths


@dataclass(slots=True)
class Corpus:
    entity: Entity
    documents: list[dict[str, Any]]
    leaves: list[DocumentLeaves]
    visited: set[str]  # every response schema the generator filled

    @property
    def keys(self) -> list[str]:
        return [key_of(self.entity, document) for document in self.documents]

    def list_items(self, *, metadata: bool, documents: list[dict[str, Any]] | None = None,
                   max_page_size: int = 1000) -> list[dict[str, Any]]:
        """List items: with ``metadata`` the true ``{totalCount, maxPageSize}``, else none at all
        (some live releases drop it)."""
        chosen = self.documents if documents is None else documents
        items = []
        for document in chosen:
            item = {k: v for k, v in document.items() if k != "metadata"}
            if metadata:
                item["metadata"] = {"totalCount": len(chosen), "maxPageSize": max_page_size}
            items.append(item)
        return items

    def by_key(self, document: dict[str, Any]) -> dict[str, Any]:
        """The answer of a GET by key: the document without list metadata."""
        return {k: v for k, v in document.items() if k != "metadata"}


def key_of(entity: Entity, document: dict[str, Any]) -> str:
    assert entity.key_field is not None
    return str(document[entity.key_field])


class _Values:
    """Deterministic scalar values: a running number per document makes each one distinct."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.n = 0

    def scalar(self, spec: Field) -> Any:
        self.n += 1
        n, i = self.n, self.index
        if spec.enum:
            return spec.enum[(n + i) % len(spec.enum)]
        match spec.type:
            case "integer":
                low = spec.minimum if spec.minimum is not None else 0
                high = spec.maximum if spec.maximum is not None else 10_000
                return max(low, min(high, 1 + (n * 7 + i) % 1000))
            case "number":
                return (n * 13 + i) % 10_000 + 0.25  # exact in binary: compares the same everywhere
            case "boolean":
                return (n + i) % 2 == 0
            case "datetime":
                month, day = (n + i) % _MONTHS + 1, (n * 3 + i) % 28 + 1
                # both forms the API writes: a midnight date, and a moment with milliseconds in UTC
                return f"2024-{month:02d}-{day:02d}T00:00:00" if n % 2 else f"2024-{month:02d}-{day:02d}T09:39:48.538Z"
            case "uuid":
                return str(uuid.UUID(int=(i + 1) << 32 | n))
            case _:
                if spec.name.endswith(PERIOD_SUFFIX):
                    return f"2024{(n + i) % _MONTHS + 1:02d}"  # YYYYMM, as the response schemas write it
                return f"{spec.name}-{i}.{n}"


class _Generator:
    def __init__(self, entity: Entity, index: int) -> None:
        self.entity = entity
        self.values = _Values(index)
        self.visited: set[str] = set()

    def document(self) -> tuple[dict[str, Any], DocumentLeaves]:
        root = self.entity.read_schema
        assert root is not None
        leaves = DocumentLeaves()
        document = self.object(root, (root,), "", leaves.header, 0)
        key_field = self.entity.key_field
        if key_field is not None:  # keys unique and readable in a URL
            document[key_field] = f"{'C' if self.entity.name == 'customer' else 'R'}{self.values.index}"
            leaves.header[key_field] = Leaf(document[key_field], frozenset({root}))
        if self.entity.line_field:
            leaves.lines = [self._line_leaves(line) for line in document[self.entity.line_field]]
            del leaves.header[self.entity.line_field]
        for name in list(leaves.header):
            if name.split(".", 1)[0] in SKIPPED_FIELDS:
                del leaves.header[name]
        return document, leaves

    def object(self, schema: str, trail: tuple[str, ...], prefix: str, leaves: dict[str, Leaf],
               depth: int) -> dict[str, Any]:
        self.visited.add(schema)
        out: dict[str, Any] = {}
        for spec in read_fields(schema).values():
            path = prefix + spec.name
            if spec.kind == "object" and spec.ref and depth < _MAX_DEPTH:
                out[spec.name] = self.object(spec.ref, (*trail, spec.ref), path + ".", leaves, depth + 1)
            elif spec.kind == "array":
                out[spec.name] = [self.item(spec, trail, depth, j) for j in range(2)]
                leaves[path] = Leaf(out[spec.name], frozenset((*trail, *reachable_schemas(spec.ref))))
            elif spec.kind == "map":
                text = spec._replace(kind="scalar", type="string")
                out[spec.name] = {"first": self.values.scalar(text), "second": self.values.scalar(text)}
                leaves[path] = Leaf(out[spec.name], frozenset(trail))
            elif spec.kind == "scalar":
                out[spec.name] = self.values.scalar(spec)
                leaves[path] = Leaf(out[spec.name], frozenset(trail))
        return out

    def item(self, spec: Field, trail: tuple[str, ...], depth: int, j: int) -> Any:
        if spec.ref is None:
            return self.values.scalar(spec._replace(kind="scalar", type="string"))
        item = self.object(spec.ref, (*trail, spec.ref), "", {}, depth + 1)
        if "lineNumber" in item:
            item["lineNumber"] = j + 1  # a document's lines are numbered from 1
        return item

    def _line_leaves(self, line: dict[str, Any]) -> dict[str, Leaf]:
        line_schema = read_fields(self.entity.read_schema or "")[self.entity.line_field or ""].ref
        assert line_schema is not None
        leaves: dict[str, Leaf] = {}
        _collect(line, line_schema, (self.entity.read_schema or "", line_schema), "", leaves)
        return leaves


def _collect(obj: dict[str, Any], schema: str, trail: tuple[str, ...], prefix: str, leaves: dict[str, Leaf]) -> None:
    """The leaves of an object already generated (a line), with the schemas on their way."""
    table = read_fields(schema)
    for name, value in obj.items():
        spec = table[name]
        if spec.kind == "object" and spec.ref and isinstance(value, dict):
            _collect(value, spec.ref, (*trail, spec.ref), f"{prefix}{name}.", leaves)
        else:
            below = reachable_schemas(spec.ref) if spec.kind == "array" and spec.ref else set()
            leaves[prefix + name] = Leaf(value, frozenset((*trail, *below)))


def _align_aliases(entity: Entity, document: dict[str, Any], leaves: DocumentLeaves) -> None:
    """A renamed DTO path whose column a same-named DTO path fills carries that path's value."""
    columns = set(valid_columns(entity))

    def align(obj: dict[str, Any], found: dict[str, Leaf], renames: dict[str, str], prefix: str) -> None:
        for source, target in renames.items():
            if source in found and target in found and prefix + target in columns:
                _set(obj, source, found[target].value)
                found[source] = Leaf(found[target].value, found[source].schemas)

    align(document, leaves.header, DTO_RENAMES.get(entity.name, {}), "")
    for line, found in zip(document.get(entity.line_field or "") or (), leaves.lines, strict=False):
        align(line, found, LINE_RENAMES.get(entity.name, {}), LINE_PREFIX)


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for name in parents:
        obj = obj[name]
    obj[leaf] = value


def build_corpus(entity: Entity, count: int = 3, start: int = 1) -> Corpus:
    """``count`` documents of ``entity`` (numbered from ``start``), every field filled."""
    documents, all_leaves, visited = [], [], set()
    for index in range(start, start + count):
        generator = _Generator(entity, index)
        document, leaves = generator.document()
        _align_aliases(entity, document, leaves)
        documents.append(document)
        all_leaves.append(leaves)
        visited |= generator.visited
    return Corpus(entity, documents, all_leaves, visited)


def reachable_schemas(root: str | None) -> set[str]:
    """Every response schema ``root`` reaches through its objects and arrays (itself included)."""
    seen: set[str] = set()
    todo = [root] if root else []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [spec.ref for spec in read_fields(name).values() if spec.ref]
    return seen
