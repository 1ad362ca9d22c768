"""Tests of importer.sources: the CSV and NDJSON readers on real, hostile and random files."""
