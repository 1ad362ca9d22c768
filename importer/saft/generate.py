"""Generate ``importer/saft/_schema.py`` from the Norwegian SAF-T Financial XSDs.

Run from the repository root with the schema files of every version the reader takes::

    python -m importer.saft.generate PATH/TO/Norwegian_SAF-T_Financial_Schema_v_1.10.xsd \\
        PATH/TO/Norwegian_SAF-T_Financial_Schema_v_1.30.xsd

Only the element paths the reader reads are written (``WANTED`` and their ancestors),
each with its simple type, the limits the schema sets on it and whether it repeats. A
path one version lacks (``BalanceAccount`` before 1.30) is simply absent from that
version's table; a wanted path no schema has is an error, so a typo cannot pass.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from importer.saft.facts import FieldFact, Kind

OUTPUT = Path(__file__).with_name("_schema.py")
XS = "{http://www.w3.org/2001/XMLSchema}"

_ACCOUNT = "MasterFiles/GeneralLedgerAccounts/Account"
_CUSTOMER = "MasterFiles/Customers/Customer"
_LINE = "GeneralLedgerEntries/Journal/Transaction/Line"
_BALANCES = ("OpeningDebitBalance", "OpeningCreditBalance", "ClosingDebitBalance", "ClosingCreditBalance")
_ADDRESS = ("StreetName", "Number", "AdditionalAddressDetail", "City", "PostalCode", "Region", "Country", "AddressType")
_AMOUNT = ("Amount", "CurrencyCode", "CurrencyAmount")
_INVOICE = "SourceDocuments/SalesInvoices/Invoice"
_PAYMENT_LINE = "SourceDocuments/Payments/Payment/Line"

WANTED: tuple[str, ...] = (
    "Header/AuditFileVersion",
    "Header/Company/Name",
    "Header/DefaultCurrencyCode",
    *(f"Header/SelectionCriteria/{name}" for name in (
        "SelectionStartDate", "SelectionEndDate", "PeriodStart", "PeriodStartYear", "PeriodEnd", "PeriodEndYear")),
    *(f"{_ACCOUNT}/{name}" for name in ("AccountID", "AccountDescription", *_BALANCES)),
    *(f"{_CUSTOMER}/{name}" for name in ("CustomerID", "RegistrationNumber", "Name", "AccountID", *_BALANCES)),
    *(f"{_CUSTOMER}/Address/{name}" for name in _ADDRESS),
    *(f"{_CUSTOMER}/Contact/ContactPerson/{name}" for name in ("FirstName", "LastName")),
    *(f"{_CUSTOMER}/Contact/{name}" for name in ("Telephone", "Fax", "Email", "Website")),
    f"{_CUSTOMER}/TaxRegistration/TaxRegistrationNumber",
    *(f"{_CUSTOMER}/BalanceAccount/{name}" for name in ("AccountID", *_BALANCES)),
    *(f"{_CUSTOMER}/PartyInfo/PaymentTerms/{name}" for name in ("Days", "CashDiscountDays", "CashDiscountRate")),
    *(f"{_CUSTOMER}/PartyInfo/{name}" for name in ("CurrencyCode", "Status")),
    *(f"{_LINE}/{name}" for name in ("AccountID", "CustomerID")),
    *(f"{_LINE}/{side}/{name}" for side in ("DebitAmount", "CreditAmount") for name in _AMOUNT),
    *(f"{_INVOICE}/{name}" for name in ("InvoiceNo", "Period", "PeriodYear", "InvoiceDate")),
    f"{_INVOICE}/CustomerInfo/CustomerID",
    *(f"{_INVOICE}/Line/{name}" for name in ("LineNumber", "ProductCode", "Description", "Quantity", "UnitPrice",
                                             "DebitCreditIndicator")),
    *(f"{_INVOICE}/Line/InvoiceLineAmount/{name}" for name in _AMOUNT),
    # 1.10 has TaxAmount, signed as its line; 1.30 DebitTaxAmount or CreditTaxAmount.
    *(f"{_INVOICE}/Line/TaxInformation/{name}/Amount" for name in ("TaxAmount", "DebitTaxAmount", "CreditTaxAmount")),
    *(f"{_INVOICE}/DocumentTotals/{name}" for name in ("NetTotal", "GrossTotal")),
    *(f"{_PAYMENT_LINE}/{name}" for name in ("SourceDocumentID", "CustomerID", "DebitCreditIndicator")),
    f"{_PAYMENT_LINE}/PaymentLineAmount/Amount",
)

_XS_KINDS: dict[str, Kind] = {
    "decimal": "decimal", "integer": "integer", "nonNegativeInteger": "integer",
    "positiveInteger": "integer", "int": "integer", "long": "integer",
    "date": "date", "boolean": "boolean",
}

_XS_MINIMUMS = {"nonNegativeInteger": "0", "positiveInteger": "1"}


def _wanted_prefixes(wanted: tuple[str, ...]) -> set[str]:
    prefixes: set[str] = set()
    for path in wanted:
        parts = path.split("/")
        prefixes.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return prefixes


@dataclass(frozen=True, slots=True)
class _Simple:
    kind: Kind
    max_length: int | None = None
    minimum: str | None = None
    maximum: str | None = None


class _Schema:
    """One XSD's named types, and a walk of its element tree along the wanted paths."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.types = {node.get("name"): node for node in root
                      if node.tag in (XS + "complexType", XS + "simpleType")}

    def simple(self, restriction_base: str | None, node: ET.Element | None) -> _Simple:
        """Follow a simple type's restriction chain down to an xs: type, keeping the first facet of each kind."""
        facets: dict[str, str] = {}
        base = restriction_base
        while node is not None:
            restriction = node.find(XS + "restriction")
            if restriction is None:
                break
            for facet in restriction:
                name = facet.tag.removeprefix(XS)
                if name in ("maxLength", "length", "minInclusive", "maxInclusive") and facet.get("value"):
                    facets.setdefault(name, facet.get("value", ""))
            base = restriction.get("base")
            node = self.types.get(base) if base else None
        local = (base or "string").split(":")[-1]
        kind = _XS_KINDS.get(local, "string")
        length = facets.get("maxLength") or facets.get("length")
        if local in _XS_MINIMUMS:  # the xs: type's own lower bound, unless a facet set one
            facets.setdefault("minInclusive", _XS_MINIMUMS[local])
        return _Simple(kind, int(length) if length else None, facets.get("minInclusive"), facets.get("maxInclusive"))

    def facts(self, prefixes: set[str]) -> dict[str, FieldFact]:
        out: dict[str, FieldFact] = {}
        top = self.root.find(XS + "element")
        if top is None or top.get("name") != "AuditFile":
            raise SystemExit("not a SAF-T schema: its first element is not AuditFile")
        self._walk_content(top, "", prefixes, out)
        return out

    def _element(self, element: ET.Element, path: str, repeated: bool,
                 prefixes: set[str], out: dict[str, FieldFact]) -> None:
        name = element.get("name")
        full = f"{path}/{name}" if path else str(name)
        if full not in prefixes:
            return
        repeated = repeated or element.get("maxOccurs", "1") not in ("0", "1")
        named = self.types.get(element.get("type", ""))
        complex_node = element.find(XS + "complexType")
        if named is not None and named.tag == XS + "complexType":
            complex_node = named
        if complex_node is not None and complex_node.find(XS + "simpleContent") is None:
            out[full] = FieldFact("group", repeated)
            self._walk_content(complex_node, full, prefixes, out)
            return
        inline = element.find(XS + "simpleType")
        if inline is not None:
            simple = self.simple(None, inline)
        elif named is not None and named.tag == XS + "simpleType":
            simple = self.simple(None, named)
        else:
            simple = self.simple(element.get("type"), None)
        out[full] = FieldFact(simple.kind, repeated, simple.max_length, simple.minimum, simple.maximum)

    def _walk_content(self, node: ET.Element, path: str, prefixes: set[str],
                      out: dict[str, FieldFact], repeated: bool = False) -> None:
        for child in node:
            tag = child.tag.removeprefix(XS)
            if tag == "element":
                self._element(child, path, repeated, prefixes, out)
            elif tag in ("sequence", "choice", "all"):
                many = repeated or child.get("maxOccurs", "1") not in ("0", "1")
                self._walk_content(child, path, prefixes, out, many)
            elif tag == "complexType":
                self._walk_content(child, path, prefixes, out, repeated)
            elif tag == "complexContent":
                for derivation in child:
                    base = self.types.get(derivation.get("base", ""))
                    if base is not None:  # an extension's own elements follow its base's
                        self._walk_content(base, path, prefixes, out, repeated)
                    self._walk_content(derivation, path, prefixes, out, repeated)


