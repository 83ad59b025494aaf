# ketanb: ketamine infusion cohort, reproducible compendium.
#   make all                                the whole analysis (creates .venv on first use)
#   make test                               pytest on ketanb + nbval on the executed notebooks
#   make test-fast                          the tests that run no pipeline (after changing a rule)
#   make all DATA=path PARAMS=file.yaml     another extract / other parameters
#   make all OUT=runs/t30 PARAMS=runs/t30.yaml   a variant run: outputs under runs/t30, committed ones untouched
#
# How a run works: `all` takes the lock of $(OUT)/.build, then (python -m ketanb.compendium.stamps)
# checks DATA and PARAMS, finishes an interrupted publish, writes content stamps (sha256 of the
# extract, the parameters, the code, the notebooks) and checks the build and the published
# outputs against their sha256 records; only then does make compare dates (`outputs`). Every
# stage notebook runs in the build folder; results/, figures/ and reports/ of $(OUT) are
# replaced together only when every stage has succeeded (publish), so they come from one run.
# Each stage lists what it writes ($(OUT)/.build/written/), and a file no stage writes any more
# is deleted, not published. Paths given to make reach the scripts through the environment
# (KETANB_DATA, KETANB_PARAMS), never as shell text.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

DATA   ?= data/raw
PARAMS ?= params.yaml
OUT    ?= .
VENV   ?= .venv
# DATA and PARAMS as given, never expanded again by make nor read by the shell. `override X := $(value X)`
# makes each a simple variable holding the text as typed: a variable given on the command line is otherwise
# expanded (a `$(shell ...)` in it run) whenever make exports it to a recipe, even for `make help`.
override DATA := $(value DATA)
override PARAMS := $(value PARAMS)
export KETANB_DATA := $(value DATA)
export KETANB_PARAMS := $(value PARAMS)
# OUT names make targets and is written into recipes: letters, digits and . _ - + / only.
OUT_CHARS := a b c d e f g h i j k l m n o p q r s t u v w x y z A B C D E F G H I J K L M N O P Q R S T U V W X Y Z \
             0 1 2 3 4 5 6 7 8 9 . _ - + /
strip-chars = $(if $2,$(call strip-chars,$(subst $(firstword $2),,$1),$(wordlist 2,$(words $2),$2)),$1)
ifneq ($(words $(value OUT))$(call strip-chars,$(value OUT),$(OUT_CHARS)),1)
$(error OUT must be one folder path of letters, digits and . _ - + / (got "$(value OUT)"))
endif

# The first of python3.11, 3.12, 3.13 found (or set PYTHON=/path/to/python3.x).
PYTHON ?= $(firstword $(foreach v,3.11 3.12 3.13,$(shell command -v python$(v) 2>/dev/null)) $(shell command -v python3))
PY     := $(VENV)/bin/python
ENV    := $(VENV)/.installed
BUILD  := $(patsubst ./%,%,$(OUT)/.build)
export JUPYTER_PLATFORM_DIRS := 1
export JUPYTER_DATA_DIR := $(abspath $(VENV))/share/jupyter
export KETANB_ROOT := $(CURDIR)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

STAMPS := $(BUILD)/stamps
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
STAGES := $(patsubst notebooks/%,$(BUILD)/reports/%,$(NOTEBOOKS))

.PHONY: all outputs env data test test-fast test-package test-notebooks clean help lock check-reproducible bench \
        screenshots lab pool demo-pool

all: ## the whole analysis: results/, figures/, reports/ (one run at a time per folder)
	@mkdir -p "$(BUILD)" && flock --nonblock --conflict-exit-code 75 "$(BUILD)/.lock" \
	  bash -c 'echo $$$$ > "$(BUILD)/.pid" && $(MAKE) -s --no-print-directory env && \
	    $(PY) -m ketanb.compendium.stamps "$(BUILD)" "$(OUT)" && exec $(MAKE) -j2 -Otarget --no-print-directory outputs'; \
	  status=$$?; \
	  if [ $$status = 75 ]; then echo "another run is in progress (pid $$(cat "$(BUILD)/.pid")) in $(OUT)/: wait for it to finish" >&2; fi; \
	  exit $$status

# What `all` makes once it holds the lock and has written the stamps (run alone, it reads the stamps
# as they are). `make -n all` runs the step before too (its line runs make), so it shows what would run.
outputs: $(BUILD)/published.sha256

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
	$(PY) -m ketanb.compendium.stage notebooks/$*.ipynb "$(BUILD)" --inputs

