# CivicShield developer and CI entry points.  `make help` lists the targets.
SHELL := /bin/bash
# Each recipe runs as one bash script that stops at its first failing command.
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

VENV        := .venv
VENV_PY     := $(VENV)/bin/python
VENV_STAMP  := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
# python3.11 when there is one, else python3 (checked to be >= 3.11 below).
PYTHON      ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
LOCALE_DIR  := src/civicshield/locale
VENDOR_DIRS := src/civicshield/web/static/vendor tests/browser/vendor
PYTEST_ARGS ?=

.PHONY: help venv assets catalogs install run system-deps system-deps-runtime lint typecheck contracts \
        migrations-check pytest test bench bench-readers fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-18s %s\n", $$1, $$2 }'

# --- environment ----------------------------------------------------------------------------

$(VENV_PY):
	@if [[ -z "$(PYTHON)" ]]; then echo "make: no python3.11 or python3 on PATH" >&2; exit 1; fi
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	    echo "make: $(PYTHON) is $$("$(PYTHON)" -V 2>&1); CivicShield needs Python >= 3.11" >&2; \
	    exit 1; }
	echo "make: creating $(VENV) with $$("$(PYTHON)" -V)"
	"$(PYTHON)" -m venv $(VENV)

# Re-install whenever pyproject.toml or the constraints file (once it exists) changes.
$(VENV_STAMP): $(VENV_PY) pyproject.toml $(wildcard $(CONSTRAINTS))
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check \
	    $(if $(wildcard $(CONSTRAINTS)),-c $(CONSTRAINTS)) -e '.[test]'
	@touch $@

venv: $(VENV_STAMP) ## create .venv and install the package with its test extras

assets: $(VENV_PY) ## fetch and verify the pinned front-end assets (npm pack, see assets.json)
	$(VENV_PY) scripts/fetch_assets.py

catalogs: $(VENV_STAMP) ## compile the Babel message catalogues (fuzzy entries are not compiled)
	@if compgen -G '$(LOCALE_DIR)/*/LC_MESSAGES/messages.po' >/dev/null; then \
	    $(VENV)/bin/pybabel compile -d $(LOCALE_DIR) -D messages --statistics; \
	else \
	    echo "catalogs: no $(LOCALE_DIR)/*/LC_MESSAGES/messages.po yet, nothing to compile"; \
	fi

install: venv assets catalogs ## venv + assets + catalogs

system-deps: ## install missing Debian packages (PostgreSQL, Redis, Chromium, Pango, ...)
	bash scripts/install_system_deps.sh

system-deps-runtime: ## install missing Debian packages the app needs to run (Pango for PDFs)
	bash scripts/install_system_deps.sh --runtime

# --- running --------------------------------------------------------------------------------

run: system-deps-runtime install ## init, seed the demo, serve on http://127.0.0.1:8000
	export CIVICSHIELD_ENVIRONMENT="$${CIVICSHIELD_ENVIRONMENT:-development}"
	$(VENV)/bin/civicshield init
	$(VENV)/bin/civicshield demo
	exec $(VENV)/bin/civicshield serve

bench: install ## run the web benchmark (installs wrk, the load generator, when missing)
	command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends wrk || echo "bench: no wrk; using the slower Python client"; }
	$(VENV_PY) bench/web.py

fuzz: $(VENV_STAMP) ## long fuzz/property runs of every outside-input parser (readers, scanners, feeds)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -q -p no:cacheprovider \
	    tests/unit/detect/readers tests/unit/vulns/test_scanners_errors.py \
	    tests/unit/vulns/test_feeds.py -k 'fuzz or arbitrary or mutated or property or round_trip'

bench-readers: install ## reader, event-store and hunt throughput on one core (bench/readers.py)
	$(VENV_PY) bench/readers.py

# --- checks ---------------------------------------------------------------------------------

lint: $(VENV_STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV_STAMP) ## mypy --strict (files from pyproject.toml)
	$(VENV)/bin/mypy

contracts: $(VENV_STAMP) ## import-linter layer contracts
	$(VENV)/bin/lint-imports

migrations-check: $(VENV_STAMP) ## alembic check against a scratch SQLite database
	$(VENV)/bin/civicshield db check

pytest: $(VENV_STAMP) ## the test suite (PYTEST_ARGS=... to pass arguments)
	export HYPOTHESIS_PROFILE=ci
	$(VENV_PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

TEST_STAGES := system-deps install lint typecheck contracts migrations-check pytest

test: ## everything CI runs, stage by stage with timings; stops at the first failure
	@start=$$(date +%s%N); status=0; failed=""
	for stage in $(TEST_STAGES); do
	    if ! scripts/stage.sh "$$stage" $(MAKE) --no-print-directory "$$stage"; then
	        status=1; failed=$$stage; break
	    fi
	done
	total=$$(awk -v ns="$$(( $$(date +%s%N) - start ))" 'BEGIN { printf "%.1f", ns / 1e9 }')
	if [[ -z "$$failed" ]]; then
	    echo "==== make test: all stages passed, total $$total s"
	else
	    echo "==== make test: FAILED at stage $$failed, total $$total s" >&2
	fi
	exit $$status

# --- housekeeping ---------------------------------------------------------------------------

clean: ## remove .venv, var/ and the vendored assets
	rm -rf $(VENV) var $(VENDOR_DIRS)
