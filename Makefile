# Two commands do all set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
PDFSTAMP := $(VENV)/.pdf-libraries
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
BROWSERSTAMP := $(VENV)/.browser

.PHONY: run test lint typecheck layers unit postgres bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

# WeasyPrint (ccp report -o FILE.pdf) lays text out with Pango and subsets fonts with
# HarfBuzz: Debian's packages, installed here when missing and this is root.
$(PDFSTAMP): | $(BIN)/python
	@if ! ldconfig -p | grep -q 'libpango-1.0.so.0' || ! ldconfig -p | grep -q 'libharfbuzz-subset.so.0'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q $(PDF_PACKAGES) || (apt-get update -q && apt-get install -y -q $(PDF_PACKAGES))) >/dev/null; \
	  else \
	    echo "PDF reports need: apt-get install $(PDF_PACKAGES)" >&2; \
	  fi; \
	fi
	touch $@

# The browser tests drive Debian's Chromium (Playwright downloads no browser of its own).
$(BROWSERSTAMP): | $(BIN)/python
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null; \
	  else \
	    echo "The browser tests need: apt-get install chromium" >&2; \
	  fi; \
	fi
	touch $@

# The main job: replay the precedents, then the demo CCP's end of day and a default drill.
run: $(STAMP)
	$(BIN)/ccp compare examples/nasdaq-2018/case.toml examples/krx-2013/case.toml examples/krx-2013-with-sitg/case.toml
	$(BIN)/ccp eod examples/demo-ccp/case.toml
	$(BIN)/ccp drill examples/drill-demo-ccp/drill.toml
	@echo "Web service: $(BIN)/ccp serve, then open http://127.0.0.1:8000 (demo users printed at first start)"

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

layers: $(DEVSTAMP)
	$(BIN)/lint-imports

# The store's tests start their own PostgreSQL server; this installs it where it is missing.
postgres:
	sh scripts/postgres.sh

unit: $(DEVSTAMP) $(PDFSTAMP) $(BROWSERSTAMP) postgres
	$(BIN)/python -m pytest

# Every test, after lint, strict typing and the layer contract.
test: lint typecheck layers unit

bench: $(DEVSTAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
