"""The built-in demo company: a typical small Norwegian company.

The sandbox is this company unless it is given another (``--company FILE``) or told to
check nothing (``--company none``). It has Norway's VAT (25 % high, 15 % food, 12 % low
with its history, 0 % zero-rated and export, exempt), 10-, 14-, 15- and 30-day terms and cash,
a domestic and a foreign customer class, the items the project's samples sell (and one
inactive item), NOK and four other currencies, and open financial periods from 2000 to two
years ahead: every example of the usage guide and every sample of the project is valid in
it. Its terms count days from the document date (``dueDateType`` N).

Numbering is left lenient (see ``Numbering``): a document sent with a number keeps it and
one sent without gets the next free number.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from importer.company.model import Company

__all__ = ["demo_company", "DEMO_NAME"]

DEMO_NAME = "Demo AS (built in)"


def _vat(vat_id: str, description: str, schedules: list[tuple[str, float]], zones: list[str],
         *, calculate_on: str = "ItemAmount", taxable: bool = True) -> dict[str, Any]:
    return {
        "vatId": vat_id, "description": description, "type": "Sales", "calculateOn": calculate_on,
        "reverseVat": False, "statisticalVat": False, "pendingVat": False,
        "includeinVatTotal": taxable, "includeinVatExemptTotal": not taxable, "notValidAfter": None,
        "schedules": [{"startDate": f"{start}T00:00:00", "vatRate": rate, "minTaxableAmt": 0.0,
                       "maxTaxableAmt": 0.0, "groupType": "Output"} for start, rate in schedules],
        "categories": [{"vatCategoryId": vat_id}],
        "zones": [{"id": z} for z in zones],
    }


def _category(cat_id: str, description: str) -> dict[str, Any]:
    return {"vatCategoryId": cat_id, "description": description, "active": True,
            "excludeListedTaxes": False, "vatCategoryLines": [{"vatId": cat_id}]}


def _periods(first_year: int, last_year: int) -> list[dict[str, Any]]:
    rows = []
    for year in range(first_year, last_year + 1):
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            rows.append({
                "period": f"{year}{month:02d}", "year": year, "description": calendar.month_name[month],
                "startDate": f"{year}-{month:02d}-01T00:00:00", "endDate": f"{year}-{month:02d}-{last:02d}T00:00:00",
                "active": True, "closedInCustomerLedger": False, "closedInGeneralLedger": False,
            })
    return rows


def _terms(terms_id: str, description: str, days: int) -> dict[str, Any]:
    return {"termsId": terms_id, "description": description, "visibleTo": "AL", "dueDateType": "N",
            "dueDay1": days, "discountType": "N", "discountDay": 0, "discountPercent": 0.0}


def _item(number: str, description: str, vat: str, unit: str, status: str = "Active",
          kind: str = "NonStockItem") -> dict[str, Any]:
    return {"inventoryNumber": number, "description": description, "status": status, "type": kind,
            "vatCode": {"id": vat}, "baseUnit": unit, "salesUnit": unit, "inventoryUnits": []}


def demo_company(today: dt.date | None = None) -> Company:
    """The demo company, with periods open up to two years after ``today``."""
    year = (today or dt.date.today()).year
    domestic, foreign = ["01"], ["02"]
    records: dict[str, list[dict[str, Any]]] = {
        "creditTerms": [_terms("10", "10 dager netto", 10), _terms("14", "14 dager netto", 14),
                        _terms("15", "15 dager netto", 15), _terms("30", "30 dager netto", 30),
                        _terms("KONTANT", "Kontant", 0)],
        "vats": [
            _vat("3", "Utgående mva, høy sats", [("2005-01-01", 25.0)], domestic),
            _vat("31", "Utgående mva, middels sats", [("2007-01-01", 14.0), ("2012-01-01", 15.0)], domestic),
            _vat("33", "Utgående mva, lav sats",
                 [("2010-01-01", 8.0), ("2016-01-01", 10.0), ("2018-01-01", 12.0),
                  ("2020-04-01", 6.0), ("2021-10-01", 12.0)], domestic),
            _vat("5", "Innenlands omsetning, fritatt (0 %)", [("2005-01-01", 0.0)], domestic),
            _vat("6", "Omsetning utenfor merverdiavgiftsloven", [("2005-01-01", 0.0)], domestic + foreign,
                 taxable=False),
            _vat("52", "Utførsel av varer og tjenester (0 %)", [("2005-01-01", 0.0)], foreign),
        ],
        "vatCategories": [_category("3", "Høy sats"), _category("31", "Middels sats (næringsmidler)"),
                          _category("33", "Lav sats"), _category("5", "Fritatt"),
                          _category("6", "Utenfor avgiftsområdet"), _category("52", "Eksport")],
        "vatZones": [{"id": "01", "description": "Innenlands", "defaultVatCategory": "3"},
                     {"id": "02", "description": "Utland", "defaultVatCategory": "52"}],
        "customerClasses": [
            {"id": "1", "description": "Innenlands kunder", "taxZoneId": "01", "requiredTaxzoneId": False,
             "paymentMethodId": "BANK"},
            {"id": "2", "description": "Utenlandske kunder", "taxZoneId": "02", "requiredTaxzoneId": False,
             "paymentMethodId": "BANK"},
        ],
        "items": [_item("6", "Konsulenttime", "3", "TIME", kind="ServiceItem"),
                  _item("222", "Varesalg", "3", "STK"),
                  _item("SYLT", "Jordbærsyltetøy", "31", "STK"),
                  _item("FRAKT", "Frakt", "3", "STK", kind="ChargeItem"),
                  _item("UTGATT", "Utgått vare", "3", "STK", status="Inactive"),
                  # the items of the project's samples (samples/invoices.csv, samples/legacy/)
                  _item("TIME", "Arbeid per time", "3", "TIME", kind="ServiceItem"),
                  _item("SERV", "Servicearbeid", "3", "TIME", kind="ServiceItem"),
                  _item("MAT", "Materiell", "3", "STK"),
                  _item("KJØR", "Kjøring", "3", "STK", kind="ServiceItem"),
                  _item("RØR22", "Kobberrør 22 mm", "3", "M"),
                  _item("MEL25", "Hvetemel 25 kg", "31", "SEKK"),
                  _item("GJÆR", "Gjær 500 g", "31", "STK"),
                  _item("ESK-L", "Eske, stor", "3", "STK"),
                  _item("LEIE", "Utleie", "3", "STK", kind="ServiceItem"),
                  # opening balances carried over from another system (--saft-item OB): no VAT
                  _item("OB", "Inngående balanse", "6", "STK")],
        "currencies": [
            {"id": "NOK", "description": "Norske kroner", "isBaseCurrency": True, "decimalPrecision": 2},
            {"id": "EUR", "description": "Euro", "isBaseCurrency": False, "decimalPrecision": 2},
            {"id": "SEK", "description": "Svenske kroner", "isBaseCurrency": False, "decimalPrecision": 2},
            {"id": "DKK", "description": "Danske kroner", "isBaseCurrency": False, "decimalPrecision": 2},
            {"id": "USD", "description": "US dollar", "isBaseCurrency": False, "decimalPrecision": 2},
        ],
        "financialPeriods": _periods(2000, year + 2),
        "numberSeries": [],
        "accounts": [
            {"accountCD": "1500", "description": "Kundefordringer", "type": "Asset", "active": True,
             "currency": None, "taxCategory": None},
            {"accountCD": "2700", "description": "Utgående merverdiavgift", "type": "Liability", "active": True,
             "currency": None, "taxCategory": None},
            {"accountCD": "3000", "description": "Salgsinntekt, avgiftspliktig", "type": "Income", "active": True,
             "currency": None, "taxCategory": "3"},
            {"accountCD": "3100", "description": "Salgsinntekt, avgiftsfri", "type": "Income", "active": True,
             "currency": None, "taxCategory": "5"},
        ],
        "subaccounts": [{"subaccountNumber": "0", "description": "Ingen", "active": True,
                         "segments": [{"segmentId": 1, "segmentValue": "0"}]}],
        "branches": [{"number": "1", "name": "Hovedkontor", "isActive": True, "isMainBranch": True}],
        "salespersons": [{"salespersonID": "1", "name": "Salg", "isActive": True}],
        "paymentMethods": [
            {"paymentMethodID": "BANK", "description": "Bankoverføring", "active": True,
             "meansOfPayment": "DirectDeposit"},
            {"paymentMethodID": "KONTANT", "description": "Kontant", "active": True,
             "meansOfPayment": "CashOrCheck"},
        ],
    }
    dimension = {"id": "CUSTOMER", "length": 10, "description": "Kunde",
                 "segments": [{"segmentId": 1, "description": "Kundenummer", "length": 10,
                               "isAutoNumber": False, "validate": False, "segmentValues": []}]}
    return Company.of(DEMO_NAME, records, customer_dimension=dimension)
