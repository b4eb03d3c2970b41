"""What each encoder does to retrieval quality, on the public eval sets (FriendsQA and QMSum,
converted by ``make evalsets``): the eval harness's "full" mode with

* ``onnx``: float32 ONNX for passages and questions (the torch vectors to 1e-7: checked here on
  sampled passages and questions, so its numbers are the torch model's);
* ``auto``: float32 passages, int8 questions (the default);
* ``onnx-int8``: int8 for both.

Indexes are cached under ``<QA_BOT_BENCH_DIR>/eval-index``; results in ``results/quality.json``.

    .venv/bin/python bench/quality.py
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from common import WORK, evalsets, loadavg, save, stock_model


class QuestionsInt8:
    """The default embedder with questions through ``encode_query``: the eval harness embeds its
    questions with ``encode`` in one batch, over an index this embedder finds up to date."""

    def __init__(self, inner: Any, questions: int) -> None:
        self.inner = inner
        self.questions = questions
        self.name = inner.name
        self.weights_sha256 = inner.weights_sha256
        self.dimension = inner.dimension
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) > self.questions:
            raise RuntimeError("the float32 index was not up to date: passages would be int8")
        return self.inner.encode_query(texts)


def equivalence(sets: Any, n: int = 256) -> dict[str, float]:
    """float32 ONNX against sentence-transformers (torch) on sampled passages and questions."""
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.index import load

    passages: list[str] = []
    questions: list[str] = []
    for name in ("friendsqa", "qmsum"):
        saved = load(WORK / "eval-index" / "onnx" / name)
        if saved is not None:
            passages += [c.text for c in saved.chunks[:: max(1, len(saved.chunks) // (n // 2))]][: n // 2]
        lines = (sets / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        questions += [json.loads(line)["question"] for line in lines[: n // 2]]
    onnx = SentenceTransformerEmbedder(backend="onnx")
    auto = SentenceTransformerEmbedder(backend="auto")
    torch_model = stock_model()
    out = {}
    for label, texts in (("passages", passages), ("questions", questions)):
        reference = torch_model.encode(texts, normalize_embeddings=True)
        fp32 = onnx.encode(texts)
        int8 = np.vstack([auto.encode_query([t]) for t in texts])
        out[f"{label}_fp32_min_cos"] = float((reference * fp32).sum(1).min())
        out[f"{label}_fp32_max_abs"] = float(np.abs(reference - fp32).max())
        out[f"{label}_int8_mean_cos"] = float((reference * int8).sum(1).mean())
        out[f"{label}_int8_min_cos"] = float((reference * int8).sum(1).min())
    return out


def main() -> int:
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.evaluation import evaluate, load_questions

    sets = evalsets()
    if sets is None:
        print("quality: no eval sets (make evalsets); skipped", file=sys.stderr)
        return 0
    out: dict[str, Any] = {"load_start": loadavg(), "datasets": {}}
    settings = Settings()
    for name in ("friendsqa", "qmsum"):
        dataset = sets / name
        questions = len(load_questions(dataset))
        rows = {}
        for variant in ("onnx", "auto", "onnx-int8"):
            print(f"quality: {name} {variant} ...", file=sys.stderr, flush=True)
            folder = "onnx-int8" if variant == "onnx-int8" else "onnx"
            embedder: Any = SentenceTransformerEmbedder(backend="onnx" if variant == "auto" else variant)
            if variant == "auto":
                auto = SentenceTransformerEmbedder(backend="auto")
                embedder = QuestionsInt8(auto, questions)
            started = time.perf_counter()
            result = evaluate(dataset, ["full"], settings, embedder, WORK / "eval-index" / folder / name)
            summary = result.modes[0].summary()
            rows[variant] = {k: summary[k] for k in ("R@1", "R@3", "R@5", "MRR", "no_answer")}
            rows[variant]["seconds"] = time.perf_counter() - started
        out["datasets"][name] = {"questions": questions, "variants": rows}
    print("quality: torch equivalence ...", file=sys.stderr, flush=True)
    out["equivalence"] = equivalence(sets)
    out["load_end"] = loadavg()
    save("quality", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
