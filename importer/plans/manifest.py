"""A fleet manifest: the companies a bureau loads in one run, each with its plan.

    # bureau.toml (paths relative to this file)
    sandbox_company = "demo.company.json"   # with --sandbox: the company the sandbox is
    [defaults]                     # run options for every company's steps
    concurrency = 8

    [[company]]
    name = "acme"                  # its results go to <results dir>/acme/
    tenant_id = "1234567"
    client_id_env = "ACME_CLIENT_ID"          # names of environment variables ...
    client_secret_env = "ACME_CLIENT_SECRET"
    plan = "acme/migration.toml"              # a plan file ...

    [[company]]
    name = "globex"
    tenant_id = "7654321"
    secrets_file = "secrets.toml"             # ... or a file only its owner may read
    [[company.step]]                          # ... or the plan's steps inline
    input = "globex/customers.csv"
    entity = "customer"

Credentials are named, never written here: ``client_id_env`` and
``client_secret_env`` (client credentials), ``token_env`` (a bearer token), or
``secrets_file``: a TOML file with ``client_id`` and ``client_secret`` (or
``token``), at its top or in a table named after the company, which group and
others may not read (``chmod 600``). :func:`load_manifest` checks everything,
every company's plan and inputs and whether its variables are set, before
anything is sent; each error names the company and the key.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.options import OPTION_NAMES, ImportOptions
from importer.plans.plan import Plan, load_plan, parse_steps, sandbox_company_key

__all__ = ["Company", "Credentials", "Manifest", "load_manifest", "select", "SANDBOX_CLIENT"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CREDENTIAL_KEYS = ("client_id_env", "client_secret_env", "token_env", "secrets_file")
_COMPANY_KEYS = {"name", "tenant_id", "base_url", "token_url", "plan", "step", "results_dir", *_CREDENTIAL_KEYS}
# Options that a manifest names by reference or keeps to the company, and why.
_SECRETS = {
    "token": "name the variable that holds it: token_env",
    "client_secret": "name the variable that holds it: client_secret_env",
    "client_id": "name the variable that holds it: client_id_env",
}
_PER_COMPANY = {
    "tenant_id": "it is the company's own key, beside its name",
    "results": "each company's results go to its own folder (results_dir)",
    "failed": "each company's failed-records files go to its own folder (results_dir)",
}
# In a company's steps (inline or in its plan file) the connection is the company's.
_NOT_IN_STEPS = {
    **_SECRETS, **_PER_COMPANY,
    "base_url": "the company's base_url in the manifest says where it sends",
    "token_url": "the company's token_url in the manifest says where it gets tokens",
}
SANDBOX_CLIENT = ("sandbox", "sandbox-secret")  # the embedded sandbox's client credentials


@dataclass(frozen=True)
class Credentials:
    """Where a company's secrets are: variable names or a file, never the values."""

    client_id_env: str | None = None
    client_secret_env: str | None = None
    token_env: str | None = None
    secrets_file: str | None = None

    def resolve(self, company: str, environ: Mapping[str, str]) -> dict[str, str]:
        """``token``, or ``client_id`` and ``client_secret``; a ConfigError naming what is missing."""
        if self.secrets_file is not None:
            return _read_secrets(company, self.secrets_file)
        if self.token_env is not None:
            return {"token": _variable(company, "token_env", self.token_env, environ)}
        assert self.client_id_env is not None and self.client_secret_env is not None
        return {
            "client_id": _variable(company, "client_id_env", self.client_id_env, environ),
            "client_secret": _variable(company, "client_secret_env", self.client_secret_env, environ),
        }


@dataclass(frozen=True)
class Company:
    name: str
    tenant_id: str | None
    credentials: Credentials = field(repr=False)
    plan: Plan
    results_dir: str
    base_url: str | None = None  # None: the fleet defaults', else the API's own
    token_url: str | None = None
    # The manifest's options for this company (its [defaults] and its own keys), already
    # under each step's options in ``plan``; the speed options also shape its client.
    options: dict[str, Any] = field(default_factory=dict)

    def connection(self, environ: Mapping[str, str], sandbox: str | None = None) -> dict[str, Any]:
        """The run options that say where to send and as whom.

        ``sandbox``: the base URL of a sandbox to send to instead; the company then
        signs in with the sandbox's client for its own tenant, so it keeps its own
        window and its own ledger there.
        """
        if sandbox is not None:
            client_id, secret = SANDBOX_CLIENT
            return {"base_url": sandbox, "token_url": f"{sandbox.rstrip('/')}/connect/token",
                    "client_id": client_id, "client_secret": secret, "tenant_id": self.tenant_id or self.name,
                    "token": None}
        found: dict[str, Any] = {"token": None, "client_id": None, "client_secret": None,
                                 **self.credentials.resolve(self.name, environ), "tenant_id": self.tenant_id}
        for key in ("base_url", "token_url"):
            value = getattr(self, key) or self.options.get(key)
            if value:
                found[key] = value
        return found


