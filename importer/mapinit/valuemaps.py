"""Value maps that speak the company's values: a legacy file's codes → the company's ids.

``map init --company FILE`` reads each column that names one of the company's records
(:mod:`importer.company.columns`: credit terms, VAT category, customer class, item,
currency, payment method, account, branch, salesperson, VAT zone) and places each of the
file's distinct values on one of the company's records it may use, saying why:

- an id the company has is kept as it is, with no comment (``30`` → ``30``);
- credit terms by their days: the number in ``30 dager netto`` is the term's ``dueDay1``
  (terms counted in days, for customers, without a cash discount first); ``Kontant`` and
  other words for cash are the 0-day term;
- VAT by rate: ``25`` (or ``25 %``, ``25,00``) is the category whose sales VAT has an
  output rate of 25 % today; among several, the one of the company's home zone (the VAT
  zone most of its VATs apply in) that counts in the VAT total wins, and the others are
  named so a person can check; a rate the company had once is placed, marked to check;
- currencies also by what legacy systems write (``NKR``, ``kr`` for the base currency);
- anything by its description (``Konsulenttime`` → item ``6``), by the same code written
  another way (``01`` → ``1``), or, marked to check, by a description close to it.

What it cannot place gets a TODO line naming the values the company has (or the closest
ones, for a kind with many). A record the company has but a write cannot use (an item
that cannot be sold) is never proposed.

Without the company (:func:`open_values`) nothing says which ids it has, so every distinct
value of such a column is a TODO line, with what the value seems to say (``30 dager
netto``: 30 days): the map lists every value the file holds and a person writes each
id once. Only what reads as an API value on its face is left to pass as written (a
currency's ISO 4217 code), and a currency written the usual other way is proposed
(``NKR`` → ``NOK``), marked to check.
"""

from __future__ import annotations

import datetime as dt
import difflib
import heapq
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from importer.company.columns import allowed, described, one, plural, reference_kind, shown_values, usable
from importer.company.kinds import kind
from importer.company.model import Company
from importer.mapinit.scan import DISTINCT_CAP
from importer.mapinit.synonyms import ValueSuggestion, normalise

__all__ = ["Placed", "company_values", "open_values", "place"]

Record = Mapping[str, Any]

_SHOWN_IDENTITIES = 40  # valid ids are listed only in maps this small (the "*" entry keeps the rest)
_LISTED = 8  # a kind with at most this many records is listed whole in a TODO line
_SHORTLIST = 20  # records difflib ranks for one value, picked by shared letter triples
_CLOSE = 0.8  # how near a description must be to be proposed (difflib ratio, normalised)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_RATE = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*%?\s*\Z")
_CASH_WORDS = frozenset(normalise(w) for w in (
    "kontant", "kontanter", "kontantbetaling", "kontant betaling", "netto kontant", "cash", "contant",
    "straks", "omgående", "pr kontant", "betalt", "bar", "kontantsalg"))
_CURRENCY_WORDS = {"nkr": "NOK", "norske kroner": "NOK", "skr": "SEK", "svenske kronor": "SEK", "dkr": "DKK",
                   "danske kroner": "DKK", "euro": "EUR", "€": "EUR", "$": "USD", "us dollar": "USD",
                   "dollar": "USD", "£": "GBP", "pund": "GBP"}
_BASE_CURRENCY_WORDS = ("kr", "kroner", "kronor")


@dataclass(frozen=True, slots=True)
class Placed:
    id: str  # the company's id
    why: str  # "" for an id the company has, as written
    sure: bool = True


# -- one value --------------------------------------------------------------------------------


def place(company: Company, kind_name: str, value: str, today: dt.date | None = None,
          texts: _Texts | None = None) -> Placed | str:
    """Where ``value`` goes among the company's records of ``kind_name``: a Placed, or why not (a TODO note).
    ``texts``: the kind's records read once (:meth:`_Texts.of`), for a column of many values."""
    texts = texts if texts is not None else _Texts.of(company, kind_name)
    found = company.find(kind_name, value)
    if found is not None:
        reason = usable(kind_name, found)
        rid, _ = described(kind_name, found)
        if reason is None:
            return Placed(rid, "")
        label = kind(kind_name).label
        return f"{rid} is {one(label)} of this company, but it {reason}; it has {texts.listed(company, value)}"
    special = {"creditTerms": _terms, "vatCategories": _vat, "currencies": _currency}.get(kind_name)
    if special is not None:
        placed = special(company, value, today or dt.date.today())
        if placed is not None:
            return placed
    return texts.place(company, value)


def _code(text: str) -> str:
    """``01``, ``1`` and ``0-1`` alike: a code without punctuation and leading zeros."""
    return normalise(text).lstrip("0") or "0"


