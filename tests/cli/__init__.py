"""Tests of importer.cli: the parser, its settings and the commands' own output."""
