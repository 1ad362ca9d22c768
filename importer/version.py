"""The importer's version: one place that every layer may read (the client's User-Agent, ``--version``)."""

__version__ = "0.1.0"
