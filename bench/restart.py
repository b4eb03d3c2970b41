"""Restart at scale: a fresh process opens a saved index of a million chunks and answers, through
the whole pipeline (``QaBot.open``: the corpus parsed, the index read and checked, every record
checked against its transcript, the store and its BM25 indexes, then ``bot.ask`` with the
bundled model), as after a reboot; then warm ``bot.ask`` p50 against the stock
sentence-transformers ``encode`` of the same questions, taken in turns in that process; and its
resident memory (peak, before the stock model is loaded).

The corpus is generated (dialogue of Zipf-distributed pseudo-words, one to six sentences a
turn), its vectors random unit vectors (an embedder that draws them, under the bundled model's
name, so that the saved index is the bundled model's to the bot); the index is built once by
``index.sync`` and cached under ``<QA_BOT_BENCH_DIR>/restart-<n>``. ``--before DIR`` runs the
same child in another checkout (e.g. main, which rebuilds BM25 at every start and hashes every
file) on the same folder. Results: ``<QA_BOT_BENCH_DIR>/results/restart.json``.

    nice -n 10 .venv/bin/python bench/restart.py [--chunks 1000000] [--reps 3] [--before ../main]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import QUESTION, ROOT, WORK, loadavg, median, save, uniform_unit
from scale import words

PER_FILE = 1000  # chunks a transcript, about

CHILD = r"""
import json, os, sys, time
t_start = time.time()
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
first = bot.ask(sys.argv[3])
t_answer = time.time()
questions = json.loads(sys.argv[4])
asks = []
for q in questions:
    t = time.perf_counter(); bot.ask(q); asks.append(time.perf_counter() - t)
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
out = {"interpreter": t_start, "import": t_import, "open": t_open, "answer": t_answer,
       "phases": phases, "chunks": len(bot.index.chunks), "embedded": bot.report.embedded,
       "warnings": bot.report.warnings, "answers": len(first.answers),
       "saved_bm25": getattr(bot.index, "lexical", None) is not None,
       "ask_p50_ms": float(np.median(asks) * 1000), "rss_mb": rss("VmRSS:"),
       "peak_rss_mb": rss("VmHWM:")}
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
        self.calls += len(texts)
        self.seed += 1
        return uniform_unit(len(texts), self.dimension, seed=self.seed)


def corpus_texts(chunks: int) -> dict[str, str]:
    """Dialogue files of about ``PER_FILE`` chunks each: turns of one to six sentences (with the
    default two-sentence windows, a turn of s sentences gives max(1, s - 1) chunks)."""
    rng = np.random.default_rng(chunks)
    pool = words(200_000, seed=chunks, lengths=(5, 14))
    files, at = {}, 0
    made = 0
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
    stamp = folder / "built.json"
    if stamp.exists():
        return json.loads(stamp.read_text())
    from qa_bot import index as index_mod
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.parsers.corpus import load_corpus

    corpus, index_dir = folder / "corpus", folder / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name, text in corpus_texts(chunks).items():
        (corpus / name).write_text(text, encoding="utf-8")
    real = SentenceTransformerEmbedder()
    embedder = RandomEmbedder(real.name, real.weights_sha256, real.dimension)
    transcripts, errors = load_corpus(corpus)
    assert not errors, errors
    generated = time.perf_counter() - started
    started = time.perf_counter()
    index, report = index_mod.sync(transcripts, index_dir, embedder, Settings())  # type: ignore[arg-type]
    out = {"chunks": len(index.chunks), "turn_units": len(index.turn_keys), "files": len(transcripts),
           "corpus_mb": sum(p.stat().st_size for p in corpus.iterdir()) / 2**20,
           "index_mb": sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file()) / 2**20,
           "bm25_mb": sum(p.stat().st_size for p in index_dir.glob("bm25-*")) / 2**20,
           "generate_s": generated, "build_s": time.perf_counter() - started, "saved": report.saved,
           "chunk_index": getattr(index.chunk_vectors, "kind", "?")}
    stamp.write_text(json.dumps(out))
    return out


def questions(chunks: int, n: int = 30) -> list[str]:
    pool = words(200_000, seed=chunks, lengths=(5, 14))
    rng = np.random.default_rng(1)
    return [QUESTION] + [f"What did they say about {' '.join(pool[i].split()[:3])}?"
                         for i in rng.choice(len(pool), n - 1)]


def run_child(code_root: Path, folder: Path, asked: list[str], stock: bool,
              env: dict[str, str] | None = None) -> dict[str, Any]:
    started = time.time()
    load = loadavg()
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder / "corpus"), str(folder / "index"),
                           QUESTION, json.dumps(asked), "stock" if stock else "-"],
                          capture_output=True, text=True, cwd=code_root, timeout=1800,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["restart_s"] = out["answer"] - started  # process start to first answer
    out["imports_s"] = out["import"] - started
    out["open_s"] = out["open"] - out["import"]
    out["first_answer_s"] = out["answer"] - out["open"]
    out["load_start"], out["load_end"] = load, loadavg()
    return out


def hash_all(index_dir: Path) -> float:
    from qa_bot import index_files

    started = time.perf_counter()
    for path in index_dir.iterdir():
        if path.is_file() and not path.name.startswith("."):
            index_files.sha256(path)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout to run the same child in (e.g. main), once")
    args = parser.parse_args()
    folder = WORK / f"restart-{args.chunks}"
    out: dict[str, Any] = {"load_start": loadavg(), "n": args.chunks}
    out["build"] = build(args.chunks, folder)
    asked = questions(args.chunks)
    runs = [run_child(ROOT, folder, asked, stock=(i == 0)) for i in range(args.reps)]
    out["after"] = {k: median([r[k] for r in runs]) for k in
                    ("restart_s", "imports_s", "open_s", "first_answer_s", "ask_p50_ms", "peak_rss_mb",
                     "rss_mb")}
    out["after"]["phases"] = {k: median([r["phases"].get(k, 0.0) for r in runs])
                              for k in runs[0]["phases"]}
    out["after"] |= {k: runs[0][k] for k in ("turns_ask_p50_ms", "stock_p50_ms", "saved_bm25", "embedded",
                                             "warnings")}
    out["after"]["loads"] = [(r["load_start"], r["load_end"]) for r in runs]
    out["after"]["runs"] = len(runs)
    full = run_child(ROOT, folder, asked[:5], stock=False, env={"QA_BOT_VERIFY_INDEX": "full"})
    out["verify_full"] = {k: full[k] for k in ("restart_s", "imports_s", "open_s", "first_answer_s",
                                               "phases", "peak_rss_mb", "load_start", "load_end")}
    out["hash_all_s"] = hash_all(folder / "index")
    if args.before is not None:
        before = run_child(args.before.resolve(), folder, asked, stock=True)
        out["before"] = {k: before[k] for k in
                         ("restart_s", "imports_s", "open_s", "first_answer_s", "ask_p50_ms", "peak_rss_mb",
                          "rss_mb", "phases", "turns_ask_p50_ms", "stock_p50_ms", "load_start", "load_end")}
        out["before"]["checkout"] = str(args.before)
    out["load_end"] = loadavg()
    save("restart", out)
    print(json.dumps(out, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
