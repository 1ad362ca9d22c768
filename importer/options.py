"""Everything a run can be told: :class:`ImportOptions`, made of typed option groups.

A run is an entity and a mode, and a frozen group for each concern, each holding its
defaults once:

- :class:`Connection`: where to send, and as whom;
- :class:`~importer.pace.Pace`: how fast, and how often a request is tried (the
  client's own defaults);
- :class:`InputFormat`: how the input is read (format, delimiter, encoding, numbers, dates, map);
- :class:`State`: the results and failed-records files, resume, restart, dry run;
- :class:`Behaviour`: what is done with each record besides sending it (release, references,
  how what is created is numbered: :mod:`importer.load.numbering`; the company it is checked
  against first: :mod:`importer.load.preflight`);
- :class:`SaftSettings`: how a SAF-T file is read (None: as its defaults say).

Every way in (flags, ``IMPORTER_*`` variables, ``importer.toml``, a plan's or a fleet
manifest's tables, the Python API) names an option by its flat name, the flag's without
the dashes (``concurrency``, ``saft_documents``): :data:`OPTION_NAMES` says which group each
goes to, read from the groups' own fields, so no list of names is kept anywhere else. The
numbers are checked here once: whole numbers where a count goes, finite numbers where
seconds or a rate go. TOML reads ``nan`` and ``inf`` as numbers; neither is a timeout or a rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from importer.entities import entity as find_entity
from importer.errors import ConfigError
from importer.pace import Pace
from importer.sources.options import SourceOptions
from importer.vocabulary import MODES, NUMBERING_MODES, SAFT_DOCUMENTS, Mode, NumberingMode, SaftDocuments

__all__ = ["ImportOptions", "ImportOptionsKwargs", "MODES", "DEFAULT_BASE_URL", "Connection", "Pace",
           "InputFormat", "State", "Behaviour", "SaftSettings", "GROUPS", "OPTION_NAMES", "WHOLE_RUN",
           "group_names"]

DEFAULT_BASE_URL = "https://api.finance.visma.net"


@dataclass(frozen=True)
class Connection:
    """Where to send, and as whom (a bearer token, or client credentials for a tenant)."""

    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    token_url: str | None = None


@dataclass(frozen=True)
class InputFormat:
    """How the input is read, and its values understood."""

    format: str | None = None  # None: by the file's extension
    delimiter: str | None = None
    encoding: str | None = None  # None: UTF-8, and a file that is not valid UTF-8 stops the run
    decimal_comma: bool | None = None  # None: on when the delimiter is ';'
    date_format: str | None = None
    max_field_size: int = SourceOptions.max_field_size  # bytes; a longer field or line makes its record invalid
    map: str | None = None  # a TOML mapping file (source columns -> API columns)
    sheet: str | None = None  # a workbook's sheet, by name or 1-based place; None: the first
    header_row: int | None = None  # a workbook's header row (1-based); None: found

    def __post_init__(self) -> None:
        if self.date_format:  # a layout that cannot read dates one way stops the run here
            # imported here, not at the top: the mapping stage is most of `importer --help`'s start-up
            from importer.mapping.coerce import check_date_format

            check_date_format(self.date_format)


@dataclass(frozen=True)
class State:
    """The files a run keeps, and how it stands to an earlier run's."""

    results: str | None = None  # default <input>.results.ndjson (.dry-run.ndjson for --dry-run)
    failed: str | None = None  # failed-records file (default <input>.failed.csv / .ndjson)
    fsync: bool = False
    resume: bool = False
    restart: bool = False  # start over on a results file that holds outcomes (the old one is kept beside)
    retry_failed: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.retry_failed and not self.resume:
            object.__setattr__(self, "resume", True)  # --retry-failed implies --resume
        if self.restart and self.resume:
            raise ConfigError("--restart starts over and --resume continues: choose one")


