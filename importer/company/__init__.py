"""A company's reference data: what the target company accepts, read once and kept in a file.

``kinds`` lists the kinds and the endpoints that serve them; ``model`` is the in-memory
``Company`` with its lookups; ``file`` reads and writes a snapshot.
"""

from importer.company.file import dump_company, load_company
from importer.company.kinds import KINDS, Kind
from importer.company.model import Company, Numbering

__all__ = ["Company", "Numbering", "Kind", "KINDS", "load_company", "dump_company"]
