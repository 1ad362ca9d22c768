"""API records → flat rows in the importer's column convention (the inverse of ``columns``).

``export`` writes these rows so that an export can be edited and imported again, and
``verify`` flattens both sides of a comparison with them. A record arrives in one of two
shapes and both are handled:

- the sandbox's: the *request* field names, unwrapped (``customerClassId``,
  ``mainAddress.countryId``, ``invoiceLines[].vatCodeId``);
- the live API's response DTOs (``CustomerDto``, ``CustomerInvoiceDto``, ...), whose
  references are objects (``customerClass: {id, description}``, ``vatCode: {id}``,
  ``customer: {number, name}``). :data:`DTO_RENAMES` and :data:`LINE_RENAMES` turn those
  paths into import columns.

How the rename tables were derived (once, by hand, from
``customer-ledger.openapi.json``): every *Dto was flattened to dotted paths and set against
the flattened *UpdateDto of the same entity (the columns of ``valid_columns``). Paths with
the same name need no entry. For each import column left without a DTO path, the DTO path
holding the same thing was looked up: a reference object's identifier (``id`` or
``number``) where the request takes ``<name>Id`` / ``<name>Number`` / the bare name, the
invoice's ``invoiceAddress`` that the request calls ``billingAddress``, and fields the two
schemas' descriptions name alike (``isRotRutDeductible`` is the "Domestic services
deductible document" check box). Read-only DTO fields (totals, balances, ``status`` of a
document, descriptions of references) have no entry: the import cannot send them. Only the
fields that really map are listed; ``tests/ledger/test_export_verify.py`` checks every target
against ``valid_columns`` and, when the OpenAPI document is at hand, every source path
against the DTO schemas.

:data:`WRITE_ONLY` lists, from the same comparison, the import columns no response DTO
returns (``overrideWithClassValues``, ``line.operation``, ...): ``verify`` cannot check
them against the live API and counts them as unchecked instead of as differences.

Periods. The response schemas write ``postPeriod`` as ``YYYYMM`` where the request schemas
(and so the import's column) take ``MMYYYY``; ``financialPeriod`` is ``YYYYMM`` both ways.
A flattened answer's ``postPeriod`` is therefore turned into ``MMYYYY``
(:data:`READ_AS_YYYYMM`, :func:`period_parts`). The two layouts never collide: the first
two digits of a valid ``MMYYYY`` are a month (01-12), those of a valid ``YYYYMM`` a century
(19, 20 or 21), so ``202012`` can only be December 2020 written ``YYYYMM`` and ``122020``
only the same month written ``MMYYYY``. A value valid in neither (``201220``: month 20 read
either way; ``012200``: year 2200) is no period and is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from importer.entities import Entity
from importer.mapping.columns import DOCUMENT_KEY, LINE_PREFIX, ledger_totals, valid_columns

__all__ = [
    "DTO_RENAMES", "LINE_RENAMES", "WRITE_ONLY", "SKIPPED_FIELDS", "READ_AS_YYYYMM", "FlatRecord",
    "RecordFlattener", "Place", "COLUMN", "RENAMED", "OTHER", "SKIP", "flatten_object", "unwrap", "period_parts",
    "as_mmyyyy",
]

# -- the rename tables: response-DTO path -> import column ---------------------------------

_ADDRESS_PARTS = ("addressLine1", "addressLine2", "addressLine3", "postalCode", "city")
_GL_ACCOUNTS = (
    "customerLedgerAccount", "salesAccount", "salesNonTaxableAccount", "salesEuAccount",
    "salesExportAccount", "discountAccount", "freightAccount", "cashDiscountAccount",
    "prepaymentAccount",
)

_CUSTOMER: dict[str, str] = {
    "customerClass.id": "customerClassId",
    "creditTerms.id": "creditTermsId",
    "parentRecord.number": "parentRecordNumber",
    "priceClass.id": "priceClassId",
    "vatZone.id": "vatZoneId",
    "defaultPaymentMethodId": "defaultPaymentMethod.paymentMethodId",
    # AddressDto: country {id, name} and county {id, name} vs countryId and county strings
    **{f"{a}.country.id": f"{a}.countryId" for a in ("mainAddress", "invoiceAddress", "deliveryAddress")},
    **{f"{a}.county.id": f"{a}.county" for a in ("mainAddress", "invoiceAddress", "deliveryAddress")},
    # AccountNumberTypeDescriptionDto {type, number, description} vs the account number
    **{f"glAccounts.{a}.number": f"glAccounts.{a}" for a in _GL_ACCOUNTS},
}

# Header fields every customer document (invoice, credit note, debit note) shares.
_DOCUMENT: dict[str, str] = {
    "customer.number": "customerNumber",
    "contact.id": "contact",
    "customerVatZone.id": "customerVatZoneId",
    "childRecord.number": "childCustomerNumber",
    "salesPerson.id": "salesperson",
    "location.id": "locationId",
    "branchNumber.number": "branchNumber",
    "invoiceContact.businessName": "invoiceContact.name",
}

DTO_RENAMES: dict[str, dict[str, str]] = {
    "customer": _CUSTOMER,
    "invoice": {
        **_DOCUMENT,
        "creditTerms.id": "creditTermsId",
        "paymentMethod.id": "paymentMethodId",
        "project.id": "project",
        "isRotRutDeductible": "domesticServicesDeductibleDocument",
        "directDebitMandate.id": "directDebitMandateId",
        "debtCollection.caseNumber": "debtCollectionCaseNbr",
        "debtCollection.caseType": "debtCollectionCaseType",
        "debtCollection.caseStatus": "debtCollectionCaseStatus",
        "debtCollection.caseUrl": "debtCollectionCaseUrl",
        # CustomerInvoiceDto answers invoiceAddress; CustomerInvoiceUpdateDto takes billingAddress.
        **{f"invoiceAddress.{p}": f"billingAddress.{p}" for p in (*_ADDRESS_PARTS, "overrideAddress")},
        "invoiceAddress.country.id": "billingAddress.countryId",
        "invoiceAddress.county.id": "billingAddress.county",
    },
    "credit-note": {
        **_DOCUMENT,
        "project.id": "project",
        "invoiceAddress.country.id": "invoiceAddress.countryId",
        "invoiceAddress.county.id": "invoiceAddress.county",
    },
    "debit-note": {
        **_DOCUMENT,
        "creditTerms.id": "creditTermsId",
        "paymentMethod.id": "paymentMethodId",
        "isRotRutDeductible": "domesticServicesDeductibleDocument",
        "invoiceAddress.country.id": "invoiceAddress.countryId",
        "invoiceAddress.county.id": "invoiceAddress.county",
    },
}

# Document lines: line DTO path -> line column (without the ``line.`` prefix).
_LINE: dict[str, str] = {
    "account.number": "accountNumber",
    "vatCode.id": "vatCodeId",
    "branchNumber.number": "branchNumber",
    "seller.id": "salesperson",  # the DTO's own ``salesperson`` is deprecated in favour of seller
}
LINE_RENAMES: dict[str, dict[str, str]] = {
    "invoice": {**_LINE, "projectTask.id": "taskId", "isRotRutDeductible": "domesticServicesDeductible"},
    "credit-note": {**_LINE, "projectTask.id": "taskId"},
    "debit-note": {**_LINE, "isRotRutDeductible": "domesticServicesDeductible"},
}

# Import columns no response DTO carries: sent, never answered.
_ROT_RUT = tuple(f"rotRutDetails.{p}" for p in ("appartment", "distributedAutomaticaly", "estate", "organizationNbr", "type"))
WRITE_ONLY: dict[str, frozenset[str]] = {
    "customer": frozenset({"note", "overrideNumberSeries", "overrideWithClassValues", "defaultPaymentMethod.isDefault"}),
    "invoice": frozenset({"consolidateInvoices", "overrideNumberSeries", *_ROT_RUT, "line.operation", "line.typeOfWork"}),
    "credit-note": frozenset({"consolidateInvoices", "overrideNumberSeries", "line.operation"}),
    "debit-note": frozenset({"consolidateInvoices", "overrideNumberSeries", *_ROT_RUT, "line.operation", "line.typeOfWork"}),
}

# Fields of an answer that are never data: paging info on every list item.
SKIPPED_FIELDS = frozenset({"metadata"})

# Header fields the response DTOs write YYYYMM and the import's columns MMYYYY (see above).
READ_AS_YYYYMM = frozenset({"postPeriod"})
_CENTURIES = ("19", "20", "21")


def period_parts(value: Any) -> tuple[int, int] | None:
    """``(year, month)`` of a period written ``MMYYYY`` or ``YYYYMM``; None if it is neither.

    The first two digits decide (the module doc explains why they always can): 01-12 is a
    month, so ``MMYYYY``; 19-21 is a century, so ``YYYYMM``.
    """
    if not isinstance(value, str) or len(value) != 6 or not value.isascii() or not value.isdigit():
        return None
    if value[2:4] in _CENTURIES and 1 <= int(value[:2]) <= 12:
        return int(value[2:]), int(value[:2])
    if value[:2] in _CENTURIES and 1 <= int(value[4:]) <= 12:
        return int(value[:4]), int(value[4:])
    return None


def as_mmyyyy(value: Any) -> Any:
    """A period in the import's ``MMYYYY``; anything that is no period comes back as it is."""
    parts = period_parts(value)
    return value if parts is None else f"{parts[1]:02d}{parts[0]:04d}"


