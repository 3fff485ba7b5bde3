# The two commands a newcomer runs: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint servers docker-setup bench docs clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "interlock: installing into $(VENV) (first run only)"
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

demo: $(BIN)/.installed
	@rm -rf reports/allure-results reports/junit
	$(BIN)/behave

docs: $(BIN)/.installed
	$(BIN)/interlock docs

test: $(BIN)/.installed
	@bash scripts/servers.sh
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests steps environment demo bench environment.py
	$(BIN)/mypy

docker-setup:
	@bash scripts/docker-setup.sh

servers:
	@bash scripts/servers.sh

bench: $(BIN)/.installed
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf reports/allure-results reports/junit .interlock
