"""A document's VAT as a company works it out, line by line: one computation for both sides.

The sandbox answers a document's VAT with it (``importer.sandbox.vat``), and ``reconcile``
works out the VAT of a file's documents with it (``importer.ledger.receivables``), so the
two agree by construction. It reads only a :class:`Company` and the document's fields.

The steps follow Visma's own description of its VAT:

1. **Line amount**: the line's ``amount``, as the caller gives it (quantity × unit price
   less the discount, or the manual amount).
2. **VAT category**: the line's ``vatCodeId``, else its item's ``vatCode``, else the
   ``defaultVatCategory`` of the document's VAT zone.
3. **VAT zone**: the document's ``customerVatZoneId``, else the customer's ``vatZoneId``,
   else the ``taxZoneId`` of the customer's class.
4. **VATs that apply**: those listed both for the category and for the zone; a category
   with ``excludeListedTaxes`` applies the zone's VATs it does *not* list. A VAT whose
   ``notValidAfter`` is before the document date applies no more.
5. **Rate**: the VAT's ``Output`` schedule row with the latest ``startDate`` on or before
   the document date (within ``minTaxableAmt``/``maxTaxableAmt`` where those are set).
6. **How** (``calculateOn``): ``ItemAmount`` adds VAT to each line; ``ExtractFromItemAmount``
   takes it out of a line amount that includes it; ``DocumentAmount`` computes it once on
   the VAT's summed taxable amount; ``ItemTaxAmount`` / ``DocumenTaxAmount`` do the same
   on a base that includes the line's other VATs. Per-line VAT is rounded on each line,
   document VAT once; rounding is half-up to the currency's ``decimalPrecision``.
7. **Totals**: ``taxDetails`` has one row per VAT (``vatId {number, description}``,
   ``vatRate``, ``taxableAmount``, ``vatAmount``); ``vatTotal`` sums the VAT of every row
   except reverse and statistical VAT (computed, never paid); ``vatTaxableTotal`` and
   ``vatExemptTotal`` sum the taxable amounts of VATs flagged ``includeinVatTotal`` and
   ``includeinVatExemptTotal``. The document's ``amount`` (and ``balance``) is what the
   customer owes: ``detailTotal`` plus the VAT added on top; VAT extracted from an
   inclusive line is already inside its amount and is not added again.

What Visma documents only loosely (compound VAT, statistical and reverse VAT left out of
the gross, the inclusive formula amount × rate / (100 + rate)) is marked in
../shared/visma-reference as inference; each sits in one function here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from importer.company.model import Company, norm_id

__all__ = ["applying_vats", "document_figures", "document_vat", "document_zone", "line_category", "rate_on", "VatLine"]

_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
_PER_LINE = ("ItemAmount", "ExtractFromItemAmount", "ItemTaxAmount")
_COMPOUND = ("ItemTaxAmount", "DocumenTaxAmount")

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class VatLine:
    """What the VAT of one document line depends on: its amount and its VAT category."""

    amount: Decimal  # the line amount (after discount)
    category: str | None  # the line's VAT category, once defaulted (``line_category``)


@dataclass(slots=True)
class _Row:
    vat: Record
    rate: Decimal
    taxable: Decimal = _ZERO
    amount: Decimal = _ZERO
    extracted: Decimal = _ZERO  # VAT taken out of inclusive line amounts (already in detailTotal)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _dec(value: object) -> Decimal | None:
    if value is None or type(value) is bool:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def document_zone(company: Company, record: Record, customer: Record | None) -> str | None:
    """The document's VAT zone: sent, else the customer's, else the customer's class's."""
    zone = _text(record.get("customerVatZoneId"))
    if zone is None and customer is not None:
        zone = _text(customer.get("vatZoneId"))
        if zone is None:
            cls = company.find("customerClasses", customer.get("customerClassId"))
            zone = _text(cls.get("taxZoneId")) if cls else None
    return zone


def line_category(company: Company, line: Record, zone: str | None) -> str | None:
    """A line's VAT category: sent, else its item's, else the zone's default."""
    category = _text(line.get("vatCodeId"))
    if category is None:
        item = company.find("items", line.get("inventoryNumber"))
        code = item.get("vatCode") if item else None
        category = _text(code.get("id") if isinstance(code, Mapping) else code)
    if category is None and zone is not None:
        row = company.find("vatZones", zone)
        category = _text(row.get("defaultVatCategory")) if row else None
    return category


