"""Tests of importer.load: identity, decisions, proofs, results and failed-records files."""
