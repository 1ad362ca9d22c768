"""The load stage: build each call, send it, and write its outcome (results and failed files)."""
