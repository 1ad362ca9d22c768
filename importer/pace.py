"""How fast a run sends, and how long it waits: the ``Pace`` option group.

Its defaults are the client's own: :class:`~importer.client.http.ApiClient` and
:class:`~importer.client.attempts.RetryPolicy` read theirs from here, and so do the
command line's ``--help``, plans, fleets and :func:`importer.import_records`
(through :class:`importer.options.ImportOptions`). Each number is checked where a run's
options are made (:mod:`importer.options`), so a plan's or a config file's mistake
names its flag.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Pace"]


@dataclass(frozen=True)
class Pace:
    """Requests in flight, a ceiling on their rate, how long one may take, how often it is tried."""

    concurrency: int = 32  # requests in flight at once
    rate: float | None = None  # requests per second, an explicit ceiling (the API's headers pace a run anyway)
    timeout: float = 60.0  # seconds one request may take
    max_attempts: int = 5  # tries per record for network errors and 5xx, and per token fetch
    retry_base: float = 0.5  # seconds; the n-th retry waits up to retry_base * 2**(n-1)
