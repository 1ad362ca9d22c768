"""Read a company's reference data from the API: ``importer company snapshot``.

(It sits with export and verify, the other readers of what the API holds: the company
package below the client only describes a company, and never talks to the API.)

    snapshot = await read_company(client, name="Acme AS")
    dump_company(snapshot.company, "acme.company.json", taken_at=...)

Only GETs are sent. Each kind of kinds.py is read from its list endpoint with that
endpoint's own paging style:

- ``metadata``: ``pageNumber``/``pageSize``; the first page's ``metadata.maxPageSize``
  says the size of the next pages, ``metadata.totalCount`` when to stop;
- ``records``: ``pageNumber``/``pageSize``; the wrapper's ``pageSize`` and ``totalCount``
  say the same;
- ``skip``: ``numberToRead``/``skipRecords``; a page shorter than the first ends it, and so
  does a page that brings no record not seen before (an API that ignores the deprecated
  parameters answers the whole list every time);
- ``none``: one GET.

The customer dimension comes from ``GET /v1/dimension/CUSTOMER`` without its segment
values (those are every customer's number, not reference data). A kind the API answers
403 or 404 for (the token may not read it, or the company has not the module) is
recorded as unavailable with that status, not an error: a snapshot says what it could
not see (when no kind at all can be read, the base URL or the token is wrong: an error).
Any other failure stops the snapshot with an ``ApiError`` naming the kind; an answer no API
list gives (a page or a redirect where JSON was due: a proxy or a sign-in page in front of
the API) is a :class:`NotTheApi`, so a run can tell a wrong setup from a company it cannot read.
Each record keeps the fields kinds.py lists, in the API's own names and shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from importer.client import ApiClient, Response
from importer.company.kinds import KINDS, Kind
from importer.company.model import Company, Numbering, norm_id
from importer.errors import ApiError

__all__ = ["KindRead", "CompanySnapshot", "NotTheApi", "read_company", "DIMENSION_PATH", "UNAVAILABLE"]

DIMENSION_PATH = "/v1/dimension/CUSTOMER"
DIMENSION_FIELDS = ("id", "description", "length", "segments")
SEGMENT_FIELDS = ("segmentId", "description", "length", "isAutoNumber", "validate", "segmentValues")
UNAVAILABLE = frozenset({403, 404})  # a list the snapshot may not or cannot read
ASK = 10_000  # records asked for per page; the API clamps it to its maximum
MAX_PAGES = 100_000  # a list that pages on past this is an API fault, not reference data


@dataclass(slots=True)
class KindRead:
    """What reading one kind took and found."""

    name: str
    records: int = 0
    calls: int = 0  # HTTP calls, retries included
    unavailable: int | None = None  # the status its list answered, when it could not be read


@dataclass(slots=True)
class CompanySnapshot:
    company: Company
    kinds: list[KindRead] = field(default_factory=list)
    calls: int = 0  # every HTTP call of the snapshot, token calls included

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company.name,
            "kinds": {k.name: ({"unavailable": k.unavailable} if k.unavailable is not None
                               else {"records": k.records, "calls": k.calls}) for k in self.kinds},
            "calls": self.calls,
        }


class NotTheApi(ApiError):
    """A list answered with what no API list answers: a 2xx that is not JSON, a redirect, a 4xx page.

    ``what``: the read (``creditTerms (/v1/creditTerm, page 1)``); ``reason``: what was wrong
    with the answer. Its text is ``what: reason``, as any other failure of the snapshot.
    """

    def __init__(self, status: int, what: str, reason: str) -> None:
        super().__init__(status, f"{what}: {reason}" if status == 200 else f"{what}: HTTP {status}: {reason}")
        self.what = what
        self.reason = reason


class _Unavailable(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _get(client: ApiClient, what: str, path: str, params: Mapping[str, str]) -> Any:
    """The JSON of one GET; _Unavailable for 403/404, ApiError naming ``what`` for any other failure."""
    attempt = await client.request("GET", path, params=params, optional=True)
    response = attempt.response
    if response is None:
        raise ApiError(None, f"{what}: {attempt.error or 'no answer'}")
    status = response.status
    if status in UNAVAILABLE:
        raise _Unavailable(status)
    if 300 <= status < 400:
        raise NotTheApi(status, what, attempt.error or response.redirect_reason())
    if 400 <= status < 500 and status != 401 and _is_page(response):
        raise NotTheApi(status, what, response.not_json_reason() or "the answer is a page")
    if status != 200:
        raise ApiError(status, f"{what}: HTTP {status}: {attempt.error or response.error_text()}")
    if attempt.error is None and response.is_json:
        return response.json()
    page = response.not_json_reason()  # a sign-in page answered 200
    if page is not None:
        raise NotTheApi(status, what, page)
    raise ApiError(status, f"{what}: {attempt.error or 'the answer is empty'}")


def _is_page(response: Response) -> bool:
    return response.content_type in ("text/html", "application/xhtml+xml") or response.body.lstrip()[:1] == b"<"


def _objects(what: str, data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ApiError(200, f"{what}: expected a JSON array, got {type(data).__name__}")
    return [item for item in data if isinstance(item, dict)]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


async def _read_paged(client: ApiClient, k: Kind, page_size: int) -> list[dict[str, Any]]:
    """Every record of a ``metadata`` or ``records`` list, page by page."""
    rows: list[dict[str, Any]] = []
    size, total = page_size, None
    for number in range(1, MAX_PAGES + 1):
        what = f"{k.name} ({k.path}, page {number})"
        data = await _get(client, what, k.path, {"pageNumber": str(number), "pageSize": str(size)})
        if k.paging == "records":
            if not isinstance(data, dict):
                raise ApiError(200, f"{what}: expected an object with records, got {type(data).__name__}")
            items = _objects(what, data.get("records"))
            total = _count(data.get("totalCount"))
            answered = _count(data.get("pageSize"))
        else:
            items = _objects(what, data)
            meta = items[0].get("metadata") if items else None
            total = _count(meta.get("totalCount")) if isinstance(meta, dict) else None
            answered = _count(meta.get("maxPageSize")) if isinstance(meta, dict) else None
        if number == 1 and answered:
            size = min(size, answered)
        rows.extend(items)
        if not items or len(items) < size or (total is not None and len(rows) >= total):
            return rows
    raise ApiError(200, f"{k.name} ({k.path}): more than {MAX_PAGES} pages")


async def _read_skipping(client: ApiClient, k: Kind, page_size: int) -> list[dict[str, Any]]:
    """Every record of a ``skip`` list: ``numberToRead``/``skipRecords`` until a short or stale page."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    size = page_size
    for number in range(1, MAX_PAGES + 1):
        what = f"{k.name} ({k.path}, records from {len(rows) + 1})"
        items = _objects(what, await _get(client, what, k.path,
                                          {"numberToRead": str(size), "skipRecords": str(len(rows))}))
        fresh = [r for r in items if norm_id(r.get(k.id_field, "")) not in seen]
        seen.update(norm_id(r.get(k.id_field, "")) for r in fresh)
        rows.extend(fresh)
        if number == 1 and 0 < len(items) < size:
            size = len(items)  # the API may have clamped it: a short or stale page will end it
            continue
        if not fresh or len(items) < size:
            return rows
    raise ApiError(200, f"{k.name} ({k.path}): more than {MAX_PAGES} pages")


