"""Warm ``bot.ask`` by part against stock sentence-transformers ``encode``; the encoders on one
question; threads and batch sizes; indexing against a plain ``encode`` (RESULTS.md).

    python -m bench.perf [--rounds 60]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import QUESTION, WORK, interleaved, median, model_path, summary_ms

QUESTIONS = [QUESTION, "Who did he meet from Washington?", "Why help Kyrgyzstan?",
             "What does he think of NATO expansion?", "How did the drug trade change after 2001?",
             "What did he say about Afghanistan?", "Is Russia cooperating with the United States?",
             "What is his job?"]


def ask_breakdown(bot: Any, asked: list[str], stock: Any, rounds: int, scopes: list[str] | None = None
                  ) -> dict[str, Any]:
    """``bot.ask`` and its parts, in turns with the stock encoder on the same question."""
    from qa_bot.answers import assemble
    from qa_bot.embedding import encode_query

    times: dict[str, list[float]] = {k: [] for k in ("ask", "encode", "encode_query", "search", "assemble",
                                                     "stock")}

    def timed(key: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        times[key].append(time.perf_counter() - started)
        return out

    for q in asked[:2]:  # warm
        bot.ask(q)
        stock.encode([q])
    s = bot.settings
    for n in range(rounds):
        q, scope = asked[n % len(asked)], scopes[n % len(scopes)] if scopes else None
        timed("ask", bot.ask, q, transcript=scope)
        vector = timed("encode", bot.embedder.encode, [q])[0]  # what bot.ask calls today
        timed("encode_query", encode_query, bot.embedder, [q])
        hits = timed("search", bot._retriever.search, vector, q, 12, scope, None)
        timed("assemble", assemble, q, hits, bot.index, bot.transcripts, 3, s.no_answer_threshold,
              s.whole_turn_chars)
        timed("stock", stock.encode, [q])
    return {**{k: summary_ms(t) for k, t in times.items()}, "chunks": len(bot.index.chunks),
            "dense_index": getattr(bot.index.chunk_vectors, "kind", type(bot.index.chunk_vectors).__name__)}


def encoders(stock: Any, rounds: int) -> dict[str, Any]:
    """One question, in turns: stock on torch's default threads and on one, ONNX float32 and int8
    on one thread and on two."""
    import torch

    from qa_bot.embedding import OnnxEncoder, export_onnx

    path, default = model_path(), torch.get_num_threads()

    def stock_on(threads: int) -> None:
        torch.set_num_threads(threads)
        stock.encode([QUESTION])
        torch.set_num_threads(default)

    fns = {f"sentence-transformers (torch, {default} threads)": lambda: stock_on(default),
           "sentence-transformers (torch, 1 thread)": lambda: stock_on(1)}
    for kind, int8 in (("fp32", False), ("int8", True)):
        for n in (1, 2):
            encoder = OnnxEncoder(export_onnx(path, int8=int8), path, n)
            fns[f"onnx {kind}, {n} thread{'s' * (n > 1)}"] = lambda e=encoder: e.encode([QUESTION])
    return {name: summary_ms(t) for name, t in interleaved(fns, rounds).items()}


def batches(texts: list[str]) -> dict[str, Any]:
    """Texts per second of the float32 ONNX encoder by threads and batch size, in turns."""
    from qa_bot.embedding import OnnxEncoder, export_onnx

    path = model_path()
    encoders = {n: OnnxEncoder(export_onnx(path, int8=False), path, n) for n in (1, 2)}
    fns = {f"{n} thread{'s' * (n > 1)}, batch {size}": (lambda e=e, size=size: e.encode(texts, size))
           for n, e in encoders.items() for size in (16, 64, 256)}
    return {k: {"texts_per_s": len(texts) / median(t)} for k, t in interleaved(fns, 2, warmup=0).items()}


def indexing(source: Path, stock: Any, reps: int = 2) -> dict[str, Any]:
    """``QaBot.open`` on an empty index folder (parse, chunk, embed, FAISS, save) over the first two
    transcripts of ``source`` against a plain ``encode`` of the same texts, in turns."""
    from qa_bot.bot import QaBot
    from qa_bot.chunking import chunk_transcript, embed_text
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.evaluation import LABELLED, corpus_view
    from qa_bot.index import _turn_units
    from qa_bot.parsers.corpus import load_corpus

    corpus, target = WORK / "indexing-corpus", WORK / "indexing-index"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for path in sorted(corpus_view(source)[0].glob("*.txt"))[:2]:
        (corpus / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        (corpus / f"{path.name}.meta.json").write_text(LABELLED, encoding="utf-8")
    settings, embedder = Settings(), SentenceTransformerEmbedder()
    transcripts, _ = load_corpus(corpus, settings.max_file_bytes)
    texts = [embed_text(c.speaker, c.text) for t in transcripts
             for c in chunk_transcript(t, settings.chunk_sentences, settings.chunk_stride)]
    texts += [text for t in transcripts for _, text in _turn_units(t)]
    embedder.encode(["warm up"])
    ours, plain = [], []
    for _ in range(reps):
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        QaBot.open(corpus, target, settings, embedder)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        stock.encode(texts)
        plain.append(time.perf_counter() - started)
    chars = sum(len(t.text) for t in transcripts)
    return {"transcripts": len(transcripts), "chars": chars, "texts": len(texts), "backend": embedder.backend,
            "ours_s": ours, "plain_s": plain, "ours_chars_per_s": chars / median(ours),
            "plain_chars_per_s": chars / median(plain), "ratio": median(plain) / median(ours)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    import qa_bot
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.evaluation import open_bot

    sets = common.evalsets()
    if sets is None:
        return print("perf: no eval sets (make evalsets), not measured", file=sys.stderr)
    stock = common.stock_model()
    out: dict[str, Any] = {"encoders": encoders(stock, args.rounds)}
    embedder = SentenceTransformerEmbedder()
    out["backend"] = {"passages": embedder.backend, "questions": embedder.query_backend}
    bot = qa_bot.load(common.ROOT / "corpus", WORK / "default-index", embedder=embedder)
    out["ask_default"] = ask_breakdown(bot, QUESTIONS, stock, args.rounds)
    big, _ = open_bot(sets / "friendsqa", bot.settings, embedder, WORK / "eval-index" / "onnx" / "friendsqa")
    lines = (sets / "friendsqa" / "questions.jsonl").read_text(encoding="utf-8").splitlines()[:200]
    asked, scopes = zip(*((r["question"], r["transcript"]) for r in map(json.loads, lines)), strict=True)
    out["ask_friendsqa"] = ask_breakdown(big, list(asked), stock, args.rounds)
    out["ask_friendsqa_scoped"] = ask_breakdown(big, list(asked), stock, args.rounds, list(scopes))
    out["batches"] = batches([c.text for c in big.index.chunks[:512]])
    out["indexing"] = indexing(sets / "qmsum", stock)
    common.save("perf", {**out, "peak_rss_mb": common.peak_rss_mb()})


if __name__ == "__main__":
    main()