@dataclass(frozen=True, slots=True)
class _Texts:
    """One kind's records a write may use, their ids and descriptions normalised once: a
    company may have thousands of items, and a column hundreds of values."""

    kind_name: str
    rows: tuple[Record, ...]
    folded: tuple[tuple[str, str], ...]  # (id, description), normalised
    by_text: dict[str, int]  # normalised description -> index
    by_code: dict[str, int]  # id as a code (_code) -> index
    grams: tuple[tuple[frozenset[str], frozenset[str]], ...]  # letter triples of folded, for a shortlist

    @classmethod
    def of(cls, company: Company, kind_name: str) -> _Texts:
        rows = tuple(allowed(company, kind_name))
        folded = tuple((normalise(rid), normalise(text)) for rid, text in (described(kind_name, r) for r in rows))
        by_text: dict[str, int] = {}
        by_code: dict[str, int] = {}
        for i, (rid, text) in enumerate(folded):
            if text:
                by_text.setdefault(text, i)
            by_code.setdefault(rid.lstrip("0") or "0", i)
        grams = tuple((_grams(rid), _grams(text)) for rid, text in folded)
        return cls(kind_name, rows, folded, by_text, by_code, grams)

    def place(self, company: Company, value: str) -> Placed | str:
        """By description, by the same code written otherwise, or by a close description."""
        wanted = normalise(value)
        if wanted in self.by_text:
            rid, text = described(self.kind_name, self.rows[self.by_text[wanted]])
            return Placed(rid, f"described as {text!r}")
        if wanted and _code(value) in self.by_code:
            rid, _ = described(self.kind_name, self.rows[self.by_code[_code(value)]])
            return Placed(rid, f"the same code as {rid}", sure=False)
        best = self._nearest(wanted, 2, descriptions_only=True)
        if best and best[0][0] >= _CLOSE and (len(best) == 1 or best[1][0] < best[0][0]):
            rid, text = described(self.kind_name, self.rows[best[0][1]])
            return Placed(rid, f"close to its description {text!r}", sure=False)
        return f"not {one(kind(self.kind_name).label)} of this company; it has {self.listed(company, value)}"

    def listed(self, company: Company, value: str) -> str:
        """Every record a write may use, for a small kind; the closest ones otherwise."""
        if len(self.rows) <= _LISTED:
            return shown_values(company, self.kind_name, list(self.rows))
        close = [self.rows[i] for _, i in self._nearest(normalise(value), 3)]
        return f"{len(self.rows)}, the closest {shown_values(company, self.kind_name, close)}"

    def _nearest(self, wanted: str, n: int, descriptions_only: bool = False) -> list[tuple[float, int]]:
        """The ``n`` best (score, index). Shared letter triples pick a few likely records
        cheaply; difflib's ratio (a prefix counts as close) then ranks only those."""
        if not wanted:
            return []
        mine = _grams(wanted)
        first = 1 if descriptions_only else 0  # (id, description): skip the id
        likely = heapq.nlargest(_SHORTLIST, range(len(self.folded)), key=lambda i: max(
            _overlap(wanted, mine, self.folded[i][part], self.grams[i][part]) for part in range(first, 2)))
        scored = []
        for i in likely:
            texts = self.folded[i][1:] if descriptions_only else self.folded[i]
            score = max((_nearness(wanted, text) for text in texts if text), default=0.0)
            if score > 0:
                scored.append((score, i))
        return sorted(scored, key=lambda t: (-t[0], t[1]))[:n]


def _grams(text: str) -> frozenset[str]:
    return frozenset(text[i:i + 3] for i in range(max(1, len(text) - 2)))


def _overlap(wanted: str, mine: frozenset[str], text: str, grams: frozenset[str]) -> float:
    if not text:
        return 0.0
    if len(wanted) >= 4 and (text.startswith(wanted) or wanted.startswith(text)):
        return 1.0
    return len(mine & grams) / len(mine | grams)


def _nearness(wanted: str, text: str) -> float:
    ratio = difflib.SequenceMatcher(None, wanted, text).ratio()
    return max(0.85, ratio) if len(wanted) >= 4 and (text.startswith(wanted) or wanted.startswith(text)) else ratio


# -- credit terms by their days ---------------------------------------------------------------


