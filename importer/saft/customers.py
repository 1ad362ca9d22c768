"""SAF-T customers as flat records, the built-in map that binds them, and the payment-terms check.

Each :class:`SaftCustomer` becomes one record whose columns are named after the SAF-T
elements (``CustomerID``, ``StreetAddress.City``, ``Contact.Email``, ...; the full list is
``CUSTOMER_COLUMNS``). ``customers.map.toml`` beside this module binds them to the API's
customer columns, and a user's ``--map`` is laid over it (:func:`customer_map`): their
``[columns]``, ``[constants]``, ``[defaults]`` and ``[formats]`` entries win key by key, their
``[values]`` tables add to (or replace entries of) the built-in ones, and a column they
ignore or map to ``false`` is no longer bound.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from importer.entities import Entity
from importer.errors import ConfigError
from importer.mapping.mapfile import ColumnMap, MapError
from importer.mapping.maploader import Loader
from importer.mapping.mapspec import MISS
from importer.saft.model import SaftAddress, SaftContact, SaftCustomer

__all__ = ["CUSTOMER_COLUMNS", "BUILTIN_MAP", "customer_record", "customer_map", "check_payment_terms"]

BUILTIN_MAP = Path(__file__).with_name("customers.map.toml")
_ADDRESS_PARTS = ("StreetName", "AdditionalAddressDetail", "City", "PostalCode", "Region", "Country")
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "CustomerID", "Name", "RegistrationNumber", "TaxRegistrationNumber",
    *(f"{kind}.{part}" for kind in ("StreetAddress", "PostalAddress") for part in _ADDRESS_PARTS),
    "Contact.Name", "Contact.Telephone", "Contact.Fax", "Contact.Email", "Contact.Website",
    "CurrencyCode", "Status", "PaymentTerms.Days", "PaymentTerms.CashDiscountDays", "PaymentTerms.CashDiscountRate",
)
_DAYS = "PaymentTerms.Days"
_CREDIT_TERMS = "creditTermsId"
_NAMED = 10  # customers named per unmapped payment-terms value; the rest are counted


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _street_line(address: SaftAddress) -> str:
    """StreetName and Number on one line, as an address line holds them."""
    return " ".join(part for part in (_text(address.street), _text(address.number)) if part)


def _pick_address(addresses: tuple[SaftAddress, ...], *types: str | None) -> SaftAddress | None:
    """The first address of the first of ``types`` the customer has (None: an address of no type)."""
    for wanted in types:
        for address in addresses:
            if (address.type or None) == wanted:
                return address
    return None


def _contact_name(contact: SaftContact) -> str:
    return " ".join(part for part in (_text(contact.first_name), _text(contact.last_name)) if part)


def customer_record(customer: SaftCustomer) -> dict[str, str]:
    """The customer's flat record: every column of ``CUSTOMER_COLUMNS``, ``""`` where the file is silent.

    The street address is the one typed ``StreetAddress`` (else the first untyped one); the
    postal address is ``PostalAddress``, else ``BillingAddress``. The first contact counts.
    """
    record = dict.fromkeys(CUSTOMER_COLUMNS, "")
    record.update(CustomerID=_text(customer.customer_id), Name=_text(customer.name),
                  RegistrationNumber=_text(customer.registration_number),
                  TaxRegistrationNumber=_text(customer.tax_registration_number),
                  CurrencyCode=_text(customer.currency), Status=_text(customer.status))
    chosen = {
        "StreetAddress": _pick_address(customer.addresses, "StreetAddress", None),
        "PostalAddress": _pick_address(customer.addresses, "PostalAddress", "BillingAddress"),
    }
    for kind, address in chosen.items():
        if address is None:
            continue
        values = (_street_line(address), address.additional, address.city, address.postal_code,
                  address.region, address.country)
        for part, value in zip(_ADDRESS_PARTS, values, strict=True):
            record[f"{kind}.{part}"] = _text(value)
    if customer.contacts:
        contact = customer.contacts[0]
        record.update({"Contact.Name": _contact_name(contact), "Contact.Telephone": _text(contact.telephone),
                       "Contact.Fax": _text(contact.fax), "Contact.Email": _text(contact.email),
                       "Contact.Website": _text(contact.website)})
    terms = customer.payment_terms
    if terms is not None:
        record.update({_DAYS: _text(terms.days), "PaymentTerms.CashDiscountDays": _text(terms.cash_discount_days),
                       "PaymentTerms.CashDiscountRate": _text(terms.cash_discount_rate)})
    return record


# -- the map -------------------------------------------------------------------------------


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    name = os.fspath(path)
    try:
        return tomllib.loads(Path(name).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"mapping file not found: {name}") from None
    except UnicodeDecodeError:
        raise MapError(name, ["not UTF-8 text; save the mapping file as UTF-8"]) from None
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {name}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MapError(name, [f"not valid TOML: {exc}"]) from None


def _ignored(doc: dict[str, Any]) -> list[str]:
    columns = doc.get("columns")
    inner = columns.get("ignore", []) if isinstance(columns, dict) else []
    listed = doc.get("ignore", [])
    return [*(listed if isinstance(listed, list) else []), *(inner if isinstance(inner, list) else [])]


def _laid_over(builtin: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """The user's map over the built-in one (see the module doc)."""
    merged = {key: value for key, value in builtin.items() if key not in ("columns", "ignore", "values")}
    merged.update({key: value for key, value in user.items() if key not in ("columns", "ignore", "values",
                                                                            "constants", "defaults", "formats")})
    user_columns = {k: v for k, v in (user.get("columns") or {}).items() if k != "ignore"}
    user_ignored = _ignored(user)
    columns = {k: v for k, v in builtin["columns"].items() if k not in user_ignored}
    columns.update(user_columns)
    merged["columns"] = columns
    merged["ignore"] = sorted({*(c for c in _ignored(builtin) if c not in user_columns), *user_ignored})
    for table in ("constants", "defaults", "formats"):
        combined = {**(builtin.get(table) or {}), **(user.get(table) or {})}
        if combined:
            merged[table] = combined
    values: dict[str, Any] = {k: dict(v) for k, v in (builtin.get("values") or {}).items()}
    for column, table in _flat_values(user.get("values") or {}).items():
        values[column] = {**values.get(column, {}), **table} if isinstance(table, dict) else table
    merged["values"] = values
    return merged


