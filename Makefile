# The two commands a newcomer runs: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint servers docker-setup docker-images docker-demo demo-compose bench docs report report-screenshots clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "interlock: installing into $(VENV) (first run only)"
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[all,dev]'
	@touch $@

# The base image `make docker-setup` builds; used (when present) for images when
# INTERLOCK_BASE_IMAGE is not set, instead of the Dockerfiles' python:3.11-slim.
LOCAL_BASE_IMAGE := interlock/python-base:bookworm
WHEELHOUSES := demo environment/images/postgres environment/images/nats

# INTERLOCK_BACKEND=docker make demo: the same suite with every service in a container.
demo: $(BIN)/.installed
	@rm -rf reports/allure-results reports/junit
	@if [ "$$INTERLOCK_BACKEND" = docker ]; then $(MAKE) --no-print-directory docker-images; fi
	@if [ "$$INTERLOCK_BACKEND" = docker ] && [ -z "$$INTERLOCK_BASE_IMAGE" ] \
	    && docker image inspect $(LOCAL_BASE_IMAGE) >/dev/null 2>&1; then \
	    echo "interlock: images build FROM $(LOCAL_BASE_IMAGE) (set INTERLOCK_BASE_IMAGE to choose)"; \
	    export INTERLOCK_BASE_IMAGE=$(LOCAL_BASE_IMAGE); fi; \
	$(BIN)/behave

docker-demo:
	@INTERLOCK_BACKEND=docker $(MAKE) --no-print-directory demo

# The same suite against demo/docker-compose.yaml (stage compose of environment/interlock.yaml).
demo-compose:
	@INTERLOCK_BACKEND=docker INTERLOCK_STAGE=compose $(MAKE) --no-print-directory demo

# What the Docker images install, fetched on this machine (the builds run offline).
docker-images: $(BIN)/.installed
	@PYTHON=$(BIN)/python bash demo/build-wheelhouse.sh $(WHEELHOUSES)

# The HTML report of the last run, with Allure 3 (Node.js, no Java) unless another is on PATH.
report: $(BIN)/.installed
	@bash scripts/allure.sh
	@INTERLOCK_ALLURE="$${INTERLOCK_ALLURE:-$$(test -x .venv/allure/node_modules/.bin/allure && echo .venv/allure/node_modules/.bin/allure)}" \
	    $(BIN)/interlock report

# Screenshots of the Allure 3 and 2 reports of a failed e2e scenario with its traffic diagram,
# in reports/screenshots/ (headless Chromium: apt-get install -y chromium; Allure 2 needs Java).
report-screenshots: $(BIN)/.installed
	@bash scripts/allure.sh
	@bash scripts/allure.sh 2
	@$(BIN)/python scripts/report_screenshots.py --allure3 .venv/allure/node_modules/.bin/allure \
	    $$(test -x .venv/allure2/node_modules/.bin/allure && echo --allure2 .venv/allure2/node_modules/.bin/allure)

docs: $(BIN)/.installed
	$(BIN)/interlock docs

test: $(BIN)/.installed
	@bash scripts/servers.sh
	@bash scripts/allure.sh
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
