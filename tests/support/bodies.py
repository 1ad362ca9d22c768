"""Request bodies that give every field of a request schema a valid value (the sandbox's read tests)."""

from __future__ import annotations

from typing import Any

from importer.schema import Field, fields
from tests.support.sandbox_api import w

__all__ = ["full_body", "_SCALARS"]

_SCALARS = {
    "string": "S1", "integer": 7, "number": 12.5, "boolean": False,
    "datetime": "2024-01-31", "uuid": "2ddece9b-a89b-4f5a-a251-2cf14837bb2d",
}
# Values the ledger checks beyond their type (periods, references, line operations).
_SEMANTIC = {
    "customerNumber": "10000", "childCustomerNumber": "10000", "parentRecordNumber": "10000",
    "postPeriod": "012024", "financialPeriod": "202401", "operation": "Insert", "status": "Active",
    # references the company checks: values the built-in demo company has
    "customerClassId": "1", "creditTermsId": "30", "vatZoneId": "01", "customerVatZoneId": "01",
    "currencyId": "NOK", "paymentMethodId": "BANK", "branchNumber": "1", "salesperson": "1",
    "salesPersonID": 1, "vatCodeId": "3", "inventoryNumber": "6", "uom": "TIME", "segmentId": 1,
    "segmentValue": "0", "accountNumber": "3000",
}

def _value(f: Field, depth: int) -> Any:
    if f.name in _SEMANTIC:
        return _SEMANTIC[f.name]
    if f.name.endswith("Account") and f.type == "string":  # glAccounts.*, a line's accountNumber
        return "3000"
    if f.kind == "object":
        return full_body(f.ref or "", depth + 1)
    if f.kind == "array":
        return [full_body(f.ref, depth + 1) if f.ref else _SCALARS[f.type or "string"]]
    if f.kind == "map":
        return {"k": "v"}
    return f.enum[0] if f.enum else _SCALARS[f.type or "string"]


def full_body(schema: str, depth: int = 0) -> dict[str, Any]:
    """A request body giving every field of ``schema`` a valid value, wrapped where it must be."""
    body: dict[str, Any] = {}
    for f in fields(schema).values():
        if depth > 3 and f.kind in ("object", "array"):
            continue
        value = _value(f, depth)
        body[f.name] = w(value) if f.wrapped else value
    return body
