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
# Plugins no test uses stay unloaded (anyio's, platformdirs' isolated-dirs fixture): 0.1-0.2 CPU-s per pytest process.
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider -p no:anyio -p no:platformdirs

# Reproducible runs: hypothesis draws the same examples every time (tests/conftest.py), and
# BLAS uses one thread (small matrices only; threads fighting over 2 cores cost 20x).
export HYPOTHESIS_PROFILE ?= repro
export OPENBLAS_NUM_THREADS ?= 1
# pytest-xdist needs every worker to collect the same tests: one hash seed for all of them.
export PYTHONHASHSEED ?= 0
# Cached bytecode for the tree's own modules (klbook, tests, book_ext; __pycache__ is git-ignored): with
# PYTHONDONTWRITEBYTECODE set, as some environments do, every pytest process and every notebook kernel
# would compile them again and pytest would rewrite every test module's asserts again (unit collection
# 6.6 -> 2.6 CPU-s per worker with the cache).
unexport PYTHONDONTWRITEBYTECODE

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
# pytest-xdist workers of each suite (-n; 0: no workers, one process). test-lab runs in one process:
# one JupyterLab and one Chromium instead of one per core saves their start-up and the app's load
# (~10 CPU-s each), and make test keeps both cores busy with the other suites anyway. One clone of
# 0c34787 (after make book and one make test), make test one run each: LAB_JOBS=2 304.7 s wall,
# 582 CPU-s busy; LAB_JOBS=0 295.0 s, 561 (lab 226 s, browser last at 294 s); LAB_JOBS=0 with
# BROWSER_JOBS=3 299.4 s, 597.
UNIT_JOBS ?= $(JOBS)
BROWSER_JOBS ?= $(JOBS)
LAB_JOBS ?= 0

.PHONY: book lab test test-unit test-notebooks test-browser test-lab screenshots serve clean distclean help

help:
	@echo "make book            build the HTML book into $(HTML) (creates $(VENV), installs everything)"
	@echo "make test            all tests: test-unit, test-notebooks, test-browser, test-lab, run at the same time"
	@echo "make test-unit       klbook's unit and property tests (pytest tests, browser tests excluded)"
	@echo "make test-notebooks  re-run every chapter notebook and compare its outputs (nbval)"
	@echo "make test-browser    open every page of the built book in headless Chromium"
	@echo "make test-lab        open and run every chapter in JupyterLab in headless Chromium"
	@echo "make screenshots     test-browser's page checks, also saving full-page screenshots in _build/screenshots"
	@echo "make lab             JupyterLab on the chapter notebooks, from $(VENV)"
	@echo "make serve           serve the book at http://127.0.0.1:8000"
	@echo "make clean           remove _build and the copied MathJax; distclean also $(VENV) and node_modules"

# ---------------------------------------------------------------- installation

# The book's environment needs the Python that runtime.txt names (Binder uses the same file) or newer:
# the pinned numpy, scipy, ipython and sphinx-design need it. Checked before anything is installed,
# on the interpreter that will run everything (.venv's if it exists, else $(PYTHON)).
MIN_PYTHON := $(patsubst python-%,%,$(strip $(file < runtime.txt)))
define check_python
	@py=$(PYTHON); if [ -x $(BIN)/python ]; then py=$(BIN)/python; fi; \
	$$py -c 'import sys; want = tuple(map(int, "$(MIN_PYTHON)".split("."))); sys.exit(sys.version_info[:2] < want)' 2>/dev/null || { \
	  echo "klbook: the book needs Python >= $(MIN_PYTHON) (runtime.txt), but $$py is $$($$py --version 2>/dev/null || echo "not found")." >&2; \
	  echo "        Run with a newer one, e.g.  make PYTHON=python$(MIN_PYTHON) $(or $(MAKECMDGOALS),book)  (remove an old .venv first: make distclean)." >&2; \
	  echo "        The library alone supports Python >= 3.10: pip install ." >&2; exit 1; }
endef

# Installer: uv (from PyPI, pinned in constraints.txt) into .venv, about ten times faster than pip;
# pip when uv cannot be installed or fails. uv byte-compiles on both cores (--compile-bytecode).
UV_INSTALL  := $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -q -r requirements.txt
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --no-compile -q -r requirements.txt

