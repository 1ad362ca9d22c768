"""Tests of importer.saft: SAF-T files read and imported."""
