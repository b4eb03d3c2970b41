# The two commands: `make run` serves the app, `make test` runs the whole suite.
# Each creates .venv and installs what it needs on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test index lint bench eval clean train

# A first run is slow and pip is quiet: one line per step says what is happening meanwhile.
$(STAMP): requirements.txt pyproject.toml
	@echo "qa_bot: installing dependencies into $(VENV) (about 2 minutes, first run only)…"
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements.txt
	@$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

embeddings/manifest.json: | $(STAMP)
	@echo "qa_bot: building the index of corpus/ (first run only)…"
	@$(BIN)/python -m qa_bot index

index: $(STAMP)
	$(BIN)/python -m qa_bot index

run: $(STAMP) embeddings/manifest.json
	@$(BIN)/python app.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check qa_bot tests app.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) embeddings .pytest_cache

# Evaluation (issue 4). `make eval DATASET=dir [OUT=report.md|dir] [MODES=a,b] [LIMIT=n]` measures
# retrieval on a dataset folder (transcripts/ + questions.jsonl, as ../shared/tools/make_evalset.py
# writes). `make eval-public` converts ../shared/data into bench/evalsets/ (git-ignored: dataset
# text is never committed) and writes bench/EVAL.md with bench/eval_recall.png;
# `make eval-threshold` tunes the no-answer threshold into bench/THRESHOLD.md; `make ranking`
# studies turn-level ranking features by cross-validation into bench/RANKING.md. Each benchmark
# writes bench/results/<name>.json (committed); `python -m bench.render` puts them in the reports.
.PHONY: eval-public eval-threshold evalsets ranking
SHARED   ?= ../shared
EVALSETS ?= bench/evalsets
DATASET  ?=
OUT      ?=
MODES    ?=
LIMIT    ?=
EVAL_ARGS = $(if $(OUT),--out $(OUT)) $(if $(MODES),--modes $(MODES)) $(if $(LIMIT),--limit $(LIMIT))

eval: $(STAMP)
	@test -n "$(DATASET)" || { echo "usage: make eval DATASET=path/to/evalset [OUT=report.md]" >&2; exit 2; }
	$(BIN)/python -m qa_bot eval $(DATASET) $(EVAL_ARGS)

# The interview-structure sets come from corpus/ (bench/interview_set.py): the same interview as
# prose, labelled, named-host, SRT and JSON. They are built and evaluated with or without $(SHARED).
INTERVIEW_SETS := $(addprefix $(EVALSETS)/interview/,prose labelled named srt json)
PUBLIC_SETS     = $(if $(wildcard $(SHARED)/data),$(EVALSETS)/friendsqa $(EVALSETS)/qmsum)
NEED_SHARED     = @test -d $(SHARED)/data || { echo "$@: $(SHARED)/data not found (set SHARED=...)" >&2; exit 2; }

evalsets: $(STAMP)
	$(BIN)/python -m bench.interview_set $(EVALSETS)/interview
	@test -d $(SHARED)/data || echo "$@: $(SHARED)/data not found (set SHARED=...): FriendsQA and QMSum skipped" >&2
	$(if $(PUBLIC_SETS),$(BIN)/python $(SHARED)/tools/make_evalset.py friendsqa $(SHARED)/data/friendsqa/friendsqa_tst.json $(EVALSETS)/friendsqa)
	$(if $(PUBLIC_SETS),$(BIN)/python $(SHARED)/tools/make_evalset.py qmsum $(SHARED)/data/qmsum-val $(EVALSETS)/qmsum)

eval-public: evalsets
	$(BIN)/python -m qa_bot eval $(PUBLIC_SETS) $(INTERVIEW_SETS) --out bench/EVAL.md \
		$(if $(MODES),--modes $(MODES)) $(if $(LIMIT),--limit $(LIMIT))

eval-threshold: evalsets
	$(NEED_SHARED)
	$(BIN)/python -m bench.tune_threshold --friendsqa $(EVALSETS)/friendsqa --qmsum $(EVALSETS)/qmsum \
		--cache $(EVALSETS)
	$(BIN)/python -m bench.render

ranking: evalsets
	$(NEED_SHARED)
	$(BIN)/python -m bench.ranking $(EVALSETS)/friendsqa $(EVALSETS)/qmsum
	$(BIN)/python -m bench.render

# Performance (issue 5): `make bench` measures warm latency, indexing throughput, cold start,
# memory, the scale ladder (10k, 100k, 1M chunks), the store ladder (milvus-lite against FAISS at
# 100k and 1M chunks, bench/SCALE.md) and the encoders' quality on the eval sets,
# each beside its yardstick, each part in a process of its own (`make bench PARTS=perf` for one);
# then the load run (issue 6): 32 gradio_client clients for 60 s on loopback, which fails on any
# error; then bench/RESULTS.md with bench/latency.png and bench/scale.png (caches in $(BENCH_DIR)).
BENCH_DIR ?= /tmp/qa_bot-bench
PARTS     ?= quality perf coldstart scale restart store_ladder
bench: $(STAMP) $(if $(wildcard $(SHARED)/data),evalsets)
	for part in $(PARTS); do \
		QA_BOT_BENCH_DIR=$(BENCH_DIR) QA_BOT_EVALSETS=$(EVALSETS) $(BIN)/python -m bench.$$part || exit 1; done
	$(BIN)/python -m bench.load_test --clients 32 --duration 60; status=$$?; \
		$(BIN)/python -m bench.render && exit $$status

# The learned ranker (issue 10): `make train` converts QMSum's train split (and nothing else) and
# fits qa_bot/models/ranker.json, about 20 minutes on 2 cores, deterministic; then pin the SHA-256
# it prints in qa_bot/ranker.py (MODEL_SHA256). make test never trains: it uses the committed file.
train: $(STAMP)
	@test -d $(SHARED)/data/qmsum-train || { echo "$@: $(SHARED)/data/qmsum-train not found (set SHARED=...)" >&2; exit 2; }
	$(BIN)/python $(SHARED)/tools/make_evalset.py qmsum $(SHARED)/data/qmsum-train $(EVALSETS)/qmsum-train
	$(BIN)/python -m qa_bot.training $(EVALSETS)/qmsum-train --out qa_bot/models/ranker.json
