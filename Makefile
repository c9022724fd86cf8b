# Two commands on a fresh machine: `make demo` (the main job) and `make test`.
# Both create .venv with the project and its dev extras on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test lint bench sam-local clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The main job: sample data through the real functions on embedded PostgreSQL.
demo: $(STAMP)
	$(BIN)/python -m jobmatch_devkit.demo

## Serve the app on 127.0.0.1:8000 for the Inngest dev server.
serve: $(STAMP)
	$(BIN)/python -m jobmatch_devkit.serve

## Lint, type-check and run every test (unit, integration, e2e).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## Benchmarks: each prints its figures next to the baseline it beats or its goal.
bench: $(STAMP)
	$(BIN)/python bench/cold_import.py
	$(BIN)/python bench/layer_size.py
	$(BIN)/python bench/matching_bench.py
	$(BIN)/python bench/tender_sync_bench.py
	$(BIN)/python bench/cost_bench.py
	$(BIN)/python bench/engagement_bench.py

## sam local: `sam build`, then migrate, seed and send every sample event of
## tests/events/ through `sam local invoke` with infra/sam-local/env.json, checking
## each status. Needs Docker, the SAM CLI and PostgreSQL 16 + pgvector on
## 127.0.0.1:5432 (README, "sam local"). SAM_LOCAL_PYTHON is any interpreter with the
## package installed (CI's arm64 runner has no wheel of the dev extras' pgserver).
SAM_LOCAL_PYTHON ?= $(BIN)/python

sam-local:
	command -v "$(SAM_LOCAL_PYTHON)" > /dev/null || $(MAKE) $(STAMP)
	sam build
	$(SAM_LOCAL_PYTHON) -m jobmatch_devkit.samlocal

clean:
	rm -rf $(VENV) .data .aws-sam .pytest_cache .mypy_cache .ruff_cache
