"""Bearer tokens: a fixed one, or Visma Connect client credentials cached and renewed.

The secret and the token are never put in a message, a log line or a ``repr``;
an ``error_description`` from the token endpoint is shown with both taken out.

What the token endpoint answers is checked like any other answer: it must be a
JSON object (read under a 64 KiB cap, no redirect followed) with a non-empty
``access_token``. ``expires_in`` must be a number of seconds when it is there;
when it is missing the token is taken to last an hour (RFC 6749 leaves it to the
server; a token that lapses sooner is renewed on its first 401 anyway). A token
is reused for at least 30 s whatever ``expires_in`` says, so a lifetime of 0
cannot cost a fetch per request, and a failed fetch is not tried again for 5 s.

A token endpoint that is down for a moment does not stop a run: a 5xx, a 429 or no
answer at all (refused, reset, timed out) is asked again, with exponential backoff
and full jitter, honouring ``Retry-After``, up to :attr:`RetryPolicy.max_attempts`
tries within :attr:`RetryPolicy.budget` seconds (:data:`TOKEN_RETRY` unless told);
giving up names how many tries and how long it took, and the last error. Any other
answer is final at once: a 4xx is a refusal of the credentials, and an answer that is
no token (HTML, a redirect, too large) means the token URL is wrong.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol
from urllib.parse import quote, quote_plus

import aiohttp
import anyio

from importer.client.answers import AnswerTooLarge, Response, read_body, size_text
from importer.client.attempts import RetryPolicy
from importer.client.limits import retry_after_seconds
from importer.errors import AuthError

__all__ = ["TokenSource", "StaticToken", "ClientCredentials", "DEFAULT_TOKEN_URL", "DEFAULT_SCOPE", "READ_SCOPE", "TOKEN_RETRY"]

log = logging.getLogger("importer.client")

DEFAULT_TOKEN_URL = "https://connect.visma.com/connect/token"
DEFAULT_SCOPE = (
    "vismanet_erp_service_api:create vismanet_erp_service_api:read vismanet_erp_service_api:update"
)
# What the commands that only read ask for (export, verify, reconcile, company snapshot), so an
# application the company allowed to read only can run them.
READ_SCOPE = "vismanet_erp_service_api:read"
# What ``importer undo`` asks for: it deletes documents as well.
DELETE_SCOPE = DEFAULT_SCOPE + " vismanet_erp_service_api:delete"
MAX_TOKEN_ANSWER = 64 * 1024  # a token answer is a few KiB; more is not a token endpoint
DEFAULT_LIFETIME = 3600.0  # seconds, when the answer has no expires_in
MIN_REUSE = 30.0  # seconds a token is used for at the least, whatever expires_in says
MAX_LIFETIME = 86400.0
RETRY_FAILED_AFTER = 5.0  # seconds a failed fetch is remembered before the next try
# Tries of one fetch when the endpoint answers 5xx or 429, or not at all: a few, for two minutes at most.
TOKEN_RETRY = RetryPolicy(cap=30.0, budget=120.0)


class _Passing(AuthError):
    """A failure that may pass (5xx, 429, no answer): the fetch is tried again."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenSource(Protocol):
    calls: int  # HTTP calls made to get tokens

    async def token(self, session: aiohttp.ClientSession) -> str: ...

    def invalidate(self, token: str) -> bool:
        """Forget ``token`` after a 401; True if a fresh one can be fetched."""
        ...


