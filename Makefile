# mbcrisk: `make run` (the main job on the embedded default cohort) and `make test`.
# Both build .venv from the pinned, hashed lock when it is missing or stale.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
PKG_STAMP := $(VENV)/.package-installed
DEFAULT_COHORT ?= synthetic
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test test-fast test-long test-browser lint lock bench clean

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The environment is rebuilt from scratch whenever the lock changes, so it always equals the lock.
$(DEPS_STAMP): requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements.lock
	touch $@

$(PKG_STAMP): $(DEPS_STAMP) pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

venv: $(PKG_STAMP)

run: $(PKG_STAMP) ## the main job (MLproject main) on the default cohort
	$(BIN)/mbcrisk main --cohort $(DEFAULT_COHORT)

test: $(PKG_STAMP) ## lint, then the test suite (all but the long and headless-browser tests)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not browser and not long" $(PYTEST_ARGS)

test-fast: $(PKG_STAMP) ## the test suite without tests marked slow, long or browser
	$(BIN)/python -m pytest -m "not slow and not browser and not long" $(PYTEST_ARGS)

test-long: $(PKG_STAMP) ## long and end-to-end tests: real servers, soak, fuzzing, Bento, replicas
	$(BIN)/python -m pytest -m long -s $(PYTEST_ARGS)

test-browser: $(PKG_STAMP) ## the model card in headless Chromium (needs the chromium package)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(PKG_STAMP) ## ruff
	$(BIN)/ruff check .

UV ?= $(shell command -v uv || echo $(BIN)/uv)
lock: $(PKG_STAMP) ## re-resolve requirements.lock from pyproject.toml (uv: from PyPI if missing)
	test -x "$(UV)" || $(BIN)/python -m pip install -q uv
	$(UV) pip compile pyproject.toml requirements-build.in --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements.lock

bench: export MBCRISK_DATA_DIR ?= $(abspath ../shared/data)
bench: $(PKG_STAMP) ## run every benchmark in benchmarks/ (prints tables, writes bench-results/)
	@for script in benchmarks/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean: ## remove the virtual environment and local run state
	rm -rf $(VENV) mlruns mlflow.db .pytest_cache
