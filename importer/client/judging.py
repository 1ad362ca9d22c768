"""Judging an answer: is it the success it looks like, a systemic failure, proof the setup is right?

An answer is the records' own when the API speaks in it about what was sent: a 4xx
with a message (JSON, or the plain text the live API sometimes answers), a 404 by
key. Such answers fail their records and nothing else, however many records share
one. An answer that is not the API's (a sign-in page, a redirect, a 2xx that does
not prove the write) is the setup's: :func:`against_setup` tells it, and
:class:`~importer.client.halting.FirstWrites` halts on it.
"""

from __future__ import annotations

from importer.client import halting
from importer.client.answers import Response
from importer.client.attempts import Sending

__all__ = ["verdict", "systemic", "trusted", "against_setup", "scrub", "scrub_bytes"]


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
    if call.optional and status in (403, 404):
        return None  # what may not or cannot be read is the caller's to note
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
    if status in (401, 403, 404) or _is_html(response):  # a wrong base URL answers 404 to a key as well
        return None
    return True  # an ordinary refusal (400, 409, 412...) came from the API itself


def against_setup(call: Sending, response: Response | None) -> str | None:
    """Why a write's failed final answer is one no record can cause; None when it may be the record's.

    A 2xx/3xx that did not prove the write (``call.signature`` says why), but not a 202:
    a job the API queued is the API's own answer. A 4xx that is an HTML page, as a
    proxy or a web server that is not the API answers. A 502, 503 or 504 that outlasted
    the write's retries: a gateway or an API that is down. Never a 500 (the live API
    answers some refusals of a record's data with one), a 429 (the live API answers one
    to a record refused twice), a 4xx with the API's message, or no answer.
    """
    if response is None or call.signature is None:
        return None
    status, reason = call.signature
    if status < 400:
        return None if status == 202 else reason
    if status in _GATEWAY or (status < 500 and _is_html(response)):
        return response.not_json_reason() or reason
    return None


_GATEWAY = frozenset({502, 503, 504})


def _is_html(response: Response) -> bool:
    return response.content_type in ("text/html", "application/xhtml+xml") or response.body.lstrip()[:1] == b"<"


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
