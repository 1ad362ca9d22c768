"""Judging an answer: is it the success it looks like, a systemic failure, proof the setup is right?"""

from __future__ import annotations

from importer.client import halting
from importer.client.answers import Response
from importer.client.attempts import Sending

__all__ = ["verdict", "systemic", "trusted", "scrub", "scrub_bytes"]


def verdict(call: Sending, response: Response, token: str | None) -> str | None:
    """Why a 2xx/3xx answer is not the success it looks like; None when it is."""
    if call.too_large is not None:
        return call.too_large
    if response.status >= 300:
        return scrub(response.redirect_reason(), token)
    if call.write:
        return call.proof(response) if call.proof is not None else None
    return response.not_json_reason()


def systemic(call: Sending, response: Response, token: str | None) -> str | None:
    """The halt message when this error answer is one no record can cure."""
    status = response.status
    if status == 401:
        return halting.token_refused()
    if status == 403:
        return halting.forbidden(scrub(response.error_text(), token))
    if status == 404 and halting.is_collection_path(call.path):
        return halting.no_such_endpoint(call.method, call.url_text)
    return None


def trusted(call: Sending, response: Response, token: str | None) -> bool | None:
    """Does this answer show the token and base URL are right? (See FirstAnswerGate.learn.)"""
    status = response.status
    if status == 202:
        return response.is_json or None  # a job the API queued for us
    if status < 400:
        return True if verdict(call, response, token) is None else None
    if status >= 500 or status == 429:
        return False
    if status in (401, 403, 404):  # a wrong base URL answers 404 to a key as well
        return None
    return True  # an ordinary refusal (400, 409, 412...) came from the API itself


MIN_SECRET = 8  # shorter "tokens" (test fixtures) would blank out ordinary letters


def scrub(text: str, token: str | None) -> str:
    """``text`` without the token, should a server echo it."""
    if token is None or len(token) < MIN_SECRET or token not in text:
        return text
    return text.replace(token, "***")


def scrub_bytes(body: bytes, token: str) -> bytes:
    """An answer's body without the token, should a server echo it."""
    if len(token) < MIN_SECRET:
        return body
    secret = token.encode()
    return body.replace(secret, b"***") if secret in body else body
