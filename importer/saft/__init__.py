"""SAF-T Financial input: ``open_saft`` streams a file's header, customers, customer movements and sales invoices.

The names are imported when first used: :mod:`importer.saft.kind` registers the input kind
without the reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importer.lazy import lazy_exports

if TYPE_CHECKING:
    from importer.saft.detect import is_saft
    from importer.saft.model import (
        SaftAccount,
        SaftAddress,
        SaftBalance,
        SaftContact,
        SaftCustomer,
        SaftEvent,
        SaftHeader,
        SaftInvoice,
        SaftInvoiceLine,
        SaftMovement,
        SaftPaymentTerms,
        SaftProblem,
        SaftSettlement,
    )
    from importer.saft.reader import SaftFile, open_saft

__all__ = [
    "open_saft", "is_saft", "SaftFile",
    "SaftAccount", "SaftAddress", "SaftContact", "SaftPaymentTerms", "SaftBalance", "SaftCustomer",
    "SaftHeader", "SaftMovement", "SaftProblem", "SaftEvent", "SaftInvoice", "SaftInvoiceLine", "SaftSettlement",
]

_MODEL = ("SaftAccount", "SaftAddress", "SaftContact", "SaftPaymentTerms", "SaftBalance", "SaftCustomer", "SaftHeader",
          "SaftMovement", "SaftProblem", "SaftEvent", "SaftInvoice", "SaftInvoiceLine", "SaftSettlement")
__getattr__, __dir__ = lazy_exports(globals(), {
    "open_saft": "importer.saft.reader", "SaftFile": "importer.saft.reader", "is_saft": "importer.saft.detect",
    **{name: "importer.saft.model" for name in _MODEL},
})
