"""The importer's tests: a folder per package of importer/, e2e/ for whole runs, support/ for helpers."""
