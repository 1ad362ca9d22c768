"""What the ledger holds, read back: ``export``, ``verify`` and ``reconcile``.

``export`` streams a list GET to a file (``files`` writes it, ``filters`` checks the list's
filters, ``legacy`` writes a mapping file's layout, ``expand`` asks for the parts a column
needs); ``verify`` compares an input with the ledger by key (``differences`` shows the first
of them); ``reconcile`` sets an input's control totals against the ledger's (``amounts``
works a document's amount out, ``sign_off`` shows the figures). ``company`` reads the
company's reference data for ``importer company snapshot``.
"""