# -- flattening ------------------------------------------------------------------------------


def unwrap(value: Any) -> Any:
    """``value`` with every ``{"value": x}`` wrapper replaced by ``x``, at any depth."""
    if isinstance(value, dict):
        if len(value) == 1 and "value" in value:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def flatten_object(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted path, value)`` for every leaf; a list is a leaf (it has no flat column)."""
    for name, value in obj.items():
        if isinstance(value, dict):
            if len(value) == 1 and "value" in value:  # a request-style wrapper
                value = value["value"]
                if not isinstance(value, dict):
                    yield prefix + name, value
                    continue
            yield from flatten_object(value, f"{prefix}{name}.")
        else:
            yield prefix + name, value


def _has_data(value: Any) -> bool:
    return value is not None and value != [] and value != {} and value != ""


@dataclass(slots=True)
class FlatRecord:
    """One record as import columns: header columns, and the lines' (``line.``-prefixed)."""

    key: str | None
    header: dict[str, Any]
    lines: list[dict[str, Any]] | None  # None: the entity has no lines
    left_out: list[str] = field(default_factory=list)  # source paths holding data no column takes

    def rows(self) -> Iterator[dict[str, Any]]:
        """The CSV convention: one row per line with the header repeated; one row without lines."""
        if not self.lines:
            yield dict(self.header)
            return
        for line in self.lines:
            yield {**self.header, **line}


