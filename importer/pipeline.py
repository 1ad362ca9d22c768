"""The load stage: work → bounded stream → N workers → results file.

The producer (``run``) pulls mapped work and hands it to ``concurrency`` workers
over a bounded anyio memory stream, so reading never runs ahead of sending by
more than a few items. Invalid work and, on ``--dry-run``, all work is answered
by the producer itself without a request. Each worker writes a ``started`` line
before it sends and the final line after, so a crash at any moment leaves a
file that ``--resume`` can finish.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import orjson
from anyio.streams.memory import MemoryObjectReceiveStream

from importer.client.http import ApiClient, Attempt, LookupUnavailable, Response
from importer.entities import Entity
from importer.keys import decode_key, encode_key
from importer.mapping import Work
from importer.options import ImportOptions
from importer.results import ResultsState
from importer.summary import Summary

__all__ = ["Pipeline", "OutcomeCallback", "ResultSink"]

OutcomeCallback = Callable[[dict[str, Any]], None]


class ResultSink:
    """Where result lines go: the results file (if any) and the caller's callback."""

    def __init__(self, writer: Any | None, on_outcome: OutcomeCallback | None) -> None:
        self.writer = writer
        self.on_outcome = on_outcome

    def started(self, records: list[int], entity: str, key: str | None, action: str) -> None:
        if self.writer is not None:
            self.writer.started(records, entity, key, action)

    def final(self, line: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer.write(line)
        if self.on_outcome is not None:
            self.on_outcome(line)


class Pipeline:
    def __init__(
        self,
        entity: Entity,
        options: ImportOptions,
        client: ApiClient | None,
        sink: ResultSink,
        summary: Summary,
        *,
        resume: ResultsState | None = None,
        reference_prefix: str = "import",
    ) -> None:
        self.entity = entity
        self.options = options
        self.client = client
        self.sink = sink
        self.summary = summary
        self.resume = resume
        self.reference_prefix = reference_prefix[:24]
        self.action = "action" if entity.is_action else options.mode
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """Stop taking new work; what is in flight finishes (the caller bounds how long)."""
        self._stopping = True

    # -- producer ----------------------------------------------------------------

    async def run(self, works: AsyncIterator[Work]) -> None:
        concurrency = self.options.concurrency
        send, receive = anyio.create_memory_object_stream[Work](max_buffer_size=concurrency)
        async with anyio.create_task_group() as tg:
            if not self.options.dry_run:
                for _ in range(concurrency):
                    tg.start_soon(self._worker, receive.clone())
            receive.close()
            async with send:
                async for work in works:
                    self.summary.records += len(work.records)
                    if self._stopping:
                        self.summary.not_processed += len(work.records)
                        continue  # keep counting what was read, send nothing
                    if self._already_final(work):
                        continue
                    if work.error is not None:
                        self._write_invalid(work)
                    elif self.options.dry_run:
                        self._write_dry_run(work)
                    else:
                        await send.send(work)

    def _already_final(self, work: Work) -> bool:
        state = self.resume
        if state is None or not state.seen(work.records):
            return False
        if state.succeeded(work.records):
            self.summary.already_done += len(work.records)
            return True
        if state.failed(work.records) and not self.options.retry_failed:
            self.summary.already_done += len(work.records)
            self.summary.earlier_failed += len(work.records)
            return True
        return False

    # -- workers -----------------------------------------------------------------

    async def _worker(self, receive: MemoryObjectReceiveStream[Work]) -> None:
        async with receive:
            async for work in receive:
                if self._stopping:  # not started: no line, so --resume sends it
                    self.summary.not_processed += len(work.records)
                    continue
                await self._send(work)

    async def _send(self, work: Work) -> None:
        assert self.client is not None
        method, path, body, idempotent = self._request(work)
        lookup = self._lookup(work)
        self.sink.started(work.records, self.entity.name, work.key, self.action)
        started = time.perf_counter()
        attempt: Attempt | None = None
        if self.resume is not None and self.resume.in_flight(work.records):
            attempt = await self._recheck(work, lookup, idempotent)
        if attempt is None:
            attempt = await self.client.request(
                method, path, body, lookup=lookup, idempotent=idempotent
            )
        self._write_attempt(work, attempt, started)

    async def _recheck(self, work: Work, lookup: Any, idempotent: bool) -> Attempt | None:
        """A record in flight when the last run died: is it already in the API?"""
        if lookup is None:
            if idempotent:
                return None  # sending it again does no harm
            return Attempt(
                None, 0,
                "outcome unknown: it was being sent when the last run stopped and cannot be "
                "looked up; check it in Visma.net, then rerun with --retry-failed",
            )
        self.summary.lookups += 1
        try:
            found = await lookup()
        except LookupUnavailable as exc:
            return Attempt(None, 0, f"outcome unknown: {exc}")
        return Attempt(found, 0, None, found_by_lookup=True) if found is not None else None

    def _request(self, work: Work) -> tuple[str, str, bytes, bool]:
        """Method, path, body and whether sending it twice is harmless."""
        entity, payload = self.entity, work.payload
        assert payload is not None
        if entity.is_action:
            path = f"{entity.path}/{encode_key(work.key or '')}/action/{entity.action}"
            return "POST", path, orjson.dumps(payload), False
        if self.options.mode == "update":
            body = {k: v for k, v in payload.items() if k != entity.key_field}
            lines = body.get(entity.line_field) if entity.line_field else None
            inserts = any(line.get("operation") == "Insert" for line in lines or ())
            return "PUT", f"{entity.path}/{encode_key(work.key or '')}", orjson.dumps(body), not inserts
        if (
            entity.is_document
            and work.key is None
            and self.options.set_external_reference
            and "externalReference" not in payload
        ):
            payload["externalReference"] = {"value": self._reference(work)}
        return "POST", entity.path, orjson.dumps(payload), False

    def _reference(self, work: Work) -> str:
        """A stable externalReference for an auto-numbered document: found again on a rerun."""
        return f"{self.reference_prefix}:{work.group or work.records[0]}"

    def _lookup(self, work: Work) -> Any:
        """A coroutine function telling whether ``work`` is already in the API, or None."""
        if self.entity.is_action or self.options.mode != "create":
            return None
        client, entity = self.client, self.entity
        assert client is not None
        if work.key:
            path = f"{entity.path}/{encode_key(work.key)}"

            async def by_key() -> Response | None:
                attempt = await client.request("GET", path)
                return _found(attempt, lambda data: True)

            return by_key
        payload = work.payload or {}
        reference = (payload.get("externalReference") or {}).get("value")
        if entity.is_document and reference:

            async def by_reference() -> Response | None:
                attempt = await client.request(
                    "GET", entity.path, params={"externalReference": reference}
                )
                return _found(attempt, lambda data: isinstance(data, list) and bool(data))

            return by_reference
        return None

    # -- result lines --------------------------------------------------------------

    def _line(self, work: Work, outcome: str, **fields: Any) -> dict[str, Any]:
        line = {
            "records": work.records,
            "entity": self.entity.name,
            "key": work.key,
            "action": self.action,
            "outcome": outcome,
            "http_status": None,
            "attempts": 0,
            "location": None,
            "error": None,
            "elapsed_ms": 0.0,
        }
        line.update(fields)
        self.summary.outcomes[outcome] += len(work.records)
        self.summary.units += 1
        return line

    def _write_invalid(self, work: Work) -> None:
        self.sink.final(self._line(work, "invalid", error=work.error))

    def _write_dry_run(self, work: Work) -> None:
        method, path, body, _ = self._request(work)
        self.sink.final(
            self._line(
                work, "skipped", error="dry run: not sent",
                request=f"{method} {path}", payload=orjson.loads(body),
            )
        )

    def _write_attempt(self, work: Work, attempt: Attempt, started: float) -> None:
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        response = attempt.response
        self.summary.sent_units += 1
        fields: dict[str, Any] = {"attempts": attempt.attempts, "elapsed_ms": elapsed_ms}
        if response is None or attempt.error is not None:
            if response is not None:
                fields["http_status"] = response.status
            self.sink.final(self._line(work, "failed", error=attempt.error, **fields))
            return
        fields["http_status"] = response.status
        if attempt.found_by_lookup:
            fields["recovered"] = True  # an ambiguous failure had in fact gone through
            key = work.key or _key_from_list(response, self.entity.key_field)
            fields["key"] = key
            if key:
                fields["location"] = f"{self.client.base_url}{self.entity.path}/{encode_key(key)}"  # type: ignore[union-attr]
            self.sink.final(self._line(work, "created", **fields))
            return
        status = response.status
        if 200 <= status < 300:
            if self.entity.is_action:
                data = response.json() or {}
                if isinstance(data, dict) and data.get("actionResult") == "Failed":
                    error = data.get("errorInfo") or "the action failed"
                    self.sink.final(self._line(work, "failed", error=error, **fields))
                    return
                self.sink.final(self._line(work, "done", **fields))
                return
            if self.options.mode == "update":
                self.sink.final(self._line(work, "updated", **fields))
                return
            location = response.location
            fields["location"] = location
            if work.key is None and location:
                fields["key"] = decode_key(location.rstrip("/").rsplit("/", 1)[-1])
            self.sink.final(self._line(work, "created", **fields))
            return
        self.sink.final(self._line(work, "failed", error=response.error_text(), **fields))


def _found(attempt: Attempt, matches: Callable[[Any], bool]) -> Response | None:
    response = attempt.response
    if response is not None and attempt.error is None:
        if response.status == 200 and matches(response.json()):
            return response
        if response.status in (200, 404):
            return None
    reason = attempt.error or (f"HTTP {response.status}" if response else "no answer")
    raise LookupUnavailable(f"could not check whether it already exists ({reason})")


def _key_from_list(response: Response, key_field: str | None) -> str | None:
    data = response.json()
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict) and key_field:
        value = data.get(key_field)
        if isinstance(value, dict):
            value = value.get("value")
        return str(value) if value is not None else None
    return None
