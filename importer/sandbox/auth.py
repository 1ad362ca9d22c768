"""The OAuth2 client-credentials token endpoint and bearer-token checks.

Tokens are random, live ``token_ttl`` seconds and map to the *caller* that asked for them:
the client and the tenant (company) of the token request. Rate windows and background-job
ownership are kept per caller, the live API's "company and client" rule; records are kept
per tenant, so every token of one company sees the same ledger. A configured static token
never expires and counts as a client of its own in ``STATIC_TENANT``, so a newcomer can
``curl -H 'Authorization: Bearer sandbox-token'``.
Neither tokens nor secrets are ever logged or echoed in error messages.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from importer.sandbox.answers import message_error

__all__ = ["Auth", "Caller", "STATIC_CLIENT", "STATIC_TENANT", "SCOPES", "caller"]

STATIC_CLIENT = "(static token)"  # client identity of the static token
STATIC_TENANT = "sandbox"  # the company the static token acts for
SCOPES = (
    "vismanet_erp_service_api:create",
    "vismanet_erp_service_api:read",
    "vismanet_erp_service_api:update",
    "vismanet_erp_service_api:delete",
)
_DEFAULT_SCOPE = " ".join(SCOPES[:3])
_PURGE_ABOVE = 1024  # tokens kept before expired ones are swept
_CHALLENGE = 'Bearer realm="visma.net sandbox"'


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request acts as; made once per token, so reading it costs a request nothing."""

    key: str  # client and tenant in one string (``caller()``): rate windows, jobs, repeats
    tenant: str  # the company whose ledger the request reads and writes


class Auth:
    """Issues tokens to configured clients and maps bearer tokens back to clients."""

    def __init__(
        self,
        clients: Mapping[str, str],
        static_token: str | None,
        ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self._clients = dict(clients)
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
        requested = form.get("scope")
        scope = _DEFAULT_SCOPE
        if requested:
            unknown = [s for s in requested.split() if s not in SCOPES]
            if unknown:
                return 400, _oauth_error("invalid_scope", f"unknown scope {unknown[0]!r}")
            scope = " ".join(requested.split())
        now = self._clock()
        if len(self._tokens) > _PURGE_ABOVE:
            self._tokens = {t: e for t, e in self._tokens.items() if e[1] > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (_caller(client_id, tenant), now + self._ttl)
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


def _caller(client_id: str, tenant: str) -> Caller:
    return Caller(caller(client_id, tenant), tenant)


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
