# Two commands for a newcomer:  `make lab` (set up, open the notebooks)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The same numbered notebooks in two languages (code identical: tests/test_languages.py).
NOTEBOOKS := $(wildcard notebooks/en/*.py notebooks/zh/*.py)

.PHONY: setup setup-dev data lab present train test sync clean html slides slides-offline student

# .venv in three steps, each redone only when its inputs change: PyTorch (tools/torch_wheels.py
# takes the CPU-only wheels on Linux without an NVIDIA GPU; D2LRESNET_TORCH=cpu|default|cuda
# overrides), then what a student needs (`make lab`), then the test tools (`make test`).
TORCH_STAMP := $(VENV)/.torch
LAB_STAMP := $(VENV)/.lab
DEV_STAMP := $(VENV)/.dev
PIP := $(BIN)/python -m pip

setup: $(LAB_STAMP)
setup-dev: $(DEV_STAMP)

$(TORCH_STAMP): tools/torch_wheels.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(BIN)/python tools/torch_wheels.py
	touch $@

$(LAB_STAMP): $(TORCH_STAMP)
	$(PIP) install -e '.[lab]'
	touch $@

$(DEV_STAMP): $(LAB_STAMP)
	$(PIP) install -e '.[lab,dev]'
	touch $@

# Fashion-MNIST: found on disk, downloaded, or (offline, as root on Debian) from the
# dataset-fashion-mnist package.
FIND_DATA = $(BIN)/python -m d2lresnet data || { [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null && apt-get update -qq \
	  && apt-get install -y -qq dataset-fashion-mnist && $(BIN)/python -m d2lresnet data; }
NO_DATA := warning: Fashion-MNIST is not on this machine. Notebooks 01-04 do not need it; \
	notebook 05 stops with a message. Get it with `make data` (needs a network), \
	`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or D2LRESNET_DATA=folder \
	(README, "Data").

data: setup
	$(FIND_DATA)

# JupyterLab refuses to run as root (a container, a cloud VM) unless told; nobody else needs it.
# The file browser shows one file per notebook: the Jupytext .py twins (the sources we edit)
# are hidden from it, beside JupyterLab's own defaults; the package's .py files stay visible.
HIDE_GLOBS := ["__pycache__","*.pyc","*.pyo",".DS_Store","*~","[0-9][0-9]*_*.py","index.py"]
# Its contents manager (d2lresnet/labserver.py: Jupytext's, reading each notebook with the
# language_info this Python's kernel reports) keeps a notebook unmodified by opening it.
JUPYTER_LAB = $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) \
	--ServerApp.contents_manager_class=d2lresnet.labserver.ContentsManager \
	'--ContentsManager.hide_globs=$(HIDE_GLOBS)'


# JupyterLab's own menus in Chinese: `make lab LAB_LANG=zh_CN` (the language pack comes with the
# lab extra). It sets the default of JupyterLab's language setting in this .venv's app settings;
# `make lab` without it puts English back. A language chosen in Settings > Language wins over both.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/d2lresnet-language.json

# Opens even without the data: only notebook 05 needs it. The first page leads to 中文 or English.
lab: setup
	@case '$(LAB_LANG)' in ''|en|zh_CN) ;; \
	  *) echo "LAB_LANG must be zh_CN or en, got '$(LAB_LANG)'" >&2; exit 2;; esac
	@$(FIND_DATA) || echo '$(NO_DATA)' >&2
	@$(if $(LAB_LANG),mkdir -p $(dir $(LAB_OVERRIDES)) && printf '%s\n' \
	  '{"@jupyterlab/translation-extension:plugin": {"locale": "$(LAB_LANG)"}}' \
	  > $(LAB_OVERRIDES),rm -f $(LAB_OVERRIDES))
	$(JUPYTER_LAB) notebooks/index.ipynb

# Live slides with a running kernel (jupyterlab-slideshow): slide-marked copies in build/present/
# (slides from the headings, as `make slides` does); open one and press the toolbar's deck button.
present: setup
	$(foreach lang,en zh,$(BIN)/python -m tools.pages present --output-dir build/present/$(lang) \
	  $(filter notebooks/$(lang)/%,$(NOTEBOOKS:.py=.ipynb)) &&) true
	@$(FIND_DATA) || echo '$(NO_DATA)' >&2
	$(JUPYTER_LAB) build/present/

train: data
	$(BIN)/python -m d2lresnet train --preset quick

# The smoke preset keeps the training notebook to seconds; TQDM_DISABLE keeps CI logs short.
# TEST_WORKERS processes share the tests, a whole file (a whole notebook) each, and PyTorch
# runs one thread in each: two workers of two threads each on two cores spin against each
# other (notebook 06 took minutes). TEST_WORKERS=1 runs them one after the other.
TEST_WORKERS ?= 2
test: setup-dev data
	D2LRESNET_PRESET=smoke TQDM_DISABLE=1 MPLBACKEND=Agg \
	  $(if $(filter-out 1,$(TEST_WORKERS)),OMP_NUM_THREADS=1) \
	  $(BIN)/pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider \
	  $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)

# The .py files are the source; regenerate each .ipynb from its .py (no outputs;
# --update keeps the cell ids and the metadata the .py leaves out, so an unchanged notebook
# stays unchanged in git); tools/sync.py gives a new one the language_info JupyterLab would add.
SOURCES := $(NOTEBOOKS) notebooks/index.py
sync: setup
	$(BIN)/jupytext --update --to ipynb $(SOURCES)
	$(BIN)/python -m tools.sync $(SOURCES:.py=.ipynb)

# For instructors: copies that open without a kernel (README, "For instructors"). Each notebook
# runs once into build/executed/PRESET/ (smoke unless D2LRESNET_PRESET says otherwise; inline
# plots; widget state kept); `html` and `slides` convert those copies with tools/pages.py
# (formulas as MathML, so no MathJax from a CDN) and check every figure.
D2LRESNET_PRESET ?= smoke
EXECUTED_DIR := build/executed/$(D2LRESNET_PRESET)
EXECUTED := $(patsubst notebooks/%.py,$(EXECUTED_DIR)/%.ipynb,$(NOTEBOOKS))
MODULE := $(wildcard d2lresnet/*.py d2lresnet/*/*.py)
PAGES := $(BIN)/python -m tools.pages

