"""Asking the API whether a record is there, and believing only an answer that proves it.

A lookup decides whether a write that may have gone through is sent again, so it
must not guess: an answer is "found" only when it names the record sought **and
holds what was sent**, "not there" only when the API says so plainly, and anything
else "could not tell" (:class:`~importer.client.http.LookupUnavailable`), after
which the write is not repeated.

- **By key**: ``GET {path}/{key}``. Found when the answer is a JSON object whose key
  field equals the key (trimmed, case aside, as the API compares them) and whose
  values are the ones sent (:mod:`importer.mapping.compare`: numbers as numbers, dates
  as dates, lines by position); a 404 is "not there"; another record, the same key
  holding other values (it was there before), HTML, or any other status is "could
  not tell".
- **By externalReference** (documents): the list GET filtered on it, paged. Only
  items whose ``externalReference`` equals it exactly count (the live filter matches
  loosely, so other documents come too). None of them is "not there"; exactly one,
  holding what was sent (customer, dates, currency, lines and amounts as the API
  stores them; a list item without its lines is read whole by its key first), is
  "found"; several, or one that holds something else, is "could not tell". A
  reference the file supplies is never taken as unique, and neither is the
  importer's own. More pages than :data:`MAX_REFERENCE_PAGES` is "could not tell".
- **Key, then reference**: a document sent with a key and a reference is looked up
  by key first; a 404 there is followed by the reference, since a company that
  numbers its own documents stores it under another number.
- **By the legacy number** (``company`` numbering, :mod:`importer.load.numbering`): a
  customer or document sent without its number, which it keeps in another field
  (``customerRefNumber`` for documents, the ``--numbering-field`` of customers), is looked
  up by that field as by a reference: exactly one record carrying it and holding what was
  sent. The list GET is filtered on the field where the API has a filter of that name
  (:data:`LIST_FILTERS`); else the whole list is read, :data:`MAX_LIST_PAGES` pages of
  :data:`~importer.load.prefetch.PAGE_SIZE` at most, and the field compared here.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import orjson

from importer.client.http import ApiClient, Attempt, Lookup, LookupUnavailable, Response
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.keys import same_key
from importer.load.calls import Call, item_path
from importer.load.prefetch import PAGE_SIZE
from importer.mapping.compare import Comparer, expected_record
from importer.schema import unwrap_value

__all__ = ["Lookups", "recheck", "same_key", "MAX_REFERENCE_PAGES", "MAX_CANDIDATES", "LIST_FILTERS",
           "MAX_LIST_PAGES", "difference"]

MAX_REFERENCE_PAGES = 5  # a filter on one reference that matches more than this is no proof
MAX_LIST_PAGES = 20  # a whole list read for one field without a filter (customers), at most
# The list GET's query parameters that match the field of the same name exactly (the OpenAPI
# document's), by whether the entity is a document.
LIST_FILTERS: dict[bool, frozenset[str]] = {
    True: frozenset({"externalReference", "customerRefNumber", "paymentReference"}),
    False: frozenset({"name", "corporateId", "vatRegistrationId"}),
}
MAX_CANDIDATES = 5  # documents carrying one reference read whole, at most
_REFERENCE_PAGE_SIZE = 100


def _json(response: Response) -> Any:
    """The answer's JSON, or LookupUnavailable when it is not JSON (a proxy's HTML page)."""
    data = response.json()
    if data is None and response.body.strip():
        raise LookupUnavailable(f"could not check whether it exists (HTTP {response.status}, the answer is not JSON)")
    return data


def _unavailable(attempt: Attempt) -> LookupUnavailable:
    response = attempt.response
    reason = attempt.error or (f"HTTP {response.status}" if response is not None else "no answer")
    return LookupUnavailable(f"could not check whether it exists ({reason})")


def _text(value: Any) -> str | None:
    """A listed field's value as the importer keeps a number: the text, trimmed."""
    value = unwrap_value(value)
    return str(value).strip() if value is not None else None


