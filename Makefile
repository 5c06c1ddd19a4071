# Two commands: `make start` runs the product, `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# The PostgreSQL the integration tests use; each test session makes and drops
# its own database there.
DUECOURSE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export DUECOURSE_TEST_POSTGRES_URL

.PHONY: start test lint bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

start: $(BIN)/.installed
	$(BIN)/duecourse start

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/run_bench.py