async def _read_kind(client: ApiClient, k: Kind, page_size: int) -> list[dict[str, Any]]:
    if k.paging in ("metadata", "records"):
        rows = await _read_paged(client, k, page_size)
    elif k.paging == "skip":
        rows = await _read_skipping(client, k, page_size)
    else:
        rows = _objects(f"{k.name} ({k.path})", await _get(client, f"{k.name} ({k.path})", k.path, {}))
    kept: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get(k.id_field) is None:
            continue  # a record without its id cannot be referred to
        kept.setdefault(norm_id(row[k.id_field]), {f: row[f] for f in k.fields if f in row})
    return list(kept.values())


def _dimension(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    kept = {f: v for f, v in data.items() if f in DIMENSION_FIELDS}  # in the API's order
    if isinstance(kept.get("segments"), list):
        kept["segments"] = [{f: v for f, v in s.items() if f in SEGMENT_FIELDS}
                            for s in kept["segments"] if isinstance(s, dict)]
    return kept


async def read_company(
    client: ApiClient, *, name: str = "", numbering: Mapping[str, Numbering] | None = None,
    page_size: int = ASK,
) -> CompanySnapshot:
    """Read every kind of kinds.py and the customer dimension through ``client`` (open, signed in).

    ``numbering``: what a person said of the company's number series (the API cannot tell);
    ``page_size``: records asked for per page (the API clamps it).
    """
    calls_before = client.stats.calls + client.token_calls
    records: dict[str, list[dict[str, Any]]] = {}
    unavailable: dict[str, int] = {}
    reads: list[KindRead] = []
    for k in KINDS:
        read = KindRead(k.name)
        before = client.stats.calls
        try:
            records[k.name] = await _read_kind(client, k, page_size)
            read.records = len(records[k.name])
        except _Unavailable as exc:
            unavailable[k.name] = read.unavailable = exc.status
        read.calls = client.stats.calls - before
        reads.append(read)
    if len(unavailable) == len(KINDS):
        statuses = ", ".join(f"HTTP {status}" for status in sorted(set(unavailable.values())))
        raise ApiError(max(unavailable.values()), f"no reference data could be read ({statuses} to every list): "
                       "check the base URL and the token's access to this company (a sandbox started with "
                       "--company none has no company to read)")
    try:
        dimension = _dimension(await _get(client, "customer dimension", DIMENSION_PATH,
                                          {"expandSegmentsValues": "false"}))
    except _Unavailable:
        dimension = None
    company = Company.of(name, records, customer_dimension=dimension, numbering=numbering,
                         unavailable=unavailable)
    return CompanySnapshot(company, reads, client.stats.calls + client.token_calls - calls_before)