@dataclass(frozen=True)
class Behaviour:
    """What a run does besides sending each record, and how it stops."""

    set_external_reference: bool = True  # for auto-numbered documents, so they can be found again
    release: bool = False  # release each document after it is created or updated
    background: bool = False  # send with erp-api-background and poll for the outcome
    # Seconds in-flight requests get to finish after a stop is asked for: less than a scheduler's
    # usual grace period (Kubernetes' 30 s), so the last results lines are written before a SIGKILL.
    grace: float = 20.0
    numbering: NumberingMode | None = None  # company | manual | override; None: the map's, else chosen per record
    numbering_field: str | None = None  # where "company" numbering keeps the legacy number (documents: customerRefNumber)
    # What every record is checked against before it is sent (importer.load.preflight): a company
    # snapshot FILE, "live" (read once at the start), "none"; None: the command's default.
    preflight_company: str | None = None
    send_valid: bool = False  # a live run whose preflight refuses records sends the rest

    def __post_init__(self) -> None:
        company = self.preflight_company
        if company is not None and (not isinstance(company, str) or not company.strip()):
            raise ConfigError(f"--company is a snapshot FILE, live or none, not {company!r}")
        if self.numbering is not None and self.numbering not in NUMBERING_MODES:
            raise ConfigError(f"--numbering is {', '.join(NUMBERING_MODES)}, not {self.numbering!r}")
        if self.numbering_field is not None and (not isinstance(self.numbering_field, str)
                                                 or not self.numbering_field.strip()):
            raise ConfigError(f"--numbering-field names a field of the entity, not {self.numbering_field!r}")


@dataclass(frozen=True)
class SaftSettings:
    """How a SAF-T file is read: as what, and what its opening-balance documents say.

    ``entity`` is what the file is read as; a run's own (``ImportOptions.entity``) wins.
    The others are the ``--saft-*`` flags (see :mod:`importer.saft.balances`).
    """

    entity: str | None = None
    text: str | None = None  # default "Opening balance <period end>"
    item: str | None = None  # the line's inventory item
    account: str | None = None  # the line's account
    period: str | None = None  # financialPeriod YYYYMM; default the period end's
    allow_unbalanced: bool = False  # send customers whose balances do not add up in the file
    documents: SaftDocuments = "balances"  # or "invoices": open SourceDocuments invoices, each with its lines

    def __post_init__(self) -> None:
        if self.period is not None and not _is_period(self.period):
            raise ConfigError(f"--saft-period must be a financial period YYYYMM (202312), not {self.period!r}")
        if self.documents not in SAFT_DOCUMENTS:
            raise ConfigError(f"--saft-documents is {' or '.join(SAFT_DOCUMENTS)}, not {self.documents!r}")


# The groups of ImportOptions: its attribute, the group, and the prefix of its options' flat names.
GROUPS: tuple[tuple[str, type, str], ...] = (
    ("connection", Connection, ""),
    ("pace", Pace, ""),
    ("input", InputFormat, ""),
    ("state", State, ""),
    ("behaviour", Behaviour, ""),
    ("saft", SaftSettings, "saft_"),
)
_NOT_OPTIONS = {(SaftSettings, "entity")}  # the run's entity says what a SAF-T file is read as
# Each option's flat name -> (its group's attribute, its field there); "mode" is the run's own.
OPTION_NAMES: dict[str, tuple[str, str]] = {"mode": ("", "mode")} | {
    prefix + f.name: (attr, f.name) for attr, group, prefix in GROUPS for f in fields(group)
    if (group, f.name) not in _NOT_OPTIONS
}
_GROUP_NAMES = tuple(attr for attr, _, _ in GROUPS)


def group_names(group: type) -> tuple[str, ...]:
    """The flat names of one group's options (``Pace`` -> concurrency, rate, ...)."""
    attr = next(a for a, g, _ in GROUPS if g is group)
    return tuple(name for name, (at, _) in OPTION_NAMES.items() if at == attr)


# The State options a plan or a fleet is told for all its files at once (each file has its own results).
WHOLE_RUN = tuple(name for name in group_names(State) if name not in ("results", "failed"))