# Each stage waits for the stages whose files it reads: 02 the cohort of 01, 03 the cohort of 01 and the
# outcomes of 02 (and, for the limitations that close report 03, the sections of 01 and 02), 04 the cohort
# of 01 only. `all` runs make -j2, so stage 04 runs beside 02 and 03, one per core.
$(BUILD)/reports/01-cleaning.ipynb: $(STAMPS)/data
$(BUILD)/reports/02-outcomes.ipynb: $(BUILD)/reports/01-cleaning.ipynb
$(BUILD)/reports/03-subgroups.ipynb: $(BUILD)/reports/01-cleaning.ipynb $(BUILD)/reports/02-outcomes.ipynb
$(BUILD)/reports/04-side-effects.ipynb: $(BUILD)/reports/01-cleaning.ipynb

# results.json, the reports in HTML (all in one process), the index, and last the manifest: the sha256 of
# every file to publish.
$(BUILD)/manifest.sha256: $(STAGES) $(STAMPS)/code
	$(PY) -m ketanb.compendium.assemble "$(BUILD)"

# Publish: results/, figures/, reports/ replaced together, only after every step succeeded;
# published.sha256 records what was published.
$(BUILD)/published.sha256: $(BUILD)/manifest.sha256
	$(PY) -m ketanb.compendium.publish "$(BUILD)" "$(OUT)"

# --- pooling several clinics ----------------------------------------------------------------
# The sites reach ketanb.pooling through the environment, as typed: never expanded by make or the shell.
override SITES := $(value SITES)
override SITES_FILE := $(value SITES_FILE)
export SITES SITES_FILE
pool: $(ENV) ## pool clinics' results: make pool SITES="a/results.json b/results.json" (or SITES_FILE=list.txt)
	$(PY) -m ketanb.pooling pooled/.build/sites.txt
	$(PY) -m ketanb.compendium.stage notebooks/pool.ipynb pooled/.build -p sites_file pooled/.build/sites.txt
	$(PY) -m ketanb.compendium.render pooled/.build
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

# -p no:nbval: nbval is for the notebooks only, and loading it costs each pytest process 1-2 s.
test-fast: $(ENV) ## the tests that run no pipeline (pytest -m "not pipeline"): after changing a rule
	$(PY) -m pytest -q -p no:nbval -n auto --dist worksteal -m "not pipeline" tests

test-package: $(ENV) ## pytest on the ketanb package and the pipeline (one worker per core: pytest-xdist)
	$(PY) -m pytest -q -p no:nbval -n auto --dist worksteal tests

# One worker per core (-n auto); --dist loadscope gives each notebook whole to one worker, its cells in order
# in one kernel. Notebooks running at once rewrite the build's files with the same bytes, each whole
# (written through a temporary file and a rename), so a notebook never reads half of another's.
test-notebooks: all ## nbval: re-running each report notebook (reports/NN-*.ipynb) reproduces its outputs
	$(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env -n auto --dist loadscope reports/[0-9]*.ipynb

screenshots: all ## open the index and a report in headless chromium; screenshots in reports/.screenshots/
	KETANB_REQUIRE_BROWSER=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_browser.py

bench: $(ENV) ## benchmark the analysis on 1k-1M synthetic patients (prints one line per size)
	$(PY) -m ketanb.bench

# LAB_ARGS: more options for jupyter-lab (e.g. LAB_ARGS="--port=8899 --no-browser"), read from the
# environment as words, never run as shell text. As root (containers, many lab PCs) --allow-root is
# added. The recipe's shell becomes jupyter-lab itself (exec): stopping make (Ctrl-C, or SIGTERM,
# which make passes on to its child) stops the server.
override LAB_ARGS := $(value LAB_ARGS)
export KETANB_LAB_ARGS := $(value LAB_ARGS)
lab: $(ENV) ## JupyterLab on notebooks/ (installed on first use; LAB_ARGS="--port=8899"); notebooks run by hand write to runs/scratch
	@$(PY) -c 'import jupyterlab' 2>/dev/null || { echo "Installing JupyterLab (pinned in requirements-lab.lock), about a minute..."; \
	  $(VENV)/bin/pip install --no-deps --progress-bar off -q -r requirements-lab.lock; }
	@root=; [ "$$(id -u)" != 0 ] || root=--allow-root; \
	  exec $(VENV)/bin/jupyter-lab --notebook-dir=notebooks $$root $$KETANB_LAB_ARGS

lock: ## re-resolve requirements.in into requirements.lock (needs the network)
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet -r requirements.in
	{ echo "# Exact versions of everything installed into .venv (pip freeze of requirements.in, Python 3.11)."; \
	  echo "# Regenerate with: make lock"; .lockenv/bin/pip freeze; } > requirements.lock && rm -rf .lockenv

clean: ## remove the build folders (keeps .venv and the published outputs)
	rm -rf .build runs/scratch pooled/.build
