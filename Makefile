# Uwagi: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench lint clean demo-draft

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/uwagi run

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest tests/unit

bench: install
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf var .pytest_cache
