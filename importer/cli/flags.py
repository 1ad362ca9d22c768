"""Parsers that keep the flags they are given.

The config layering (:mod:`importer.cli.config`) sets each command's defaults from the
environment and the config file. For that it needs every flag of every command and how
to read its value from text. argparse keeps those in private attributes that a Python
upgrade may change; a :class:`CommandParser` records them instead, as they are added,
through argparse's public API (``add_argument`` returns the action it made). A
:class:`Section` is a titled group of flags in ``--help`` that records its flags in its
command's list the same way.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CommandParser", "Flag", "Section", "delimiter", "positive_float", "seconds"]

Kind = Literal["switch", "count", "value"]  # on/off (true, yes, 1, on); how many (-vv); text, maybe typed


@dataclass(frozen=True)
class Flag:
    """One argument of a command, as it was added."""

    dest: str
    options: tuple[str, ...]  # e.g. ("--concurrency", "-c"); none for a positional
    kind: Kind
    convert: Callable[[str], Any] | None = None  # the flag's type=
    choices: tuple[Any, ...] | None = None


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with the list of its flags (:attr:`flags`) and, for the
    top-level parser, its commands by name (:attr:`commands`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.flags: list[Flag] = []  # before ArgumentParser's own __init__: it adds --help
        self.commands: dict[str, CommandParser] = {}
        super().__init__(*args, **kwargs)

    def add_argument(self, *names: str, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*names, **kwargs)
        self.flags.append(_flag(action, kwargs))
        return action

    def section(self, title: str) -> Section:
        """A titled group of flags (``--help`` lists them under ``title``)."""
        return Section(self, title)


class Section:
    """A group of flags shown together in ``--help``, kept in its command's :attr:`~CommandParser.flags`."""

    def __init__(self, command: CommandParser, title: str) -> None:
        self._command = command
        self._group = command.add_argument_group(title)

    def add_argument(self, *names: str, **kwargs: Any) -> argparse.Action:
        action = self._group.add_argument(*names, **kwargs)
        self._command.flags.append(_flag(action, kwargs))
        return action


def _flag(action: argparse.Action, how: dict[str, Any]) -> Flag:
    """What the config layering needs of ``action``, from the arguments that made it."""
    kind: Kind = "value"
    if how.get("action") in ("store_true", argparse.BooleanOptionalAction):
        kind = "switch"
    elif how.get("action") == "count":
        kind = "count"
    choices = how.get("choices")
    return Flag(action.dest, tuple(action.option_strings), kind, how.get("type"),
                None if choices is None else tuple(choices))


# -- value types -----------------------------------------------------------------------------


def positive_float(text: str) -> float:
    """A rate or a number of seconds: finite and above zero (``nan`` and ``inf`` are neither)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not above zero")
    return value


def seconds(text: str) -> float:
    """A number of seconds that may be 0: finite and not below zero."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return positive_float(text)


def delimiter(text: str) -> str:
    """``--delimiter``: one character; ``\\t`` or ``TAB`` for a tab."""
    return "\t" if text in ("\\t", "TAB", "tab") else text
