# genmod — make report (default), sweep, test, data, bench, lab, clean.
# Every target bootstraps what it needs: the virtual environment and the data.

PYTHON_BOOT ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
# The CPU wheel of torch; a GPU user runs e.g.
#   make TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126" venv
TORCH       ?= torch==2.13.0

DEVICE  ?= auto
PROFILE ?= default
SEED    ?= 0
# Extra arguments for `python -m genmod.report`, e.g. ARGS="-p epochs=500 --retrain"
ARGS    ?=
# Seeds of `make sweep`, e.g. SEEDS="0 1 2 3 4" (ARGS: e.g. "--sections 01 -p lam=0,0.5,1")
SEEDS   ?= 0 1 2
ALICE   := data/alice_in_wonderland.txt

.DEFAULT_GOAL := report
.PHONY: report sweep test data bench lab venv clean distclean lint

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name genmod --display-name "Python (genmod)" >/dev/null
	touch $@

venv: $(VENV)/.installed

$(ALICE): | $(VENV)/.installed
	$(PY) -m genmod.gpt.corpus --out $@

data: $(ALICE)

report: venv data
	$(PY) -m genmod.report --device $(DEVICE) --profile $(PROFILE) --seed $(SEED) $(ARGS)

sweep: venv data
	$(PY) -m genmod.report.sweep --device $(DEVICE) --profile $(PROFILE) --seeds "$(SEEDS)" $(ARGS)

test: venv data
	$(PY) -m pytest

bench: venv data
	$(PY) -m genmod.bench $(ARGS)

lint: venv
	$(PY) -m ruff check lib tests notebooks
	$(PY) -m ruff format --check lib tests notebooks

# JupyterLab comes with the environment (`make venv`, the dev install), so `make lab` needs
# no network: it serves notebooks/ on 127.0.0.1 with a token (open the printed URL), and
# fetches no news and checks no updates. As root (e.g. in a container) Jupyter refuses to
# start without --allow-root.
LAB_ARGS := --no-browser --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
  --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  $(if $(filter 0,$(shell id -u)),--allow-root)

lab: venv
	$(VENV)/bin/jupyter lab $(LAB_ARGS)

# The reports, the trained-model cache and the execution cache (cache/executed/: executed
# notebooks reused by `make report` while their inputs are unchanged).
clean:
	rm -rf reports/smoke reports/default reports/full reports/sweep reports/bench.json cache

distclean: clean
	rm -rf $(VENV) $(ALICE)
