"""What the commands that talk to the API share: exit codes, the connection, the sandbox, a client.

Exit codes: 0 every record succeeded; 1 some failed or were invalid; 2 usage or
configuration error, nothing sent; 130 interrupted (the results file is resumable).
"""

from __future__ import annotations

import argparse
import os
import socket
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from yarl import URL

from importer.api import build_client
from importer.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from importer.client import ApiClient
from importer.errors import ConfigError
from importer.load.results_reader import probe_results
from importer.logs import json_lines, safe_url
from importer.monitor import DEFAULT_PROGRESS_EVERY, Monitor
from importer.options import DEFAULT_BASE_URL, WHOLE_RUN, ImportOptions, Pace, group_names

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
    file; a plan's first step's) its ledger is kept beside it (:func:`sandbox_state`), so
    the ``--resume`` the run prints finds what it sent.
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
            config.state_path, config.port = sandbox_state(
                results, resume=bool(getattr(args, "resume", False)), restart=bool(getattr(args, "restart", False)))
        running = await stack.enter_async_context(serve(config))
        options.update(base_url=running.url, token=config.static_token, client_id=None, client_secret=None)
        return config
    return None


def sandbox_state(results: str, *, resume: bool, restart: bool = False) -> tuple[str, int]:
    """Where a ``--sandbox`` run keeps its ledger, and the port to serve it on.

    The ledger is ``<results>.sandbox.sqlite``. A run that starts anew starts it empty; a
    ``--resume`` reads it again and serves it on the port the results file names (its
    lines record the API they went to, and a resume goes to the same one). A port taken
    since is refused, naming it.
    """
    path = f"{results}.sandbox.sqlite"
    about = probe_results(results) if resume and os.path.isfile(results) else None
    api = URL(about["api"]) if about and about.get("api") else None
    if api is None or api.host != "127.0.0.1" or not api.port or not os.path.isfile(path):
        if resume or restart or not os.path.isfile(results):  # else the run is refused: left as it is
            for stale in (path, f"{path}-wal", f"{path}-shm"):  # a ledger of no run this one continues
                if os.path.isfile(stale):
                    os.remove(stale)
        return path, 0
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", api.port))
        except OSError as exc:
            raise ConfigError(
                f"--sandbox --resume: {results} was sent to the sandbox on port {api.port}, and that port "
                f"is taken now ({exc.strerror or exc}); nothing was sent. Free the port and resume again, "
                "or pass --restart to start the rehearsal over"
            ) from None
    return path, api.port


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
