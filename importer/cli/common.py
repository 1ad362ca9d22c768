"""What the commands that talk to the API share: exit codes, the connection, the sandbox, a client.

Exit codes: 0 every record succeeded; 1 some failed or were invalid; 2 usage or
configuration error, nothing sent; 130 interrupted (the results file is resumable).
"""

from __future__ import annotations

import argparse
import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from importer.api import build_client
from importer.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from importer.cli.rehearsal import hold_rehearsal, sandbox_state
from importer.client import ApiClient
from importer.errors import ConfigError
from importer.logs import json_lines, safe_url
from importer.monitor import Monitor
from importer.options import DEFAULT_BASE_URL, WHOLE_RUN, ImportOptions, Pace, group_names
from importer.vocabulary import DEFAULT_PROGRESS_EVERY

if TYPE_CHECKING:  # the sandbox itself is imported only when a command starts one
    from importer.sandbox import SandboxConfig

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "client_for", "common_options",
           "connection_options", "monitor_for", "sandbox_company", "sandbox_state", "with_sandbox"]


def connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """Where to send and as whom; None where the flag was not given."""
    return dict(
        base_url=args.base_url,
        token=args.token,
        client_id=os.environ.get("VISMA_CLIENT_ID"),
        client_secret=os.environ.get("VISMA_CLIENT_SECRET"),
        tenant_id=os.environ.get("VISMA_TENANT_ID"),
        token_url=args.token_url,
    )


def common_options(args: argparse.Namespace) -> dict[str, Any]:
    """Options the run and plan commands share: connection and state."""
    return {**connection_options(args), **{name: getattr(args, name) for name in WHOLE_RUN}}


async def with_sandbox(stack: AsyncExitStack, args: argparse.Namespace, options: dict[str, Any],
                       company: str | None = None, results: str | None = None) -> SandboxConfig | None:
    """With ``--sandbox``: start the embedded sandbox on ``stack``, point ``options`` at it
    and return its config (None without ``--sandbox``).

    Its company is ``--company`` (FILE or none), else ``company`` (a plan's
    ``sandbox_company``), else the sandbox's default. With ``results`` (the run's results
    file; a plan's first step's) its ledger is kept beside it, held by this run alone
    (:mod:`importer.cli.rehearsal`), so the ``--resume`` the run prints finds what it sent.
    """
    if args.sandbox_profile != "standard" and not args.sandbox:
        raise ConfigError("--sandbox-profile needs --sandbox (for a sandbox of your own: importer sandbox --profile)")
    chosen = sandbox_company(args)
    if chosen is not None and not args.sandbox:
        raise ConfigError("--company needs --sandbox (for a sandbox of your own: importer sandbox --company FILE)")
    if args.sandbox:
        # Imported here: the sandbox (aiohttp's server side) costs every other run ~50 ms of start-up.
        from importer.sandbox import SandboxConfig, serve
        from importer.sandbox.config import with_company

        config = with_company(SandboxConfig(profile=args.sandbox_profile), chosen or company)
        if results and not getattr(args, "dry_run", False):
            config.state_path, config.port = hold_rehearsal(
                stack, results, resume=bool(getattr(args, "resume", False)),
                restart=bool(getattr(args, "restart", False)))
            config.durable = True  # what it answered stays in the ledger, however the run ends
        running = await stack.enter_async_context(serve(config))
        options.update(base_url=running.url, token=config.static_token, client_id=None, client_secret=None)
        return config
    return None


def sandbox_company(args: argparse.Namespace) -> str | None:
    """``--company`` as given (FILE or none), None when it was not."""
    value = getattr(args, "sandbox_company", None)
    return value if value else None


async def client_for(args: argparse.Namespace, stack: AsyncExitStack, *, read_only: bool = False,
                     delete: bool = False) -> ApiClient:
    """An open ApiClient from the connection and speed flags (``read_only``, ``delete``: see build_client)."""
    options = {k: v for k, v in connection_options(args).items() if v is not None}
    speed = {name: getattr(args, name) for name in group_names(Pace) if hasattr(args, name)}
    opts = ImportOptions(entity=getattr(args, "entity", None) or "customer", **speed, **options)
    client = await stack.enter_async_context(build_client(opts, read_only=read_only, delete=delete))
    await client.authenticate()
    return client


def company_name(options: dict[str, Any], sandbox: SandboxConfig | None = None) -> str:
    """A name for a company read from the API (which has none): the embedded sandbox's company's,
    the tenant, else the API's host."""
    if sandbox is not None and sandbox.company is not None and sandbox.company.name:
        return sandbox.company.name
    tenant = os.environ.get("VISMA_TENANT_ID")
    if tenant and options.get("client_id"):
        return f"tenant {tenant}"
    return safe_url(options.get("base_url") or DEFAULT_BASE_URL) or ""


def monitor_for(args: argparse.Namespace) -> Monitor:
    """What ``--progress-every``, ``--metrics-file`` and ``--log-format json`` ask the run to tell as it goes."""
    every = args.progress_every
    if every is None:
        every = DEFAULT_PROGRESS_EVERY if json_lines() else 0.0
    return Monitor(progress_every=every or None, metrics_file=args.metrics_file, metrics_every=args.metrics_every)
