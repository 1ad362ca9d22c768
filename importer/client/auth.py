"""Bearer tokens: a fixed one, or Visma Connect client credentials cached and renewed.

The secret and the token are never put in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import time
from typing import Protocol

import aiohttp
import anyio
import orjson

from importer.errors import AuthError

__all__ = ["TokenSource", "StaticToken", "ClientCredentials", "DEFAULT_TOKEN_URL", "DEFAULT_SCOPE"]

DEFAULT_TOKEN_URL = "https://connect.visma.com/connect/token"
DEFAULT_SCOPE = (
    "vismanet_erp_service_api:create vismanet_erp_service_api:read vismanet_erp_service_api:update"
)


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
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.tenant_id = tenant_id
        self.token_url = token_url
        self.scope = scope
        self.timeout = timeout
        self.calls = 0
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret=***)"

    async def token(self, session: aiohttp.ClientSession) -> str:
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:  # one fetch, however many workers are waiting
            if self._token is None or time.monotonic() >= self._renew_at:
                await self._fetch(session)
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> bool:
        if self._token == token:
            self._token = None
        return True

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
        try:
            async with session.post(
                self.token_url, data=form, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AuthError(f"token endpoint {self.token_url} unreachable: {type(exc).__name__}") from None
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            data = {}
        if status != 200 or not isinstance(data, dict) or "access_token" not in data:
            reason = data.get("error_description") or data.get("error") if isinstance(data, dict) else None
            raise AuthError(
                f"token endpoint refused client {self.client_id!r}: HTTP {status}"
                + (f" ({reason})" if reason else "")
            )
        self._token = str(data["access_token"])
        lifetime = float(data.get("expires_in", 3600))
        # Renew a little early so no request goes out with a token about to lapse.
        self._renew_at = time.monotonic() + max(lifetime - min(60.0, lifetime * 0.1), 0.0)