@dataclass(frozen=True)
class Manifest:
    path: str
    companies: tuple[Company, ...]
    sandbox_company: str | None = None  # with --sandbox: a snapshot file or "none"; None: the default

    def names(self) -> list[str]:
        return [company.name for company in self.companies]


def load_manifest(
    path: str | os.PathLike[str], *, results_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None, check_credentials: bool = True,
) -> Manifest:
    """Read and check a manifest whole; every mistake is a ConfigError naming the company and key.

    ``results_dir``: the folder that holds a folder per company (default ``results``
    beside the manifest). ``check_credentials``: whether each company's variables
    must be set and its secrets file readable now (not for a sandbox rehearsal).
    """
    path = Path(path)
    data = _read_toml(path, "manifest")
    unknown = set(data) - {"defaults", "company", "sandbox_company"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; expected [defaults] and [[company]]")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path} [defaults]: must be a table")
    _check_options(f"{path} [defaults]", defaults, {**_SECRETS, **_PER_COMPANY})
    raw_companies = data.get("company")
    if not raw_companies:
        raise ConfigError(f"{path}: no [[company]] tables")
    if not isinstance(raw_companies, list) or not all(isinstance(raw, dict) for raw in raw_companies):
        raise ConfigError(f"{path}: company must be an array of tables ([[company]])")
    root = Path(results_dir) if results_dir is not None else path.parent / "results"
    env = os.environ if environ is None else environ
    companies: list[Company] = []
    for number, raw in enumerate(raw_companies, 1):
        company = _company(path, number, dict(raw), defaults, root)
        if check_credentials:
            company.credentials.resolve(company.name, env)
        companies.append(company)
    _check_unique(path, companies)
    return Manifest(str(path), tuple(companies), sandbox_company_key(path, data))


def select(manifest: Manifest, only: str | list[str] | None) -> Manifest:
    """The companies ``only`` names (``a,b`` or a list), in the manifest's order."""
    if not only:
        return manifest
    wanted = [n.strip() for n in (only.split(",") if isinstance(only, str) else only) if n.strip()]
    unknown = [n for n in wanted if n not in manifest.names()]
    if unknown:
        raise ConfigError(f"--only: no company {', '.join(map(repr, unknown))} in {manifest.path}; "
                          f"it has {', '.join(manifest.names())}")
    return Manifest(manifest.path, tuple(c for c in manifest.companies if c.name in wanted), manifest.sandbox_company)


def _company(path: Path, number: int, raw: dict[str, Any], defaults: dict[str, Any], root: Path) -> Company:
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{path} company #{number}: name is required: letters, digits, '.', '_' or '-' "
                          f"(it names the company's results folder), not {name!r}")
    where = f"{path} company {name!r}"
    options = {k: v for k, v in raw.items() if k not in _COMPANY_KEYS}
    _check_options(where, options, {**_SECRETS, **_PER_COMPANY})
    tenant = raw.get("tenant_id")
    if tenant is not None and (isinstance(tenant, bool) or not isinstance(tenant, str | int) or str(tenant) == ""):
        raise ConfigError(f"{where}: tenant_id must be the company's id, a string")
    credentials = _credentials(where, raw, path.parent)
    if tenant is None and credentials.client_id_env is not None:
        raise ConfigError(f"{where}: tenant_id is required with client credentials (the company to sign in for)")
    for key in ("base_url", "token_url", "results_dir"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key]):
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    has_plan, has_steps = "plan" in raw, "step" in raw
    if has_plan == has_steps:
        raise ConfigError(f"{where}: give either plan = \"FILE.toml\" or [[company.step]] tables, "
                          f"{'not both' if has_plan else 'one of them'}")
    if has_plan:
        if not isinstance(raw["plan"], str) or not raw["plan"]:
            raise ConfigError(f"{where}: plan must be a file name")
        plan = _company_plan(where, path.parent / raw["plan"])
    else:
        steps = parse_steps(where, {}, raw["step"], path.parent, not_here=_NOT_IN_STEPS)
        plan = Plan(f"{path} [{name}]", steps)
    for step in plan.steps:
        if step.input != "-" and not Path(step.input).is_file():
            raise ConfigError(f"{where} step {step.name!r}: input {step.input} not found")
    results = path.parent / raw["results_dir"] if "results_dir" in raw else root / name
    merged = {**defaults, **options}  # under each step's own options: the most specific wins
    plan = Plan(plan.path, tuple(replace(step, options={**merged, **step.options}) for step in plan.steps))
    return Company(
        name, None if tenant is None else str(tenant), credentials, plan, str(results),
        raw.get("base_url"), raw.get("token_url"), merged,
    )


