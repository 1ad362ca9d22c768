"""The API's customer-ledger entities as data: one row per entity, no class per entity.

Documents are created through the V2 creates (``POST /v2/customerinvoice`` ...: the v1
creates are deprecated, and only the V2 create honours ``overrideNumberSeries``); they
are read, updated and released on their v1 paths, as the V2 create's Location names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.errors import ConfigError

__all__ = ["Entity", "ENTITIES", "entity", "counts_documents"]


@dataclass(frozen=True, slots=True)
class Entity:
    name: str  # the CLI name, e.g. "credit-note"
    path: str  # collection path under the base URL, e.g. "/v1/customerCreditNote"
    schema: str  # request body schema in importer.schema
    key_field: str | None  # field that names a record ("number", "referenceNumber")
    line_field: str | None  # array field holding document lines, if any
    action: str | None = None  # for action entities: POST {path}/{key}/action/{action}
    action_key_field: str | None = None  # column giving the path key of an action
    releasable: bool = False  # has POST {path}/{key}/action/release
    read_schema: str | None = None  # response schema of its GETs (or of the action's answer)
    create_path: str | None = None  # where a create is POSTed, when not ``path`` (the V2 document creates)

    @property
    def is_action(self) -> bool:
        return self.action is not None

    @property
    def is_document(self) -> bool:
        return self.line_field is not None


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity("customer", "/v1/customer", "CustomerUpdateDto", "number", None, read_schema="CustomerDto"),
        Entity(
            "invoice", "/v1/customerinvoice", "CustomerInvoiceUpdateDto",
            "referenceNumber", "invoiceLines", releasable=True, read_schema="CustomerInvoiceDto",
            create_path="/v2/customerinvoice",
        ),
        Entity(
            "credit-note", "/v1/customerCreditNote", "CustomerCreditNoteUpdateDto",
            "referenceNumber", "lines", releasable=True, read_schema="CustomerCreditNoteDto",
            create_path="/v2/customerCreditNote",
        ),
        Entity(
            "debit-note", "/v1/customerDebitNote", "CustomerDebitNoteUpdateDto",
            "referenceNumber", "lines", releasable=True, read_schema="CustomerDebitNoteDto",
            create_path="/v2/customerDebitNote",
        ),
        Entity(
            "dunning-letter", "/v1/customer", "CreateDunningLetterActionDto", None, None,
            action="createDunningLetter", action_key_field="customerNumber",
            read_schema="CreateDunningLetterActionResultDto",
        ),
    )
}


def entity(name: Entity | str) -> Entity:
    """An ``Entity`` from itself or its CLI name; ``ConfigError`` names the valid ones."""
    if isinstance(name, Entity):
        return name
    try:
        return ENTITIES[name]
    except KeyError:
        raise ConfigError(f"unknown entity {name!r}; expected one of {', '.join(ENTITIES)}") from None


def counts_documents(name: str) -> bool:
    """Whether what the entity ``name`` loads is counted in documents (each of one or more rows)
    rather than records: what a summary or a table shows first. False for a name it does not know."""
    known = ENTITIES.get(name)
    return known is not None and known.is_document
