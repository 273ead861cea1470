# Calma: `make run` starts the product, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Tests always run on real Postgres and Redis (override to point elsewhere).
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DB_CONN_MAX_AGE=0 DEBUG=true \
	SECRET_KEY=test-only-secret-key-not-for-production
PYTEST_ARGS ?= -n auto
PORT ?= 8000

.PHONY: help install install-dev run test lint format messages bench-ingest bench-inbox bench-board bench eval-scoring eval-spikes
help:  ## List the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.runtime: pyproject.toml
	@test -x $(PY) || $$(scripts/find_python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	DEBUG=true $(PY) manage.py compile_translations
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.runtime  ## Create .venv, install Calma, compile the translations

install-dev: $(VENV)/.dev  ## Also install the test and lint tools

SIMULATOR_PORT ?= 8090
CALMA_VAR_DIR ?= $(CURDIR)/var
RUN_ENV := DEBUG=$${DEBUG:-true} SIMULATOR_URL=$${SIMULATOR_URL-http://127.0.0.1:$(SIMULATOR_PORT)} \
	CALMA_SECRET_SIMULATOR_API_KEY=AIzaSyCalmaSimulatorDemoKey-000000000000 \
	CALMA_SECRET_SIMULATOR_ACCESS_TOKEN=calma-simulator-demo-write-token-0000 \
	CALMA_SECRET_SIMULATOR_APP_PASSWORD=calm-asim-demo-pass \
	CALMA_VAR_DIR="$(CALMA_VAR_DIR)"
# The embedded broker (no REDIS_URL) runs a threads pool and no remote control, mingle,
# gossip or heartbeat: each would add a writer to the broker's files for nothing.
EMBEDDED_WORKER_FLAGS := --without-mingle --without-gossip --without-heartbeat
# supervisord (scripts/supervisord.conf) restarts a process that dies; as root (a container,
# a CI box) it is told so, or it logs a CRIT line about not dropping privileges.

run: install  ## Migrate, create demo users and sources, start web, worker, beat and simulator
	@$(RUN_ENV) $(PY) manage.py migrate --noinput
	@$(RUN_ENV) $(PY) manage.py seed_demo
	@echo "Calma on http://127.0.0.1:$(PORT)/  ($${DATABASE_URL:+Postgres}$${DATABASE_URL:-embedded SQLite in $(CALMA_VAR_DIR)}, $${REDIS_URL:+Redis broker}$${REDIS_URL:-filesystem broker in $(CALMA_VAR_DIR)/broker})"
	@echo "supervisord restarts any process that dies; Ctrl-C stops them all."
	@$(RUN_ENV) PORT=$(PORT) SIMULATOR_PORT=$(SIMULATOR_PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		CELERY_POOL=$${CELERY_POOL:-$$(test -n "$$REDIS_URL" && echo prefork || echo threads)} \
		CELERY_WORKER_FLAGS="$$(test -n "$$REDIS_URL" || echo '$(EMBEDDED_WORKER_FLAGS)')" \
		CALMA_SIMULATOR_AUTOSTART=$$(test -n "$${SIMULATOR_URL-default}" && echo true || echo false) \
		exec $(VENV)/bin/supervisord --configuration scripts/supervisord.conf \
		$$(test "$$(id -u)" = 0 && echo --user root)

test: install-dev  ## Run the whole suite on Postgres and Redis at 127.0.0.1
	@$(TEST_ENV) $(PY) manage.py check_services --require-postgres
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench-ingest: install-dev  ## Benchmark ingest (100,000 mentions) vs a naive save(), then scoring and hostile patterns
	@$(TEST_ENV) $(PY) tests/bench/bench_ingest.py
	@$(TEST_ENV) $(PY) tests/bench/bench_scoring.py
	@$(TEST_ENV) $(PY) tests/bench/bench_patterns.py

bench-inbox: install-dev  ## Benchmark the inbox: 10,000 open incidents, first page of each queue, filter and sort
	@$(TEST_ENV) $(PY) tests/bench/bench_inbox.py

bench-board: install-dev  ## Benchmark the board: 1,000,000 mentions (generated once into calma_bench), page and fragments, cold and warm cache
	@$(TEST_ENV) $(PY) tests/bench/bench_board.py

bench: bench-ingest bench-inbox bench-board  ## All benchmarks

DATA ?= ../shared/data
eval-scoring: install-dev  ## Scorer quality per labelled data set: name lang n accuracy macro_f1
	@DEBUG=true $(PY) manage.py eval_scoring $(DATA)

eval-spikes: install-dev  ## Replay mention-volume streams through the surge detector
	@DEBUG=true $(PY) manage.py eval_spikes $(if $(filter ../shared/data,$(DATA)),$(DATA)/streams,$(DATA))

lint: install-dev  ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install-dev  ## Extract new strings into the Spanish and English catalogues (needs gettext)
	DEBUG=true $(PY) manage.py makemessages -l es -l en --ignore=.venv --ignore=var
	DEBUG=true $(PY) manage.py compile_translations
