"""Failures no record can cure: a refused token, a wrong base URL, a page that is not the API.

Against a wrong token or base URL every record would collect the same 401 or 404,
spending the hour's allowance on nothing. So the client halts instead (the run
stops; the results file stays resumable), and until some answer has shown that
the token and the base URL are right it lets only one request out at a time
(:class:`FirstAnswerGate`): a systemic mistake then costs one call, not one per
worker.

What halts is an answer no record can have caused. A refusal that is the API
speaking about a record (a 400, 409 or 422 with its message, a 404 by key) never
does, however many records share it: those records fail and the run goes on, in
this run and in every resume. A failure that may pass (a 5xx, a 429, no answer) is
retried, and halts only when a gateway's 502, 503 or 504 outlasted the retries of
each of the first writes alike: the API is down, not just busy.
"""

from __future__ import annotations

import anyio

__all__ = [
    "FirstAnswerGate", "FirstWrites", "token_refused", "forbidden", "no_such_endpoint",
    "invalid_base_url", "not_the_api", "is_collection_path", "SAME_WRITES",
]

SAME_WRITES = 5  # this many first writes ending the same wrong way halt the client, once the setup is proved
_GIVE_UP_AFTER = 3  # answers that prove nothing either way (5xx, no answer) before the gate opens anyway


def token_refused() -> str:
    return (
        "the API refused the token (HTTP 401): check --token / VISMA_TOKEN, "
        "or the client id, secret and tenant"
    )


def forbidden(text: str) -> str:
    return (
        f"the API refused access (HTTP 403: {text[:200]}): the token lacks a scope this needs "
        "(read, create, update), or the client has no access to this company or tenant"
    )


def no_such_endpoint(method: str, url: str) -> str:
    return (
        f"the API has no such endpoint (HTTP 404 to {method} {url}): check the base URL "
        "(--base-url / VISMA_BASE_URL; the live API's is https://api.finance.visma.net)"
    )


def invalid_base_url(url: str, detail: str) -> str:
    return f"cannot send to {url} ({detail}): check the base URL (--base-url / VISMA_BASE_URL)"


def not_the_api(first: str, status: int, reason: str,
                stopped: str = "stopped so the rest are not sent in vain") -> str:
    """``first`` (``the first write``) got an answer no API gives: a page, a redirect."""
    return (
        f"{first} got an answer that is not the API's (HTTP {status}: {reason[:200]}); {stopped}: is the base "
        "URL right, or is a proxy or sign-in page in front of the API?"
    )


def is_collection_path(path: str | None) -> bool:
    """``/v1/customer`` (and its list queries): no key after the entity, so a 404 means no such API."""
    if not path:
        return False
    bare = path.split("?", 1)[0].rstrip("/")
    return bare.count("/") == 2 and bare.lower().startswith("/v1/")


class FirstAnswerGate:
    """One request at a time until an answer proves the token and the base URL right.

    A request ``enter``s (True: it holds the gate; False: the gate opened while it
    waited) and ``leave``s when done; its own lookups and polls pass without
    waiting. ``learn(True)``: a trusted answer (a 2xx that is what it claims, an
    ordinary refusal such as 400 or 409) opens the gate for good.
    ``learn(False)``: an answer that proves nothing either way (a 5xx, a 429, no
    answer at all) counts towards opening it anyway after :data:`_GIVE_UP_AFTER`,
    so a dead API meets the usual retries and dead-API check. ``learn(None)``:
    neither (401, 403, any 404 since a wrong base URL answers 404 to a key too,
    an answer that is not what it claims to be).
    """

    def __init__(self) -> None:
        self.open = False
        self.proved = False  # a trusted answer came (not just the give-up after answers proving nothing)
        self._held = False
        self._unproven = 0
        self._changed: anyio.Event | None = None

    async def enter(self) -> bool:
        while not self.open:
            if not self._held:
                self._held = True
                return True
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        return False

    def leave(self) -> None:
        self._held = False
        self._notify()

    def open_up(self) -> None:
        self.open = True
        self._notify()

    def learn(self, trusted: bool | None) -> None:
        if trusted:
            self.proved = True
            self.open_up()
        elif trusted is False:
            self._unproven += 1
            if self._unproven >= _GIVE_UP_AFTER:
                self.open_up()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None


class FirstWrites:
    """Watches the first final answers to writes for one that no record can have caused.

    Such an answer is a 2xx or 3xx that does not prove the write (a sign-in page, a
    redirect, a body that is not what it claims), a 4xx that is an HTML page, or a
    502/503/504 that outlasted the write's retries; what makes it so is judged by
    :func:`importer.client.judging.against_setup`. A page that is not the API halts
    at its first write while no answer has proved the token and the base URL right:
    one call. Otherwise :data:`SAME_WRITES` alike do (one may be a blip). Answers
    that are the records' own (see the module) are not counted at all, so they can
    never add up to a halt, whatever a resume sends first. A success ends the watch
    for good, and so does a different answer of this kind.
    """

    def __init__(self) -> None:
        self.watching = True
        self._seen: tuple[int, str] | None = None
        self._times = 0

    def success(self) -> None:
        self.watching = False

    def failure(self, status: int, reason: str, *, at_once: bool) -> str | None:
        """Count one answer no record can cause; the halt message when it is enough."""
        signature = (status, reason)
        if self._seen is None:
            self._seen = signature
        elif signature != self._seen:
            self.watching = False
            return None
        self._times += 1
        if not at_once and self._times < SAME_WRITES:
            return None
        self.watching = False
        if at_once and self._times == 1:
            return not_the_api("the first write", status, reason)
        return (
            f"the first {self._times} writes all ended the same way, which no record can cause (HTTP {status}: "
            f"{reason[:200]}); stopped so the rest are not sent in vain: is the API down, is the base URL "
            "right, or is a proxy or sign-in page in front of the API?"
        )
