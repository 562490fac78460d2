# mlcost — every target sets up what it needs first (a fresh clone needs only Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# WeasyPrint's system libraries (Debian), for the review pack's PDF
PANGO_PKGS := libpango-1.0-0 libpangoft2-1.0-0
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install manifest demo test test-bigquery dev lint conformance bench clean docs screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	@# Bytecode compiled now (pip does, uv does not by default): otherwise every mlcost and dbt
	@# process compiles its imports again where PYTHONDONTWRITEBYTECODE is set (20 s a run).
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev,mlflow]'
	$(BIN)/python -m compileall -q dagster_project
	@# WeasyPrint (the review pack's PDF) needs Pango: install Debian's packages when root
	@$(BIN)/python -c "import weasyprint" 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y --no-install-recommends $(PANGO_PKGS); \
	  else echo "note: the review pack's PDF needs Pango: sudo apt-get install -y" \
	    "$(PANGO_PKGS) (HTML works without it; docs/review-pack.md)" >&2; fi; }
	@# tests/test_deploy.py runs the production Dagster instance on a real PostgreSQL server
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
	    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; }; \
	  else echo "note: tests/test_deploy.py needs PostgreSQL: sudo apt-get install -y" \
	    "postgresql (it skips without it, and fails under CI=true)" >&2; fi; }
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# @dbt_assets needs dbt's manifest at import time (only `dagster dev` builds it on its own).
manifest: install
	$(BIN)/dbt parse --quiet --project-dir dbt_models --profiles-dir dbt_models

demo: manifest
	$(BIN)/mlcost demo

# Both cores: each test file (or group of files sharing a demo warehouse) runs on one worker,
# so module and session fixtures are built once (tests/conftest.py, xdist groups).
test: manifest
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# The prod (BigQuery) models built and tested on a local BigQuery emulator (docs/bigquery.md);
# crucible-emulator pins its own duckdb/sqlglot, so it lives in its own venv.
CRUCIBLE_VENV := .venv-crucible
$(CRUCIBLE_VENV)/.installed-0.1.0a2: | install
	test -x $(CRUCIBLE_VENV)/bin/python || $(PYTHON) -m venv $(CRUCIBLE_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(CRUCIBLE_VENV)/bin/python 'crucible-emulator[server]==0.1.0a2'
	touch $@

test-bigquery: manifest $(CRUCIBLE_VENV)/.installed-0.1.0a2
	MLCOST_BQ_EMULATOR=$(CURDIR)/$(CRUCIBLE_VENV)/bin/crucible $(BIN)/python -m pytest -q tests/integration

# dbt docs as one offline page, data/dbt-docs/static_index.html (descriptions, lineage, columns);
# column types come from the warehouse when `make demo` or `mlcost run` has built one.
DOCS_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb
docs: manifest
	MLCOST_WAREHOUSE=$(DOCS_WAREHOUSE) $(BIN)/dbt docs generate --static --quiet \
	  --project-dir dbt_models --profiles-dir dbt_models --target-path $(CURDIR)/data/dbt-docs \
	  $(if $(wildcard $(DOCS_WAREHOUSE)),,--empty-catalog)
	@echo "dbt docs: $(CURDIR)/data/dbt-docs/static_index.html"

# DAGSTER_HOME with a dagster.yaml limiting the warehouse pool to one writer (docs/operations.md).
dev: manifest
	$(BIN)/python -c "from dagster_project.cli import ensure_dagster_home; ensure_dagster_home()"
	$(BIN)/dagster dev -m dagster_project.definitions -h 127.0.0.1 -p 3000

# ruff, sqlfluff and the dbt conventions (dbt-score, rules in pyproject.toml and
# tools/dbt_score_rules.py; docs/development.md). rpt_focus_reconciliation waits for its grain
# test in models/focus (its owner's yml), hence the one exclusion.
lint: manifest
	$(BIN)/ruff check .
	# Compiling incremental models makes dbt list the warehouse's relations: give it a scratch one.
	mkdir -p data
	MLCOST_WAREHOUSE=$(CURDIR)/data/lint.duckdb $(BIN)/sqlfluff lint dbt_models --processes 2
	$(BIN)/dbt-score lint --manifest dbt_models/target/manifest.json

# FOCUS conformance with the FinOps Foundation's focus-validator (own Python 3.12 venv).
conformance: manifest
	$(BIN)/python tools/conformance.py

# PNGs of the review pack's sections for the docs (docs/img/report-<anchor>.png) with headless
# Chromium (apt-get installs it when missing and root). Renders the newest data/reports/<quarter>/
# report.html (`make demo` first) or REPORT=path/to/report.html.
screenshots: install
	$(BIN)/python tools/screenshots.py $(if $(REPORT),--report $(REPORT))

# Benchmarks (docs/benchmarks.md), results in bench/results/. Quick by default (BENCH_SCALES=1M);
# full: make bench BENCH_SCALES=1M,10M,100M BENCH_FORECAST_SERIES=1000,10000 BENCH_DATA=/big/disk
FC_VENV := .venv-focus-converter
$(FC_VENV)/.installed: bench/focus-converter-requirements.txt
	test -x $(FC_VENV)/bin/python || $(PYTHON) -m venv $(FC_VENV)
	$(FC_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	touch $@

bench: manifest $(FC_VENV)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf data dbt_models/target dbt_models/logs .pytest_cache
