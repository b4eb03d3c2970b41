"""What each encoder does to retrieval quality on the public eval sets (``make evalsets``), the
eval harness's "full" mode: ``onnx`` (float32 for passages and questions: the torch vectors, checked
here), ``auto`` (float32 passages, int8 questions: the default) and ``onnx-int8`` (RESULTS.md).
Builds the eval-set indexes (``<QA_BOT_BENCH_DIR>/eval-index``) that perf and scale reuse.

    python -m bench.quality
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import WORK, evalsets, questions, save, stock_model


class QuestionsInt8:
    """The default embedder with questions through ``encode_query``: the eval harness embeds its
    questions with ``encode`` in one batch, over an index this embedder finds up to date."""

    def __init__(self, inner: Any, questions: int) -> None:
        self.inner, self.questions, self.calls = inner, questions, 0
        self.name, self.weights_sha256, self.dimension = inner.name, inner.weights_sha256, inner.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) > self.questions:
            raise RuntimeError("the float32 index was not up to date: passages would be int8")
        return self.inner.encode_query(texts)


def equivalence(sets: Path, n: int = 256) -> dict[str, float]:
    """Float32 ONNX and the int8 question encoder against sentence-transformers (torch) on sampled
    passages and questions."""
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.index import load

    passages: list[str] = []
    asked: list[str] = []
    for name in ("friendsqa", "qmsum"):
        if saved := load(WORK / "eval-index" / "onnx" / name):
            passages += [c.text for c in saved.chunks[:: max(1, len(saved.chunks) // (n // 2))]][: n // 2]
        asked += questions(sets / name / "questions.jsonl", n // 2)
    onnx, auto = SentenceTransformerEmbedder(backend="onnx"), SentenceTransformerEmbedder(backend="auto")
    torch_model, out = stock_model(), {}
    for label, texts in (("passages", passages), ("questions", asked)):
        reference = torch_model.encode(texts, normalize_embeddings=True)
        fp32, int8 = onnx.encode(texts), np.vstack([auto.encode_query([t]) for t in texts])
        out |= {f"{label}_fp32_min_cos": float((reference * fp32).sum(1).min()),
                f"{label}_fp32_max_abs": float(np.abs(reference - fp32).max()),
                f"{label}_int8_mean_cos": float((reference * int8).sum(1).mean()),
                f"{label}_int8_min_cos": float((reference * int8).sum(1).min())}
    return out


def main() -> None:
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.evaluation import evaluate, load_questions

    if (sets := evalsets()) is None:
        return print("quality: no eval sets (make evalsets), not measured", file=sys.stderr)
    datasets = {}
    for name in ("friendsqa", "qmsum"):
        count, variants = len(load_questions(sets / name)), {}
        for variant in ("onnx", "auto", "onnx-int8"):
            print(f"quality: {name} {variant} ...", file=sys.stderr, flush=True)
            embedder = (QuestionsInt8(SentenceTransformerEmbedder(backend="auto"), count) if variant == "auto"
                        else SentenceTransformerEmbedder(backend=variant))
            folder = WORK / "eval-index" / ("onnx-int8" if variant == "onnx-int8" else "onnx") / name
            summary = evaluate(sets / name, ["full"], Settings(), embedder, folder).modes[0].summary()
            variants[variant] = {k: summary[k] for k in ("R@1", "R@3", "R@5", "MRR", "no_answer")}
        datasets[name] = {"questions": count, "variants": variants}
    save("quality", {"datasets": datasets, "equivalence": equivalence(sets)})


if __name__ == "__main__":
    main()
