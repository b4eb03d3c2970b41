"""Warm latency of ``bot.ask`` (encode, search, assembly) against sentence-transformers' own
``encode`` of the same question; encoder threads and batch sizes; indexing throughput against a
plain ``encode`` of the same sentences. Results: ``<QA_BOT_BENCH_DIR>/results/perf.json``.

    .venv/bin/python bench/perf.py [--rounds 60]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    QUESTION,
    ROOT,
    WORK,
    evalsets,
    interleaved,
    loadavg,
    median,
    model_path,
    peak_rss_mb,
    save,
    stock_model,
    summary_ms,
)

QUESTIONS = [QUESTION, "Who did he meet from Washington?", "Why help Kyrgyzstan?",
             "What does he think of NATO expansion?", "How did the drug trade change after 2001?",
             "What did he say about Afghanistan?", "Is Russia cooperating with the United States?",
             "What is his job?"]


def ask_breakdown(bot: Any, questions: list[str], stock: Any, rounds: int,
                  scoped: list[str | None] | None = None) -> dict[str, Any]:
    """Time bot.ask and its three parts, interleaved with the stock encoder on the same text."""
    from qa_bot.answers import assemble
    from qa_bot.embedding import encode_query

    parts: dict[str, list[float]] = {"ask": [], "encode": [], "encode_query": [], "search": [],
                                     "assemble": [], "stock": []}
    retriever = bot._retriever
    for q in questions[:2]:  # warm: BM25 built, sessions created
        bot.ask(q)
        stock.encode([q])
    for n in range(rounds):
        q = questions[n % len(questions)]
        scope = scoped[n % len(scoped)] if scoped else None
        started = time.perf_counter()
        bot.ask(q, transcript=scope)
        parts["ask"].append(time.perf_counter() - started)

        started = time.perf_counter()
        vector = bot.embedder.encode([q])[0]  # what bot.ask calls today
        parts["encode"].append(time.perf_counter() - started)
        started = time.perf_counter()
        encode_query(bot.embedder, [q])
        parts["encode_query"].append(time.perf_counter() - started)
        started = time.perf_counter()
        hits = retriever.search(vector, q, 12, scope, None)
        parts["search"].append(time.perf_counter() - started)
        started = time.perf_counter()
        assemble(q, hits, bot.index, bot.transcripts, 3, bot.settings.no_answer_threshold,
                 bot.settings.whole_turn_chars)
        parts["assemble"].append(time.perf_counter() - started)

        started = time.perf_counter()
        stock.encode([q])
        parts["stock"].append(time.perf_counter() - started)
    out = {name: summary_ms(times) for name, times in parts.items()}
    out["chunks"] = len(bot.index.chunks)
    out["dense_index"] = getattr(bot.index.chunk_vectors, "kind", type(bot.index.chunk_vectors).__name__)
    return out


def encoder_latency(stock2: Any, stock1_threads: int, rounds: int) -> dict[str, Any]:
    """One question, every encoder, interleaved: stock (default torch threads), stock on one
    torch thread, and ONNX float32 / int8 on one and on two threads."""
    import torch

    from qa_bot.embedding import OnnxEncoder, export_onnx

    path = model_path()
    fp32, int8 = export_onnx(path, int8=False), export_onnx(path, int8=True)
    encoders = {"onnx fp32, 1 thread": OnnxEncoder(fp32, path, 1),
                "onnx fp32, 2 threads": OnnxEncoder(fp32, path, 2),
                "onnx int8, 1 thread": OnnxEncoder(int8, path, 1),
                "onnx int8, 2 threads": OnnxEncoder(int8, path, 2)}
    default_threads = torch.get_num_threads()

    def stock_default() -> None:
        torch.set_num_threads(default_threads)
        stock2.encode([QUESTION])

    def stock_one() -> None:
        torch.set_num_threads(stock1_threads)
        stock2.encode([QUESTION])
        torch.set_num_threads(default_threads)

    fns = {f"sentence-transformers (torch, {default_threads} threads)": stock_default,
           "sentence-transformers (torch, 1 thread)": stock_one}
    fns |= {name: (lambda e=e: e.encode([QUESTION])) for name, e in encoders.items()}
    times = interleaved(fns, rounds)
    return {name: summary_ms(t) for name, t in times.items()}


def batch_settings(texts: list[str]) -> dict[str, Any]:
    """Texts per second of the float32 ONNX encoder by threads and batch size, interleaved."""
    from qa_bot.embedding import OnnxEncoder, export_onnx

    path = model_path()
    fp32 = export_onnx(path, int8=False)
    encoders = {threads: OnnxEncoder(fp32, path, threads) for threads in (1, 2)}
    fns = {f"{threads} thread{'s' * (threads > 1)}, batch {size}":
           (lambda e=e, size=size: e.encode(texts, size))
           for threads, e in encoders.items() for size in (16, 64, 256)}
    times = interleaved(fns, rounds=2, warmup=0)
    return {name: {"texts_per_s": len(texts) / median(t)} for name, t in times.items()}


def indexing(corpus: Path, stock: Any, reps: int) -> dict[str, Any]:
    """``QaBot.open`` on a fresh index folder (parse, chunk, embed, FAISS, save) against a plain
    ``encode`` of the same texts by sentence-transformers; both in characters of transcript
    per second, interleaved."""
    from qa_bot.bot import QaBot
    from qa_bot.chunking import chunk_transcript
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.index import _turn_units, embed_text
    from qa_bot.parsers.corpus import load_corpus

    settings = Settings()
    transcripts, _ = load_corpus(corpus, settings.max_file_bytes)
    chars = sum(len(t.text) for t in transcripts)
    texts = [embed_text(c.speaker, c.text) for t in transcripts
             for c in chunk_transcript(t, settings.chunk_sentences, settings.chunk_stride)]
    texts += [text for t in transcripts for _, text in _turn_units(t)]
    embedder = SentenceTransformerEmbedder()
    embedder.encode(["warm up"])
    target = WORK / "indexing-index"
    ours: list[float] = []
    plain: list[float] = []
    embedded = 0
    for _ in range(reps):
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        bot = QaBot.open(corpus, target, settings, embedder)
        ours.append(time.perf_counter() - started)
        embedded = bot.report.embedded
        started = time.perf_counter()
        stock.encode(texts)
        plain.append(time.perf_counter() - started)
    return {"transcripts": len(transcripts), "chars": chars, "texts": len(texts),
            "embedded": embedded, "ours_s": ours, "plain_s": plain,
            "ours_chars_per_s": chars / median(ours), "plain_chars_per_s": chars / median(plain),
            "ratio": median(plain) / median(ours), "backend": embedder.backend}


def small_corpus(source: Path, names: int, target: Path) -> Path:
    """A corpus folder with the first ``names`` transcripts of an eval set (read as labelled)."""
    from qa_bot.evaluation import corpus_view

    view, _ = corpus_view(source)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted(view.glob("*.txt"))[:names]:
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        (target / f"{path.name}.meta.json").write_text('{"format": "labelled"}\n', encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    import qa_bot
    from qa_bot.embedding import SentenceTransformerEmbedder

    out: dict[str, Any] = {"load_start": loadavg()}
    stock = stock_model()
    print("encoder latency ...", file=sys.stderr, flush=True)
    out["encoders"] = encoder_latency(stock, 1, args.rounds)

    print("warm ask, default corpus ...", file=sys.stderr, flush=True)
    embedder = SentenceTransformerEmbedder()
    out["backend"] = {"passages": embedder.backend, "questions": embedder.query_backend}
    bot = qa_bot.load(ROOT / "corpus", WORK / "default-index", embedder=embedder)
    out["ask_default"] = ask_breakdown(bot, QUESTIONS, stock, args.rounds)

    sets = evalsets()
    if sets is not None:
        import json

        from qa_bot.evaluation import open_bot

        print("warm ask, FriendsQA corpus ...", file=sys.stderr, flush=True)
        big, _ = open_bot(sets / "friendsqa", bot.settings, embedder,
                          WORK / "eval-index" / "onnx" / "friendsqa")
        records = [json.loads(line) for line in
                   (sets / "friendsqa" / "questions.jsonl").read_text(encoding="utf-8").splitlines()[:200]]
        questions = [r["question"] for r in records]
        out["ask_friendsqa"] = ask_breakdown(big, questions, stock, args.rounds)
        out["ask_friendsqa_scoped"] = ask_breakdown(big, questions, stock, args.rounds,
                                                    [r["transcript"] for r in records])
        print("threads and batches ...", file=sys.stderr, flush=True)
        sample = [c.text for c in big.index.chunks[:512]]
        out["batches"] = batch_settings(sample)
        print("indexing throughput ...", file=sys.stderr, flush=True)
        corpus = small_corpus(sets / "qmsum", 2, WORK / "indexing-corpus")
        out["indexing"] = indexing(corpus, stock, reps=2)
    else:
        print("no eval sets (make evalsets): FriendsQA latency and indexing skipped", file=sys.stderr)
    out["peak_rss_mb"] = peak_rss_mb()
    out["load_end"] = loadavg()
    save("perf", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
