"""Tests of importer.mapinit: ``importer map init``."""