class RecordFlattener:
    """Flattens records of one entity, sandbox- or DTO-shaped, to the columns it accepts.

    ``totals``: keep a document's :data:`~importer.mapping.columns.LEDGER_TOTALS` (its
    amount, balance, VAT total and status) as header columns, as ``export`` writes them.

    An export flattens every record it writes, so this is the part of its cost that grows
    with the data: each object is walked once, and what a field name at a place becomes
    (a column, a DTO path to rename, a field no column takes) is worked out the first time
    it is seen and kept (:class:`Place`), so a record costs a lookup per field.
    """

    def __init__(self, entity: Entity, *, totals: bool = False) -> None:
        if entity.is_action:
            raise ValueError(f"{entity.name} is an action: it has no records to flatten")
        self.entity = entity
        columns = valid_columns(entity)
        header = {c for c in columns if not c.startswith(LINE_PREFIX) and c != DOCUMENT_KEY}
        self.header_columns = frozenset(header | set(ledger_totals(entity) if totals else ()))
        self.line_columns = frozenset(c[len(LINE_PREFIX):] for c in columns if c.startswith(LINE_PREFIX))
        self.renames = DTO_RENAMES.get(entity.name, {})
        self.line_renames = LINE_RENAMES.get(entity.name, {})
        skip = {*SKIPPED_FIELDS, *((entity.line_field,) if entity.line_field else ())}
        self._header = Place("", "", self.header_columns, self.renames, "", frozenset(skip))
        # An answer's lines are stored lines, not operations: their ``operation`` is dropped.
        self._line = Place("", f"{entity.line_field}[].", self.line_columns, self.line_renames, LINE_PREFIX,
                            frozenset({"operation"}))

    @property
    def places(self) -> tuple[Place, Place]:
        """Where a record's header fields and its lines' fields are looked up (the top of each)."""
        return self._header, self._line

    def flatten(self, record: Mapping[str, Any]) -> FlatRecord:
        line_field = self.entity.line_field
        left_out: list[str] = []
        header = self._header.columns(record, left_out)
        lines: list[dict[str, Any]] | None = None
        if line_field:
            lines = [self._line.columns(line, left_out) for line in _items(record.get(line_field))]
        for name in READ_AS_YYYYMM & header.keys():
            header[name] = as_mmyyyy(header[name])
        key = None
        if self.entity.key_field:
            value = header.get(self.entity.key_field)
            key = None if value is None else str(value)
        return FlatRecord(key, header, lines, list(dict.fromkeys(left_out)) if left_out else left_out)