def _listed(company: Company, category: Record) -> set[str]:
    """The VAT ids a category lists (its lines, and VATs naming it among their categories)."""
    ids = {norm_id(line.get("vatId")) for line in category.get("vatCategoryLines") or () if line.get("vatId")}
    wanted = norm_id(category.get("vatCategoryId"))
    for vat in company.records["vats"]:
        if any(norm_id(c.get("vatCategoryId")) == wanted for c in vat.get("categories") or ()):
            ids.add(norm_id(vat.get("vatId")))
    return ids


def applying_vats(company: Company, category_id: str | None, zone: str | None, day: str) -> list[Record]:
    """The VATs of both the category and the zone, valid on ``day`` (YYYY-MM-DD)."""
    category = company.find("vatCategories", category_id)
    if category is None or zone is None:
        return []
    listed = _listed(company, category)
    exclude = bool(category.get("excludeListedTaxes"))
    wanted = norm_id(zone)
    out = []
    for vat in company.records["vats"]:
        if not any(norm_id(z.get("id")) == wanted for z in vat.get("zones") or ()):
            continue
        if (norm_id(vat.get("vatId")) in listed) == exclude:
            continue
        end = _text(vat.get("notValidAfter"))
        if end is not None and end[:10] < day:
            continue
        out.append(vat)
    return out


def rate_on(vat: Record, day: str, taxable: Decimal | None = None) -> Decimal | None:
    """The VAT's Output rate valid on ``day``; None when no schedule row covers it."""
    best: tuple[str, Decimal] | None = None
    for row in vat.get("schedules") or ():
        if row.get("groupType") not in (None, "Output"):
            continue
        start = str(row.get("startDate") or "")[:10]
        rate = _dec(row.get("vatRate"))
        if rate is None or start > day:
            continue
        low, high = _dec(row.get("minTaxableAmt")), _dec(row.get("maxTaxableAmt"))
        if taxable is not None and ((low and taxable < low) or (high and taxable > high)):
            continue
        if best is None or start >= best[0]:
            best = (start, rate)
    return best[1] if best else None


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _paid(vat: Record) -> bool:
    """Whether the VAT adds to what the customer owes (reverse and statistical VAT do not)."""
    return not (vat.get("reverseVat") or vat.get("statisticalVat"))


def _method(vat: Record) -> str:
    return str(vat.get("calculateOn") or "ItemAmount")


