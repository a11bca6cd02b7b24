# gridgov: `make run` serves the sample community, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

ASSETS := $(BIN)/gridgov assets install --if-missing

run: $(STAMP)
	$(ASSETS)
	$(BIN)/gridgov serve --sample-if-empty

test: $(STAMP)
	$(ASSETS)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.lookup

sample: $(STAMP)
	$(BIN)/python data/generate.py

clean:
	rm -rf $(VENV) var build *.egg-info
