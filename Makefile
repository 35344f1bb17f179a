# Conveyor: `make demo` runs the product with demo data; `make test` runs every test.
# Both set up what they need: a virtual environment, Python packages, web assets, Chromium.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
VENDOR := src/conveyor/web/static/vendor
ASSETS := $(VENDOR)/.installed
DEMO_DB ?= var/demo.db
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
PYTEST_WORKERS ?= 2

.PHONY: wrk demo test lint typecheck bench install assets chromium clean serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/@picocss/pico/css/pico.min.css node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	touch $@

install: $(INSTALLED) $(ASSETS)

assets: $(ASSETS)

chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }

demo: install
	mkdir -p $(dir $(DEMO_DB))
	CONVEYOR_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/conveyor demo

serve: install
	CONVEYOR_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/conveyor serve

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy

test: install chromium lint typecheck
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }

# Every benchmark on SQLite; for PostgreSQL pass --database postgresql://... to each script (bench/README.md).
bench: install wrk
	$(BIN)/python bench/orders_api.py
	$(BIN)/python bench/intake.py --database sqlite --clients 64 --seconds 20
	$(BIN)/python bench/availability.py --database sqlite

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var .pytest_cache .ruff_cache .mypy_cache .hypothesis
