# ketanb: ketamine infusion cohort, reproducible compendium.
#   make all                       the whole analysis (creates .venv on first use)
#   make test                      pytest on ketanb + nbval on the rendered notebooks
#   make all DATA=path PARAMS=file.yaml   another extract / other parameters
SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

DATA   ?= data/raw
PARAMS ?= params.yaml
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export JUPYTER_PLATFORM_DIRS := 1
export JUPYTER_DATA_DIR := $(abspath $(VENV))/share/jupyter
export KETANB_ROOT := $(CURDIR)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

PKG      := $(wildcard ketanb/*.py)
DATA_FILES := $(if $(filter %.xlsx,$(DATA)),$(DATA),$(wildcard $(DATA)/*.csv $(DATA)/*.json))
CONFIG   := .make/config
STAGE    := $(PY) -m ketanb.stage
P        := -p data $(DATA) -p params_file $(PARAMS)

# Record DATA and PARAMS; the file changes (and re-runs the stages) only when they do.
$(shell mkdir -p .make; echo "DATA=$(DATA) PARAMS=$(PARAMS)" | cmp -s - $(CONFIG) || echo "DATA=$(DATA) PARAMS=$(PARAMS)" > $(CONFIG))

.PHONY: all env data test test-package test-notebooks clean help lock check-reproducible bench overhead screenshots

all: results/results.json reports/index.html ## the whole analysis: results/, figures/, reports/

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/' | column -t -s $$'\t'

env: $(STAMP) ## create .venv from requirements.lock (done by all and test when needed)

ifneq ($(wildcard $(VENV)/conda-meta),)
$(STAMP): # a conda environment made from environment.yml: check it, install nothing
	$(PY) -m pip check && touch $@
else
$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "Python 3.11 is needed (found $(PYTHON)); set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --no-deps -r requirements.lock
	$(VENV)/bin/pip check
	$(PY) -c 'import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "ketanb.pth").write_text("$(CURDIR)\n")'
	touch $@
endif

data: $(STAMP) ## write the synthetic extract data/raw/ again (byte-identical)
	$(PY) -m ketanb data data/raw

# Stage rules come from the notebooks: each depends on the ketanb modules it imports and
# on the stages named in its metadata (ketanb/stagedeps.py). A new notebooks/NN-name.ipynb is
# picked up by itself.
STAGE_COMMON := $(STAMP) $(CONFIG) $(PARAMS) ketanb/stage.py $(wildcard ketanb/templates/*/*)
include .make/stages.mk
.make/stages.mk: ketanb/stagedeps.py $(wildcard notebooks/*.ipynb) $(PKG)
	@mkdir -p .make && $(PYTHON) ketanb/stagedeps.py > $@.tmp && mv $@.tmp $@

results/results.json reports/index.html &: $(STAGES) ketanb/assemble.py ketanb/index.py ketanb/io.py
	$(PY) -m ketanb assemble results

OUTPUTS := results figures reports

check-reproducible: $(STAMP) ## rebuild every output from nothing; fail unless it equals the committed bytes (twice)
	@git diff --quiet HEAD -- $(OUTPUTS) || { echo "commit or discard the changes under $(OUTPUTS) first" >&2; exit 1; }
	rm -rf .make/config results/*.json results/*.csv figures/*.png reports/*.ipynb reports/*.html
	$(MAKE) --no-print-directory all
	git status --porcelain -- $(OUTPUTS) | { ! grep . ; } || { echo "rebuild differs from the commit" >&2; exit 1; }
	$(MAKE) --no-print-directory -q all || { echo "a second make all would run something" >&2; exit 1; }
	@echo "reproducible: every output rebuilt byte for byte, and make -q all is up to date"

test: test-package test-notebooks ## all tests

test-package: $(STAMP) ## pytest on the ketanb package
	$(PY) -m pytest -q tests

test-notebooks: results/results.json ## nbval: re-executing each rendered notebook reproduces its outputs
	$(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env reports/*.ipynb

screenshots: results/results.json ## open the index and a report in headless chromium; screenshots in reports/.screenshots/
	KETANB_REQUIRE_BROWSER=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_browser.py

bench: $(STAMP) ## benchmark the analysis on 1k-1M synthetic patients (prints one line per size)
	$(PY) -m ketanb.bench

overhead: $(STAMP) ## time make -j2 all from nothing against papermill's start-up floor
	$(PY) -m ketanb.overhead

lock: ## re-resolve requirements.in into requirements.lock (needs the network)
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet -r requirements.in
	{ echo "# Exact versions of everything installed into .venv (pip freeze of requirements.in, Python 3.11)."; \
	  echo "# Regenerate with: make lock"; .lockenv/bin/pip freeze; } > requirements.lock && rm -rf .lockenv

clean: ## remove derived files (keeps .venv and the committed outputs' sources)
	rm -rf data/processed reports/.staging .make