COLUMN, RENAMED, OTHER, SKIP = 0, 1, 2, 3  # what a field name at a place becomes (Place.step)
_MAX_NAMES = 2048  # names kept per place; an answer with endless distinct keys is walked uncached


class Place:
    """One place in a record's objects (the top, ``mainAddress``, a line...): what each field
    name found there becomes, worked out once. ``out_prefix`` goes before every column put
    out (``line.`` for a line's)."""

    __slots__ = ("prefix", "where", "accepted", "renames", "out_prefix", "skip", "steps")

    def __init__(self, prefix: str, where: str, accepted: frozenset[str], renames: Mapping[str, str],
                 out_prefix: str, skip: frozenset[str] = frozenset()) -> None:
        self.prefix, self.where, self.accepted, self.renames = prefix, where, accepted, renames
        self.out_prefix, self.skip = out_prefix, skip
        self.steps: dict[str, tuple[int, str, str, Place | None]] = {}

    def step(self, name: str) -> tuple[int, str, str, Place | None]:
        """(what it is, its path, its column, the place below it) for field ``name`` here."""
        found = self.steps.get(name)
        if found is None:
            path = self.prefix + name
            below = Place(path + ".", self.where, self.accepted, self.renames, self.out_prefix)
            target = self.renames.get(path)
            if name in self.skip:
                found = (SKIP, path, "", None)
            elif target is not None:
                found = (RENAMED, path, target, below)
            elif path in self.accepted:
                found = (COLUMN, path, self.out_prefix + path, below)
            else:
                found = (OTHER, path, "", below)
            if len(self.steps) < _MAX_NAMES:
                self.steps[name] = found
        return found

    def columns(self, source: Mapping[str, Any], left_out: list[str]) -> dict[str, Any]:
        """Columns from one object: same-named paths first, renamed DTO paths fill the gaps."""
        out: dict[str, Any] = {}
        renamed: list[tuple[str, str, Any]] = []
        self.walk(source, out, renamed, left_out)
        for path, target, value in renamed:
            column = self.out_prefix + target
            if target in self.accepted and column not in out and not isinstance(value, list | dict):
                out[column] = value
            elif _has_data(value) and out.get(column) != value:
                left_out.append(self.where + path)
        return out

    def walk(self, obj: Mapping[str, Any], out: dict[str, Any], renamed: list[tuple[str, str, Any]],
             left_out: list[str]) -> None:
        """Every leaf of ``obj`` (as :func:`flatten_object` finds them) put where it goes."""
        for name, value in obj.items():
            if value is None:
                continue
            kind, path, column, below = self.step(name)
            if kind == SKIP:
                continue
            if type(value) is dict:
                if len(value) == 1 and "value" in value:  # a request-style wrapper
                    value = value["value"]
                    if value is None:
                        continue
                if type(value) is dict and below is not None:
                    below.walk(value, out, renamed, left_out)
                    continue
            if kind == COLUMN and type(value) is not list and type(value) is not dict:
                out[column] = value
            elif kind == RENAMED:
                renamed.append((path, column, value))
            elif value != "" and value != [] and value != {}:
                left_out.append(self.where + path)


def _items(value: Any) -> list[dict[str, Any]]:
    """A document's lines: the list (unwrapped from a request-style wrapper), objects only."""
    if isinstance(value, dict) and len(value) == 1 and "value" in value:
        value = value["value"]
    if not isinstance(value, list):
        return []
    lines = []
    for line in value:
        if isinstance(line, dict) and len(line) == 1 and isinstance(line.get("value"), dict):
            line = line["value"]
        if isinstance(line, dict):
            lines.append(line)
    return lines
