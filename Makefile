# lstm-course: the two commands a fresh machine needs are `make book` and `make test`.
# Both create .venv, install requirements.txt and the package (editable), and are idempotent.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: all setup chromium book book-student test lab notebooks clean

all: book

# --- set-up -----------------------------------------------------------------
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e .
	@# PyTorch is optional (the float64 comparisons against torch.nn.LSTM and the
	@# benchmarks use it). Only the CPU build is asked for, never a multi-GB CUDA build.
	$(PY) -m pip install --quiet "torch==2.13.0+cpu" \
	  || echo "note: torch==2.13.0+cpu is not available here; PyTorch comparisons will be skipped"
	@touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
chromium:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  && echo "chromium installed: $$(command -v chromium)"; \
	else echo "note: chromium missing and cannot be installed here (not root or no apt-get); browser tests will be skipped"; fi

# --- the book ---------------------------------------------------------------
book: $(STAMP)
	$(PY) tools/build_book.py

# The student edition: the same book with every solution left out.
book-student: $(STAMP)
	$(PY) tools/build_book.py --student

# --- tests ------------------------------------------------------------------
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg
# The notebooks run twice: with the machine's BLAS set-up, then on another OpenBLAS kernel
# with one thread, so that no stored output can depend on the last bits of one machine.
# (OPENBLAS_CORETYPE names x86-64 kernels; elsewhere only the thread count changes.)
ALT_BLAS := OPENBLAS_NUM_THREADS=1 $(if $(filter x86_64,$(shell uname -m)),OPENBLAS_CORETYPE=$(if $(filter Prescott,$(OPENBLAS_CORETYPE)),Sandybridge,Prescott),)

test: $(STAMP) chromium
	$(PY) -m pytest tests book solutions $(NBVAL)
	@echo "--- the notebooks again with $(ALT_BLAS)"
	$(ALT_BLAS) $(PY) -m pytest book solutions $(NBVAL) -p no:cacheprovider

# --- working on the course --------------------------------------------------
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root,) --LabApp.news_url=None

notebooks: $(STAMP)
	$(PY) tools/execute_notebooks.py book/*.ipynb solutions/*.ipynb
	$(VENV)/bin/lstm-course make-exercises

clean:
	rm -rf _build
