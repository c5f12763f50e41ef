# Uwagi: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast audit bench chaos lint clean demo-draft

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/uwagi run

AXE := tests/e2e_browser/node_modules/axe-core/axe.min.js

$(AXE): tests/e2e_browser/package.json tests/e2e_browser/package-lock.json
	npm ci --prefix tests/e2e_browser --no-audit --no-fund --silent
	@touch $(AXE)

# One pytest process per core (pytest-xdist), each file's tests in one process so module-scoped systems start
# once; TEST_PROCESSES=0 runs them all in this process.
TEST_PROCESSES ?= 2

test: install $(AXE)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

test-fast: install
	$(BIN)/python -m pytest tests/unit

# Offline: requirements.lock against the vendored PyPA advisories (.ci/advisories); a finding fails it.
audit: install
	$(BIN)/python scripts/audit_lock.py

bench: install
	$(BIN)/python bench/run_bench.py

# Kills and restarts its own RabbitMQ nodes and PostgreSQL clusters (issue 9); see the README for timings.
chaos: install
	$(BIN)/python -m pytest -m chaos -s -p no:randomly --timeout=3600 tests/chaos

clean:
	rm -rf var .pytest_cache
