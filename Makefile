# Two commands do all set-up: `make test` and `make run`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint run bench clean

# The venv gets exactly the versions pinned in .ci/lock.txt (Linux x86_64, CPython 3.11); `LOCK=` resolves
# afresh from pyproject.toml's ranges instead (other platforms, or to refresh the lock). No pip cache is
# written: the venv is already about 5.5 GB (PyTorch's CUDA build is the one on this disk).
LOCK ?= .ci/lock.txt
PIP  := $(PY) -m pip install --no-cache-dir --progress-bar off

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	@bash .ci/disk-check $(VENV) 6
	$(PIP) pip==26.3
	if [ -n "$(LOCK)" ]; then $(PIP) --no-deps -r $(LOCK) && $(PIP) --no-deps -e .; \
	else $(PIP) -e '.[test,measures]'; fi
	touch $(STAMP)

# ruff (lint + format) and import-linter (the core never imports Qt or training; no upward imports).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint
	@bash .ci/system-deps --if-root
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

run: $(STAMP)
	$(VENV)/bin/sand-gui

# Figures for the README (not pass/fail): foundation, corpus, training, window.
bench: $(STAMP)
	$(PY) benchmarks/bench_analyze.py
	$(PY) benchmarks/bench_voicing.py
	$(PY) benchmarks/bench_measures.py
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_workbench.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_gui.py

clean:
	rm -rf $(VENV) build *.egg-info
