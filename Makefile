PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e . -c constraints.txt
	touch $@

$(VENV)/.installed-all: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q -e ".[all,dev]" -c constraints.txt
	touch $@ $(VENV)/.installed-core

demo: $(VENV)/.installed-core
	$(BIN)/echoscope flipflop --overwrite

test: $(VENV)/.installed-all
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-all
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) echoscope-out
