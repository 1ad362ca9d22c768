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
	$(PY) -m pip download --quiet --dest $(VENV)/wheelhouse . 'setuptools>=77'  # tests/test_package.py installs offline from it
	touch $(STAMP)

# The report's browser test renders in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing chromium for the report's browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Every sample, in order, into a local sandbox: a rehearsal of a whole migration, then its
# report (build/demo/report.html) and control totals. PROFILE=live rehearses against the
# live API's quirks (make demo PROFILE=live).
PROFILE ?= standard
demo: $(STAMP)
	IMPORTER=$(VENV)/bin/importer PROFILE=$(PROFILE) OUT=build/demo samples/rehearse.sh

test: $(STAMP) browser
	$(VENV)/bin/ruff check importer tests benchmarks samples
	$(PY) -m mypy importer
	$(PY) -m pytest -q -n 4

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Regenerate the field tables from the OpenAPI document, and the SAF-T facts from its
# XSDs (needs ../shared).
schema: $(STAMP)
	$(PY) -m importer.schema.generate ../shared/visma-openapi/customer-ledger.openapi.json
	$(PY) -m importer.saft.generate ../shared/saf-t/Norwegian_SAF-T_Financial_Schema_v_1.10.xsd \
	  ../shared/saf-t/Norwegian_SAF-T_Financial_Schema_v_1.30.xsd

clean:
	rm -rf $(VENV) build .pytest_cache
