"""Input kinds besides CSV and NDJSON: each is registered by the package that reads it.

The readers here know CSV and NDJSON. A package that reads another kind of file (SAF-T,
:mod:`importer.saft.source`) registers an :class:`InputKind` when it is imported (the
modules that open inputs, ``importer.api``, the ledger reads and ``map init``, import it), so this package names no reader above it: a file's
extension or ``--format`` picks the kind, and the kind opens the file as an
:class:`~importer.sources.inputs.Input`. What the kind needs besides the file (the entity
to read it as, its own settings) comes in :class:`~importer.sources.opening.SourceOptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from importer.errors import ConfigError

if TYPE_CHECKING:
    from importer.sources.inputs import Input
    from importer.sources.opening import SourceOptions

__all__ = ["InputKind", "register", "kind_named", "kind_by_suffix", "hints"]


@dataclass(frozen=True)
class InputKind:
    format: str  # what --format and detect_format call it
    suffixes: tuple[str, ...]  # the extensions of its files, lower case (".gz" is looked through)
    hint: str  # how its files are named, for the error about a name that says no format
    open: Callable[[str, SourceOptions], Input]  # the file at this path, read as the options say
    per_entity: bool = False  # one file read as several entities: each run's outputs name its entity


_KINDS: dict[str, InputKind] = {}


def register(kind: InputKind) -> InputKind:
    """Add ``kind``; registering the same kind again is harmless, another by its name is refused."""
    known = _KINDS.get(kind.format)
    if known is not None and known != kind:
        raise ConfigError(f"two input kinds are named {kind.format!r}")
    _KINDS[kind.format] = kind
    return kind


def kind_named(fmt: str) -> InputKind | None:
    return _KINDS.get(fmt)


def kind_by_suffix(suffix: str) -> InputKind | None:
    return next((kind for kind in _KINDS.values() if suffix in kind.suffixes), None)


def hints() -> str:
    """What the registered kinds' files are called: `` (a SAF-T file ends in .xml or .xml.gz)``."""
    return "".join(f" ({kind.hint})" for kind in _KINDS.values())
