"""``importer undo``: take back what a run created, from its results file.

:mod:`~importer.undo.plan` reads what the import created, :mod:`~importer.undo.run` checks
each record against the ledger and deletes, sets inactive or lists it, and
:mod:`~importer.undo.results` keeps undo's own resumable results file.
"""

from importer.undo.plan import Target, read_targets
from importer.undo.results import default_undo_path
from importer.undo.run import UndoSummary, undo_results

__all__ = ["Target", "UndoSummary", "default_undo_path", "read_targets", "undo_results"]
