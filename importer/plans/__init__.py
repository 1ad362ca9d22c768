"""Plans and fleets: a migration as ordered steps, and many companies' plans in one run.

``plan`` reads and runs one plan file (``importer plan``); ``manifest`` reads a fleet
manifest and ``fleet`` runs its companies side by side (``importer fleet``), each a
``company_run`` that ``progress`` draws on a terminal. Built on :mod:`importer.api`.
"""
