"""The company's reference data as the API serves it: the read endpoints of kinds.py.

Every list endpoint of kinds.py answers from ``SandboxConfig.company`` with that
endpoint's own paging style (see kinds.py):

- ``metadata``: ``pageNumber``/``pageSize`` (capped at the sandbox's largest page); a
  plain array whose elements each carry ``metadata {totalCount, maxPageSize}``;
- ``records``: ``pageNumber``/``pageSize``; ``{pageNumber, pageSize, totalCount, records}``;
- ``skip``: ``numberToRead``/``skipRecords`` (capped the same way); a plain array;
- ``none``: a plain array, everything.

Most kinds also answer a GET by id (``/v1/vat/{vatId}``, ``/v1/inventory/{inventoryNumber}``,
...; ids compare trimmed and without case, as the API compares keys), 404 with
``{"message": ...}`` for an id the company lacks. ``/v1/dimension/CUSTOMER`` answers the
company's customer dimension; ``expandSegmentsValues=false`` leaves the segments' values
empty. A kind the company's snapshot could not read (``Company.unavailable``) answers the
status it answered then. Without a company every one of these routes is a 404, as an
unknown route is.

``References.route`` says whether a path is one of these (the app's dispatch asks it
first: ``/v1/customer/customerClass`` is a route here, not a customer's key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from importer.company import Company
from importer.company.kinds import KINDS, Kind
from importer.sandbox.answers import Answer, ipp_error, json_answer, message_error

__all__ = ["References"]

# Kinds that answer a GET by id too (reference-data.md); credit terms and payment methods do not.
_BY_ID = frozenset({"vats", "vatCategories", "vatZones", "customerClasses", "items", "currencies",
                    "financialPeriods", "numberSeries", "accounts", "subaccounts", "branches", "salespersons"})
_ROUTES: dict[tuple[str, ...], Kind] = {tuple(k.path.lower().split("/")[2:]): k for k in KINDS}
_DIMENSION = ("dimension",)
_FORBIDDEN = "The requesting client is not authorized to access this resource."


def _whole(query: Mapping[str, str], param: str, default: int, least: int) -> int:
    text = query.get(param)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ipp_error(f"Invalid value for query parameter '{param}': expected a whole number, got {text!r}.") from None
    if value < least:
        raise ipp_error(f"Invalid value for query parameter '{param}': must be {least} or more.")
    return value


class References:
    """The reference-data routes of one sandbox, over its company (or None)."""

    def __init__(self, company: Company | None, max_page_size: int) -> None:
        self.company = company
        self.max_page_size = max_page_size

    @staticmethod
    def route(segments: list[str]) -> bool:
        """Whether the lower-cased path segments after ``/v1`` name a route of this module."""
        if not segments:
            return False
        key = tuple(segments)
        return (key in _ROUTES or (key[:-1] in _ROUTES and _ROUTES[key[:-1]].name in _BY_ID)
                or (len(key) == 2 and key[0] == "dimension"))

    def answer(self, method: str, path: str, raw: list[str], query: Mapping[str, str]) -> Answer:
        """GET ``path`` (``raw``: its segments after ``/v1``, as sent, keys percent-decoded)."""
        company = self.company
        if company is None:
            raise message_error(404, f"No HTTP resource was found that matches the request URI '{path}'.")
        if method != "GET":
            raise message_error(405, f"The requested resource does not support http method '{method}'.")
        low = tuple(s.lower() for s in raw)
        if low[0] == "dimension":
            return self._dimension(company, raw[1], query)
        if low in _ROUTES:
            k = _ROUTES[low]
            self._available(company, k)
            return self._list(company, k, query)
        k = _ROUTES[low[:-1]]
        self._available(company, k)
        found = company.find(k.name, raw[-1])
        if found is None:
            raise message_error(404, f"{k.label[:1].upper()}{k.label[1:]} '{raw[-1]}' was not found.")
        return json_answer(200, dict(found))

    @staticmethod
    def _available(company: Company, k: Kind) -> None:
        status = company.unavailable.get(k.name)
        if status is None:
            return
        if status == 403:
            raise message_error(403, _FORBIDDEN)
        raise message_error(status, f"No HTTP resource was found that matches the request URI '{k.path}'.")

    def _list(self, company: Company, k: Kind, query: Mapping[str, str]) -> Answer:
        rows = [dict(r) for r in company.records[k.name]]
        cap = self.max_page_size
        if k.paging == "none":
            return json_answer(200, rows)
        if k.paging == "skip":
            skip = _whole(query, "skipRecords", 0, 0)
            count = min(_whole(query, "numberToRead", cap, 1), cap)
            return json_answer(200, rows[skip:skip + count])
        number = _whole(query, "pageNumber", 1, 1)
        size = min(_whole(query, "pageSize", cap, 1), cap)
        page = rows[(number - 1) * size:number * size]
        if k.paging == "records":
            return json_answer(200, {"pageNumber": number, "pageSize": size, "totalCount": len(rows),
                                     "records": page})
        meta = {"totalCount": len(rows), "maxPageSize": cap}
        return json_answer(200, [{**row, "metadata": meta} for row in page])

    @staticmethod
    def _dimension(company: Company, wanted: str, query: Mapping[str, str]) -> Answer:
        dimension = company.customer_dimension
        if dimension is None or str(dimension.get("id", "")).strip().casefold() != wanted.strip().casefold():
            raise message_error(404, f"Dimension '{wanted}' was not found.")
        data: dict[str, Any] = dict(dimension)
        if query.get("expandSegmentsValues", "").lower() in ("false", "0"):
            segments = data.get("segments")
            if isinstance(segments, list):
                data["segments"] = [{**s, "segmentValues": []} if isinstance(s, dict) else s for s in segments]
        return json_answer(200, data)

