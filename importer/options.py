"""Everything a run can be told, in one dataclass shared by the CLI and the Python API.

Every way in (flags, ``IMPORTER_*`` variables, ``importer.toml``, a plan's or a fleet
manifest's tables, the Python API) ends in :class:`ImportOptions`, so its numbers are
checked here once: whole numbers where a count goes, finite numbers where seconds or a
rate go. TOML reads ``nan`` and ``inf`` as numbers; neither is a timeout or a rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypedDict

from importer.entities import entity as find_entity
from importer.errors import ConfigError
from importer.mapping.coerce import check_date_format
from importer.vocabulary import MODES, SAFT_DOCUMENTS, Mode, SaftDocuments

__all__ = ["ImportOptions", "ImportOptionsKwargs", "MODES", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://api.finance.visma.net"


@dataclass(frozen=True)
class ImportOptions:
    entity: str
    mode: Mode = "create"
    # where to send, and as whom
    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    token_url: str | None = None
    # how fast
    concurrency: int = 32
    rate: float | None = None  # requests per second, an explicit ceiling
    timeout: float = 60.0
    max_attempts: int = 5
    retry_base: float = 0.5
    # input
    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None  # None: UTF-8, and a file that is not valid UTF-8 stops the run
    decimal_comma: bool | None = None  # None: on when the delimiter is ';'
    date_format: str | None = None
    max_field_size: int = 1 << 20  # bytes; a longer CSV field or input line makes its record invalid
    # output and state
    results: str | None = None  # default <input>.results.ndjson (.dry-run.ndjson for --dry-run)
    fsync: bool = False
    resume: bool = False
    restart: bool = False  # start over on a results file that holds outcomes (the old one is kept beside)
    retry_failed: bool = False
    dry_run: bool = False
    set_external_reference: bool = True  # for auto-numbered documents, so they can be found again
    release: bool = False  # release each document after it is created or updated
    background: bool = False  # send with erp-api-background and poll for the outcome
    map: str | None = None  # a TOML mapping file (source columns -> API columns)
    failed: str | None = None  # failed-records file (default <input>.failed.csv / .ndjson)
    grace: float = 30.0  # seconds in-flight requests get to finish after a stop is asked for
    # SAF-T input: what its opening-balance documents say (see importer.saft.balances)
    saft_text: str | None = None  # default "Opening balance <period end>"
    saft_item: str | None = None  # the line's inventory item
    saft_account: str | None = None  # the line's account
    saft_period: str | None = None  # financialPeriod YYYYMM; default the period end's
    saft_allow_unbalanced: bool = False  # send customers whose balances do not add up in the file
    saft_documents: SaftDocuments = "balances"  # or "invoices": open SourceDocuments invoices, each with its lines

    def __post_init__(self) -> None:
        ent = find_entity(self.entity)  # ConfigError for an unknown name
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if self.mode != "create" and ent.is_action:
            raise ConfigError(f"dunning letters are actions: --mode {self.mode} does not apply")
        if self.release and not ent.releasable:
            raise ConfigError(f"--release applies to invoices, credit notes and debit notes, not {self.entity}")
        _check_numbers(self)
        if self.date_format:  # a layout that cannot read dates one way stops the run here
            check_date_format(self.date_format)
        if self.retry_failed and not self.resume:
            object.__setattr__(self, "resume", True)  # --retry-failed implies --resume
        if self.restart and self.resume:
            raise ConfigError("--restart starts over and --resume continues: choose one")
        if self.saft_period is not None and not _is_period(self.saft_period):
            raise ConfigError(f"--saft-period must be a financial period YYYYMM (202312), not {self.saft_period!r}")
        if self.saft_documents not in SAFT_DOCUMENTS:
            raise ConfigError(f"--saft-documents is {' or '.join(SAFT_DOCUMENTS)}, not {self.saft_documents!r}")

    def with_(self, **changes: Any) -> ImportOptions:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)


class ImportOptionsKwargs(TypedDict, total=False):
    """The fields of :class:`ImportOptions` but ``entity``, as keyword arguments: what
    ``import_records(source, entity=..., **options)`` takes, each with its type, so a type
    checker refuses a misspelt or mistyped option. Kept field for field with ImportOptions
    (tests/test_types.py holds the two to that)."""

    mode: Mode
    base_url: str
    token: str | None
    client_id: str | None
    client_secret: str | None
    tenant_id: str | None
    token_url: str | None
    concurrency: int
    rate: float | None
    timeout: float
    max_attempts: int
    retry_base: float
    format: str | None
    delimiter: str | None
    encoding: str | None
    decimal_comma: bool | None
    date_format: str | None
    max_field_size: int
    results: str | None
    fsync: bool
    resume: bool
    restart: bool
    retry_failed: bool
    dry_run: bool
    set_external_reference: bool
    release: bool
    background: bool
    map: str | None
    failed: str | None
    grace: float
    saft_text: str | None
    saft_item: str | None
    saft_account: str | None
    saft_period: str | None
    saft_allow_unbalanced: bool
    saft_documents: SaftDocuments


# The numeric options: the least each takes, and whether it is a count (a whole number).
_COUNTS = {"concurrency": 1, "max_attempts": 1, "max_field_size": 1}
_SECONDS = ("timeout", "retry_base", "grace")  # finite; above zero, or (these two) at least zero
_MAY_BE_ZERO = frozenset({"retry_base", "grace"})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_numbers(options: ImportOptions) -> None:
    """Refuse a count that is not a whole number at least its least, and a rate or a number
    of seconds that is not a finite number above zero (``nan``, ``inf``, ``true``, text)."""
    for name, least in _COUNTS.items():
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"a value has the wrong type: {_flag(name)} takes a whole number, not {value!r}")
        if value < least:
            raise ConfigError(f"{_flag(name)} must be at least {least}, not {value!r}")
    for name in ("rate", *_SECONDS):
        value = getattr(options, name)
        if value is None and name == "rate":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"a value has the wrong type: {_flag(name)} takes a number, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{_flag(name)} must be a finite number, not {value!r}")
        if value < 0 or (value == 0 and name not in _MAY_BE_ZERO):
            bound = "at least 0" if name in _MAY_BE_ZERO else "positive"
            raise ConfigError(f"{_flag(name)} must be {bound}, not {value!r}")


def _is_period(text: str) -> bool:
    return len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 12
