"""Tests of importer.client: answers judged, bounded and proved, against servers on loopback."""
