# Developer and CI entry points. `make demo` and `make test` are the README's Quickstart.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
EDITABLES := -e '.[dev]' $(foreach p,$(PLUGINS),-e '$(dir $(p))[sandbox]') -e tests/example_plugin

.PHONY: setup demo test lint typecheck pytest docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever a pyproject.toml changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(PLUGINS) tests/example_plugin/pyproject.toml
	$(BIN)/python -m pip install --quiet $(EDITABLES)
	touch $@

setup: $(VENV)/.installed ## create .venv with omnisdk, every plugin and the dev tools

demo: setup ## run the demo of the main job
	$(BIN)/omnisdk demo

lint: setup
	$(BIN)/ruff check $(wildcard omnisdk plugins tests benchmarks scripts)

typecheck: setup
	$(BIN)/mypy omnisdk $(foreach p,$(PLUGINS),$(dir $(p))omnisdk_*)

pytest: setup
	$(BIN)/pytest -q

test: lint typecheck pytest ## everything CI checks: ruff, mypy --strict, the test suite

docs: setup
	$(BIN)/python -m pip install --quiet mkdocs
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