@dataclass(frozen=True, init=False)
class ImportOptions:
    """A run's options: ``ImportOptions("invoice", release=True)`` or ``ImportOptions("invoice",
    pace=Pace(concurrency=8))``; flat names and groups mix, a flat name overriding its group's."""

    entity: str
    mode: Mode = "create"
    connection: Connection = field(default_factory=Connection)
    pace: Pace = field(default_factory=Pace)
    input: InputFormat = field(default_factory=InputFormat)
    state: State = field(default_factory=State)
    behaviour: Behaviour = field(default_factory=Behaviour)
    saft: SaftSettings | None = None  # None: a SAF-T file is read as SaftSettings' defaults say

    def __init__(
        self, entity: str, *, connection: Connection | None = None, pace: Pace | None = None,
        input: InputFormat | None = None, state: State | None = None, behaviour: Behaviour | None = None,
        saft: SaftSettings | None = None, **values: Unpack[ImportOptionsKwargs],
    ) -> None:
        given: dict[str, Any] = {"connection": connection, "pace": pace, "input": input, "state": state,
                                 "behaviour": behaviour, "saft": saft}
        flat: dict[str, Any] = dict(values)
        unknown = sorted(set(flat) - set(OPTION_NAMES))
        if unknown:
            raise TypeError(_unknown(unknown))
        object.__setattr__(self, "entity", entity)
        object.__setattr__(self, "mode", flat.pop("mode", type(self).mode))
        for attr, group, _ in GROUPS:
            changes = {OPTION_NAMES[k][1]: v for k, v in flat.items() if OPTION_NAMES[k][0] == attr}
            value = given[attr]
            if changes or (value is None and attr != "saft"):
                value = replace(value if value is not None else group(), **changes)
            object.__setattr__(self, attr, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        ent = find_entity(self.entity)  # ConfigError for an unknown name
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if self.mode != "create" and ent.is_action:
            raise ConfigError(f"dunning letters are actions: --mode {self.mode} does not apply")
        if (self.behaviour.numbering or self.behaviour.numbering_field) and ent.is_action:
            raise ConfigError(f"--numbering applies to customers and documents, not to {self.entity}")
        if self.behaviour.release and not ent.releasable:
            raise ConfigError(f"--release applies to invoices, credit notes and debit notes, not {self.entity}")
        _check_numbers(self)

    def with_(self, **changes: Any) -> ImportOptions:
        """These options with ``changes``: flat names, groups, ``entity`` or ``mode``."""
        entity = changes.pop("entity", self.entity)
        groups = {attr: changes.pop(attr, getattr(self, attr)) for attr in _GROUP_NAMES}
        changes.setdefault("mode", self.mode)
        return ImportOptions(entity, **groups, **changes)

    def value(self, name: str) -> Any:
        """The option of this flat name (``concurrency``, ``saft_documents``), from its group."""
        attr, name_in_group = OPTION_NAMES[name]
        if not attr:
            return getattr(self, name_in_group)
        return getattr(getattr(self, attr) or SaftSettings(), name_in_group)

    if not TYPE_CHECKING:  # earlier versions' flat attributes (options.concurrency), for scripts

        def __getattr__(self, name: str) -> Any:
            if name not in OPTION_NAMES or name in ("mode", *_GROUP_NAMES):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            return self.value(name)


class ImportOptionsKwargs(TypedDict, total=False):
    """The options of :class:`ImportOptions` by their flat names, as keyword arguments: what
    ``import_records(source, entity=..., **options)`` takes, each with its type, so a type
    checker refuses a misspelt or mistyped option (and ``ImportOptions`` refuses one at run
    time). Kept name for name and type for type with the groups' fields (tests/test_types.py
    holds the two to that): a type checker cannot read them from the groups."""

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
    map: str | None
    sheet: str | None
    header_row: int | None
    results: str | None
    failed: str | None
    fsync: bool
    resume: bool
    restart: bool
    retry_failed: bool
    dry_run: bool
    set_external_reference: bool
    release: bool
    background: bool
    grace: float
    numbering: NumberingMode | None
    numbering_field: str | None
    preflight_company: str | None
    send_valid: bool
    saft_text: str | None
    saft_item: str | None
    saft_account: str | None
    saft_period: str | None
    saft_allow_unbalanced: bool
    saft_documents: SaftDocuments


def _unknown(names: list[str]) -> str:
    """``unknown option(s): concurency (did you mean concurrency?)``."""
    said = []
    for name in names:
        import difflib  # only for a misspelt option

        close = difflib.get_close_matches(name, list(OPTION_NAMES), n=1)
        said.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return f"unknown option(s): {', '.join(said)}"


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
        value = options.value(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"a value has the wrong type: {_flag(name)} takes a whole number, not {value!r}")
        if value < least:
            raise ConfigError(f"{_flag(name)} must be at least {least}, not {value!r}")
    for name in ("rate", *_SECONDS):
        value = options.value(name)
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
