"""The kinds of reference data a company snapshot holds, and where the API serves each.

One row per kind: the snapshot's name for it, the list endpoint that reads it, the paging
style that endpoint uses (see below), the field that is its id, and the fields a snapshot
keeps. Fields keep the API's own names and shapes, so a record in a snapshot reads like
the record the API answered, minus what the importer never looks at.

Paging styles (the API uses four):

- ``metadata``: ``pageNumber``/``pageSize``; a plain array whose elements each carry
  ``metadata {totalCount, maxPageSize}``;
- ``records``: ``pageNumber``/``pageSize``; an object ``{pageNumber, pageSize,
  totalCount, records: [...]}``;
- ``skip``: the deprecated ``numberToRead``/``skipRecords``; a plain array;
- ``none``: a plain array, no paging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Paging", "Kind", "KINDS", "KIND_NAMES", "kind"]

Paging = Literal["metadata", "records", "skip", "none"]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # the snapshot's key, e.g. "creditTerms"
    path: str  # the list endpoint, e.g. "/v1/creditTerm"
    paging: Paging
    id_field: str  # the field that identifies a record of this kind
    fields: tuple[str, ...]  # the top-level fields a snapshot keeps (id first)
    label: str  # how a message names one record of this kind


KINDS: tuple[Kind, ...] = (
    Kind("creditTerms", "/v1/creditTerm", "records", "termsId",
         ("termsId", "description", "visibleTo", "dueDateType", "dueDay1", "discountType",
          "discountDay", "discountPercent"), "credit terms id"),
    Kind("vats", "/v1/vat", "skip", "vatId",
         ("vatId", "description", "type", "calculateOn", "reverseVat", "statisticalVat",
          "pendingVat", "includeinVatTotal", "includeinVatExemptTotal", "notValidAfter",
          "schedules", "categories", "zones"), "VAT id"),
    Kind("vatCategories", "/v1/vatCategory", "skip", "vatCategoryId",
         ("vatCategoryId", "description", "active", "excludeListedTaxes", "vatCategoryLines"),
         "VAT category"),
    Kind("vatZones", "/v1/vatZone", "metadata", "id",
         ("id", "description", "defaultVatCategory"), "VAT zone"),
    Kind("customerClasses", "/v1/customer/customerClass", "none", "id",
         ("id", "description", "taxZoneId", "requiredTaxzoneId", "paymentMethodId"), "customer class"),
    Kind("items", "/v1/inventory", "metadata", "inventoryNumber",
         ("inventoryNumber", "description", "status", "type", "vatCode", "baseUnit", "salesUnit",
          "inventoryUnits"), "item"),
    Kind("currencies", "/v1/currency", "none", "id",
         ("id", "description", "isBaseCurrency", "decimalPrecision"), "currency"),
    Kind("financialPeriods", "/v1/financialPeriod", "none", "period",
         ("period", "year", "description", "startDate", "endDate", "active",
          "closedInCustomerLedger", "closedInGeneralLedger"), "financial period"),
    Kind("numberSeries", "/v1/numberSequence", "none", "numberingId",
         ("numberingId", "description", "manualNumbering", "newNumberSymbol", "sequence"),
         "number series"),
    Kind("accounts", "/v1/account", "skip", "accountCD",
         ("accountCD", "description", "type", "active", "currency", "taxCategory"), "account"),
    Kind("subaccounts", "/v1/subaccount", "metadata", "subaccountNumber",
         ("subaccountNumber", "description", "active", "segments"), "subaccount"),
    Kind("branches", "/v1/branch", "none", "number",
         ("number", "name", "isActive", "isMainBranch"), "branch"),
    Kind("salespersons", "/v1/salesperson", "records", "salespersonID",
         ("salespersonID", "name", "isActive"), "salesperson"),
    Kind("paymentMethods", "/v1/paymentmethod", "skip", "paymentMethodID",
         ("paymentMethodID", "description", "active", "meansOfPayment"), "payment method"),
)

KIND_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
_BY_NAME = {k.name: k for k in KINDS}


def kind(name: str) -> Kind:
    """The kind called ``name`` (a snapshot key); KeyError for an unknown one."""
    return _BY_NAME[name]