def _schema_name(path: Path) -> str:
    found = re.search(r"v_?(\d+\.\d+)", path.name)
    if not found:
        raise SystemExit(f"{path.name}: the file name does not carry its version (…_v_1.30.xsd)")
    return found.group(1)


def generate(paths: list[Path]) -> dict[str, tuple[str, dict[str, FieldFact]]]:
    prefixes = _wanted_prefixes(WANTED)
    versions: dict[str, tuple[str, dict[str, FieldFact]]] = {}
    for path in paths:
        root = ET.parse(path).getroot()
        versions[_schema_name(path)] = (root.get("version", ""), _Schema(root).facts(prefixes))
    missing = [w for w in WANTED if not any(w in fields for _, fields in versions.values())]
    if missing:
        raise SystemExit(f"no schema has {', '.join(missing)}")
    return versions


def _render(versions: dict[str, tuple[str, dict[str, FieldFact]]]) -> Iterator[str]:
    yield '"""Schema facts of SAF-T Financial, generated from the XSDs. Do not edit.'
    yield ""
    yield "Regenerate with ``python -m importer.saft.generate PATH/TO/Norwegian_SAF-T_Financial_Schema_v_*.xsd``."
    yield "Per schema version: each element path (below AuditFile) the reader reads, with its type."
    yield '"""'
    yield ""
    yield "from importer.saft.facts import FieldFact as F"
    yield "from importer.saft.facts import SchemaFacts"
    yield ""
    yield "SCHEMAS: dict[str, SchemaFacts] = {"
    for schema, (declared, fields) in sorted(versions.items()):
        yield f"    {schema!r}: SchemaFacts({schema!r}, {declared!r}, {{"
        for path, fact in fields.items():
            args = [repr(fact.kind)]
            if fact.repeated:
                args.append("repeated=True")
            for name in ("max_length", "minimum", "maximum"):
                value = getattr(fact, name)
                if value is not None:
                    args.append(f"{name}={value!r}")
            yield f"        {path!r}: F({', '.join(args)}),"
        yield "    }),"
    yield "}"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m importer.saft.generate SCHEMA.xsd [SCHEMA.xsd ...]", file=sys.stderr)
        return 2
    OUTPUT.write_text("\n".join(_render(generate([Path(a) for a in argv]))) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
