# Everything a fresh clone needs: `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schema clean browser test-3.12

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,speed]'
	$(PY) -m pip download --quiet --dest $(VENV)/wheelhouse . 'setuptools>=77'  # tests/test_package.py installs offline from it
	touch $(STAMP)

# Python 3.12 beside the main venv's: .venv-3.12 holds the project's dependencies (read from
# pyproject.toml) and what the smoke subset's tests need (pins as in the test extra),
# installed by the main venv's pip (no pip of its own, and no build of the project: the
# smoke run reads importer/ from the tree). Where no python3.12 runs, it is skipped, saying so.
PYTHON312 ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
  "$$p" -c 'import sys' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV312 := .venv-3.12
STAMP312 := $(VENV312)/.installed
SMOKE312_DEPS := 'pytest>=8' 'pytest-asyncio>=0.23' 'pytest-timeout>=2.3' 'aioresponses>=0.7.6' 'hypothesis>=6.100'
SMOKE312 := tests/load/test_results.py tests/test_api.py::test_file_object_input \
  tests/test_api.py::test_path_input_with_callback_and_summary_fields \
  tests/test_platforms.py::test_a_refusal_names_the_holder_from_its_note_without_proc \
  tests/test_platforms.py::test_restart_keeps_a_copy_and_the_lock \
  tests/test_platforms.py::test_stop_signals_reach_the_loop_where_it_cannot_watch_them

$(STAMP312): pyproject.toml $(STAMP)
	@if [ -z "$(PYTHON312)" ]; then echo "python3.12 not found: no $(VENV312), the 3.12 smoke run is skipped"; \
	else $(PYTHON312) -m venv --clear --without-pip $(VENV312) && \
	  $(PY) -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
	    > $(VENV312)/requirements.txt && \
	  $(PY) -m pip --python $(VENV312)/bin/python install --quiet --disable-pip-version-check \
	    -r $(VENV312)/requirements.txt $(SMOKE312_DEPS) && touch $(STAMP312); fi

# A smoke subset of the suite under Python 3.12 (the results file and its lock, two runs into
# the sandbox, the stop signals); part of make test.
test-3.12: $(STAMP312)
	@if [ -x $(VENV312)/bin/python ]; then PYTHONPATH=$(CURDIR) $(VENV312)/bin/python -m pytest -q -p no:cacheprovider $(SMOKE312); \
	else echo "python3.12 not found: the 3.12 smoke run is skipped"; fi

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

# Lint and types run while .venv-3.12 installs (mostly waiting on pip), then the suite.
test: $(STAMP) browser
	$(MAKE) --no-print-directory -j2 -Otarget lint $(STAMP312)
	$(PY) -m pytest -q -n 6 --dist worksteal
	$(MAKE) --no-print-directory test-3.12

lint: $(STAMP)
	$(VENV)/bin/ruff check importer tests benchmarks samples
	$(PY) -m mypy importer

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Regenerate the field tables from the OpenAPI document, and the SAF-T facts from its
# XSDs (needs ../shared).
schema: $(STAMP)
	$(PY) -m importer.schema.generate ../shared/visma-openapi/customer-ledger.openapi.json
	$(PY) -m importer.saft.generate ../shared/saf-t/Norwegian_SAF-T_Financial_Schema_v_1.10.xsd \
	  ../shared/saf-t/Norwegian_SAF-T_Financial_Schema_v_1.30.xsd

clean:
	rm -rf $(VENV) $(VENV312) build .pytest_cache