def difference(first: dict[str, Any]) -> str:
    where = f"line {first['line']} " if "line" in first else ""
    return f"{where}{first['field']}: {first.get('actual')!r} there, {first.get('expected')!r} sent"


class Lookups:
    """The lookups of one entity through one client; each counts as a call."""

    def __init__(self, client: ApiClient, entity: Entity) -> None:
        self.client = client
        self.entity = entity
        self._comparer: Comparer | None = None
        self._plural = "documents" if entity.is_document else f"{entity.name}s"

    def for_create(self, key: str | None, reference: str | None, payload: dict[str, Any] | None = None,
                   legacy: tuple[str, str] | None = None) -> Lookup | None:
        """The lookup that tells whether a create of this record went through, if there is one.

        With ``payload``, a record found must also hold what was sent: the API may answer a
        refused duplicate with a 500, and the record found then is the one that was there
        before, not this create gone through. ``legacy``: (field, number) of a record the
        company numbers, which keeps the file's number in that field (sent without a key).
        """
        if legacy is not None:
            field, number = legacy
            return lambda: self.by_field(field, number, payload)
        by_reference = reference is not None and self.entity.is_document
        if key:
            async def by_key() -> Response | None:
                found = self._holds(await self.by_key(key), payload, repr(key))
                if found is None and by_reference:
                    return await self.by_reference(reference, payload)  # type: ignore[arg-type]
                return found

            return by_key
        if by_reference:
            return lambda: self.by_reference(reference, payload)  # type: ignore[arg-type]
        return None

    def differences(self, payload: dict[str, Any], answer: dict[str, Any]) -> list[dict[str, Any]]:
        """Where ``answer`` (a record as the API answers it) does not hold what ``payload`` sends."""
        if self._comparer is None:  # built on the first ambiguous create, not for every run
            self._comparer = Comparer(self.entity, {})
        return self._comparer.differences(expected_record(self.entity, payload), answer)

    def _holds(self, found: Response | None, payload: dict[str, Any] | None, name: str) -> Response | None:
        """``found``, when it holds every field ``payload`` gives; LookupUnavailable if not."""
        if found is None or payload is None:
            return found
        answer = found.json()
        if not isinstance(answer, dict):
            return found  # by_key let only records through
        differences = self.differences(payload, answer)
        if not differences:
            return found
        raise LookupUnavailable(
            f"{self.entity.name} {name} is in the ledger with other values ({difference(differences[0])}), "
            "so it is not this create gone through"
        )

    async def by_key(self, key: str) -> Response | None:
        """The record's answer when the API holds ``key``; None when it plainly does not."""
        attempt = await self.client.request("GET", item_path(self.entity, key))
        response = attempt.response
        if response is None or attempt.error is not None:
            raise _unavailable(attempt)
        if response.status == 404:
            return None
        if response.status != 200:
            raise _unavailable(attempt)
        data = _json(response)
        found = unwrap_value(data.get(self.entity.key_field)) if isinstance(data, dict) else None
        if not same_key(found, key):
            raise LookupUnavailable(
                f"could not check whether it exists: asked for {key!r}, the API answered "
                + (f"record {found!r}" if found is not None else "something that is not a record")
            )
        return response

    async def exists(self, key: str) -> bool | Attempt:
        """Upsert: does the API hold ``key``? The GET's Attempt when it cannot tell."""
        try:
            return await self.by_key(key) is not None
        except LookupUnavailable as exc:
            return Attempt(None, 1, str(exc))

    async def by_reference(self, reference: str, payload: dict[str, Any] | None = None) -> Response | None:
        """The one document whose ``externalReference`` is exactly ``reference`` and that holds
        ``payload``; None when no document carries it; LookupUnavailable otherwise.

        The pages are read as every list is (:func:`~importer.client.pages.list_pages`): an
        API that clamps the page size below the one asked for answers a short page that is
        not the last, so only the end of the list says "not there".
        """
        return await self.by_field("externalReference", reference, payload)

    async def by_field(self, field: str, value: str, payload: dict[str, Any] | None = None) -> Response | None:
        """The one record whose ``field`` is exactly ``value`` and that holds ``payload`` (see
        :meth:`by_reference`, which this is for ``externalReference``)."""
        candidates = await self.carrying(field, value)
        if not candidates:
            return None
        where = f"{field} {value!r}"
        if len(candidates) > 1:
            keys = ", ".join(repr(self._key_of(c)) for c in candidates[:MAX_CANDIDATES])
            raise LookupUnavailable(
                f"could not tell whether it went through: {len(candidates)} {self._plural} carry {where} ({keys})")
        item = candidates[0]
        if payload is not None:
            differences = self.differences(payload, item)
            if differences and any(d.get("actual") is None for d in differences):
                item = await self._whole(item)  # a list item may leave out lines or nested fields
                differences = self.differences(payload, item)
            if differences:
                key = self._key_of(item)
                raise LookupUnavailable(
                    f"could not tell whether it went through: the {self.entity.name} carrying {where} ({key!r}) holds "
                    f"other values ({difference(differences[0])})")
        return Response(200, {}, orjson.dumps(item))

    async def carrying(self, field: str, value: str) -> list[dict[str, Any]]:
        """The listed records whose ``field`` is exactly ``value`` (the list filtered on it where
        the API can; else read whole, :data:`MAX_LIST_PAGES` at most)."""
        read, carrying = 0, []
        filtered = field in LIST_FILTERS[self.entity.is_document]
        params, size, most = ({field: value}, _REFERENCE_PAGE_SIZE, MAX_REFERENCE_PAGES) if filtered \
            else ({}, PAGE_SIZE, MAX_LIST_PAGES)
        try:
            async with aclosing(list_pages(self.client, self.entity, params, page_size=size)) as pages:
                async for page in pages:
                    carrying += [item for item in page.items if _text(item.get(field)) == value]
                    read += len(page.items)
                    if page.number >= most:
                        if len(page.items) < page.page_size or (
                                page.total_count is not None and read >= page.total_count):
                            return carrying  # that was the last page
                        break
                else:
                    return carrying  # the whole list was read
        except ListError as exc:
            raise LookupUnavailable(f"could not check whether it exists ({exc})") from None
        answered = f"answered the filter {field}={value!r}" if filtered else "were listed"
        raise LookupUnavailable(
            f"could not check whether it exists: {read} {self._plural} {answered} in {most} pages, and there are more")

    def _key_of(self, item: dict[str, Any]) -> object:
        """A listed record's key as the API gives it; None when it has none."""
        return unwrap_value(item.get(self.entity.key_field)) if self.entity.key_field else None

    async def _whole(self, item: dict[str, Any]) -> dict[str, Any]:
        """The document of a list item, read by its key."""
        key = self._key_of(item)
        if key is None or not str(key).strip():
            return item
        found = await self.by_key(str(key))
        data = found.json() if found is not None else None
        return data if isinstance(data, dict) else item


async def recheck(lookup: Lookup | None, call: Call) -> Attempt | None:
    """Resume: a record that may have reached the API in an earlier run: is it there already?

    None: send it (it is not there, or sending again does no harm); else the Attempt that ends it.
    """
    if lookup is None:
        if call.idempotent:
            return None  # sending it again does no harm
        return Attempt(None, 0, "outcome unknown: it may have reached the API in an earlier run and cannot "
                                "be looked up, so it is not sent again; check it in Visma.net, and if it "
                                "is not there, import it from a file of its own")
    try:
        found = await lookup()
    except LookupUnavailable as exc:
        return Attempt(None, 0, f"outcome unknown: {exc}")
    return Attempt(found, 0, None, found_by_lookup=True) if found is not None else None
