"""SAF-T's input kind, registered without its reader.

Importing this module registers the kind ``saft`` (``.xml``, ``.xml.gz``) with
:mod:`importer.sources.kinds`; the reader (:mod:`importer.saft.source`) is imported when a
SAF-T file is first opened, so a run of a CSV file does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importer.sources.kinds import InputKind, register

if TYPE_CHECKING:
    from importer.sources.inputs import Input
    from importer.sources.options import SourceOptions

__all__ = ["FORMAT", "SAFT_INPUT"]

FORMAT = "saft"


def _open_input(path: str, options: SourceOptions) -> Input:
    from importer.saft.source import open_input

    return open_input(path, options)


# One file, read once as customers and once as their documents: each run names its outputs after its entity.
SAFT_INPUT = register(InputKind(FORMAT, (".xml",), "a SAF-T file ends in .xml or .xml.gz", _open_input,
                                per_entity=True))
