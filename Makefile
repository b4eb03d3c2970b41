# The two commands: `make run` serves the app, `make test` runs the whole suite.
# Each creates .venv and installs what it needs on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test index lint bench eval clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

embeddings/manifest.json: | $(STAMP)
	$(BIN)/python -m qa_bot index

index: $(STAMP)
	$(BIN)/python -m qa_bot index

run: $(STAMP) embeddings/manifest.json
	$(BIN)/python app.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check qa_bot tests app.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) embeddings .pytest_cache
