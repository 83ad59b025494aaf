# ketanb: ketamine infusion cohort, reproducible compendium.
#   make all                                the whole analysis (creates .venv on first use)
#   make test                               pytest on ketanb + nbval on the rendered notebooks
#   make all DATA=path PARAMS=file.yaml     another extract / other parameters
#   make all OUT=runs/t30 PARAMS=t30.yaml   a variant run: outputs under runs/t30, committed ones untouched
#
# How a run works: every stage notebook runs in the build folder $(OUT)/.build; results/,
# figures/ and reports/ of $(OUT) are replaced only when every stage has succeeded (publish).
# Stages depend on content stamps (sha256 of the extract, the parameters, the code, the
# notebook), so a changed file re-runs what uses it whatever its date. Each stage lists what it
# writes ($(OUT)/.build/written/), and a file no stage writes any more is deleted, not published.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

DATA   ?= data/raw
PARAMS ?= params.yaml
OUT    ?= .
VENV   ?= .venv
# The first of python3.11, 3.12, 3.13 found (or set PYTHON=/path/to/python3.x).
PYTHON ?= $(firstword $(foreach v,3.11 3.12 3.13,$(shell command -v python$(v) 2>/dev/null)) $(shell command -v python3))
PY     := $(VENV)/bin/python
ENV    := $(VENV)/.installed
BUILD  := $(patsubst ./%,%,$(OUT)/.build)
export JUPYTER_PLATFORM_DIRS := 1
export JUPYTER_DATA_DIR := $(abspath $(VENV))/share/jupyter
export KETANB_ROOT := $(CURDIR)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

ifneq ($(words $(OUT)),1)
$(error OUT must be one folder name without spaces (got "$(OUT)"))
endif

# Content stamps, rewritten only when a hash changes; prints where notebooks read the extract.
STAMPS := $(BUILD)/stamps
DATA_ARG := $(shell mkdir -p "$(BUILD)" && python3 ketanb/compendium/stamps.py "$(BUILD)" "$(DATA)" "$(PARAMS)")
PARAMS_ARG := $(shell python3 ketanb/compendium/stamps.py --params "$(BUILD)" "$(PARAMS)")
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
STAGES := $(patsubst notebooks/%,$(BUILD)/reports/%,$(NOTEBOOKS))

.PHONY: all outputs env data test test-package test-notebooks clean help lock check-reproducible bench \
        screenshots lab pool demo-pool

all: ## the whole analysis: results/, figures/, reports/ (one run at a time per folder)
	@flock --nonblock --conflict-exit-code 75 "$(BUILD)/.lock" \
	  bash -c 'echo $$$$ > "$(BUILD)/.pid"; exec $(MAKE) --no-print-directory outputs'; status=$$?; \
	  if [ $$status = 75 ]; then echo "another run is in progress (pid $$(cat "$(BUILD)/.pid")) in $(OUT)/: wait for it to finish" >&2; fi; \
	  exit $$status

outputs: $(OUT)/results/results.json

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/' | column -t -s $$'\t'

env: $(ENV) ## create .venv from requirements.lock (done by all and test when needed)

ifneq ($(wildcard $(VENV)/conda-meta),)
$(ENV): # a conda environment made from environment.yml: check it, install nothing
	$(PY) -m pip check && touch $@
else
$(ENV): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' || \
	  { echo "Python 3.11, 3.12 or 3.13 is needed (found $(PYTHON)); set PYTHON=/path/to/python3.x" >&2; exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) --version) from requirements.lock: $$(grep -c '==' requirements.lock) packages, 1-4 minutes on first use."
	$(PYTHON) -m venv $(VENV)
	@total=$$(grep -c '==' requirements.lock); $(VENV)/bin/pip install --no-deps --progress-bar off -r requirements.lock | \
	  awk -v total=$$total '/^(Collecting|Processing) / { n++; sub(/.*\//, "", $$2); \
	         if (n % 10 == 1 || n == total) printf "  fetching package %d of %d: %s\n", n, total, $$2 } \
	       /^Installing collected packages/ { print "  unpacking and installing the " total " packages: 1-3 minutes without further output..." } \
	       /^Successfully/ { print "  installed " NF - 2 " packages" } { fflush() }'
	$(VENV)/bin/pip check
	$(PY) -c 'import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "ketanb.pth").write_text("$(CURDIR)\n")'
	touch $@
endif

data: $(ENV) ## write the synthetic extract data/raw/ again (byte-identical)
	$(PY) -m ketanb data data/raw

# --- the stages: one pattern rule, and the order between them -------------------------------
COMMON := $(ENV) $(STAMPS)/params $(STAMPS)/code
$(BUILD)/reports/%.ipynb: $(STAMPS)/notebooks/%.ipynb $(COMMON)
	$(PY) -m ketanb.compendium.stage notebooks/$*.ipynb "$(BUILD)" -p data "$(DATA_ARG)" -p params_file "$(PARAMS_ARG)"

