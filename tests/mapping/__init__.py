"""Tests of importer.mapping: map files, coercion of numbers and dates, required fields."""
