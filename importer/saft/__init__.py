"""SAF-T Financial input: ``open_saft`` streams a file's header, customers, customer movements and sales invoices."""

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