def document_vat(
    company: Company, lines: Sequence[VatLine], zone: str | None, day: str, currency: str | None,
) -> dict[str, Any]:
    """``taxDetails``, ``vatTotal``, ``vatTaxableTotal`` and ``vatExemptTotal`` of a document
    dated ``day`` in VAT zone ``zone``, and ``added``: the VAT owed on top of the line amounts."""
    places = company.currency_precision(currency)
    rows: dict[str, _Row] = {}

    def row_of(vat: Record, taxable: Decimal | None) -> _Row | None:
        key = norm_id(vat.get("vatId"))
        row = rows.get(key)
        if row is None:
            rate = rate_on(vat, day, taxable)
            if rate is None:
                return None
            row = rows[key] = _Row(vat, rate)
        return row

    for line in lines:
        vats = applying_vats(company, line.category, zone, day)
        taxable = line.amount
        inclusive = [r for v in vats if _method(v) == "ExtractFromItemAmount" if (r := row_of(v, line.amount))]
        if inclusive:  # the line amount includes these VATs: take them out
            total_rate = sum((r.rate for r in inclusive), _ZERO)
            for each in inclusive:
                vat_amount = _round(line.amount * each.rate / (_HUNDRED + total_rate), places)
                each.amount += vat_amount
                each.extracted += vat_amount
                taxable -= vat_amount
            for each in inclusive:
                each.taxable += taxable
        others = _ZERO  # this line's VAT so far, the base of compound VAT on top
        for vat in vats:
            method = _method(vat)
            if method == "ExtractFromItemAmount" or method in _COMPOUND:
                continue
            row = row_of(vat, taxable)
            if row is None:
                continue
            row.taxable += taxable
            share = taxable * row.rate / _HUNDRED
            if method in _PER_LINE:
                share = _round(share, places)
                row.amount += share
            others += share
        for vat in vats:
            if _method(vat) not in _COMPOUND:
                continue
            base = taxable + others
            compound = row_of(vat, base)
            if compound is None:
                continue
            compound.taxable += base
            if _method(vat) in _PER_LINE:
                compound.amount += _round(base * compound.rate / _HUNDRED, places)
    for total in rows.values():  # document-level VAT: once, on the summed taxable amount
        if _method(total.vat) not in _PER_LINE:
            total.amount = _round(total.taxable * total.rate / _HUNDRED, places)
    return _totals(rows, places)


def _totals(rows: Mapping[str, _Row], places: int) -> dict[str, Any]:
    ordered = [rows[k] for k in sorted(rows)]
    paid = [r for r in ordered if _paid(r.vat)]
    vat_total = sum((r.amount for r in paid), _ZERO)
    added = sum((r.amount - r.extracted for r in paid), _ZERO)
    taxable = sum((r.taxable for r in ordered if r.vat.get("includeinVatTotal")), _ZERO)
    exempt = sum((r.taxable for r in ordered if r.vat.get("includeinVatExemptTotal")), _ZERO)
    details = [
        {
            "vatId": _vat_reference(r.vat),
            "vatRate": float(r.rate),
            "taxableAmount": float(_round(r.taxable, places)),
            "vatAmount": float(r.amount),
        }
        for r in ordered
    ]
    return {
        "taxDetails": details,
        "vatTotal": _round(vat_total, places),
        "vatTaxableTotal": _round(taxable, places),
        "vatExemptTotal": _round(exempt, places),
        "added": _round(added, places),
    }


def _vat_reference(vat: Record) -> dict[str, str]:
    out = {"number": str(vat.get("vatId"))}
    if isinstance(vat.get("description"), str):
        out["description"] = vat["description"]
    return out


def document_figures(
    company: Company, record: Record, customer: Record | None, line_field: str,
    amounts: Sequence[Decimal], today: str,
) -> dict[str, Any]:
    """A document's VAT and gross amount as the company works them out (Decimals).

    ``record`` and ``customer`` in the request's field names, unwrapped (``customerVatZoneId``,
    ``vatZoneId``, ``customerClassId``; a line's ``vatCodeId`` and ``inventoryNumber``);
    ``amounts`` the lines' amounts in order; ``today`` (YYYY-MM-DD) dates a document sent
    without a date. Gives ``detailTotal`` (the lines), ``vatTotal``, ``vatTaxableTotal``,
    ``vatExemptTotal``, ``taxDetails`` and ``amount``: what the customer owes.
    """
    zone = document_zone(company, record, customer)
    stored = record.get(line_field) or ()
    lines = [
        VatLine(amount, line_category(company, line, zone))
        for line, amount in zip(stored, amounts, strict=False)
    ]
    day = str(record.get("documentDate") or today)[:10]
    currency = _text(record.get("currencyId"))
    vat = document_vat(company, lines, zone, day, currency)
    places = company.currency_precision(currency)
    detail = sum(amounts, _ZERO)
    return {**vat, "detailTotal": _round(detail, places), "amount": _round(detail + vat["added"], places)}
