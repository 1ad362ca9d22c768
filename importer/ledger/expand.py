"""Which ``expand*`` flags of a list GET the wanted columns need.

The list endpoints leave parts of a record out unless asked (the OpenAPI document's query
parameters of ``/v1/customer`` and of the three document lists). :data:`EXPAND_FLAGS` says,
per flag, which import columns only an expanded answer fills, as column prefixes:

==========================  ===================================================
flag                        columns it fills
==========================  ===================================================
expandAccountInformation    customer ``glAccounts.*``
expandPaymentMethods        customer ``defaultPaymentMethod.*``
expandDirectDebit           none (``directDebitLines`` has no flat column)
expandInvoiceAddress        invoice ``billingAddress.*`` (answered as
                            ``invoiceAddress``), credit and debit note
                            ``invoiceAddress.*``
expandApplications,         none: applications, dunning details, attachments
expandDunningInformation,   and VAT details are lists or read-only, so an
expandAttachments,          export leaves them out anyway
expandTaxDetails
==========================  ===================================================

Every flag of the entity is sent, ``true`` or ``false``: what the API expands by default is
not documented, and a flag no wanted column needs only makes pages bigger.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from importer.entities import Entity

__all__ = ["EXPAND_FLAGS", "expand_params"]

_CUSTOMER: dict[str, tuple[str, ...]] = {
    "expandAccountInformation": ("glAccounts.",),
    "expandPaymentMethods": ("defaultPaymentMethod.",),
    "expandDirectDebit": (),
}
_DOCUMENT: dict[str, tuple[str, ...]] = {
    "expandApplications": (),
    "expandDunningInformation": (),
    "expandAttachments": (),
    "expandTaxDetails": (),
    # The invoice's request column is billingAddress; the notes call it invoiceAddress.
    "expandInvoiceAddress": ("billingAddress.", "invoiceAddress."),
}
EXPAND_FLAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "customer": _CUSTOMER,
    "invoice": _DOCUMENT,
    "credit-note": _DOCUMENT,
    "debit-note": _DOCUMENT,
}


def expand_params(
    entity: Entity, columns: Iterable[str] | None, also: Collection[str] = (),
) -> dict[str, str]:
    """The ``expand*`` query parameters for a list GET that should fill ``columns``.

    ``columns``: the import columns wanted; None means every column the entity has.
    ``also``: flags asked for regardless (``--expand-attachments``). Entities without list
    flags (none here but the action) get no parameters.
    """
    flags = EXPAND_FLAGS.get(entity.name, {})
    wanted = None if columns is None else tuple(columns)
    out: dict[str, str] = {}
    for flag, prefixes in flags.items():
        if flag in also:
            needed = True
        elif wanted is None:
            needed = bool(prefixes)
        else:
            needed = any(c.startswith(prefixes) for c in wanted) if prefixes else False
        out[flag] = "true" if needed else "false"
    return out