# tools/execute_notebook.py, not `jupyter nbconvert --execute`, which now and then waits forever
# on a widget cell (a lost wake-up; the script says why, and how it always finishes).
$(EXECUTED_DIR)/%.ipynb: notebooks/%.ipynb $(MODULE) tools/execute_notebook.py | setup-dev data
	D2LRESNET_PRESET=$(D2LRESNET_PRESET) MPLBACKEND=module://matplotlib_inline.backend_inline \
	  $(BIN)/python -m tools.execute_notebook --timeout 3600 --output-dir $(dir $@) $<

# build/html/index.html leads to every page, as notebooks/index.ipynb does in JupyterLab. The
# widgets are drawn from their saved state by html-manager and require.js, copied from npm
# beside the pages (build/html/vendor/), so the pages work with no network.
HTML_VENDOR := ../vendor/node_modules
html: $(EXECUTED)
	npm install --silent --no-save --no-package-lock --no-audit --no-fund \
	  --prefix build/html/vendor @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.6
	$(foreach lang,en zh,$(PAGES) html --output-dir build/html/$(lang) \
	  --widget-renderer $(HTML_VENDOR)/@jupyter-widgets/html-manager/dist/embed-amd.js \
	  --require-js $(HTML_VENDOR)/requirejs/require.js \
	  $(filter $(EXECUTED_DIR)/$(lang)/%,$(EXECUTED)) &&) true
	$(PAGES) html --output-dir build/html notebooks/index.ipynb

# reveal.js, jQuery and require.js come from CDNs; REVEAL_PREFIX=... points elsewhere.
# One folder per language: build/slides/en/, build/slides/zh/.
slides: $(EXECUTED)
	$(foreach lang,en zh,$(PAGES) slides --output-dir build/slides/$(lang) \
	  $(if $(REVEAL_PREFIX),--reveal-prefix $(REVEAL_PREFIX)) \
	  $(filter $(EXECUTED_DIR)/$(lang)/%,$(EXECUTED)) &&) true

# The same slides with those libraries copied next to them from npm: no network.
VENDOR := ../vendor/node_modules
slides-offline: $(EXECUTED)
	npm install --silent --no-save --no-package-lock --no-audit --no-fund \
	  --prefix build/slides/vendor reveal.js@4.0.2 requirejs@2.3.6 jquery@3.5.1
	$(foreach lang,en zh,$(PAGES) slides --output-dir build/slides/$(lang) \
	  --reveal-prefix $(VENDOR)/reveal.js --require-js $(VENDOR)/requirejs/require.js \
	  --jquery $(VENDOR)/jquery/dist/jquery.min.js \
	  $(filter $(EXECUTED_DIR)/$(lang)/%,$(EXECUTED)) &&) true

# Copies to hand out: the worked solutions (cells tagged "solution") left out (README,
# "For instructors"), in build/student/en/ and build/student/zh/.
student: setup
	$(foreach lang,en zh,$(BIN)/python -m tools.student --output-dir build/student/$(lang) \
	  $(filter notebooks/$(lang)/%,$(NOTEBOOKS:.py=.ipynb)) &&) true

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis notebooks/.ipynb_checkpoints
	find . -name __pycache__ -prune -exec rm -rf {} +
