# Two commands for a newcomer:  `make lab` (set up, open the notebooks)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(wildcard notebooks/*.py)

.PHONY: setup data lab train test sync clean html slides slides-offline

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

# Fashion-MNIST: found on disk, downloaded, or (offline, as root on Debian) from the
# dataset-fashion-mnist package.
data: setup
	$(BIN)/python -m d2lresnet data || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist \
	  && $(BIN)/python -m d2lresnet data; }

lab: data
	$(BIN)/jupyter lab notebooks/

train: data
	$(BIN)/python -m d2lresnet train --preset quick

# The smoke preset keeps the training notebook to seconds; TQDM_DISABLE keeps CI logs short.
test: data
	D2LRESNET_PRESET=smoke TQDM_DISABLE=1 MPLBACKEND=Agg \
	  $(BIN)/pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

# The .py files are the source; regenerate each .ipynb from its .py (no outputs;
# --update keeps the cell ids, so an unchanged notebook stays unchanged in git).
sync: setup
	$(BIN)/jupytext --update --to ipynb $(NOTEBOOKS)

# For instructors: copies that open without a kernel (README, "For instructors"). Each notebook
# runs once into build/executed/PRESET/ (smoke unless D2LRESNET_PRESET says otherwise; inline
# plots; widget state kept); `html` and `slides` convert those copies with tools/pages.py
# (formulas as MathML, so no MathJax from a CDN) and check every figure.
D2LRESNET_PRESET ?= smoke
EXECUTED_DIR := build/executed/$(D2LRESNET_PRESET)
EXECUTED := $(patsubst notebooks/%.py,$(EXECUTED_DIR)/%.ipynb,$(NOTEBOOKS))
NBCONVERT := $(BIN)/jupyter nbconvert
MODULE := $(wildcard d2lresnet/*.py)
PAGES := $(BIN)/python -m tools.pages

$(EXECUTED_DIR)/%.ipynb: notebooks/%.ipynb $(MODULE) | data
	D2LRESNET_PRESET=$(D2LRESNET_PRESET) MPLBACKEND=module://matplotlib_inline.backend_inline \
	  $(NBCONVERT) --to notebook --execute --ExecutePreprocessor.timeout=3600 \
	  --ExecutePreprocessor.store_widget_state=True --output-dir $(EXECUTED_DIR) $<

html: $(EXECUTED)
	$(PAGES) html --output-dir build/html $(EXECUTED)

# reveal.js, jQuery and require.js come from CDNs; REVEAL_PREFIX=... points elsewhere.
slides: $(EXECUTED)
	$(PAGES) slides --output-dir build/slides \
	  $(if $(REVEAL_PREFIX),--reveal-prefix $(REVEAL_PREFIX)) $(EXECUTED)

# The same slides with those libraries copied next to them from npm: no network.
VENDOR := vendor/node_modules
slides-offline: $(EXECUTED)
	npm install --silent --no-save --no-package-lock --no-audit --no-fund \
	  --prefix build/slides/vendor reveal.js@4.0.2 requirejs@2.3.6 jquery@3.5.1
	$(PAGES) slides --output-dir build/slides \
	  --reveal-prefix $(VENDOR)/reveal.js --require-js $(VENDOR)/requirejs/require.js \
	  --jquery $(VENDOR)/jquery/dist/jquery.min.js $(EXECUTED)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis notebooks/.ipynb_checkpoints
	find . -name __pycache__ -prune -exec rm -rf {} +
