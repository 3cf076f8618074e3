# Everyday commands. Each runs the project's tools from .venv (make install creates it).
PYTHON := .venv/bin/python
PYTEST := $(PYTHON) -m pytest

.PHONY: install demo ui test-fast test lint format typecheck render snapshot lock bench

install:  ## the Quickstart's install: locked dependencies and siyu itself into .venv
	python3 -m venv .venv && .venv/bin/pip install -r requirements.lock -e .

demo:  ## sample landing zone (when none is there), the whole refresh, the KPIs
	.venv/bin/siyu demo

ui:  ## the Dagster UI on http://127.0.0.1:3000
	.venv/bin/siyu ui

test-fast:  ## the unit and integration layers: the loop to run after every change (< 1 min)
	$(PYTEST) -m "unit or integration" -n 0

test:  ## everything, as CI runs it (the README's test command)
	$(PYTEST)

lint:  ## ruff (lint, unused noqa, format), mypy, sqlfluff
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy
	$(PYTHON) -m sqlfluff lint dbt_project/models dbt_project/macros

format:  ## apply ruff's fixes and formatting
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

typecheck:  ## mypy over the product's packages
	$(PYTHON) -m mypy

render:  ## the files rendered from the schemas: dbt sources yml, the user_source seed, GX suites
	$(PYTHON) -m ingestion.dbt_render
	$(PYTHON) -m expectations.export

snapshot:  ## after an intended change of assets, checks, jobs, schedules or sensors
	SIYU_UPDATE_SNAPSHOTS=1 $(PYTEST) -q tests/test_definitions_snapshot.py

lock:  ## re-lock requirements.lock after editing pyproject.toml (needs uv: pip install uv)
	uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock \
		--custom-compile-command "make lock"

bench:  ## the one-day refresh benchmark (see README, Performance)
	$(PYTHON) benchmarks/one_day_refresh.py --scale 0.5