# After installing, jupyterlab-myst 2.7.0's bundle is patched to render a notebook's MyST once per burst of cell
# renders, not once per cell (book_ext/patch_jupyterlab_myst.py; Binder's postBuild runs it too).
$(VENV_STAMP): requirements.txt constraints.txt pyproject.toml runtime.txt book_ext/patch_jupyterlab_myst.py
	$(check_python)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt uv 2>/dev/null \
	   && $(UV_INSTALL); then :; else \
	  echo "klbook: uv unavailable or failed; installing with pip" >&2; \
	  $(PIP_INSTALL) && $(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null; fi
	$(BIN)/python book_ext/patch_jupyterlab_myst.py
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

# make book renders the outputs stored in the notebooks: the execution cache gets each notebook
# as stored, outputs and all, and the build only renders (make test-notebooks proves the stored
# outputs equal a fresh run). make book EXECUTE=1 instead executes the changed notebooks into the
# same cache first, one per core (the build would otherwise run them one by one).
# A failed build leaves Sphinx's saved state behind, and the next incremental build would
# not repeat the warnings of unchanged pages: drop that state so the next build is full.
$(BOOK_STAMP): $(VENV_STAMP) $(MATHJAX) $(BOOK_SOURCES)
ifneq ($(TOC_NOTEBOOKS),)
	$(BIN)/python book_ext/execute_notebooks.py $(if $(EXECUTE),,--stored) _build/.jupyter_cache $(NB_TIMEOUT) $(TOC_NOTEBOOKS)
endif
	$(BIN)/jupyter-book build . -W -n --keep-going || { rm -rf _build/.doctrees; exit 1; }
	touch $@

book: $(BOOK_STAMP)
	@echo
	@echo "The book is in $(HTML)/. To read it, run"
	@echo "    $(BIN)/python -m http.server -d $(HTML) 8000"
	@echo "and open http://127.0.0.1:8000 (or run: make serve)."

# JupyterLab (with jupyterlab-myst) on the chapters, from .venv. Set LAB_ARGS for more, e.g.
# make lab LAB_ARGS=--port=8890. --allow-root only when run as root (containers).
lab: $(VENV_STAMP)
	cd chapters && ../$(BIN)/jupyter-lab --ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

serve: $(BOOK_STAMP)
	$(BIN)/python -m http.server -d $(HTML) -b 127.0.0.1 8000

# ---------------------------------------------------------------- tests

# The four suites run at the same time (test-notebooks and test-lab in one process each, the others on both cores):
# almost all of their time is CPU time, and while one waits (a browser page, a kernel, JupyterLab
# starting) another computes, so neither core idles. Priorities, from first to last: test-browser
# (nice 0), the largest suite and the one whose pages run one after the other on each core, so it
# would otherwise end last with part of the machine idle; test-lab and test-notebooks (nice 5: they
# end long before it, and their waits have generous timeouts); test-unit (UNIT_NICENESS, 10), pure
# CPU on both cores, which fills whatever the others leave to the end. Measured on one clone of
# 3ce0d9e, one run each: nice 0/0/5/5 (browser/lab/nbval/unit) 320 s wall, 0/5/5/10 298 s.
# -k: every suite runs to its end even when another fails;
# -O: each suite's output is printed in one piece when it ends. make test fails when any fails.
TEST_SUITES := test-unit test-notebooks test-browser test-lab
UNIT_NICENESS ?= 10
LAB_NICENESS ?= 5
test: $(VENV_STAMP)
	@echo "make test: $(TEST_SUITES) at the same time; each prints its report when it ends"
	@$(MAKE) --no-print-directory -k -j $(words $(TEST_SUITES)) -O $(TEST_SUITES) BATCH_NICE="nice -n 5" \
	  UNIT_NICE="nice -n $(UNIT_NICENESS)" LAB_NICE="nice -n $(LAB_NICENESS)" \
	  || { echo "make test: FAILED (see the reports above)" >&2; exit 1; }
	@echo "All tests passed."

# Unit and property tests on both cores (pytest-xdist; hypothesis draws the same examples in
# every worker: tests/conftest.py). pytest exits with 5 when it collects no test at all.
# NO_NBVAL: suites that collect no notebook leave out the nbval plugin, whose import (nbformat,
# jsonschema building a grammar) costs ~2 CPU-s in each pytest process (xdist's controller and workers).
NO_NBVAL := -p no:nbval
test-unit: $(VENV_STAMP)
	$(UNIT_NICE) $(PYTEST) $(NO_NBVAL) -n $(UNIT_JOBS) -q tests --ignore=tests/browser --ignore=tests/lab || [ $$? -eq 5 ]

# One pytest for every notebook, in one process (a notebook's cells share one kernel): one start-up
# (~5 CPU-s: pytest, plugins, nbformat's schema) instead of one per notebook, and no xdist workers:
# paired with -n 2 --dist loadfile (run at the same time), 65.7 vs 73.9 CPU-s, 237 vs 177 s wall at
# load 9-13; make test keeps both cores busy with the other suites, so CPU is what counts.
# nbval-NAME re-runs one notebook. tests/lab/no_iri_grammar.py: jsonschema's import without the IRI
# grammar nbformat never uses (2.0 CPU-s: 3.1 -> 1.0 CPU-s for pytest's start-up and collection).
NBVAL := -p tests.lab.no_iri_grammar --nbval --nbval-current-env
test-notebooks: $(VENV_STAMP)
ifeq ($(NOTEBOOKS),)
	@echo "test-notebooks: no chapter notebook yet"
else
	$(BATCH_NICE) $(PYTEST) -q -n 0 $(NBVAL) $(NOTEBOOKS)
endif

nbval-%: chapters/%.ipynb $(VENV_STAMP)
	$(BATCH_NICE) $(PYTEST) -q $(NBVAL) $<

# One browser and one static server per core (pytest-xdist workers; the fixtures are per process).
test-browser: $(BOOK_STAMP)
	$(PYTEST) $(NO_NBVAL) -n $(BROWSER_JOBS) --durations=8 tests/browser

# The same page checks, also saving four full-page screenshots of every page (phone and desktop,
# light and dark) in _build/screenshots/ to look at. Nothing asserts on them, so make test skips them.
screenshots: $(BOOK_STAMP)
	KLBOOK_SCREENSHOTS=1 $(PYTEST) $(NO_NBVAL) -n $(JOBS) -q tests/browser/test_book_pages.py

# Every chapter opened, run and used in JupyterLab from .venv, in headless Chromium, one
# JupyterLab per pytest process (tests/lab/conftest.py; LAB_JOBS above). With KLBOOK_SCREENSHOTS=1,
# screenshots land in _build/lab-screenshots/. It collects no notebook: NO_NBVAL.
test-lab: $(VENV_STAMP)
	$(LAB_NICE) $(PYTEST) $(NO_NBVAL) -n $(LAB_JOBS) -q --durations=8 tests/lab

# ---------------------------------------------------------------- cleaning

clean:
	rm -rf _build book_static/mathjax

distclean: clean
	rm -rf $(VENV) node_modules
