"""Tests of importer.plans: plans, their dependencies, fleet manifests."""
