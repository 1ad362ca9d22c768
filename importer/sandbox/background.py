"""The background API: queue a /v1 request, answer 202, run it later, keep its outcome.

A request with ``erp-api-background`` is accepted at once (202 with ``id`` and
``stateLocation``) and run after ``background_delay_ms`` by a task the app owns. Its state
reads ``Started`` (statusCode 0) until it has run, without ``startedUtc`` while it still
waits; then ``Finished`` with the endpoint's status code (an endpoint error is still a
finished operation; its body is the content), or ``Failed`` if the sandbox itself broke.
The state carries the fields of the document's ``BackgroundRequestStateDto``, in both
profiles; one without a value (``startedUtc``, ``finishedUtc``, ``errorMessage``,
``reference``, ``contentLocation`` until there is one) is left out, as no field of the
response schemas is nullable. Its times are UTC date-times (``2024-05-01T12:00:00.123Z``). Jobs live in memory only and are dropped 24 hours after they finish, as the
live API drops them. A webhook address is recorded and shown in the state, but no notification is posted
to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from importer.sandbox.answers import Answer, ApiError, message_error
from importer.sandbox.dates import now_iso

__all__ = ["BackgroundJobs", "Job"]

log = logging.getLogger("importer.sandbox")
_KEEP_SECONDS = 24 * 3600.0
_SWEEP_EVERY = 1024


@dataclass(slots=True)
class Job:
    id: str
    client: str  # only this client may read the job back
    original_uri: str
    webhook: str
    has_request_content: bool
    received: str
    started: str | None = None  # set when the delay is over and the request runs
    status: str = "Started"
    status_code: int = 0
    finished: str | None = None
    finished_at: float = 0.0  # monotonic, for the 24-hour retention
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def state(self, base: str) -> dict[str, Any]:
        """The BackgroundRequestStateDto of this job; a field without a value is left out."""
        content_location = f"{base}/v1/background/{self.id}/content" if self.content else None
        state = {
            "id": self.id,
            "status": self.status,
            "statusCode": self.status_code,
            "receivedUtc": self.received,
            "startedUtc": self.started,
            "finishedUtc": self.finished,
            "webhookAddress": self.webhook,
            "errorMessage": self.error,
            "reference": None,
            "originalUri": self.original_uri,
            "hasResponseContent": bool(self.content),
            "hasRequestContent": self.has_request_content,
            "contentLocation": content_location,
            "responseHeaders": dict(self.headers),
        }
        return {name: value for name, value in state.items() if value is not None}


class BackgroundJobs:
    """Queued requests and their outcomes; owns the tasks that run them."""

    def __init__(self, delay_ms: float, shape: Callable[[Answer], Answer] | None = None) -> None:
        self._delay = delay_ms / 1000.0
        self._shape = shape  # applied to a finished request's answer (the live error shapes)
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(
        self, client: str, original_uri: str, webhook: str, has_body: bool, run: Callable[[], Answer]
    ) -> Job:
        """Queue ``run`` (the request, ready to execute) and return its job."""
        if len(self._jobs) % _SWEEP_EVERY == _SWEEP_EVERY - 1:
            self._sweep()
        job = Job(str(uuid.uuid4()), client, original_uri, webhook, has_body, now_iso())
        self._jobs[job.id] = job
        task = asyncio.get_running_loop().create_task(self._run(job, run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, job: Job, run: Callable[[], Answer]) -> None:
        await asyncio.sleep(self._delay)
        job.started = now_iso()
        answer: Answer | None
        try:
            answer = run()
        except ApiError as exc:
            answer = exc.answer()
        except Exception as exc:  # a sandbox bug: report it as the live API would, as Failed
            log.exception("background request %s failed", job.id)
            answer = None
            job.status, job.status_code, job.error = "Failed", 500, f"{type(exc).__name__}: {exc}"
        if answer is not None:
            if self._shape is not None:
                answer = self._shape(answer)
            job.status = "Finished"
            job.status_code = answer.status
            job.content = answer.body
            job.headers = dict(answer.headers or {})
            if answer.body:
                job.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        job.finished = now_iso()
        job.finished_at = time.monotonic()

    def find(self, job_id: str, client: str) -> Job:
        """The job ``client`` queued, or 404 (unknown) / 403 (someone else's)."""
        job = self._jobs.get(job_id)
        if job is None:
            raise message_error(404, "No background operation state was found.")
        if job.client != client:
            raise message_error(403, "State request was not done by the same client as the background request.")
        return job

    def content(self, job_id: str, client: str) -> Answer:
        """The finished job's response body, or 404 when there is none (yet)."""
        job = self.find(job_id, client)
        if not job.content:
            raise message_error(404, "No background operation response content was found.")
        return Answer(200, job.content, {"Content-Type": job.headers["Content-Type"]})

    def _sweep(self) -> None:
        cutoff = time.monotonic() - _KEEP_SECONDS
        self._jobs = {k: j for k, j in self._jobs.items() if not j.finished or j.finished_at > cutoff}

    def clear(self) -> None:
        """Forget every job (queued ones still run, unseen)."""
        self._jobs.clear()

    async def close(self) -> None:
        """Cancel what is still queued and wait for it (app shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
