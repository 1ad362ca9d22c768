"""Tests of importer.sandbox: the local simulator of the API, over real sockets."""
