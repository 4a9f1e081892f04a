# casekit — every target creates .venv and installs the package when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8866

.PHONY: lab app test test-unit lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=$(HOST) --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

app: $(STAMP)
	@echo "casekit seminar app: http://$(HOST):$(PORT)/"
	$(BIN)/voila notebooks/seminar_app.ipynb --no-browser --Voila.ip=$(HOST) --port=$(PORT)

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

test-unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests -m "not browser"

lint: $(STAMP)
	$(BIN)/ruff check casekit tests bench
	$(BIN)/ruff format --check casekit tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format casekit tests bench
	$(BIN)/ruff check --fix casekit tests bench

bench: $(STAMP)
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
