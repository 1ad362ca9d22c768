"""Settings under the command line: the environment, then a config file.

In order of precedence: the command line; the environment (``IMPORTER_<FLAG>``, e.g.
``IMPORTER_CONCURRENCY=64``, and ``VISMA_*`` for the connection); a TOML config file
(``--config``, ``$IMPORTER_CONFIG``, else ``./importer.toml`` when present: keys are the
flag names); the defaults. The environment and the file become each command's
defaults (``set_defaults``), so a flag given on the command line wins; the flags of
each command come from its :class:`~importer.cli.flags.CommandParser`.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path
from typing import Any

from importer.cli.flags import CommandParser, Flag
from importer.errors import ConfigError

__all__ = ["apply_defaults", "config_file", "config_path"]

# Flags whose environment variable is VISMA_* rather than IMPORTER_*.
_VISMA_ENV = {"base_url": "VISMA_BASE_URL", "token": "VISMA_TOKEN", "token_url": "VISMA_TOKEN_URL"}
# Never shown as a default in --help, never read from a config file.
_SECRET = {"token"}
_NO_CONFIG = ("sandbox", "columns", "report", "map")  # commands that read neither IMPORTER_* nor importer.toml


def config_path(argv: list[str]) -> str | None:
    """The config file this command line reads, if any (an input: no output may overwrite it)."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--config")
    known, _ = probe.parse_known_args(argv)
    path: str | None = known.config or os.environ.get("IMPORTER_CONFIG")
    if path is None and Path("importer.toml").exists():
        return "importer.toml"
    return path


def config_file(argv: list[str]) -> dict[str, Any]:
    """The settings of the config file this command line reads, by flag name (``-`` as ``_``)."""
    path = config_path(argv)
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return {key.replace("-", "_"): value for key, value in data.items()}


def apply_defaults(parser: CommandParser, config: dict[str, Any]) -> None:
    """Set each command's defaults from the environment, else the config file."""
    for name, command in parser.commands.items():
        if name in _NO_CONFIG:
            continue
        defaults: dict[str, Any] = {}
        for flag in command.flags:
            dest = flag.dest
            if not flag.options or dest in ("help", "config"):
                continue
            env = _VISMA_ENV.get(dest, f"IMPORTER_{dest.upper()}")
            if env in os.environ:
                defaults[dest] = _from_text(flag, os.environ[env], env)
            elif dest in config:
                defaults[dest] = config[dest]
        command.set_defaults(**defaults)
    secret = set(config) & _SECRET
    if secret:
        raise ConfigError(f"config file: {', '.join(sorted(secret))} may not be kept in a file; "
                          "use the environment (VISMA_TOKEN) or the command line")
    unknown = set(config) - _known_dests(parser)
    if unknown:
        raise ConfigError(f"config file: unknown setting(s) {', '.join(sorted(unknown))}")


def _known_dests(parser: CommandParser) -> set[str]:
    """The settings a config file may hold: the flags of the commands that read it."""
    return {flag.dest for name, command in parser.commands.items() if name not in _NO_CONFIG
            for flag in command.flags if flag.options}


def _from_text(flag: Flag, text: str, env: str) -> Any:
    """The value of ``flag`` an environment variable's text gives, as the command line would read it."""
    if flag.kind == "switch":
        return text.strip().lower() in ("1", "true", "yes", "on")
    convert = int if flag.kind == "count" else flag.convert
    if convert is not None:
        try:
            return convert(text)
        except (ValueError, argparse.ArgumentTypeError):
            raise ConfigError(f"{env}={text!r} is not a valid value") from None
    if flag.choices is not None and text not in flag.choices:
        raise ConfigError(f"{env}={text!r}: expected one of {', '.join(map(str, flag.choices))}")
    return text
