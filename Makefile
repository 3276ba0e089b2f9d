# klbook: `make book` builds the HTML book, `make test` runs every test (see README.md).
# Each step runs only when its inputs changed; the stamp files below record what is done.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HTML   := _build/html
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

# Reproducible runs: hypothesis draws the same examples every time (tests/conftest.py), and
# BLAS uses one thread (small matrices only; threads fighting over 2 cores cost 20x).
export HYPOTHESIS_PROFILE ?= repro
export OPENBLAS_NUM_THREADS ?= 1

VENV_STAMP := $(VENV)/.klbook-installed
NODE_STAMP := node_modules/.klbook-installed
MATHJAX    := book_static/mathjax/tex-chtml.js
BOOK_STAMP := $(HTML)/.klbook-built

# Everything the HTML depends on: a change to any of these rebuilds the book.
BOOK_SOURCES := _config.yml _toc.yml $(wildcard book_static/*.*) \
  $(shell find chapters klbook book_ext -type f \( -name '*.md' -o -name '*.ipynb' -o -name '*.py' \
          -o -name '*.bib' -o -name '*.js' -o -name '*.css' -o -name '*.png' -o -name '*.svg' \) \
          -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*' 2>/dev/null)
NOTEBOOKS := $(wildcard chapters/*.ipynb)
TOC_NOTEBOOKS := $(wildcard $(addsuffix .ipynb,$(shell grep -o 'chapters/[A-Za-z0-9_-]*' _toc.yml)))
# Seconds a cell may run, as execute.timeout in _config.yml.
NB_TIMEOUT := 120
JOBS := $(shell nproc 2>/dev/null || echo 2)

.PHONY: book test test-unit test-notebooks test-browser serve clean distclean help

help:
	@echo "make book            build the HTML book into $(HTML) (creates $(VENV), installs everything)"
	@echo "make test            all tests: test-unit, test-notebooks, test-browser"
	@echo "make test-unit       klbook's unit and property tests (pytest tests, browser tests excluded)"
	@echo "make test-notebooks  re-run every chapter notebook and compare its outputs (nbval)"
	@echo "make test-browser    open every page of the built book in headless Chromium"
	@echo "make serve           serve the book at http://127.0.0.1:8000"
	@echo "make clean           remove _build and the copied MathJax; distclean also $(VENV) and node_modules"

# ---------------------------------------------------------------- installation

# Byte-compile site-packages once, on both cores, instead of pip's serial pass: with
# PYTHONDONTWRITEBYTECODE set, Python would otherwise recompile on every run.
$(VENV_STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --no-compile -q -r requirements.txt
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# MathJax 3 (es5 build: the tex-chtml component, its fonts, and the parts it loads on
# demand) is served by the book itself, from _static/mathjax/.
$(MATHJAX): $(NODE_STAMP)
	rm -rf book_static/mathjax
	mkdir -p book_static/mathjax
	cp -R node_modules/mathjax/es5/{tex-chtml.js,input,output,a11y,sre,ui,adaptors} book_static/mathjax/
	touch $@

# ---------------------------------------------------------------- the book

# The build executes notebooks one by one (execute_notebooks: cache); we first execute the
# changed ones into the same cache, one per core, so that the build only renders them.
# A failed build leaves Sphinx's saved state behind, and the next incremental build would
# not repeat the warnings of unchanged pages: drop that state so the next build is full.
$(BOOK_STAMP): $(VENV_STAMP) $(MATHJAX) $(BOOK_SOURCES)
ifneq ($(TOC_NOTEBOOKS),)
	$(BIN)/python book_ext/execute_notebooks.py _build/.jupyter_cache $(NB_TIMEOUT) $(TOC_NOTEBOOKS)
endif
	$(BIN)/jupyter-book build . -W -n --keep-going || { rm -rf _build/.doctrees; exit 1; }
	touch $@

book: $(BOOK_STAMP)
	@echo
	@echo "The book is in $(HTML)/. To read it, run"
	@echo "    $(BIN)/python -m http.server -d $(HTML) 8000"
	@echo "and open http://127.0.0.1:8000 (or run: make serve)."

serve: $(BOOK_STAMP)
	$(BIN)/python -m http.server -d $(HTML) -b 127.0.0.1 8000

# ---------------------------------------------------------------- tests

test: test-unit test-notebooks test-browser
	@echo "All tests passed."

# pytest exits with 5 when it collects no test at all: not a failure while tests/ is empty.
test-unit: $(VENV_STAMP)
	$(PYTEST) tests --ignore=tests/browser || [ $$? -eq 5 ]

# One pytest per notebook, $(JOBS) at a time (each runs its own kernel). The nbval-*
# targets never exist as files, so they always run.
test-notebooks: $(VENV_STAMP)
ifeq ($(NOTEBOOKS),)
	@echo "test-notebooks: no chapter notebook yet"
else
	$(MAKE) --no-print-directory -j $(JOBS) -O $(NOTEBOOKS:chapters/%.ipynb=nbval-%)
endif

nbval-%: chapters/%.ipynb $(VENV_STAMP)
	$(PYTEST) -q --nbval --nbval-current-env $<

test-browser: $(BOOK_STAMP)
	$(PYTEST) --durations=8 tests/browser

# ---------------------------------------------------------------- cleaning

clean:
	rm -rf _build book_static/mathjax

distclean: clean
	rm -rf $(VENV) node_modules
