"""Helpers the tests share, each imported one way: ``from tests.support.MODULE import NAME``.

- runs: the CLI as a subprocess, results files read back, the sandbox's token, the
  repository's paths, a small tmpfs
- sandbox_api: a thin client of the sandbox's API, payload builders, a fake clock
- hostile_server: small misbehaving aiohttp servers on loopback
- ledger_proxy: the sandbox behind a proxy that can lose or delay answers
- fidelity_corpus: response documents generated from the response schemas
- saft_files: SAF-T files written to order, and broken ones
- migration: a two-step plan run against a sandbox, for the report's tests

Fixtures stay in the conftest.py files.
"""
