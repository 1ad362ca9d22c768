"""Asking the API whether a record is there, and believing only an answer that proves it.

A lookup decides whether a write that may have gone through is sent again, so it
must not guess: an answer is "found" only when it names the record sought, "not
there" only when the API says so plainly, and anything else "could not tell"
(:class:`~importer.client.http.LookupUnavailable`), after which the write is not repeated.

- **By key**: ``GET {path}/{key}``. Found when the answer is a JSON object whose key
  field equals the key (trimmed, case aside, as the API compares them); a 404 is
  "not there"; another record, HTML, or any other status is "could not tell".
- **By externalReference** (auto-numbered documents): the list GET filtered on it,
  paged, found when an item's ``externalReference`` equals it exactly (the live
  filter matches loosely, so other documents come too); a whole list without such an
  item is "not there", and more pages of others than :data:`MAX_REFERENCE_PAGES`
  "could not tell".
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import orjson

from importer.client.http import ApiClient, Attempt, Lookup, LookupUnavailable, Response
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.load.calls import item_path
from importer.mapping.compare import Comparer, expected_record
from importer.schema import unwrap_value

__all__ = ["Lookups", "same_key", "MAX_REFERENCE_PAGES"]

MAX_REFERENCE_PAGES = 5  # a filter on one reference that matches more than this is no proof
_REFERENCE_PAGE_SIZE = 100


def same_key(a: Any, b: Any) -> bool:
    """Keys as the API compares them: trimmed, without regard to case."""
    return a is not None and b is not None and str(a).strip().casefold() == str(b).strip().casefold()


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


class Lookups:
    """The lookups of one entity through one client; each counts as a call."""

    def __init__(self, client: ApiClient, entity: Entity) -> None:
        self.client = client
        self.entity = entity
        self._comparer: Comparer | None = None

    def for_create(self, key: str | None, reference: str | None, payload: dict[str, Any] | None = None) -> Lookup | None:
        """The lookup that tells whether a create of this record went through, if there is one.

        With ``payload``, a record found by key must also hold what was sent: the API may
        answer a refused duplicate with a 500, and the record found then is the one that was
        there before, not this create gone through.
        """
        if key:
            async def by_key() -> Response | None:
                return self._holds(await self.by_key(key), payload, key)

            return by_key
        if reference and self.entity.is_document:
            return lambda: self.by_reference(reference)
        return None

    def _holds(self, found: Response | None, payload: dict[str, Any] | None, key: str) -> Response | None:
        """``found``, when it holds every field ``payload`` gives; LookupUnavailable if not."""
        if found is None or payload is None:
            return found
        answer = found.json()
        if not isinstance(answer, dict):
            return found  # by_key let only records through
        if self._comparer is None:  # built on the first ambiguous create, not for every run
            self._comparer = Comparer(self.entity, {})
        differences = self._comparer.differences(expected_record(self.entity, payload), answer)
        if not differences:
            return found
        first = differences[0]
        raise LookupUnavailable(
            f"{self.entity.name} {key!r} is in the ledger with other values "
            f"({first['field']}: {first.get('actual')!r} there, {first.get('expected')!r} sent), "
            "so it was there before: this create did not go through"
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

    async def by_reference(self, reference: str) -> Response | None:
        """The document whose ``externalReference`` is exactly ``reference``, or None.

        The pages are read as every list is (:func:`~importer.client.pages.list_pages`): an
        API that clamps the page size below the one asked for answers a short page that is
        not the last, so only the end of the list says "not there".
        """
        read = 0
        params = {"externalReference": reference}
        try:
            async with aclosing(list_pages(self.client, self.entity, params, page_size=_REFERENCE_PAGE_SIZE)) as pages:
                async for page in pages:
                    for item in page.items:
                        if unwrap_value(item.get("externalReference")) == reference:
                            return Response(200, {}, orjson.dumps(item))
                    read += len(page.items)
                    if page.number >= MAX_REFERENCE_PAGES:
                        if len(page.items) < page.page_size or (
                                page.total_count is not None and read >= page.total_count):
                            return None  # that was the last page
                        break
                else:
                    return None  # the whole list was read: no document carries it
        except ListError as exc:
            raise LookupUnavailable(f"could not check whether it exists ({exc})") from None
        raise LookupUnavailable(
            f"could not check whether it exists: {read} documents answered the filter "
            f"externalReference={reference!r} in {MAX_REFERENCE_PAGES} pages, none of them it, and there are more"
        )