$(BUILD)/reports/01-cleaning.ipynb: $(STAMPS)/data
$(BUILD)/reports/02-outcomes.ipynb: $(BUILD)/reports/01-cleaning.ipynb
$(BUILD)/reports/03-subgroups.ipynb: $(BUILD)/reports/02-outcomes.ipynb
$(BUILD)/reports/04-side-effects.ipynb: $(BUILD)/reports/03-subgroups.ipynb

$(BUILD)/results/results.json: $(STAGES) $(STAMPS)/code
	$(PY) -m ketanb.compendium.assemble "$(BUILD)"

# Publish: results/, figures/, reports/ replaced together, only after every step succeeded.
$(OUT)/results/results.json: $(BUILD)/results/results.json
	$(PY) -m ketanb.compendium.publish "$(BUILD)" "$(OUT)"

# --- pooling several clinics ----------------------------------------------------------------
# The sites reach ketanb.pooling through the environment, as typed: never expanded by make or the shell.
override SITES := $(value SITES)
override SITES_FILE := $(value SITES_FILE)
export SITES SITES_FILE
pool: $(ENV) ## pool clinics' results: make pool SITES="a/results.json b/results.json" (or SITES_FILE=list.txt)
	$(PY) -m ketanb.pooling pooled/.build/sites.txt
	$(PY) -m ketanb.compendium.stage notebooks/pool.ipynb pooled/.build -p sites_file pooled/.build/sites.txt
	$(PY) -m ketanb.compendium.publish pooled/.build pooled pooled.json forest.png forest.svg reports

CLINICS := runs/clinics
demo-pool: all ## pool the shipped extract with two further synthetic clinics (under runs/clinics/)
	$(PY) -m ketanb data $(CLINICS)/site-b/extract --seed 2 --favorable-share 0.40
	$(PY) -m ketanb data $(CLINICS)/site-c/extract --seed 3 --favorable-share 0.60
	$(MAKE) --no-print-directory all DATA=$(CLINICS)/site-b/extract OUT=$(CLINICS)/site-b/run
	$(MAKE) --no-print-directory all DATA=$(CLINICS)/site-c/extract OUT=$(CLINICS)/site-c/run
	mkdir -p $(CLINICS)/dendermonde
	cp results/results.json $(CLINICS)/dendermonde/results.json
	cp $(CLINICS)/site-b/run/results/results.json $(CLINICS)/site-b/results.json
	cp $(CLINICS)/site-c/run/results/results.json $(CLINICS)/site-c/results.json
	$(MAKE) --no-print-directory pool SITES="$(CLINICS)/dendermonde/results.json $(CLINICS)/site-b/results.json $(CLINICS)/site-c/results.json"

# --- checks ---------------------------------------------------------------------------------
OUTPUTS := results figures reports

check-reproducible: $(ENV) ## rebuild every output from nothing; fail unless it equals the committed bytes
	@git diff --quiet HEAD -- $(OUTPUTS) || { echo "commit or discard the changes under $(OUTPUTS) first" >&2; exit 1; }
	rm -rf .build $(OUTPUTS)
	$(MAKE) --no-print-directory all
	git status --porcelain -- $(OUTPUTS) | { ! grep . ; } || { echo "rebuild differs from the commit" >&2; exit 1; }
	$(MAKE) --no-print-directory -q outputs || { echo "a second make all would run something" >&2; exit 1; }
	@echo "reproducible: every output rebuilt byte for byte, and a second make all has nothing to do"

test: test-package test-notebooks ## all tests

test-package: $(ENV) ## pytest on the ketanb package and the pipeline
	$(PY) -m pytest -q tests

test-notebooks: all ## nbval: re-executing each rendered notebook reproduces its outputs
	$(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env reports/[0-9]*.ipynb

screenshots: all ## open the index and a report in headless chromium; screenshots in reports/.screenshots/
	KETANB_REQUIRE_BROWSER=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_browser.py

bench: $(ENV) ## benchmark the analysis on 1k-1M synthetic patients (prints one line per size)
	$(PY) -m ketanb.bench

lab: $(ENV) ## JupyterLab on notebooks/ (installed on first use); notebooks run by hand write to runs/scratch
	@$(PY) -c 'import jupyterlab' 2>/dev/null || { echo "Installing JupyterLab (pinned in requirements-lab.lock), about a minute..."; \
	  $(VENV)/bin/pip install --no-deps --progress-bar off -q -r requirements-lab.lock; }
	$(PY) -m jupyter lab --notebook-dir=notebooks

lock: ## re-resolve requirements.in into requirements.lock (needs the network)
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet -r requirements.in
	{ echo "# Exact versions of everything installed into .venv (pip freeze of requirements.in, Python 3.11)."; \
	  echo "# Regenerate with: make lock"; .lockenv/bin/pip freeze; } > requirements.lock && rm -rf .lockenv

clean: ## remove the build folders (keeps .venv and the published outputs)
	rm -rf .build runs/scratch pooled/.build
