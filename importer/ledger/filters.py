"""The list GET's filters as ``export`` takes them, checked before the first call.

Each filter is one CLI flag and one or two query parameters of the OpenAPI document's list
endpoints. Checking here (not only at the API) means a typo fails before the first call,
with the flag's name, instead of as a 400 halfway through a rate-limited hour.

Date filters (``--last-modified``, ``--created``, ``--document-date``, ``--due-date``) take
a condition and a date: ``'>=2020-01-14'``, ``'<2020-01-14 13:13:13'``; they are sent as
the field and its ``...Condition`` parameter. Text filters are sent trimmed and must not be
empty. ``--released`` is ``yes`` or ``no`` (the API's ``released`` is 1 or 0);
``--dunning-level`` a whole number from 0; ``--status`` and ``--document-type`` are matched
to the response schema's enum without regard to case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime

from importer.entities import Entity
from importer.errors import ConfigError
from importer.schema import read_fields

__all__ = ["ExportFilters", "parse_condition", "parse_last_modified", "DOCUMENT_STATUSES"]

# The ``status`` query enum of the document list endpoints, as the response DTOs give it.
DOCUMENT_STATUSES: tuple[str, ...] = read_fields("CustomerInvoiceDto")["status"].enum or ()

_CONDITIONS = (">=", "<=", ">", "<")  # longest first: ">=" must not read as ">"
# The API's filter date formats: yyyy-MM-dd, yyyy-MM-dd HH:mm:ss, yyyy-MM-dd HH:mm:ss.FFF
# (the OpenAPI document also lists the same two with a "T" between date and time).
_FILTER_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)?\Z")
_PERIOD = re.compile(r"\d{4}(0[1-9]|1[0-2])\Z")
_YES, _NO = ("yes", "true", "1"), ("no", "false", "0")


def parse_condition(text: str, flag: str) -> tuple[str, str]:
    """``'>=2020-01-14'`` -> ``('2020-01-14', '>=')``: a date filter and its Condition.

    The condition is required (``>``, ``<``, ``>=`` or ``<=``, spaces allowed after it) so an
    export never guesses between "since" and "until"; the date must be in one of the API's
    three filter formats. Raises ``ConfigError`` naming ``flag`` and what is wrong.
    """
    raw = text.strip()
    condition = next((c for c in _CONDITIONS if raw.startswith(c)), None)
    if condition is None:
        raise ConfigError(
            f"{flag} {text!r} must start with one of >, <, >=, <= "
            "(e.g. '>=2020-01-14' for 2020-01-14 or later)"
        )
    value = raw[len(condition):].strip()
    if not _FILTER_DATE.match(value) or _as_datetime(value) is None:
        raise ConfigError(
            f"{flag} {text!r}: {value!r} is not a date in the API's formats "
            "yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or yyyy-MM-dd HH:mm:ss.FFF"
        )
    return value, condition


def parse_last_modified(text: str) -> tuple[str, str]:
    """:func:`parse_condition` for ``--last-modified``."""
    return parse_condition(text, "--last-modified")


def _as_datetime(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:  # 2020-02-30, 25:00:00
        return None


# field name -> (flag, query parameter); which entities take each is in _DOCUMENT/_CUSTOMER.
_DATES = {
    "last_modified": ("--last-modified", "lastModifiedDateTime"),
    "created": ("--created", "createdDateTime"),
    "document_date": ("--document-date", "documentDate"),
    "due_date": ("--due-date", "documentDueDate"),
}
_TEXTS = {
    "project": ("--project", "project"),
    "customer": ("--customer", "customer"),
    "external_reference": ("--external-reference", "externalReference"),
    "customer_ref": ("--customer-ref", "customerRefNumber"),
    "branch": ("--branch", "branch"),
    "name": ("--name", "name"),
    "corporate_id": ("--corporate-id", "corporateId"),
    "vat_registration_id": ("--vat-registration-id", "vatRegistrationId"),
    "email": ("--email", "email"),
    "phone": ("--phone", "phone"),
}
_DOCUMENT_ONLY = frozenset({
    "financial_period", "project", "document_type", "customer", "released", "document_date",
    "due_date", "external_reference", "customer_ref", "branch", "dunning_level",
    "expand_attachments", "expand_tax_details",
})
_CUSTOMER_ONLY = frozenset({"name", "corporate_id", "vat_registration_id", "email", "phone"})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class ExportFilters:
    """The list GET's filters, as the CLI flags give them; :meth:`params` checks and sends them."""

    last_modified: str | None = None  # "<condition><date>", e.g. ">=2020-01-14"
    created: str | None = None  # the same, on createdDateTime
    status: str | None = None  # any case; matched to the entity's status enum
    # Documents only.
    financial_period: str | None = None  # YYYYMM
    project: str | None = None
    document_type: str | None = None  # e.g. Invoice, CreditNote; any case
    customer: str | None = None  # the customer's number
    released: str | bool | None = None  # yes / no
    document_date: str | None = None  # "<condition><date>"
    due_date: str | None = None  # "<condition><date>"
    external_reference: str | None = None
    customer_ref: str | None = None
    branch: str | None = None
    dunning_level: str | int | None = None
    # Off by default: expanded attachments and tax details have no flat column, so they would
    # be left out of the file anyway; not expanding keeps pages small.
    expand_attachments: bool = False
    expand_tax_details: bool = False
    # Customers only.
    name: str | None = None
    corporate_id: str | None = None
    vat_registration_id: str | None = None
    email: str | None = None
    phone: str | None = None

    def given(self) -> list[str]:
        """The names of the filters set (False flags and None are not)."""
        return [f.name for f in dataclass_fields(self) if getattr(self, f.name) not in (None, False)]

    def expand_flags(self) -> frozenset[str]:
        """The ``expand*`` flags asked for by name, whatever the columns need."""
        asked = {"expandAttachments": self.expand_attachments, "expandTaxDetails": self.expand_tax_details}
        return frozenset(flag for flag, on in asked.items() if on)

    def params(self, entity: Entity) -> dict[str, str]:
        """The filter parameters for ``entity``'s list GET; ``ConfigError`` on a bad value.

        The ``expand*`` flags are not among them: :func:`importer.ledger.expand.expand_params`
        sends those, from the columns wanted and :meth:`expand_flags`.
        """
        given = self.given()
        wrong = _CUSTOMER_ONLY if entity.is_document else _DOCUMENT_ONLY
        misplaced = [_flag(name) for name in given if name in wrong]
        if misplaced:
            what = "customers" if entity.is_document else "invoices, credit notes and debit notes"
            raise ConfigError(f"{', '.join(misplaced)} apply to {what}, not {entity.name}")
        out: dict[str, str] = {}
        for name, (flag, param) in _DATES.items():
            text = getattr(self, name)
            if text is not None:
                value, condition = parse_condition(text, flag)
                out[param], out[param + "Condition"] = value, condition
        if self.financial_period is not None:
            period = self.financial_period.strip()
            if not _PERIOD.match(period):
                raise ConfigError(f"--financial-period {self.financial_period!r} is not a period as YYYYMM (e.g. 202001)")
            out["financialPeriod"] = period
        if self.status is not None:
            out["status"] = _choice("--status", self.status, read_fields(entity.read_schema)["status"].enum,
                                    f"a {entity.name} status")
        if self.document_type is not None:
            out["documentType"] = _choice("--document-type", self.document_type,
                                          read_fields(entity.read_schema)["documentType"].enum, "a document type")
        for name, (flag, param) in _TEXTS.items():
            text = getattr(self, name)
            if text is not None:
                if not text.strip():
                    raise ConfigError(f"{flag} must not be empty")
                out[param] = text.strip()
        if self.released is not None:
            out["released"] = _released(self.released)
        if self.dunning_level is not None:
            out["dunningLevel"] = _dunning_level(self.dunning_level)
        return out


def _choice(flag: str, text: str, allowed: tuple[str, ...] | None, what: str) -> str:
    options = allowed or ()
    canonical = {s.casefold(): s for s in options}.get(text.strip().casefold())
    if canonical is None:
        raise ConfigError(f"{flag} {text!r} is not {what}; expected one of {', '.join(options)}")
    return canonical


def _released(value: str | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    text = value.strip().lower()
    if text in _YES:
        return "1"
    if text in _NO:
        return "0"
    raise ConfigError(f"--released {value!r}: expected yes or no")


def _dunning_level(value: str | int) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or int(text) > 2**31 - 1:
        raise ConfigError(f"--dunning-level {value!r} is not a whole number from 0")
    return str(int(text))
