"""Talking to the API: tokens, pacing by the server's rate-limit headers, retries, answers checked."""

from importer.client import proof
from importer.client.auth import DEFAULT_TOKEN_URL, ClientCredentials, StaticToken, TokenSource
from importer.client.http import ApiClient, Attempt, ClientStats, Response, RetryPolicy
from importer.client.pacing import Pacer
from importer.pace import Pace

__all__ = [
    "ApiClient", "Attempt", "ClientStats", "Response", "RetryPolicy", "Pace", "Pacer",
    "TokenSource", "StaticToken", "ClientCredentials", "DEFAULT_TOKEN_URL", "proof",
]
