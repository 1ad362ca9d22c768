"""The load stage: work → bounded stream → N workers → results file.

The producer (``run``) pulls mapped work and hands it to ``concurrency`` workers
over a bounded anyio memory stream, so reading never runs ahead of sending by
more than a few items. Invalid work, work skipped because its customer failed
in an earlier step and, on ``--dry-run``, all work is answered by the producer
itself without a request. Each worker writes a ``started`` line before it sends
and the final line after, so a crash at any moment leaves a file that
``--resume`` can finish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from anyio.streams.memory import MemoryObjectReceiveStream

from importer.client.http import ApiClient, Attempt, Lookup, LookupUnavailable, Response
from importer.entities import Entity
from importer.keys import decode_key, encode_key
from importer.load.results import ResultsState
from importer.mapping import Work
from importer.options import ImportOptions
from importer.schema import unwrap_value
from importer.summary import Summary

__all__ = ["Pipeline", "OutcomeCallback", "ResultSink"]

log = logging.getLogger("importer.load.pipeline")

OutcomeCallback = Callable[[dict[str, Any]], None]
# After this many records in a row got no answer at all, the API is taken to be down.
_DEAD_AFTER = 50


class ResultSink:
    """Where result lines go: the results file, the failed-records file, the callback."""

    def __init__(self, writer: Any | None, on_outcome: OutcomeCallback | None, failed: Any | None = None) -> None:
        self.writer = writer
        self.on_outcome = on_outcome
        self.failed = failed

    def started(self, records: list[int], entity: str, key: str | None, action: str) -> None:
        if self.writer is not None:
            self.writer.started(records, entity, key, action)

    def final(self, line: dict[str, Any], work: Work) -> None:
        if self.writer is not None:
            self.writer.write(line)
        if self.failed is not None and line["outcome"] in ("failed", "invalid"):
            self.failed.add(work.rows, line["error"])
        if self.on_outcome is not None:
            self.on_outcome(line)


@dataclass(slots=True)
class _Call:
    """One request a unit of work turns into."""

    action: str  # "create" | "update" | "action": the results line's action
    method: str
    path: str
    body: bytes
    idempotent: bool  # sending it twice does no harm


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
        skip_customers: Mapping[str, str] | None = None,
    ) -> None:
        self.entity = entity
        self.options = options
        self.client = client
        self.sink = sink
        self.summary = summary
        self.resume = resume
        self.reference_prefix = reference_prefix[:24]
        self.existing_keys: set[str] | None = None  # upsert: keys the API holds (None: ask per record)
        self.skip_customers = skip_customers or {}  # customer number -> why its documents wait
        self._stopping = False
        self._no_answer_in_a_row = 0
        # Decided once, not per record:
        self._asks_first = options.mode == "upsert" and not entity.is_action  # POST or PUT?
        self._releases = options.release and entity.releasable

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
                        self._final(work, self._line(work, "invalid", self._action(), error=work.error))
                    elif (reason := self._waiting_on_customer(work)) is not None:
                        self._final(work, self._line(work, "skipped", self._action(), error=reason))
                    elif self.options.dry_run:
                        self._write_dry_run(work)
                    else:
                        try:
                            send.send_nowait(work)  # room in the buffer: no need to yield
                        except anyio.WouldBlock:
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

    def _waiting_on_customer(self, work: Work) -> str | None:
        if not self.skip_customers or self.entity.name == "customer":
            return None
        customer = work.key if self.entity.is_action else unwrap_value((work.payload or {}).get("customerNumber"))
        return self.skip_customers.get(str(customer)) if customer is not None else None

    # -- workers -----------------------------------------------------------------

    async def _worker(self, receive: MemoryObjectReceiveStream[Work]) -> None:
        async with receive:
            try:
                while True:
                    try:
                        work = receive.receive_nowait()  # skip the checkpoint when work is waiting
                    except anyio.WouldBlock:
                        work = await receive.receive()
                    if self._stopping:  # not started: no line, so --resume sends it
                        self.summary.not_processed += len(work.records)
                        continue
                    await self._send(work)
            except anyio.EndOfStream:
                return

    async def _send(self, work: Work) -> None:
        started = time.perf_counter()
        attempt, line = await self._attempt(work)
        if self._releases and line["outcome"] in ("created", "updated"):
            line["release"] = await self._release(line["key"])
        line["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        self._final(work, line)
        self._watch_for_a_dead_api(attempt)

    async def _attempt(self, work: Work) -> tuple[Attempt, dict[str, Any]]:
        """Send ``work`` (after its ``started`` line); how it went, and its results line."""
        assert self.client is not None
        mode = self.options.mode
        if self._asks_first:  # upsert: POST or PUT by whether the key exists
            exists = await self._exists(work)
            if isinstance(exists, Attempt):  # could not tell: nothing is written
                return exists, self._outcome(work, "create", exists, f"could not tell whether {work.key} exists")
            mode = "update" if exists else "create"
        call = self._build_call(work, mode)
        lookup = self._lookup(work, call)
        self.sink.started(work.records, self.entity.name, work.key, call.action)
        attempt: Attempt | None = None
        if self.resume is not None and self.resume.in_flight(work.records):
            attempt = await self._recheck(lookup, call)
        if attempt is None:
            attempt = await self.client.request(
                call.method, call.path, call.body, lookup=lookup, idempotent=call.idempotent,
                background=self.options.background,
            )
        return attempt, self._outcome(work, call.action, attempt)

    def _watch_for_a_dead_api(self, attempt: Attempt) -> None:
        """Stop early when nothing answers any more, instead of failing every record."""
        if attempt.response is not None:
            self._no_answer_in_a_row = 0
            return
        self._no_answer_in_a_row += 1
        if self._no_answer_in_a_row >= _DEAD_AFTER and not self._stopping:
            self.summary.error = (
                f"the API stopped answering ({self._no_answer_in_a_row} records in a row got no "
                "response); stopped so the rest can be sent later"
            )
            self.summary.api_down = True
            self.stop()

    async def _recheck(self, lookup: Lookup | None, call: _Call) -> Attempt | None:
        """A record in flight when the last run died: is it already in the API?"""
        if lookup is None:
            if call.idempotent:
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

    # -- what to send ---------------------------------------------------------------

    def _action(self) -> str:
        """The results line's action for work answered without a request."""
        if self.entity.is_action:
            return "action"
        return "update" if self.options.mode == "update" else "create"

    def _build_call(self, work: Work, mode: str) -> _Call:
        entity, payload = self.entity, work.payload
        assert payload is not None
        if entity.is_action:
            path = f"{entity.path}/{encode_key(work.key or '')}/action/{entity.action}"
            return _Call("action", "POST", path, orjson.dumps(payload), False)
        if mode == "update":
            body = {k: v for k, v in payload.items() if k != entity.key_field}
            lines = body.get(entity.line_field) if entity.line_field else None
            inserts = any(line.get("operation") == "Insert" for line in lines or ())
            path = f"{entity.path}/{encode_key(work.key or '')}"
            return _Call("update", "PUT", path, orjson.dumps(body), not inserts)
        if (
            entity.is_document
            and work.key is None
            and self.options.set_external_reference
            and "externalReference" not in payload
        ):
            payload["externalReference"] = {"value": self._reference(work)}
        return _Call("create", "POST", entity.path, orjson.dumps(payload), False)

    async def _exists(self, work: Work) -> bool | Attempt:
        """Upsert: does the API hold ``work.key``? The GET's Attempt when it cannot tell."""
        if not work.key:
            return False  # auto-numbered: always a new record
        if self.existing_keys is not None:
            return work.key in self.existing_keys
        assert self.client is not None
        attempt = await self.client.request("GET", f"{self.entity.path}/{encode_key(work.key)}")
        response = attempt.response
        if response is not None and attempt.error is None and response.status in (200, 404):
            return response.status == 200
        return attempt

    def _reference(self, work: Work) -> str:
        """A stable externalReference for an auto-numbered document: found again on a rerun."""
        return f"{self.reference_prefix}:{work.group or work.records[0]}"

    def _lookup(self, work: Work, call: _Call) -> Lookup | None:
        """A coroutine function telling whether a create already went through, or None.

        Made for every create but run only after an ambiguous failure, so the work of
        building its request is left to the call.
        """
        if call.action != "create":
            return None
        client, entity = self.client, self.entity
        assert client is not None
        if work.key:
            key = work.key

            async def by_key() -> Response | None:
                return _found(await client.request("GET", f"{entity.path}/{encode_key(key)}"), lambda data: True)

            return by_key
        reference = unwrap_value((work.payload or {}).get("externalReference"))
        if entity.is_document and reference:

            async def by_reference() -> Response | None:
                attempt = await client.request("GET", entity.path, params={"externalReference": reference})
                return _found(attempt, lambda data: isinstance(data, list) and bool(data))

            return by_reference
        return None

    async def _release(self, key: str | None) -> dict[str, Any]:
        """``--release``: release a document just created or updated; its own outcome."""
        assert self.client is not None
        if not key:
            return {"outcome": "failed", "http_status": None, "error": "no document number to release"}
        path = f"{self.entity.path}/{encode_key(key)}/action/release"
        attempt = await self.client.request("POST", path, b"{}", background=self.options.background)
        response = attempt.response
        error = _failure(attempt) or _action_error(response)  # type: ignore[arg-type]
        if error is None:
            self.summary.released += 1
            return {"outcome": "done", "http_status": response.status, "error": None}  # type: ignore[union-attr]
        self.summary.release_failed += 1
        return {"outcome": "failed", "http_status": response.status if response else None, "error": error}

    # -- result lines --------------------------------------------------------------

    def _line(self, work: Work, outcome: str, action: str, **fields: Any) -> dict[str, Any]:
        line = {
            "records": work.records,
            "entity": self.entity.name,
            "key": work.key,
            "action": action,
            "outcome": outcome,
            "http_status": None,
            "attempts": 0,
            "location": None,
            "error": None,
            "elapsed_ms": 0.0,
        }
        if fields:
            line.update(fields)
        return line

    def _final(self, work: Work, line: dict[str, Any]) -> None:
        if line["outcome"] in ("failed", "invalid") and log.isEnabledFor(logging.WARNING):
            log.warning(
                "records %s (%s): %s: %s", work.records, line["key"], line["outcome"], line["error"],
                extra={k: line.get(k) for k in ("records", "key", "entity", "action", "outcome", "error")}
                | {"status": line.get("http_status")},
            )
        self.summary.outcomes[line["outcome"]] += len(work.records)
        self.sink.final(line, work)

    def _write_dry_run(self, work: Work) -> None:
        # A dry run asks the API nothing, so an upsert shows the POST it would send if new.
        mode = "create" if self.options.mode == "upsert" else self.options.mode
        call = self._build_call(work, mode)
        self._final(work, self._line(
            work, "skipped", call.action, error="dry run: not sent",
            request=f"{call.method} {call.path}", payload=orjson.loads(call.body),
        ))

    def _outcome(self, work: Work, action: str, attempt: Attempt, context: str | None = None) -> dict[str, Any]:
        """The results line of a request that was sent; ``context`` prefixes its error."""
        response = attempt.response
        self.summary.sent_units += 1
        error = _failure(attempt)
        if error is not None:
            line = self._line(work, "failed", action, error=f"{context}: {error}" if context else error)
        elif attempt.found_by_lookup:
            line = self._line(work, "created", action, recovered=True)  # an ambiguous failure had gone through
            key = line["key"] = work.key or _key_from_list(response, self.entity.key_field)  # type: ignore[arg-type]
            if key:
                line["location"] = f"{self.client.base_url}{self.entity.path}/{encode_key(key)}"  # type: ignore[union-attr]
        elif action == "create":
            location = response.location  # type: ignore[union-attr]
            line = self._line(work, "created", action, location=location)
            if work.key is None and location:
                line["key"] = decode_key(location.rstrip("/").rsplit("/", 1)[-1])
        elif action == "update":
            line = self._line(work, "updated", action)
        elif (error := _action_error(response)) is not None:  # type: ignore[arg-type]
            line = self._line(work, "failed", action, error=error)
        else:
            line = self._line(work, "done", action)
        line["attempts"] = attempt.attempts
        if response is not None:
            line["http_status"] = response.status
        return line


def _failure(attempt: Attempt) -> str | None:
    """Why a request failed (no answer, or a non-2xx one); None if it succeeded."""
    response = attempt.response
    if attempt.error is not None or response is None:
        return attempt.error or "no answer"
    if not 200 <= response.status < 300 and not attempt.found_by_lookup:
        return response.error_text()
    return None


def _action_error(response: Response) -> str | None:
    """An action answered 2xx that did not run (``actionResult: Failed``): why; else None."""
    data = response.json()
    if isinstance(data, dict) and data.get("actionResult") == "Failed":
        return str(data.get("errorInfo") or "the action failed")
    return None


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
        value = unwrap_value(data.get(key_field))
        return str(value) if value is not None else None
    return None
