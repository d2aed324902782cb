PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test docs figures chromium bench lint clean

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

test: $(VENV)/.installed-all chromium
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/python -m pytest
	$(MAKE) docs DOCS_FLAGS="-D sphinx_gallery_conf.run_stale_examples=True"

# The report's check in a real browser needs Debian's chromium (never a browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -q chromium \
		|| (apt-get update -q && apt-get install -y -q chromium)

# The documentation site: the gallery (examples/gallery) runs at build time; warnings are errors.
# An example runs again when its file changed; `make test` runs every one. DOCS_FLAGS="-D
# plot_gallery=0" skips them (a quick look at the pages).
DOCS_FLAGS ?=
docs: $(VENV)/.installed-all
	$(BIN)/sphinx-build -W --keep-going -q $(DOCS_FLAGS) -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# The README's figures (docs/*.png), drawn by the gallery's own examples.
figures: $(VENV)/.installed-all
	$(BIN)/python docs/readme_figures.py

bench: $(VENV)/.installed-all
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) echoscope-out docs/_build docs/generated docs/auto_examples docs/api.rst \
		docs/sg_execution_times.rst