def _terms(company: Company, value: str, _today: dt.date) -> Placed | str | None:
    numbers = _NUMBER.findall(value)
    cash = normalise(value) in _CASH_WORDS
    if not cash and len(numbers) != 1:
        return None  # no days, or several (2 % 10 dager, netto 30): a person reads those
    days = 0 if cash else float(numbers[0].replace(",", "."))
    fitting = [r for r in allowed(company, "creditTerms")
               if str(r.get("dueDateType") or "N").upper() == "N" and r.get("dueDay1") == days]
    if not fitting:
        return None
    wanted = normalise(value)
    fitting.sort(key=lambda r: (bool(r.get("discountPercent")), -difflib.SequenceMatcher(
        None, wanted, normalise(described("creditTerms", r)[1])).ratio()))
    rid, text = described("creditTerms", fitting[0])
    why = f"dueDay1 {days:g}" + (" (cash)" if cash else "") + (f", {text}" if text else "")
    if len(fitting) > 1:
        return Placed(rid, why + f"; also {days:g} days: {', '.join(described('creditTerms', r)[0] for r in fitting[1:])}",
                      sure=False)
    return Placed(rid, why)


# -- VAT by rate --------------------------------------------------------------------------------


def _rate(value: str) -> float | None:
    match = _RATE.match(value)
    return float(match.group(1).replace(",", ".")) if match else None


def _sales_vats(company: Company, category: Record, today: dt.date) -> list[Record]:
    cat_id = normalise(str(category.get("vatCategoryId", "")))
    listed = {normalise(str(line.get("vatId", ""))) for line in category.get("vatCategoryLines") or ()}
    out = []
    for vat in company.records["vats"]:
        in_category = normalise(str(vat.get("vatId", ""))) in listed or any(
            normalise(str(c.get("vatCategoryId", ""))) == cat_id for c in vat.get("categories") or ())
        ended = str(vat.get("notValidAfter") or "9999")[:10] < today.isoformat()
        if in_category and not ended and not str(vat.get("type") or "").casefold().startswith("purchase") \
                and not vat.get("statisticalVat") and not vat.get("reverseVat"):
            out.append(vat)
    return out


def _schedule(vat: Record) -> list[tuple[str, float]]:
    """(start date, output rate) of a VAT, oldest first."""
    rows = [(str(s.get("startDate") or "")[:10], float(s.get("vatRate") or 0.0)) for s in vat.get("schedules") or ()
            if str(s.get("groupType") or "Output").casefold() == "output"]
    return sorted(rows)


def _rate_on(vats: list[Record], day: dt.date) -> float | None:
    rates = [r for r in (_latest(_schedule(v), day) for v in vats) if r is not None]
    return sum(rates) if rates else None


def _latest(rows: list[tuple[str, float]], day: dt.date) -> float | None:
    past = [rate for start, rate in rows if start <= day.isoformat()]
    return past[-1] if past else None


def _home_zone(company: Company) -> str | None:
    """The VAT zone most of the company's VATs apply in."""
    zones = Counter(normalise(str(z.get("id", ""))) for v in company.records["vats"] for z in v.get("zones") or ())
    return zones.most_common(1)[0][0] if zones else None


def _vat(company: Company, value: str, today: dt.date) -> Placed | str | None:
    rate = _rate(value)
    if rate is None:
        return None
    home = _home_zone(company)
    now: list[tuple[Record, list[Record]]] = []
    once: list[tuple[Record, str]] = []
    for category in allowed(company, "vatCategories"):
        vats = _sales_vats(company, category, today)
        if vats and _rate_on(vats, today) == rate:
            now.append((category, vats))
        elif len(vats) == 1:
            start = next((s for s, r in _schedule(vats[0]) if r == rate), None)
            if start is not None:
                once.append((category, start))
    if now:
        def rank(item: tuple[Record, list[Record]]) -> tuple[bool, bool]:
            vats = item[1]
            at_home = any(normalise(str(z.get("id", ""))) == home for v in vats for z in v.get("zones") or ())
            return not at_home, not all(v.get("includeinVatTotal", True) for v in vats)

        now.sort(key=rank)
        rid, text = described("vatCategories", now[0][0])
        why = f"output VAT {rate:g} % today" + (f", {text}" if text else "")
        if len(now) > 1:
            others = ", ".join(f"{described('vatCategories', c)[0]} ({described('vatCategories', c)[1]})"
                               for c, _ in now[1:])
            return Placed(rid, f"{why}; also {rate:g} %: {others}", sure=False)
        return Placed(rid, why)
    if once:
        category, start = once[0]
        rid, text = described("vatCategories", category)
        return Placed(rid, f"output VAT was {rate:g} % from {start}, not today ({text})", sure=False)
    rates = ", ".join(f"{described('vatCategories', c)[0]} ({r:g} %)" for c in allowed(company, "vatCategories")
                      if (r := _rate_on(_sales_vats(company, c, today), today)) is not None)
    return f"no VAT category of this company has {rate:g} % output VAT; it has {rates or 'none with a sales VAT'}"


# -- currencies ---------------------------------------------------------------------------------