class StaticToken:
    """A token given by the user (``--token`` / ``VISMA_TOKEN``); it cannot be renewed."""

    calls = 0

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self, session: aiohttp.ClientSession) -> str:
        return self._token

    def at_hand(self) -> str | None:
        """The token, when it can be had without a call (always, for this one)."""
        return self._token

    def invalidate(self, token: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticToken(***)"


class ClientCredentials:
    """OAuth2 client-credentials grant; renews the token shortly before it expires."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        tenant_id: str | None = None,
        *,
        token_url: str = DEFAULT_TOKEN_URL,
        scope: str = DEFAULT_SCOPE,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.tenant_id = tenant_id
        self.token_url = token_url
        self.scope = scope
        self.timeout = timeout
        self.retry = retry or TOKEN_RETRY
        self.calls = 0
        self._token: str | None = None
        self._renew_at = 0.0
        self._failed: tuple[float, AuthError] | None = None  # (monotonic time, error) of the last failed fetch
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret=***)"

    def at_hand(self) -> str | None:
        """The cached token while it is good; None when :meth:`token` has to fetch one."""
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        return None

    async def token(self, session: aiohttp.ClientSession) -> str:
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:  # one fetch, however many workers are waiting
            if self._token is None or time.monotonic() >= self._renew_at:
                failed = self._failed
                if failed is not None and time.monotonic() - failed[0] < RETRY_FAILED_AFTER:
                    raise failed[1]  # not a fetch per waiting request while the endpoint fails
                try:
                    await self._fetch_with_retries(session)
                except AuthError as exc:
                    self._failed = (time.monotonic(), exc)
                    raise
                self._failed = None
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> bool:
        if self._token == token:
            self._token = None
        return True

    async def _fetch_with_retries(self, session: aiohttp.ClientSession) -> None:
        """:meth:`_fetch`, tried again after a failure that may pass, within the retry policy."""
        policy, started, tries = self.retry, time.monotonic(), 0
        while True:
            tries += 1
            try:
                await self._fetch(session)
                return
            except _Passing as exc:
                last, retry_after = str(exc), exc.retry_after
            spent = time.monotonic() - started
            gave_up = f"{last}; gave up after {tries} {'try' if tries == 1 else 'tries'} in {spent:.1f} s"
            if tries >= policy.max_attempts:
                raise AuthError(gave_up) from None
            delay = policy.delay(tries, retry_after)
            if spent + delay > policy.budget:
                raise AuthError(f"{gave_up}: waiting {delay:.1f} s more would pass the token retry budget "
                                f"of {policy.budget:g} s") from None
            log.info("%s; trying again in %.1f s", last, delay, extra={"attempt": tries, "error": last})
            await anyio.sleep(delay)

    async def _fetch(self, session: aiohttp.ClientSession) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
            "scope": self.scope,
        }
        if self.tenant_id:
            form["tenant_id"] = self.tenant_id
        self.calls += 1
        where = f"token endpoint {self.token_url}"
        timeout = aiohttp.ClientTimeout(total=self.timeout, sock_read=min(self.timeout, 30.0))
        try:
            async with session.post(self.token_url, data=form, timeout=timeout, allow_redirects=False) as resp:
                try:
                    body = await read_body(resp, MAX_TOKEN_ANSWER)
                except AnswerTooLarge:
                    raise AuthError(f"{where} answered more than {size_text(MAX_TOKEN_ANSWER)}: "
                                    "is the token URL right?") from None
                answer = Response(resp.status, resp.headers, body)
        except ValueError as exc:  # aiohttp.InvalidURL among them: no retry mends the URL
            raise AuthError(f"{where} cannot be asked ({type(exc).__name__}): is the token URL right?") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _Passing(f"{where} unreachable: {type(exc).__name__}") from None
        data = answer.json()
        if answer.status >= 500 or answer.status == 429:
            wait = answer.headers.get("Retry-After")
            raise _Passing(f"{where} answered HTTP {answer.status}" + self._reason(answer),
                           retry_after_seconds(wait) if wait is not None else None)
        if answer.status != 200:
            raise AuthError(f"{where} refused client {self.client_id!r}: HTTP {answer.status}" + self._reason(answer))
        if not isinstance(data, dict):
            what = answer.not_json_reason() or "the answer is not a JSON object"
            raise AuthError(f"{where} answered HTTP 200, but {what}: is the token URL right?")
        token = data.get("access_token")
        if not isinstance(token, str) or not token.strip():
            raise AuthError(f"{where} answered HTTP 200 without an access_token")
        lifetime = _lifetime(data.get("expires_in", DEFAULT_LIFETIME))
        if lifetime is None:
            raise AuthError(f"{where} answered an expires_in that is not a number of seconds: "
                            f"{self._clean(str(data.get('expires_in')), token)[:40]!r}")
        self._token = token
        # Renew a little early so no request goes out with a token about to lapse, but
        # never sooner than the floor: a lifetime of 0 must not mean a fetch per request.
        self._renew_at = time.monotonic() + max(lifetime - min(60.0, lifetime * 0.1), MIN_REUSE)

    def _reason(self, answer: Response) -> str:
        """`` (why)`` from the endpoint's error answer, with our secrets taken out."""
        if 300 <= answer.status < 400:
            return f" ({self._clean(answer.redirect_reason(), None)}: is the token URL right?)"
        data = answer.json()
        reason = (data.get("error_description") or data.get("error") or data.get("message")) if isinstance(
            data, dict) else None
        return f" ({self._clean(str(reason), None)[:300]})" if reason else ""

    def _clean(self, text: str, token: str | None) -> str:
        """``text`` with the client secret (as sent, or URL-encoded) and ``token`` replaced by ***."""
        for secret in (self._secret, quote_plus(self._secret), quote(self._secret, safe=""), token, self._token):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return " ".join(text.split())


def _lifetime(value: object) -> float | None:
    """``expires_in`` as seconds (0 for a negative one); None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return min(max(float(value), 0.0), MAX_LIFETIME)
