"""The OAuth2 client-credentials token endpoint and bearer-token checks.

Tokens are random, live ``token_ttl`` seconds and map to the *caller* that asked for them:
the client and the tenant (company) of the token request. Rate windows and background-job
ownership are kept per caller, the live API's "company and client" rule; records are kept
per tenant, so every token of one company sees the same ledger. A configured static token
never expires and counts as a client of its own in ``STATIC_TENANT``, so a newcomer can
``curl -H 'Authorization: Bearer sandbox-token'``.
Neither tokens nor secrets are ever logged or echoed in error messages.

Scopes are enforced as the API gateway enforces them, by the request's method: a GET needs
``vismanet_erp_service_api:read``, a POST (creates, release, createDunningLetter)
``...:create``, a PUT or PATCH ``...:update``, a DELETE ``...:delete``; a token without it
is answered 403 ``{"message": ...}`` naming the scope, and nothing is done. A token has the
scopes its request asked for (``scope``), each of which the client must be allowed
(``client_scopes``; a client not listed there is allowed all four), else the token request
is refused ``invalid_scope``; a request without ``scope`` gets the client's allowed scopes
among create, read and update. The static token has every scope.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from importer.sandbox.answers import ApiError, message_error
from importer.sandbox.scopes import SCOPES

__all__ = ["Auth", "Caller", "STATIC_CLIENT", "STATIC_TENANT", "SCOPES", "caller", "scope_for"]

STATIC_CLIENT = "(static token)"  # client identity of the static token
STATIC_TENANT = "sandbox"  # the company the static token acts for
_DEFAULT_SCOPES = SCOPES[:3]  # what a token request without ``scope`` asks for
_SCOPE_OF_METHOD = {"GET": SCOPES[1], "HEAD": SCOPES[1], "POST": SCOPES[0], "PUT": SCOPES[2],
                    "PATCH": SCOPES[2], "DELETE": SCOPES[3]}
_PURGE_ABOVE = 1024  # tokens kept before expired ones are swept
_CHALLENGE = 'Bearer realm="visma.net sandbox"'


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request acts as; made once per token, so reading it costs a request nothing."""

    key: str  # client and tenant in one string (``caller()``): rate windows, jobs, repeats
    tenant: str  # the company whose ledger the request reads and writes
    scopes: frozenset[str] = frozenset(SCOPES)  # what the token may do

    def refusal(self, method: str) -> ApiError | None:
        """The 403 for a request whose method needs a scope this token lacks, else None."""
        needed = scope_for(method)
        if needed is None or needed in self.scopes:
            return None
        return message_error(
            403, f"Forbidden: the access token lacks the scope '{needed}', which a {method} request needs.",
        )


def scope_for(method: str) -> str | None:
    """The scope a request with ``method`` needs (None: no scope covers it; routing refuses it)."""
    return _SCOPE_OF_METHOD.get(method)


class Auth:
    """Issues tokens to configured clients and maps bearer tokens back to clients."""

    def __init__(
        self,
        clients: Mapping[str, str],
        static_token: str | None,
        ttl: float,
        clock: Callable[[], float],
        client_scopes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._clients = dict(clients)
        # client id -> the scopes it may be given; a client not listed may have every scope
        self._allowed = {c: frozenset(s) for c, s in (client_scopes or {}).items()}
        self._ttl = ttl
        self._clock = clock
        # token -> (caller, expires at); the caller is built once, at issue time, so keying
        # rate windows by company and client and ledgers by company costs nothing per request.
        self._tokens: dict[str, tuple[Caller, float]] = {}
        if static_token:
            self._tokens[static_token] = (_caller(STATIC_CLIENT, STATIC_TENANT), math.inf)

    # -- token endpoint ------------------------------------------------------------------

    def issue(self, form: Mapping[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        """Answer a token request: (status, JSON body) in OAuth2's shapes."""
        grant = form.get("grant_type")
        if not grant:
            return 400, _oauth_error("invalid_request", "grant_type is required")
        if grant != "client_credentials":
            return 400, _oauth_error("unsupported_grant_type", "only client_credentials is supported")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = _basic_credentials(authorization)
        if basic is not None:
            client_id, secret = basic
        expected = self._clients.get(client_id or "")
        if not client_id or secret is None or expected is None or not hmac.compare_digest(
            secret.encode(), expected.encode()
        ):
            return 400, _oauth_error("invalid_client", "unknown client or wrong secret")
        tenant = form.get("tenant_id")
        if not tenant:
            return 400, _oauth_error("invalid_request", "tenant_id is required")
        allowed = self._allowed.get(client_id, frozenset(SCOPES))
        requested = (form.get("scope") or "").split()
        if requested:
            wanted = list(dict.fromkeys(requested))
            unknown = [s for s in wanted if s not in SCOPES]
            if unknown:
                return 400, _oauth_error("invalid_scope", f"unknown scope {unknown[0]!r}")
            refused = [s for s in wanted if s not in allowed]
            if refused:
                return 400, _oauth_error("invalid_scope", f"the client is not allowed the scope {refused[0]!r}")
        else:
            wanted = [s for s in _DEFAULT_SCOPES if s in allowed] or [s for s in SCOPES if s in allowed]
        scope = " ".join(wanted)
        now = self._clock()
        if len(self._tokens) > _PURGE_ABOVE:
            self._tokens = {t: e for t, e in self._tokens.items() if e[1] > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (_caller(client_id, tenant, frozenset(wanted)), now + self._ttl)
        expires_in = int(self._ttl) if self._ttl >= 1 else 1
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": scope}

    # -- bearer check --------------------------------------------------------------------

    def caller_of(self, authorization: str | None) -> Caller:
        """The caller (client and tenant) behind an ``Authorization`` header, or a 401 ApiError."""
        if not authorization:
            raise message_error(
                401, "Authorization has been denied for this request: no bearer token was sent.",
                {"WWW-Authenticate": _CHALLENGE},
            )
        scheme, _, token = authorization.partition(" ")
        entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None:
            raise message_error(
                401, "Authorization has been denied for this request: the bearer token is not valid.",
                {"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
            )
        found, expires = entry
        if self._clock() >= expires:
            del self._tokens[token.strip()]
            raise message_error(
                401, "Authorization has been denied for this request: the bearer token has expired.",
                {"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
            )
        return found

    def knows(self, authorization: str | None) -> bool:
        """Whether the header carries the static token or an unexpired issued one."""
        if not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return entry is not None and self._clock() < entry[1]


def caller(client_id: str, tenant: str) -> str:
    """The identity rate windows and background jobs are kept by: client and company.

    The client id's length leads, so no id or tenant containing ``@`` can pass for another.
    """
    return f"{len(client_id)}:{client_id}@{tenant}"


def _caller(client_id: str, tenant: str, scopes: frozenset[str] = frozenset(SCOPES)) -> Caller:
    return Caller(caller(client_id, tenant), tenant, scopes)


def _oauth_error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Client id and secret from HTTP Basic auth (RFC 6749 2.3.1), if that is what was sent."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
