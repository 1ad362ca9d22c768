"""A package's public names imported when first used (PEP 562), not when the package is.

``__getattr__, __dir__ = lazy_exports(globals(), {"name": "module", ...})`` at the end of a
package's ``__init__``: ``package.name`` and ``from package import name`` import ``module``
then, and keep the value as a plain attribute afterwards. It keeps `importer --version`,
`--help` and a module imported alone from paying for aiohttp, the load stage and the
sandbox's server.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, Any], names: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose ``names`` live in other modules."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # found once, then a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace.get("__all__", ()), *names})

    return __getattr__, __dir__