def _currency(company: Company, value: str, _today: dt.date) -> Placed | str | None:
    text = value.strip().casefold()
    if any(normalise(described("currencies", r)[1]) == normalise(text) for r in allowed(company, "currencies")):
        return None  # its own description says it better
    if normalise(text) in _BASE_CURRENCY_WORDS:
        base = next((r for r in allowed(company, "currencies") if r.get("isBaseCurrency")), None)
        if base is not None:
            return Placed(described("currencies", base)[0], "the company's base currency")
    code = _CURRENCY_WORDS.get(text) or _CURRENCY_WORDS.get(" ".join(text.split()))
    found = company.find("currencies", code) if code else None
    if found is not None and usable("currencies", found) is None:
        return Placed(described("currencies", found)[0], f"{value.strip()} is how {code} is often written")
    return None


# -- a whole column ------------------------------------------------------------------------------


def _distinct(values: list[str]) -> dict[str, str] | None:
    """A column's distinct values, trimmed and without case (the first spelling kept); None when
    it has none or more than :data:`DISTINCT_CAP` (then it is no value-map candidate)."""
    distinct: dict[str, str] = {}
    for v in values:
        distinct.setdefault(v.strip().casefold(), v.strip())
    return distinct if distinct and len(distinct) <= DISTINCT_CAP else None


def company_values(company: Company, api: str, source: str, values: list[str],
                   today: dt.date | None = None) -> ValueSuggestion | None:
    """The value map of one column that names the company's records; None for any other column."""
    kind_name = reference_kind(api)
    distinct = _distinct(values)
    if kind_name is None or kind_name in company.unavailable or distinct is None:
        return None
    label = kind(kind_name).label
    suggestion = ValueSuggestion(api, source, hint=f"{plural(label)} of {company.name}")
    ids_only = all(company.find(kind_name, v) is not None for v in distinct.values())
    texts = _Texts.of(company, kind_name)
    for shown in distinct.values():
        placed = place(company, kind_name, shown, today, texts)
        if kind_name == "vatCategories" and not ids_only and _rate(shown) is not None and isinstance(placed, Placed) \
                and placed.why == "":
            placed = _vat(company, shown, today or dt.date.today()) or placed  # a column of rates: 5 is 5 %
            if isinstance(placed, str):
                placed += f"; {shown} is also a VAT category id of this company"
        if isinstance(placed, str):
            suggestion.todo.append(shown)
            suggestion.notes[shown] = placed
        elif placed.why or placed.id != shown or len(distinct) <= _SHOWN_IDENTITIES:
            suggestion.mapped[shown] = placed.id
            suggestion.notes[shown] = placed.why + ("; check" if placed.why and not placed.sure else "")
    return suggestion if suggestion.mapped or suggestion.todo else None


# -- without the company ----------------------------------------------------------------------------


_ISO_CURRENCY = re.compile(r"[A-Z]{3}\Z")


def open_values(api: str, source: str, values: list[str]) -> ValueSuggestion | None:
    """The value map of a column that names the company's records, without the company's
    records to place its values on: each distinct value a TODO line; None for any other column."""
    kind_name = reference_kind(api)
    distinct = _distinct(values)
    if kind_name is None or distinct is None:
        return None
    label = kind(kind_name).label
    suggestion = ValueSuggestion(api, source, hint=f"the target company's {plural(label)} "
                                 "(map init --company FILE proposes them)")
    for shown in distinct.values():
        code = _CURRENCY_WORDS.get(shown.casefold()) if kind_name == "currencies" else None
        if code is not None:
            suggestion.mapped[shown] = code
            suggestion.notes[shown] = f"{shown} is how {code} is often written; check"
            continue
        if kind_name == "currencies" and _ISO_CURRENCY.match(shown):
            continue  # NOK, SEK: the API's own codes
        suggestion.todo.append(shown)
        suggestion.notes[shown] = _open_note(kind_name, label, shown)
    return suggestion if suggestion.mapped or suggestion.todo else None


def _open_note(kind_name: str, label: str, value: str) -> str:
    """What a TODO line says of a value no company's records were given to place."""
    numbers = _NUMBER.findall(value)
    if kind_name == "creditTerms" and normalise(value) in _CASH_WORDS:
        return "cash: the id of the company's 0-day credit terms"
    if kind_name == "creditTerms" and len(numbers) == 1:
        return f"{numbers[0]} days: the id of the company's credit terms due {numbers[0]} days after the document"
    if kind_name == "vatCategories" and _rate(value) is not None:
        return f"{value} %: the id of the company's VAT category of that output rate"
    if kind_name == "currencies" and normalise(value) in _BASE_CURRENCY_WORDS:
        return "the company's base currency, as an ISO 4217 code (NOK)"
    return f"{one(label)} of the company"
