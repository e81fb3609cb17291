# Developer and CI entry points. `make demo` and `make test` are the README's Quickstart.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
EDITABLES := -e '.[dev]' $(foreach p,$(PLUGINS),-e '$(dir $(p))[sandbox,test]') -e tests/example_plugin
# Official/independent platform clients whose dependencies clash with ours live in their own venvs.
TOOLS  := .venv-tools
TOOL_ENV := OMNISDK_TAP_SHOPIFY_VENV=$(CURDIR)/$(TOOLS)/tap-shopify \
            OMNISDK_PYSHOPEE_PYTHON=$(CURDIR)/$(TOOLS)/pyshopee/bin/python \
            OMNISDK_TAP_KIOTVIET_PYTHON=$(CURDIR)/$(TOOLS)/tap-kiotviet/bin/python

.PHONY: setup tools demo test lint typecheck pytest docs dists clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever a pyproject.toml changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(PLUGINS) tests/example_plugin/pyproject.toml
	$(BIN)/python -m pip install --quiet $(EDITABLES)
	$(BIN)/python scripts/check_dists.py --fill-wheelhouse  # so tests/packaging runs offline
	touch $@

setup: $(VENV)/.installed ## create .venv with omnisdk, every plugin and the dev tools

$(TOOLS)/tap-shopify/bin/tap-shopify:
	$(PYTHON) -m venv --clear $(TOOLS)/tap-shopify
	$(TOOLS)/tap-shopify/bin/python -m pip install --quiet tap-shopify==3.13.0

$(TOOLS)/pyshopee/.installed:
	$(PYTHON) -m venv --clear $(TOOLS)/pyshopee
	$(TOOLS)/pyshopee/bin/python -m pip install --quiet pyshopee==1.4.0 requests selenium
	$(TOOLS)/pyshopee/bin/python -m pip install --quiet --no-deps mcp-shopee-seller==0.5.0
	touch $@

$(TOOLS)/tap-kiotviet/bin/tap-kiotviet:
	$(PYTHON) -m venv --clear $(TOOLS)/tap-kiotviet
	$(TOOLS)/tap-kiotviet/bin/python -m pip install --quiet tap-kiotviet==0.0.1

tools: $(TOOLS)/tap-shopify/bin/tap-shopify $(TOOLS)/pyshopee/.installed $(TOOLS)/tap-kiotviet/bin/tap-kiotviet ## official clients for the cross-checks

demo: setup ## run the demo of the main job
	$(BIN)/omnisdk demo

lint: setup
	$(BIN)/ruff check $(wildcard omnisdk plugins tests benchmarks scripts)

typecheck: setup
	$(BIN)/mypy omnisdk $(foreach p,$(PLUGINS),$(dir $(p))omnisdk_*) tests/example_plugin/omnisdk_example

pytest: setup tools
	$(TOOL_ENV) $(BIN)/pytest -q -n auto --dist loadfile

test: lint typecheck pytest ## everything CI checks: ruff, mypy --strict, the test suite

# tests/docs builds the manual the same way in CI (and runs every snippet in it).
docs: setup ## build the manual into site/ (strict: a broken link or a missing page fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# tests/packaging runs the same check in CI.
dists: setup ## build every distribution, check py.typed, install each plugin alone with the core
	$(BIN)/python scripts/check_dists.py

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache site
