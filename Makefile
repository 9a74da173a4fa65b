# mlplatform: every workflow starts here. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT      := $(abspath .)
VENV      := $(ROOT)/.venv
TOOLS     := $(ROOT)/.tools
PYTHON    := $(VENV)/bin/python
PYTEST_ARGS ?=

# Project-local tools come first: helm is helm 3.17, helm4 is helm 4.x.
export PATH := $(TOOLS)/bin:$(VENV)/bin:$(PATH)
export MLP_TOOLS_DIR := $(TOOLS)

.PHONY: help setup setup-python setup-tools setup-plugin setup-system test test-fast lint values generate \
        demo up down bench clean screenshots

help: ## list the targets
	@grep -E '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: setup-system setup-python setup-tools setup-plugin ## every setup-* step: system packages, .venv, helm 3 + helm 4 with the plugin, test tools
	@echo "setup done: 'source .venv/bin/activate' puts mlp, helm and helm4 (both with helm mlp) on PATH"

setup-python: ## create .venv and install the package with its server and dev extras
	bash ci/scripts/setup-python.sh "$(VENV)"

setup-tools: ## install helm 3.17, helm 4, kubectl and readme-generator-for-helm into .tools/bin
	bash ci/scripts/install-helm.sh "$(TOOLS)"
	bash ci/scripts/install-node-tools.sh "$(TOOLS)"

setup-plugin: ## install the `helm mlp` plugin for both helms; put helm and helm4, with it, in .venv/bin
	bash ci/scripts/install-helm-plugin.sh "$(TOOLS)"
	bash ci/scripts/install-helm-wrappers.sh "$(TOOLS)" "$(VENV)/bin"

setup-system: ## Debian packages local mode and tests run: nginx-light, prometheus, unzip, shellcheck, chromium (as root)
	bash ci/scripts/install-system-packages.sh

test: ## run every test (charts, services, end-to-end)
	bash ci/scripts/pytest.sh tests $(PYTEST_ARGS)

test-fast: ## run the tests not marked slow
	bash ci/scripts/pytest.sh tests -m "not slow" $(PYTEST_ARGS)

lint: ## what `ct lint` does: helm lint --strict per values file, yamllint, yamale, version bump
	$(PYTHON) ci/scripts/lint.py

values generate: ## regenerate values/*.yaml, Prometheus rules and chart READMEs from their sources
	$(VENV)/bin/mlp values render

demo: ## run the whole fraud-detection story locally, no cluster needed
	$(VENV)/bin/mlp demo

screenshots: ## regenerate the dashboard's screenshots in docs/images (starts a local platform, drives Chromium)
	$(PYTHON) -m tests.dashboard.screenshots docs/images

up: ## create a kind cluster, build and load the image, install the chart, run helm test
	@bash ci/scripts/kind-up.sh

down: ## delete the kind cluster
	@bash ci/scripts/kind-down.sh

bench: ## run every benchmark; results go to bench/results/*.json
	for b in bench/*.py; do [ "$$b" = bench/common.py ] || $(PYTHON) "$$b"; done

clean: ## remove generated state (keeps .venv, .tools and the committed bench results)
	rm -rf .mlplatform .pytest_cache
