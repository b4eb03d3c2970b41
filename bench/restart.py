"""Restart at scale (RESULTS.md, "Restart at a million chunks"): a fresh process opens a saved index
and answers through the whole pipeline, as after a reboot; then warm ``bot.ask`` against stock
``encode`` in turns in that process; its memory. The corpus is generated dialogue, its vectors
random (under the bundled model's name); built once into ``<QA_BOT_BENCH_DIR>/restart-<n>``.

    nice -n 10 python -m bench.restart [--chunks 1000000] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import QUESTION, WORK, child, median, save, uniform_unit
from bench.scale import words

PER_FILE = 1000  # chunks a transcript, about
CHILD = r"""
import json, sys, time
import numpy as np
import qa_bot
from qa_bot import bot as bot_mod, index as index_mod, index_check, retrieval
phases = {}
def timed(owner, name, key):
    real = getattr(owner, name)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            phases[key] = phases.get(key, 0.0) + time.perf_counter() - t
    setattr(owner, name, wrapper)
timed(bot_mod, "load_corpus", "parse_corpus_s")
timed(index_mod, "load", "read_index_s")
timed(index_check, "doctored", "check_records_s")
timed(retrieval.Retriever, "prepare", "bm25_s")
timed(index_mod, "sync", "sync_s")
timed(index_mod, "_assemble", "assemble_s")
t_import = time.time()
bot = qa_bot.load(sys.argv[1], sys.argv[2])
t_open = time.time()
bot.ask(sys.argv[3])
t_answer = time.time()
questions = json.loads(sys.argv[4])
asks = []
for q in questions:
    t = time.perf_counter(); bot.ask(q); asks.append(time.perf_counter() - t)
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
out = {"import": t_import, "open": t_open, "answer": t_answer, "phases": phases,
       "embedded": bot.report.embedded, "warnings": bot.report.warnings,
       "saved_bm25": getattr(bot.index, "lexical", None) is not None,
       "ask_p50_ms": float(np.median(asks) * 1000), "rss_mb": rss("VmRSS:"), "peak_rss_mb": rss("VmHWM:")}
if sys.argv[5] == "stock":
    from sentence_transformers import SentenceTransformer
    from qa_bot.embedding import resolve_model
    model = SentenceTransformer(str(resolve_model("bundled")), device="cpu")
    ours, stock = [], []
    for q in questions[:3]:
        bot.ask(q); model.encode([q])
    for q in questions:
        t = time.perf_counter(); bot.ask(q); ours.append(time.perf_counter() - t)
        t = time.perf_counter(); model.encode([q]); stock.append(time.perf_counter() - t)
    out["turns_ask_p50_ms"] = float(np.median(ours) * 1000)
    out["stock_p50_ms"] = float(np.median(stock) * 1000)
print(json.dumps(out))
"""


class RandomEmbedder:
    """Random unit vectors under the bundled model's name: builds the index without the model."""

    def __init__(self, name: str, weights_sha256: str, dimension: int) -> None:
        self.name, self.weights_sha256, self.dimension = name, weights_sha256, dimension
        self.calls, self.seed = 0, 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls, self.seed = self.calls + len(texts), self.seed + 1
        return uniform_unit(len(texts), self.dimension, seed=self.seed)


def corpus_texts(chunks: int) -> dict[str, str]:
    """Dialogue files of about ``PER_FILE`` chunks each: turns of one to six sentences (with the
    default two-sentence windows, a turn of s sentences gives max(1, s - 1) chunks)."""
    rng, pool = np.random.default_rng(chunks), words(200_000, seed=chunks, lengths=(5, 14))
    files: dict[str, str] = {}
    at = made = 0
    while made < chunks:
        lines, in_file = [], 0
        while in_file < PER_FILE and made + in_file < chunks:
            s = int(rng.integers(1, 7))
            sentences = [pool[(at + j) % len(pool)].capitalize() + "." for j in range(s)]
            at += s
            lines.append(f"{('Ann', 'Ben', 'Cy')[len(lines) % 3]}: {' '.join(sentences)}")
            in_file += max(1, s - 1)
        files[f"t{len(files):05d}.txt"] = "\n".join(lines) + "\n"
        made += in_file
    return files


