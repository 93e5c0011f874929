# Two commands for a newcomer:  `make lab` (set up, open the notebooks)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(wildcard notebooks/*.py)

.PHONY: setup data lab train test sync clean

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

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis notebooks/.ipynb_checkpoints
	find . -name __pycache__ -prune -exec rm -rf {} +
