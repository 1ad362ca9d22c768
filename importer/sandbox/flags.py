"""The sandbox's options, for any parser: ``add_arguments(parser)`` (``importer sandbox``'s and its own).

Apart from the server's modules, so that the importer's ``--help`` builds the sandbox's
options without the event loop, SQLite or the demo company; their defaults are
:class:`~importer.sandbox.config.SandboxConfig`'s.
"""

from __future__ import annotations

import argparse

from importer.sandbox.config import FAULT_KINDS, PROFILES, SandboxConfig, parse_client_scopes, parse_rate_limit

__all__ = ["add_arguments"]


def _rate_limit(text: str) -> tuple[int, float]:
    try:
        return parse_rate_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _faults(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown fault kind(s) {', '.join(unknown)}; choose from {','.join(FAULT_KINDS)}"
        )
    return kinds


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _client_scopes(text: str) -> tuple[str, tuple[str, ...]]:
    try:
        return parse_client_scopes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _client(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:SECRET")
    return client_id, secret


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's options to ``parser``; their defaults are SandboxConfig's."""
    defaults = SandboxConfig(company=None)  # the defaults only: no company is built for them
    parser.add_argument("--host", default=defaults.host, help="address to bind (default: %(default)s)")
    # A fixed port, unlike serve(): a server people point other tools at should stay put.
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument(
        "--rate-limit", type=_rate_limit, metavar="N/SECONDS",
        default=(defaults.rate_limit, defaults.rate_window),
        help=f"fixed window per client and company (default: {defaults.rate_limit}/{defaults.rate_window:g}, "
             "the production quota)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="RNG seed for faults and jitter (default: random)")
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms,
                        help="added to every /v1 request (default: %(default)g)")
    parser.add_argument("--jitter-ms", type=float, default=defaults.jitter_ms,
                        help="uniform +/- around the latency (default: %(default)g)")
    parser.add_argument(
        "--fault-rate", type=_fraction, default=defaults.fault_rate, metavar="0..1",
        help="share of POST/PUT requests that get a fault (default: %(default)g)",
    )
    parser.add_argument(
        "--faults", type=_faults, default=defaults.faults, metavar="KIND,...",
        help=f"fault kinds to pick from, of {','.join(FAULT_KINDS)} (default: {','.join(defaults.faults)})",
    )
    parser.add_argument("--slow-ms", type=float, default=defaults.slow_ms,
                        help="delay of a 'slow' fault (default: %(default)g)")
    parser.add_argument("--state", metavar="PATH", default=defaults.state_path,
                        help="keep state in this SQLite file (default: memory)")
    parser.add_argument("--token-ttl", type=float, default=defaults.token_ttl,
                        help="token lifetime in seconds (default: %(default)g)")
    parser.add_argument("--max-page-size", type=int, default=defaults.max_page_size,
                        help="largest list page (default: %(default)s)")
    parser.add_argument(
        "--background-delay-ms", type=float, default=defaults.background_delay_ms,
        help="pause before a background request runs (default: %(default)g)",
    )
    parser.add_argument(
        "--client", type=_client, action="append", default=None, metavar="ID:SECRET",
        help="an OAuth client; repeatable; replaces the default sandbox:sandbox-secret",
    )
    parser.add_argument(
        "--client-scopes", type=_client_scopes, action="append", default=None, metavar="ID=SCOPE,...",
        help="the scopes a client may be given, of read, create, update, delete (e.g. "
             "reader=read: its tokens read and every write is answered 403); repeatable; "
             "a client not named may have every scope",
    )
    parser.add_argument(
        "--static-token", default=defaults.static_token, metavar="TOKEN",
        help="a bearer token that never expires; '' disables it (default: %(default)s)",
    )
    parser.add_argument(
        "--profile", choices=PROFILES, default=defaults.profile,
        help="standard: the API as its OpenAPI document describes it; live: plus what integrators "
             "report of the live API (error bodies of every shape, 500 for some failed POSTs, "
             "Location on another host, ...) (default: %(default)s)",
    )
    parser.add_argument(
        "--control-token", default=defaults.control_token, metavar="TOKEN",
        help="a bearer token for the /sandbox/* control routes, besides the static token and "
             "issued tokens (default: none)",
    )
    parser.add_argument(
        "--company", metavar="FILE|none", default=None,
        help="the company the API is: a snapshot written by importer company snapshot, served by its "
             "reference-data endpoints; 'none': no company (default: the sandbox's built-in one)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request (access log)")
