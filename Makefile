# Everything a fresh clone needs: `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,speed]'
	touch $(STAMP)

# Every sample, in order, into the embedded sandbox: a rehearsal of a whole migration.
demo: $(STAMP)
	rm -rf build/demo  # a fresh sandbox each time: last time's results would refuse the rerun
	$(VENV)/bin/importer plan samples/migration.toml --sandbox --results-dir build/demo

test: $(STAMP)
	$(VENV)/bin/ruff check importer tests benchmarks samples
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Regenerate the field tables from the OpenAPI document (needs ../shared).
schema: $(STAMP)
	$(PY) -m importer.schema.generate ../shared/visma-openapi/customer-ledger.openapi.json

clean:
	rm -rf $(VENV) build .pytest_cache
