# Everything a fresh clone needs: `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench schema clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,speed]'
	touch $(STAMP)

# The report's browser test renders in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing chromium for the report's browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Every sample, in order, into the embedded sandbox: a rehearsal of a whole migration.
# PROFILE=live rehearses against the live API's quirks (make demo PROFILE=live).
PROFILE ?= standard
demo: $(STAMP)
	rm -rf build/demo  # a fresh sandbox each time: last time's results would refuse the rerun
	$(VENV)/bin/importer plan samples/migration.toml --sandbox --sandbox-profile $(PROFILE) --results-dir build/demo
	$(VENV)/bin/importer report build/demo --html build/demo/report.html

test: $(STAMP) browser
	$(VENV)/bin/ruff check importer tests benchmarks samples
	$(PY) -m pytest -q -n auto

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Regenerate the field tables from the OpenAPI document (needs ../shared).
schema: $(STAMP)
	$(PY) -m importer.schema.generate ../shared/visma-openapi/customer-ledger.openapi.json

clean:
	rm -rf $(VENV) build .pytest_cache
