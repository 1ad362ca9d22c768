"""Tests of importer.ledger: export, verify and reconcile against what the ledger holds."""
