"""The importer's version: one place that every layer may read (the client's User-Agent, ``--version``).

A constant rather than the installed package's metadata, so a source checkout on
``PYTHONPATH`` reports the same version as the wheel (tests/test_package.py checks
that the built wheel carries this one).
"""

__version__ = "0.1.0"
DISTRIBUTION = "visma-ledger-importer"  # the name on the package index; the import name is `importer`
