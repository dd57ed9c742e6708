# Two commands do all set-up: `make test` and `make run`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint run bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test,measures]'
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
