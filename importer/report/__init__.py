"""``importer report``: what results files say, per file and entity.

``build`` reads results files into a :class:`~importer.report.build.Report`; ``text`` draws
it for a terminal, ``html`` as one page, ``csv`` as two tables for a spreadsheet.
``signoff`` writes the accountant's sign-off (per-customer receivables, file against ledger).
"""
