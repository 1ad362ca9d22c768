"""Tests of importer.schema: the field tables generated from the OpenAPI document."""
