"""Stored records as reads answer them: the entity's response DTO (``Entity.read_schema``).

The ledger stores what requests sent (request field names, unwrapped). A read turns that
into the response shape in three data-driven steps, whose tables are built once per entity:

1. every stored value moves from its request path to its DTO path, by inverting
   ``importer.mapping.flatten.DTO_RENAMES`` / ``LINE_RENAMES`` (``customerClassId`` ->
   ``customerClass.id``, ``mainAddress.countryId`` -> ``mainAddress.country.id``, an
   invoice's ``billingAddress`` -> ``invoiceAddress``, a line's ``vatCodeId`` -> ``vatCode.id``);
2. references to customers get the customer's name from the store (``customer: {number,
   name}``, ``childRecord``, ``parentRecord``);
3. whatever the response schema (``read_fields``) has no field for, or holds in another
   shape, is dropped: write-only fields (a customer's ``note`` and
   ``overrideWithClassValues``, a line's ``operation``) are never echoed. A field without
   a value is left out rather than answered ``null`` (no field of the response schemas is
   nullable), and every ``date-time`` field is answered as one: a document date stored as
   ``2020-02-03`` reads ``2020-02-03T00:00:00``, as the API answers it.

Documents also get what the ledger works out itself: ``documentType`` (from the schema's
name), ``currencyId`` (the company's, when none was sent), ``postPeriod`` as YYYYMM, line
amounts and header totals (``totals.py``). Their status is the stored one (Hold, Balanced,
Open once released); ``released`` itself is no field of the response DTOs and is not answered.
Descriptions of references the sandbox keeps no catalogue of (a customer class's
description, a country's name) are left out, not invented.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from importer.company import Company
from importer.entities import Entity
from importer.mapping.flatten import DTO_RENAMES, LINE_RENAMES
from importer.sandbox.dates import as_read, now_iso
from importer.sandbox.listing import parse_bool
from importer.sandbox.periods import post_period_as_read
from importer.sandbox.store import Record
from importer.sandbox.totals import document_totals, line_amounts
from importer.sandbox.vat import company_totals
from importer.schema import fields, read_fields

__all__ = ["Groups", "View", "BASE_CURRENCY"]

Path = tuple[str, ...]

BASE_CURRENCY = "NOK"  # the simulated company's currency
# Request fields that hold a customer number; their DTO reference also carries the name.
_CUSTOMER_REFERENCES = ("customerNumber", "childCustomerNumber", "parentRecordNumber")


@dataclass(frozen=True, slots=True)
class Groups:
    """Which optional groups of a document answer are included (the ``expand*`` flags).

    What each flag covers, as assumed from the document list's parameters and the DTO
    fields they name: ``expandAttachments`` -> ``attachments``; ``expandTaxDetails`` ->
    ``taxDetails``; ``expandApplications`` -> ``applications`` (the payments applied; the
    parameter's text speaks of dunning, a copy slip of the document); ``expandDunningInformation``
    -> ``dunningLetterDate`` and ``dunningLetterLevel``; ``expandInvoiceAddress`` ->
    ``invoiceAddress``. Lists leave the last three out unless asked for, as the live API
    leaves groups out; attachments and tax details are in unless turned off. A GET by key
    takes no ``expand*`` parameter in the document, so it answers every group (it still
    honours the two older flags when sent).
    """

    attachments: bool = True
    tax_details: bool = True
    applications: bool = True
    dunning: bool = True
    invoice_address: bool = True

    @classmethod
    def of_query(cls, query: Mapping[str, str], *, listing: bool) -> Groups:
        rest = not listing
        return cls(
            attachments=parse_bool(query, "expandAttachments", True),
            tax_details=parse_bool(query, "expandTaxDetails", True),
            applications=parse_bool(query, "expandApplications", rest),
            dunning=parse_bool(query, "expandDunningInformation", rest),
            invoice_address=parse_bool(query, "expandInvoiceAddress", rest),
        )


def _leaves(obj: Mapping[str, Any], prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """(path, value) for every value of ``obj`` that is not a non-empty object."""
    for name, value in obj.items():
        path = (*prefix, name)
        if type(value) is dict and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def _place(out: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``value`` at ``path`` in ``out``; an object already there wins over a scalar."""
    node = out
    for part in path[:-1]:
        child = node.get(part)
        if type(child) is not dict:
            child = node[part] = {}
        node = child
    last = path[-1]
    if type(node.get(last)) is dict and type(value) is not dict:
        return
    node[last] = value


def _prune(obj: Mapping[str, Any], schema: str) -> dict[str, Any]:
    """``obj`` reduced to the fields of the response schema, each in the shape it has there.

    The one place every read passes: date-times are answered as date-times (``as_read``) and
    a field without a value is left out (the response schemas make no field nullable).
    """
    table = read_fields(schema)
    out: dict[str, Any] = {}
    for name, value in obj.items():
        f = table.get(name)
        if f is None or value is None:  # no such field, or no value: left out, never null
            continue
        if f.kind == "scalar":
            if type(value) is str and f.type == "datetime":
                out[name] = as_read(value)
            elif type(value) is not dict and type(value) is not list:
                out[name] = value
        elif f.kind == "object":
            if type(value) is dict and f.ref:
                out[name] = _prune(value, f.ref)
        elif f.kind == "map":
            if type(value) is dict:
                out[name] = value
        elif type(value) is list:  # an array
            if f.ref:
                out[name] = [_prune(x, f.ref) for x in value if type(x) is dict]
            else:
                out[name] = [x for x in value if type(x) is not dict and type(x) is not list]
    return out


def _inverted(renames: Mapping[str, str]) -> dict[Path, Path]:
    """DTO path -> request path tables turned around: request path -> DTO path."""
    return {tuple(request.split(".")): tuple(dto.split(".")) for dto, request in renames.items()}


class _Shape:
    """How objects of one request schema become objects of one response schema."""

    def __init__(self, read_schema: str, renames: Mapping[str, str]) -> None:
        self.read_schema = read_schema
        self.renames = _inverted(renames)

    def moved(self, obj: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """``obj``'s values at their DTO paths (not yet pruned); top-level ``skip`` left out."""
        out: dict[str, Any] = {}
        renames = self.renames
        for path, value in _leaves(obj):
            if path[0] in skip:
                continue
            _place(out, renames.get(path, path), value)
        return out


class View:
    """One entity's read view; ``render(record, customers)`` answers a GET for a stored record."""

    def __init__(self, entity: Entity, tax_field: str | None, company: Company | None = None) -> None:
        if entity.read_schema is None or entity.is_action:
            raise ValueError(f"{entity.name} has no records to read")
        self.entity = entity
        self._company = company  # with one, a document's VAT is the company's (vat.py)
        self._tax_field = tax_field
        self._header = _Shape(entity.read_schema, DTO_RENAMES.get(entity.name, {}))
        request = fields(entity.schema)
        renames = self._header.renames
        self._names = [
            (name, (*renames[(name,)][:-1], "name"))
            for name in _CUSTOMER_REFERENCES if name in request and (name,) in renames
        ]
        self._skip = frozenset(n for n in (entity.line_field, tax_field) if n)
        self._line: _Shape | None = None
        self._document_type: str | None = None
        if entity.is_document:
            table = read_fields(entity.read_schema)
            line_schema = table[entity.line_field or ""].ref or ""
            self._line = _Shape(line_schema, LINE_RENAMES.get(entity.name, {}))
            # "CustomerCreditNoteDto" -> "CreditNote", one of the schema's own documentType values
            kind = entity.read_schema.removeprefix("Customer").removesuffix("Dto")
            enum = table["documentType"].enum or ()
            if kind not in enum:
                raise ValueError(f"{entity.read_schema}: documentType {kind!r} is not one of {enum}")
            self._document_type = kind

    def render(
        self, record: Record, customers: Mapping[str, Record], groups: Groups | None = None,
    ) -> dict[str, Any]:
        """The response DTO of ``record`` (a document's optional groups as ``groups`` says).

        ``customers`` is the company's live customer table: names are looked up at read
        time, so one View serves every company.
        """
        out = self._header.moved(record, self._skip)
        for name, target in self._names:
            number = record.get(name)
            customer = customers.get(number) if type(number) is str else None
            if customer is not None:
                _place(out, target, customer.get("name"))
        if self._line is not None:
            self._document(record, out, groups or Groups(), customers)
        return _prune(out, self._header.read_schema)

    def _document(
        self, record: Record, out: dict[str, Any], groups: Groups, customers: Mapping[str, Record],
    ) -> None:
        line_shape = self._line
        assert line_shape is not None
        lines = []
        for stored in record.get(self.entity.line_field or "") or ():
            line = line_shape.moved(stored)
            line.update(line_amounts(stored))
            lines.append(_prune(line, line_shape.read_schema))
        out[self.entity.line_field or ""] = lines
        tax = (record.get(self._tax_field) or []) if self._tax_field else []
        out.update(document_totals((line["amount"] for line in lines), tax))
        if self._company is not None and not tax:  # manual VAT lines sent win over the company's VAT
            number = record.get("customerNumber")
            customer = customers.get(number) if type(number) is str else None
            computed = company_totals(
                self._company, record, customer, self.entity.line_field or "",
                [line["amount"] for line in lines], out["detailTotal"], now_iso()[:10],
            )
            tax = computed.pop("taxDetails")
            out.update(computed)
        out["documentType"] = self._document_type
        if out.get("currencyId") is None:
            out["currencyId"] = BASE_CURRENCY
        period = out.get("postPeriod")
        if type(period) is str:
            out["postPeriod"] = post_period_as_read(period)
        if groups.tax_details:
            out["taxDetails"] = tax
        if groups.attachments:
            out["attachments"] = []
        if groups.applications:
            out["applications"] = []  # the sandbox takes no payments to apply
        if groups.dunning:
            out.setdefault("dunningLetterLevel", 0)  # no letter has named the document yet, so no date
        else:
            out.pop("dunningLetterLevel", None)
            out.pop("dunningLetterDate", None)
        if not groups.invoice_address:
            out.pop("invoiceAddress", None)
