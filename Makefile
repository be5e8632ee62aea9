# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint clean browser register-demo mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evaluation demo

test: $(STAMP) browser
	PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

# The report test opens the portfolio page in headless Chromium (Debian's package). Best effort:
# where it cannot be installed the test skips with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || \
	  echo "chromium not installed: the browser test will be skipped"; }
	@command -v pdftoppm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils) >/dev/null 2>&1 || \
	  echo "poppler-utils not installed: the meeting-pack PDF check will be skipped"; }

test-all: $(STAMP)
	PYTHONHASHSEED=0 $(BIN)/python -m pytest -q -m "slow or not slow"

# Mutation testing of the core modules (slow: tens of minutes per group; not part of `make test`).
# GROUPS=formatting ledger ... runs some groups; docs/mutation.md has the scores and survivors.
mutation: $(STAMP)
	$(BIN)/python mutation/run.py $(GROUPS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) _site .pytest_cache data/demo data/*.duckdb

# Maintainers only: register the demo designs again after a change to the design schema or its
# defaults (which changes every design hash). Each design is diagnosed and registered, with the
# diagnosis attached, on the demo data as they stood the day before its start; the ledger restarts
# with an entry naming the head it replaces. Commit designs/registry.jsonl and designs/*.diagnosis.json.
register-demo: $(STAMP)
	PYTHONHASHSEED=0 $(BIN)/python -c "from evaluation.demo.job import register_demo_designs; from evaluation.workspace import find_workspace; register_demo_designs(find_workspace(), by='Field Lab (demo registration)')"
