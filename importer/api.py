"""The Python entry points: ``import_records`` (async) and ``import_records_sync``.

    summary = await importer.import_records(
        "customers.csv", entity="customer",
        base_url="http://127.0.0.1:8080", token="sandbox-token",
    )
    print(summary.outcomes, summary.calls_per_record)

``source`` is a path (``-`` for stdin, ``.gz`` decompressed), a file object, or
any iterable or async iterable of dict records (flat column names or API-shaped).
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import ExitStack, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, Unpack

import anyio

from importer.client import ApiClient, ClientCredentials, RetryPolicy, StaticToken, TokenSource
from importer.client.auth import DEFAULT_SCOPE, DEFAULT_TOKEN_URL, DELETE_SCOPE, READ_SCOPE, TOKEN_RETRY
from importer.client.collector import tuned_collector
from importer.company import Company, load_company
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.failed import FailedRecords, default_failed_path
from importer.load.gate import CustomerGate
from importer.load.mapped import mapped_work, works_of
from importer.load.numbering import Numbering
from importer.load.pipeline import Pipeline
from importer.load.prefetch import prefetch_keys
from importer.load.preflight import Preflight, before_sending, read_once
from importer.load.results_open import open_results, settle_failed
from importer.load.sink import OutcomeCallback, ResultSink
from importer.load.thousands import check_thousands
from importer.logs import safe_url, tell
from importer.mapping import CoerceOptions, RecordMapper, Work
from importer.mapping.inputmap import bind_input
from importer.mapping.mapfile import BoundMap, input_encoding, resolve_entity
from importer.monitor import watching
from importer.options import ImportOptions, ImportOptionsKwargs
from importer.outputs import check_outputs
from importer.runinfo import fingerprint
from importer.saft import kind as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.sources import Input, SourceOptions, detect_format, kind_named, open_input
from importer.stopping import StopRequest
from importer.summary import Summary

log = logging.getLogger("importer")

__all__ = ["import_records", "import_records_sync", "build_client", "default_results_path", "mapped_work",
           "CompanyReader", "ImportRecordsKwargs"]

Source = str | os.PathLike[str] | io.IOBase | Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]]


class ImportRecordsKwargs(ImportOptionsKwargs, total=False):
    """Everything :func:`import_records` takes by keyword but ``entity``: what
    :func:`import_records_sync` passes on, checked as the async form checks it."""

    client: ApiClient | None
    on_outcome: OutcomeCallback | None
    options: ImportOptions | None
    handle_signals: bool
    progress: bool
    skip_customers: Mapping[str, str] | None
    customer_gate: CustomerGate | None
    stop: StopRequest | None
    watch: Callable[[Summary], None] | None
    company: Company | CompanyReader | None


# Reads the company a run checks against, once the run is known to go ahead (its outputs,
# results file and header are checked): (the company or None, where it came from, the calls it took).
CompanyReader = Callable[[ImportOptions, str | None], Awaitable[tuple[Company | None, str, int]]]


def default_results_path(input_path: str, dry_run: bool = False) -> str:
    return f"{input_path}.{'dry-run' if dry_run else 'results'}.ndjson"


def build_client(options: ImportOptions, *, read_only: bool = False, delete: bool = False) -> ApiClient:
    """An ``ApiClient`` from the options' connection and pace; ``read_only`` asks its token
    for the read scope only (commands that send nothing), ``delete`` for the delete scope too
    (``importer undo``)."""
    auth: TokenSource | None
    conn, pace = options.connection, options.pace
    if conn.token:
        auth = StaticToken(conn.token)
    elif conn.client_id and conn.client_secret:
        auth = ClientCredentials(
            conn.client_id, conn.client_secret, conn.tenant_id,
            token_url=conn.token_url or DEFAULT_TOKEN_URL, timeout=pace.timeout,
            scope=READ_SCOPE if read_only else DELETE_SCOPE if delete else DEFAULT_SCOPE,
            retry=replace(TOKEN_RETRY, max_attempts=pace.max_attempts, base=pace.retry_base),
        )
    else:
        raise ConfigError(
            "no credentials: pass --token (or VISMA_TOKEN), or set VISMA_CLIENT_ID, "
            "VISMA_CLIENT_SECRET and VISMA_TENANT_ID"
        )
    return ApiClient(
        conn.base_url, auth,
        concurrency=pace.concurrency, rate=pace.rate, timeout=pace.timeout,
        retry=RetryPolicy(max_attempts=pace.max_attempts, base=pace.retry_base),
    )


async def import_records(
    source: Source,
    *,
    entity: str | None = None,
    client: ApiClient | None = None,
    on_outcome: OutcomeCallback | None = None,
    options: ImportOptions | None = None,
    handle_signals: bool = False,
    progress: bool = False,
    skip_customers: Mapping[str, str] | None = None,
    customer_gate: CustomerGate | None = None,
    stop: StopRequest | None = None,
    watch: Callable[[Summary], None] | None = None,
    company: Company | CompanyReader | None = None,
    **option_values: Unpack[ImportOptionsKwargs],
) -> Summary:
    """Import ``source`` as ``entity``; returns the run's :class:`Summary`.

    ``entity`` may be left out when the ``map`` option names a mapping file that says
    ``entity = "..."``; when both are given they must agree.

    Keyword options are the options of :class:`ImportOptions` by their flat names
    (``mode``, ``concurrency``, ``rate``, ``results``, ``resume``, ``dry_run``, ...); a
    name it does not have is a TypeError naming it. ``options``: an ImportOptions to
    start from (its groups: ``ImportOptions("invoice", pace=Pace(concurrency=8))``).
    ``client``: an open :class:`ApiClient` to use (else one is built from the
    options' ``base_url`` and credentials). ``on_outcome`` is called with every
    final results line. ``handle_signals``: SIGINT/SIGTERM stop the run cleanly
    (the first lets requests in flight finish for ``grace`` seconds, a second
    stops at once); the summary then says ``interrupted``. ``skip_customers``
    maps customer numbers to a reason: documents for them are not sent but
    ``skipped`` with that reason. ``customer_gate``: the same, kept by a plan
    across its steps (see :class:`~importer.load.gate.CustomerGate`). ``company``: the
    company's snapshot, from which the numbering of created records is chosen when
    neither the options nor the map say (:mod:`importer.load.numbering`), and against which
    every record is checked before it is sent (:mod:`importer.load.preflight`); the
    ``preflight_company`` option (``--company``) may name a snapshot file instead, or be ``none`` (no company: nothing checked).
    ``live`` is the command line's to read (:func:`importer.ledger.company.read_company`).
    """
    entity = resolve_entity(entity, option_values.get("map", options.input.map if options is not None else None))
    opts = (options or ImportOptions(entity=entity)).with_(entity=entity, **option_values)
    ent = ENTITIES[opts.entity]
    form, state = opts.input, opts.state
    from_file = isinstance(source, str | os.PathLike) and os.fspath(source) != "-"  # default names apply
    name = os.fspath(source) if isinstance(source, str | os.PathLike) else str(getattr(source, "name", "<records>"))
    fmt = detect_format(name, form.format) if from_file else None
    kind = kind_named(fmt) if fmt is not None else None
    # A file read once per entity (a SAF-T file: customers, then balances): each run names its own outputs.
    base = f"{name}.{opts.entity}" if kind is not None and kind.per_entity else name
    results_path = state.results or (default_results_path(base, state.dry_run) if from_file else None)
    if state.resume and results_path is None:
        raise ConfigError("--resume needs a results file (pass --results)")
    if name == "-" and results_path is None:  # outcomes would be seen by no one
        raise ConfigError("reading stdin needs --results PATH: each record's outcome goes there")
    failed_path = state.failed
    if failed_path is None and fmt is not None:
        failed_path = default_failed_path(base, fmt)
    check_outputs({"input": name if from_file else None, "--map": form.map},
                  {"--results": results_path, "--failed": failed_path})
    with ExitStack() as stack:
        writer, resume = open_results(results_path, opts, stack, client, name if from_file else None, base)
        # Read as this entity, with the SAF-T group: the kinds that read one file as several take them.
        read_as = SourceOptions(form.format, form.delimiter, form.max_field_size, input_encoding(form.encoding, form.map),
                                entity=opts.entity, settings=opts.saft, sheet=form.sheet, header_row=form.header_row)
        opened = stack.enter_context(open_input(source, read_as))
        counter, delimiter = opened.counter, opened.delimiter
        coerce = CoerceOptions(
            decimal_comma=form.decimal_comma if form.decimal_comma is not None else delimiter == ";",
            date_format=form.date_format,
        )
        bound, coerce, columns = bind_input(opened.reader, opened.columns, ent, form.map, coerce, name)
        if from_file and form.decimal_comma is None and delimiter == ";" and coerce.decimal_comma:
            await check_thousands(source, read_as, ent, form.map, name)  # amounts only as thousands: refused
        mapper = RecordMapper(ent, mode=opts.mode, options=coerce, columns=columns)
        read_from, read_calls = None, 0
        if callable(company):  # the command line's reader: only now that the run goes ahead
            if not from_file and not state.dry_run:
                read_once(opts)  # what no company changes is refused before a call is spent reading it
            company, read_from, read_calls = await company(opts, results_path)
        company, checked = _companies(opts, company)
        owned = client is None and not state.dry_run  # a client we build, we open and close
        if owned:
            client = build_client(opts)
        summary = Summary(opts.entity, opts.mode, name, results_path, state.dry_run)
        _name_target(summary, opts, client, checked)
        if from_file:  # the bytes read, as they are on disk (importer.runinfo)
            summary.input_fingerprint = await anyio.to_thread.run_sync(fingerprint, name)
        if watch is not None:
            watch(summary)
        if (monitor := watching()) is not None:
            monitor.watch(summary, client, counter)
        failed = None
        if failed_path is not None and not state.dry_run:  # a dry run leaves a real run's failed file be
            failed = FailedRecords(failed_path, source=opened)
            if failed.kept is not None:
                tell(f"{failed.kept} was changed since the importer wrote it (or an earlier version wrote it): it is "
                     "left as it is, and this "
                     f"run's failed records go to {failed.path}", logging.WARNING)
            stack.push(settle_failed(failed, summary))
        if customer_gate is None and skip_customers:
            customer_gate = CustomerGate(dict(skip_customers), ask_api=False)
        pipeline = Pipeline(
            ent, opts, client, ResultSink(writer, on_outcome, failed), summary,
            resume=resume, reference_prefix=Path(name).stem if from_file else "stdin",
            reference_key=writer.stamp.get("reference_key") if writer is not None else None,
            gate=customer_gate,
            numbering=Numbering.for_run(ent, opts, company, (bound.map.numbering, bound.map.numbering_field)
                                        if bound is not None else (None, None)),
        )
        summary.preflight_calls = read_calls
        if checked is not None:
            pipeline.preflight = Preflight(
                checked, ent, opts.mode, bound,
                known=customer_gate if customer_gate is not None else frozenset(),
                waiting=customer_gate.waiting if customer_gate is not None else ())
            option = opts.behaviour.preflight_company
            if read_from is None and option not in (None, "live"):
                read_from = f"the snapshot {option}"
            summary.preflight = f"company {checked.name}" + (f" ({read_from})" if read_from else "")
        rescan = (lambda: mapped_work(source, opts)) if from_file else None
        _log_started(summary, opts, client)
        if progress and sys.stderr.isatty():
            from importer.progress import LiveProgress

            stack.enter_context(LiveProgress(summary, counter, client))  # stopped with the stack
        # A client shared with other runs (a plan's or a fleet company's steps) counts for
        # all of them: this run's share is what its counters gained while it ran.
        before = _counters(client) if client is not None and not owned else (0, 0, 0, 0, 0, 0)
        try:
            # The collector set for the requests in flight; the caller's settings come back after.
            with tuned_collector(0 if state.dry_run else opts.pace.concurrency):
                async with client if owned else nullcontext():  # type: ignore[union-attr]
                    await _run(pipeline, mapper, bound, opened, summary, opts, handle_signals, stop,
                               input_path=name if from_file else None, rescan=rescan)
        finally:
            if pipeline.preflight is not None:
                summary.preflight_refused = pipeline.preflight.refused
            if failed is not None and failed.count:
                summary.failed_path = str(failed.path)  # unless the run stopped short (see _settle_failed)
            summary.elapsed = time.monotonic() - summary.started_at
            if client is not None:
                calls, tokens, retries, throttled, lookups, waits = (
                    now - then for now, then in zip(_counters(client), before, strict=True))
                listed = pipeline.preflight.calls if pipeline.preflight is not None else 0
                summary.calls = calls + tokens - listed  # the preflight's are its own
                summary.preflight_calls += listed
                summary.token_calls = tokens
                summary.retries = retries
                summary.throttled = throttled
                summary.lookups += lookups
                summary.window_waits = waits
            summary.finished_wall = time.time()
    _log_finished(summary)
    return summary


def _counters(client: ApiClient) -> tuple[int, int, int, int, int, int]:
    stats = client.stats
    return stats.calls, client.token_calls, stats.retries, stats.throttled, stats.lookups, client.pacer.waits


def _name_target(summary: Summary, opts: ImportOptions, client: ApiClient | None, checked: Company | None) -> None:
    """Where the run sends (never a secret: the URL without user info or query) and to which company:
    the tenant signed in for, else the company the records are checked against (a fleet names its own)."""
    if not opts.state.dry_run:
        summary.base_url = safe_url(client.base_url if client is not None else opts.connection.base_url)
    conn = opts.connection
    summary.company = conn.tenant_id if conn.client_id and conn.tenant_id else (
        checked.name if checked is not None and checked.name else None)


def _log_started(summary: Summary, opts: ImportOptions, client: ApiClient | None) -> None:
    """``-v``: what this run is, where it sends (never a credential: the URL alone, without user info)."""
    dry_run = opts.state.dry_run
    target = "nowhere (dry run)" if dry_run else safe_url(client.base_url if client is not None else opts.connection.base_url)
    log.info("started: %s from %s, mode %s, to %s", summary.entity, summary.input, summary.mode, target,
             extra={"event": "started", "run_id": summary.run_id, "entity": summary.entity, "input": summary.input, "mode": summary.mode,
                    "base_url": None if dry_run else target, "dry_run": dry_run,
                    "results": summary.results_path})


def _log_finished(summary: Summary) -> None:
    """``-v``: the summary's numbers, so a log alone tells how the run went."""
    outcomes = {name: count for name, count in summary.outcomes.items() if count}
    log.info("finished: %s from %s: %s records (%s), %s calls, %s retries, %s 429s, %.1f s",
             summary.entity, summary.input, f"{summary.records:,}",
             ", ".join(f"{count:,} {name}" for name, count in outcomes.items()) or "none",
             f"{summary.calls:,}", f"{summary.retries:,}", f"{summary.throttled:,}", summary.elapsed,
             extra={"event": "finished", "run_id": summary.run_id, "entity": summary.entity, "input": summary.input,
                    "records_read": summary.records, "outcomes": outcomes, "calls": summary.calls,
                    "retries": summary.retries, "throttled": summary.throttled,
                    "elapsed_s": round(summary.elapsed, 3), "exit_code": summary.exit_code,
                    "interrupted": summary.interrupted, "error": summary.error})


def _companies(opts: ImportOptions, given: Company | None) -> tuple[Company | None, Company | None]:
    """The company the run numbers by, and the one it checks against: the ``preflight_company``
    option's snapshot file for both; with ``none``, the one given numbers and nothing is checked;
    else the one given, for both."""
    option = opts.behaviour.preflight_company
    if option is None or option == "live":
        return given, given
    if option.strip().casefold() == "none":
        return given, None
    company = load_company(option)
    return company, company


async def _run(
    pipeline: Pipeline, mapper: RecordMapper, bound: BoundMap | None, opened: Input,
    summary: Summary, opts: ImportOptions, handle_signals: bool, stop: StopRequest | None,
    *, input_path: str | None, rescan: Callable[[], AsyncIterator[Work]] | None = None,
) -> None:
    if pipeline.client is not None and not opts.state.dry_run:
        await pipeline.client.authenticate()
        if pipeline.preflight is not None:
            await before_sending(pipeline.preflight, pipeline.client, opts, rescan)
        if opts.mode == "upsert":
            pipeline.existing_keys = await prefetch_keys(pipeline.client, pipeline.entity, input_path)
        await pipeline.read_held_numbers(input_path)  # company numbering: what a rerun must not create again
    works = works_of(mapper, opened.records(), summary, bound)
    if stop is None and not handle_signals:
        await pipeline.run(works)
        return
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            if stop is None:
                stop = StopRequest()
                tg.start_soon(stop.from_signals)

            async def obey(stop: StopRequest) -> None:
                await stop.first.wait()
                summary.interrupted = True
                pipeline.stop()
                scope.deadline = anyio.current_time() + opts.behaviour.grace
                await stop.second.wait()
                scope.cancel()  # asked again: stop now

            tg.start_soon(obey, stop)
            await pipeline.run(works)
            tg.cancel_scope.cancel()


def import_records_sync(source: Source, *, entity: str | None = None, **kwargs: Unpack[ImportRecordsKwargs]) -> Summary:
    """Blocking form of :func:`import_records`, for scripts."""

    async def main() -> Summary:
        return await import_records(source, entity=entity, **kwargs)

    return anyio.run(main, backend_options=event_loop_options())


def event_loop_options() -> dict[str, Any]:
    """anyio backend options: uvloop when installed, unless IMPORTER_UVLOOP=0."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return {}
    return {"use_uvloop": True} if os.environ.get("IMPORTER_UVLOOP", "1") != "0" else {}
