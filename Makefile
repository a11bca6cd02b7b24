# gridgov: `make run` serves the sample community, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-ahead test-shuffled lint bench bench-quick ogc-conformance sample street-sample clean

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

# file order, with the 15 slowest tests listed at the end
PYTEST := $(BIN)/pytest -p no:randomly --durations=15

# the suite over one process per core (at most 4; each builds its own template
# databases and browser)
test: $(STAMP)
	$(ASSETS)
	$(PYTEST) -n auto --maxprocesses 4

# the date-sensitive tests again, 40 days from now (Debian's faketime). The monotonic
# clock is faked too (with it left alone, faketime makes Python's time.sleep fail with
# EINVAL); the timers still pending at the end are cancelled by tests/conftest.py.
AHEAD ?= +40d
test-ahead: $(STAMP)
	$(ASSETS)
	faketime -f '$(AHEAD)' $(PYTEST) -m "dated or browser"

# hunting order dependence and races: random order, then split over two processes
test-shuffled: $(STAMP)
	$(ASSETS)
	$(BIN)/pytest -p randomly  # not -q: the header says the seed to replay an order
	$(BIN)/pytest -p no:randomly -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# every benchmark at full size (minutes), or in quick mode (well under a minute each)
bench: $(STAMP)
	$(ASSETS)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(ASSETS)
	$(BIN)/python -m bench --quick

# /ogc judged by the OGC API test tools on PyPI (ogctests, ogcapi-registry), installed
# into .venv-ogc/ on first use, on SQLite and on PostGIS when a server answers (about
# two minutes); exit status 1 on a failure that is gridgov's. See bench/ogc_conformance.py.
ogc-conformance: $(STAMP)
	$(BIN)/python -m bench.ogc_conformance

sample: $(STAMP)
	$(BIN)/python data/generate.py

# an illustrative street of 12 communities around the sample, written afresh into
# var/street/ (generated on demand, never committed; see data/README.md)
street-sample: $(STAMP)
	rm -rf var/street
	$(BIN)/python data/street.py --communities 12 --out var/street

clean:
	rm -rf $(VENV) .venv-ogc var build *.egg-info
