"""Benchmarks of the importer against its sandbox; see README.md. Run ``make bench``."""
