"""Every knob of the sandbox in one dataclass, so the CLI, ``serve()`` and tests share one shape."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from importer.sandbox.scopes import SCOPES

if TYPE_CHECKING:
    from importer.company import Company

__all__ = [
    "SandboxConfig", "with_company", "FAULT_KINDS", "DEFAULT_FAULTS", "DEFAULT_CLIENTS", "PROFILES", "parse_rate_limit",
    "parse_client_scopes",
]

# "standard": the API as its OpenAPI document describes it. "live": the same, plus what
# integrators report the live API does beyond the document (loose filters, lists without
# metadata, queued releases, error bodies of every shape, ...; see README).
PROFILES: tuple[str, ...] = ("standard", "live")

# Every fault the sandbox can inject, in a stable order (the seeded RNG picks by index).
FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "reset", "slow", "store-then-fail")
# "slow" is left out by default: it holds a request for ``slow_ms`` (30 s), longer than a
# client's timeout, which makes an ordinary rehearsal crawl. Ask for it explicitly.
DEFAULT_FAULTS: tuple[str, ...] = ("500", "502", "503", "reset", "store-then-fail")
DEFAULT_CLIENTS: dict[str, str] = {"sandbox": "sandbox-secret"}
DEFAULT_STATIC_TOKEN = "sandbox-token"


def _demo_company() -> Company:
    from importer.company.demo import demo_company  # built when a config is made without a company

    return demo_company()


def _load_company(path: str) -> Company:
    from importer.company import load_company

    return load_company(path)


@dataclass(slots=True)
class SandboxConfig:
    """Options of one sandbox server. Defaults suit a newcomer's local rehearsal."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = any free port (serve() reports the real one)
    rate_limit: int = 15000  # requests per window and client
    rate_window: float = 3600.0  # seconds
    seed: int | None = None  # None = pick one at random (reported by /sandbox/stats)
    latency_ms: float = 0.0  # added to every /v1 request
    jitter_ms: float = 0.0  # uniform +/- around latency_ms
    fault_rate: float = 0.0  # share of POST/PUT requests that get a fault, 0..1
    faults: tuple[str, ...] = DEFAULT_FAULTS  # kinds the RNG picks from
    slow_ms: float = 30000.0  # how long a "slow" fault holds the request
    state_path: str | None = None  # SQLite file; None keeps everything in memory
    # With state_path: every change is in the file before the answer that reports it goes
    # out, so a rehearsal killed mid-run keeps each record it answered (importer --sandbox).
    durable: bool = False
    token_ttl: float = 3600.0  # seconds a token from /connect/token lives
    clients: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLIENTS))
    # The scopes a client may be given (full names, e.g. "vismanet_erp_service_api:read"); a
    # client not listed may have every scope, so the default clients can do everything.
    client_scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    static_token: str | None = DEFAULT_STATIC_TOKEN  # never expires; None or "" disables it
    max_page_size: int = 1000
    background_delay_ms: float = 50.0  # pause before a queued background request runs
    verbose: bool = False  # access log on
    profile: str = "standard"  # one of PROFILES
    # What /sandbox/* control routes take as a bearer token besides the static token;
    # None: only the static token (or, with none, any token the sandbox issued).
    control_token: str | None = None
    max_body_bytes: int = 64 * 1024 * 1024  # a larger request body answers 413
    body_timeout: float = 30.0  # seconds a request body may take to arrive; then 408
    keepalive_timeout: float = 30.0  # idle keep-alive connections are closed after this
    # The company behind the API: its reference data, VAT, periods and numbering (see
    # importer.company); by default the built-in demo company. None: no company, anything
    # the schema allows is accepted.
    company: Company | None = field(default_factory=_demo_company, compare=False)
    # Monotonic clock behind token expiry and rate windows; tests may swap in a fake one.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [k for k in self.faults if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(
                f"unknown fault kind(s) {', '.join(unknown)}; expected some of {', '.join(FAULT_KINDS)}"
            )
        self.faults = tuple(dict.fromkeys(self.faults))  # drop repeats, keep order
        for client_id, scopes in self.client_scopes.items():
            if client_id not in self.clients:
                raise ValueError(f"client_scopes names client {client_id!r}, which is not one of the clients")
            unknown_scopes = [s for s in scopes if s not in SCOPES]
            if unknown_scopes:
                raise ValueError(
                    f"unknown scope {unknown_scopes[0]!r} for client {client_id!r}; expected some of "
                    f"{', '.join(SCOPES)}"
                )
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; expected one of {', '.join(PROFILES)}")
        if self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be positive")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.fault_rate > 0 and not self.faults:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        if self.max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        for name in ("latency_ms", "jitter_ms", "slow_ms", "background_delay_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        for name in ("body_timeout", "keepalive_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


def parse_client_scopes(text: str) -> tuple[str, tuple[str, ...]]:
    """``"importer=read,create"`` -> ``("importer", (".._api:read", ".._api:create"))``.

    A scope is its full name or its last part (``read``, ``create``, ``update``, ``delete``);
    ``ID=`` with nothing after it allows no scope at all.
    """
    client_id, sep, names = text.partition("=")
    if not sep or not client_id:
        raise ValueError(f"client scopes {text!r} are not CLIENT_ID=SCOPE[,SCOPE...], e.g. importer=read")
    short = {s.rsplit(":", 1)[1]: s for s in SCOPES}
    scopes = []
    for name in (n.strip() for n in names.split(",")):
        if not name:
            continue
        full = short.get(name, name)
        if full not in SCOPES:
            raise ValueError(f"unknown scope {name!r} in {text!r}; expected some of {', '.join(short)}")
        scopes.append(full)
    return client_id, tuple(dict.fromkeys(scopes))


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``"15000/3600"`` -> ``(15000, 3600.0)``: N requests per SECONDS."""
    count, sep, window = text.partition("/")
    try:
        if not sep:
            raise ValueError
        limit, seconds = int(count), float(window)
    except ValueError:
        raise ValueError(f"rate limit {text!r} is not N/SECONDS, e.g. 15000/3600") from None
    if limit < 1 or seconds <= 0:
        raise ValueError(f"rate limit {text!r} needs N >= 1 and SECONDS > 0")
    return limit, seconds



def with_company(config: SandboxConfig, value: str | None) -> SandboxConfig:
    """``config`` with ``--company FILE|none`` applied: a loaded snapshot, no company at all
    ("none"), or, when not given, its default; ConfigError naming the file when it cannot be used."""
    if value:
        config.company = None if value.strip().lower() == "none" else _load_company(value)
    return config