def _company_plan(where: str, plan_path: Path) -> Plan:
    """The company's plan file, with the connection left to the manifest."""
    try:
        plan = load_plan(plan_path)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    for step in plan.steps:
        for key in step.options:
            if key in _NOT_IN_STEPS:
                raise ConfigError(f"{where}: {plan_path} step {step.name!r}: {key} does not belong in a "
                                  f"company's plan; {_NOT_IN_STEPS[key]}")
    return plan


def _credentials(where: str, raw: dict[str, Any], base: Path) -> Credentials:
    given = {key: raw[key] for key in _CREDENTIAL_KEYS if key in raw}
    for key, value in given.items():
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: {key} must name {'a file' if key == 'secrets_file' else 'a variable'}")
    pair = {"client_id_env", "client_secret_env"} & set(given)
    kinds = (1 if pair else 0) + ("token_env" in given) + ("secrets_file" in given)
    if kinds != 1 or (pair and len(pair) != 2):
        raise ConfigError(
            f"{where}: credentials: give client_id_env and client_secret_env (names of environment "
            "variables), or token_env, or secrets_file; exactly one of these"
        )
    if "secrets_file" in given:
        given["secrets_file"] = str(base / given["secrets_file"])
    return Credentials(**given)


def _read_secrets(company: str, file: str) -> dict[str, str]:
    where = f"company {company!r}: secrets_file {file}"
    try:
        mode = os.stat(file).st_mode
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read: {exc.strerror}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{where}: group or others may read or write it; make it yours alone (chmod 600 {file})")
    data = _read_toml(Path(file), "secrets file", quiet=True)
    own = data.get(company)
    table = own if isinstance(own, dict) else data
    if isinstance(table.get("token"), str) and table["token"]:
        return {"token": table["token"]}
    client_id, secret = table.get("client_id"), table.get("client_secret")
    if isinstance(client_id, str) and client_id and isinstance(secret, str) and secret:
        return {"client_id": client_id, "client_secret": secret}
    raise ConfigError(f"{where}: holds neither token nor client_id and client_secret "
                      f"(at its top or in a [{company}] table)")


def _variable(company: str, key: str, name: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name)
    if not value:
        raise ConfigError(f"company {company!r}: {key}: the environment variable {name} is not set")
    return value


def _check_options(where: str, table: dict[str, Any], refused: dict[str, str]) -> None:
    for key in table:
        if key in refused:
            raise ConfigError(f"{where}: {key} does not belong here; {refused[key]}")
        if key not in OPTION_NAMES:
            raise ConfigError(f"{where}: unknown key {key!r}")
    try:  # values out of range, named now rather than when the company runs
        ImportOptions(entity="invoice").with_(**table)  # an entity every option applies to
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: a value has the wrong type ({exc})") from None


def _check_unique(path: Path, companies: list[Company]) -> None:
    seen: dict[str, str] = {}
    for company in companies:
        if company.name in seen:
            raise ConfigError(f"{path}: two companies are named {company.name!r}")
        folder = os.path.realpath(company.results_dir)
        if folder in seen.values():
            other = next(n for n, f in seen.items() if f == folder)
            raise ConfigError(f"{path}: companies {other!r} and {company.name!r} would share the results "
                              f"folder {company.results_dir}")
        seen[company.name] = folder


def _read_toml(path: Path, what: str, quiet: bool = False) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        # A secrets file's parse error may quote the line it failed on: a secret.
        raise ConfigError(f"{path}: not valid TOML" + ("" if quiet else f": {exc}")) from None
