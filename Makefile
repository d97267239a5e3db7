# The two README commands: `make demo` (set up + main job) and `make test` (set up + tests).
# Both create .venv with Python 3.11 if missing and reuse it otherwise, and install the exact
# tested versions of constraints.txt (torch 2.13.0 and the rest; pyproject.toml holds the
# compatible ranges). `make docs` adds the documentation tools and builds the site.
#
# torch from the package index is a CUDA build on Linux (about 2 GB). For a CPU-only machine:
#   make demo TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# (docs/install.md has the CUDA variants).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.neurometa-installed
DOCS_STAMP := $(VENV)/.neurometa-docs-installed
CONSTRAINTS := constraints.txt
TORCH_INDEX_URL ?=
PIP := $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup demo test test-slow lint docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) torch $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PIP) -e ".[all,dev]"
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(PIP) -e ".[all,dev,docs]"
	touch $(DOCS_STAMP)

demo: $(STAMP)
	$(BIN)/neurometa demo --out results/demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The documentation site (Sphinx): warnings are errors; the tutorials run while it builds.
docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) results docs/_build