def build(chunks: int, folder: Path) -> dict[str, Any]:
    """The corpus and its saved index (once: a stamp marks a finished build)."""
    if (stamp := folder / "built.json").exists():
        return dict(json.loads(stamp.read_text()))
    from qa_bot import index as index_mod
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.parsers.corpus import load_corpus

    corpus, index_dir = folder / "corpus", folder / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in corpus_texts(chunks).items():
        (corpus / name).write_text(text, encoding="utf-8")
    real = SentenceTransformerEmbedder()
    transcripts, errors = load_corpus(corpus)
    assert not errors, errors
    started = time.perf_counter()
    embedder = RandomEmbedder(real.name, real.weights_sha256, real.dimension)
    index, report = index_mod.sync(transcripts, index_dir, embedder, Settings())  # type: ignore[arg-type]
    size = lambda paths: sum(p.stat().st_size for p in paths if p.is_file()) / 2**20  # noqa: E731
    out = {"chunks": len(index.chunks), "turn_units": len(index.turn_keys), "files": len(transcripts),
           "corpus_mb": size(corpus.iterdir()), "index_mb": size(index_dir.iterdir()),
           "bm25_mb": size(index_dir.glob("bm25-*")), "build_s": time.perf_counter() - started,
           "saved": report.saved, "chunk_index": getattr(index.chunk_vectors, "kind", "?")}
    stamp.write_text(json.dumps(out))
    return out


def run(folder: Path, asked: list[str], stock: bool, **env: str) -> dict[str, Any]:
    """One fresh process on the saved index; the 1-minute load average at its start and end."""
    load = os.getloadavg()[0]
    out = child(CHILD, folder / "corpus", folder / "index", QUESTION, json.dumps(asked),
                "stock" if stock else "-", timeout=1800, **env)
    return out | {"restart_s": out["answer"] - out["started"], "imports_s": out["import"] - out["started"],
                  "open_s": out["open"] - out["import"], "first_answer_s": out["answer"] - out["open"],
                  "loads": [[load, os.getloadavg()[0]]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    folder = WORK / f"restart-{args.chunks}"
    build_info = build(args.chunks, folder)
    pool, rng = words(200_000, seed=args.chunks, lengths=(5, 14)), np.random.default_rng(1)
    asked = [QUESTION] + [f"What did they say about {' '.join(pool[i].split()[:3])}?"
                          for i in rng.choice(len(pool), 29)]
    runs = [run(folder, asked, stock=(i == 0)) for i in range(args.reps)]
    timed = ("restart_s", "imports_s", "open_s", "first_answer_s", "ask_p50_ms", "peak_rss_mb", "rss_mb")
    after = {k: median([r[k] for r in runs]) for k in timed}
    first = runs[0]  # the one with the stock model
    after |= {"phases": {k: median([r["phases"].get(k, 0.0) for r in runs]) for k in first["phases"]},
              **{k: first[k] for k in ("turns_ask_p50_ms", "stock_p50_ms", "saved_bm25", "embedded",
                                       "warnings")},
              "ask_ratio": first["turns_ask_p50_ms"] / first["stock_p50_ms"],
              "loads": [r["loads"][0] for r in runs], "runs": len(runs)}
    full = run(folder, asked[:5], stock=False, QA_BOT_VERIFY_INDEX="full")
    started = time.perf_counter()  # SHA-256 of every index file, as each load did before issue 12
    from qa_bot import index_files

    for path in (folder / "index").iterdir():
        if path.is_file() and not path.name.startswith("."):
            index_files.sha256(path)
    hashed = time.perf_counter() - started
    save("restart", {"n": args.chunks, "build": build_info, "after": after, "hash_all_s": hashed,
                     "verify_full": {k: full[k] for k in (*timed[:4], "phases", "peak_rss_mb", "loads")}})


if __name__ == "__main__":
    main()
