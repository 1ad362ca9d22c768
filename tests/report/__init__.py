"""Tests of importer.report: ``importer report`` in text, JSON, CSV and HTML."""