def _flat_values(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[values.mainAddress.countryId]`` read as ``[values."mainAddress.countryId"]``: TOML nests the former."""
    flat: dict[str, Any] = {}
    for key, table in values.items():
        name = f"{prefix}{key}"
        nested = isinstance(table, dict) and table and all(isinstance(v, dict) for v in table.values())
        if nested:
            flat.update(_flat_values(table, f"{name}."))
        else:
            flat[name] = table
    return flat


def customer_map(user_map: str | os.PathLike[str] | None, entity: Entity) -> ColumnMap:
    """The built-in customer map, with ``user_map`` (a ``--map`` file) laid over it.

    Mistakes are reported as the user's file's (:class:`MapError`), all at once."""
    builtin = _read_toml(BUILTIN_MAP)
    if user_map is None:
        return Loader(str(BUILTIN_MAP), builtin).load(entity, CUSTOMER_COLUMNS)
    name = os.fspath(user_map)
    return Loader(name, _laid_over(builtin, _read_toml(name))).load(entity, CUSTOMER_COLUMNS)


def check_payment_terms(customers: Iterable[SaftCustomer], cmap: ColumnMap) -> None:
    """ConfigError naming every payment-terms ``Days`` value the map gives no credit terms id,
    with the customers that have it; nothing when ``PaymentTerms.Days`` is not bound to it."""
    if _CREDIT_TERMS not in cmap.columns.get(_DAYS, ()) or _DAYS in cmap.ignore:
        return
    value_map = cmap.values.get(_CREDIT_TERMS)
    unmapped: dict[str, list[str]] = {}
    for customer in customers:
        days = _text(customer.payment_terms.days if customer.payment_terms else None)
        if not days:
            continue
        known = value_map is not None and (days.casefold() in value_map.table or value_map.fallback is not MISS)
        if not known:
            unmapped.setdefault(days, []).append(customer.customer_id)
    if not unmapped:
        return
    told = []
    for days, ids in sorted(unmapped.items(), key=lambda item: (len(item[0]), item[0])):
        named = ", ".join(ids[:_NAMED]) + (f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else "")
        told.append(f"Days {days} (customer{'s' if len(ids) > 1 else ''} {named})")
    raise ConfigError(
        "the SAF-T file's payment terms have no credit terms id: " + "; ".join(told) + ". Map each in a --map "
        f"file under [values.{_CREDIT_TERMS}] (\"{next(iter(unmapped))}\" = \"YOUR-TERMS-ID\"), or leave "
        f"credit terms out with ignore = [\"{_DAYS}\"]; nothing was sent"
    )
