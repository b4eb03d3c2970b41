"""The stores side by side on made-up data: insert rate, dense and lexical latency, and agreement
of Milvus (milvus-lite in a temporary file) with the embedded FAISS store.

    .venv/bin/python bench/stores.py [--chunks 10000 50000] [--queries 50]

Prints one JSON line a size. Vectors are random unit rows (dimension 384, as the model's), in
transcripts of 1,000 chunks of random words.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa_bot.chunking import Chunk
from qa_bot.stores.base import Scope, TranscriptPart
from qa_bot.stores.faiss_store import FaissStore
from qa_bot.stores.milvus_store import MilvusStore

DIM, PER = 384, 1000
WORDS = [f"w{i}" for i in range(5000)]


def parts(n: int, rng: np.random.Generator) -> list[TranscriptPart]:
    out = []
    for t in range(0, n, PER):
        name = f"t{t // PER:05d}.txt"
        size = min(PER, n - t)
        texts = [" ".join(rng.choice(WORDS, 12)) for _ in range(size)]
        chunks = [Chunk(name, i, f"Speaker {i % 5}", 0, len(x), i + 1, x) for i, x in enumerate(texts)]
        v = rng.standard_normal((size, DIM)).astype(np.float32)
        out.append(TranscriptPart(name, "f", chunks, v / np.linalg.norm(v, axis=1, keepdims=True),
                                  [" ".join(texts[max(0, i - 1):i + 2]) for i in range(size)]))
    return out


def timed(fn, items) -> tuple[list, float]:
    results, started = [], time.perf_counter()
    for item in items:
        results.append(fn(item))
    return results, (time.perf_counter() - started) / max(len(items), 1) * 1000


def run(n: int, queries: int) -> dict[str, object]:
    rng = np.random.default_rng(n)
    data = parts(n, rng)
    faiss_store = FaissStore(data, DIM)
    folder = tempfile.mkdtemp()
    milvus = MilvusStore(f"milvus-lite:{folder}/bench.db", DIM)
    started = time.perf_counter()
    for part in data:
        milvus.replace_transcript(part)
    insert_s = time.perf_counter() - started
    q = rng.standard_normal((queries, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    texts = [" ".join(rng.choice(WORDS, 4)) for _ in range(queries)]
    scope = Scope("t00000.txt", "speaker 1")
    out: dict[str, object] = {"chunks": n, "milvus_insert_per_s": round(n / insert_s)}
    ids = [f"t{j % max(1, n // PER):05d}.txt#{(7 * j) % min(n, PER)}" for j in range(150)]
    cases = {"dense": lambda s, i: s.dense(q[i], 64, Scope()),
             "dense_scoped": lambda s, i: s.dense(q[i], 64, scope),
             "lexical": lambda s, i: s.lexical(texts[i], 64, Scope()),
             "lexical_scoped": lambda s, i: s.lexical(texts[i], 64, scope),
             "fetch_150": lambda s, i: s.fetch(ids)[1]}
    for label, case in cases.items():
        got = {}
        for name, store in (("faiss", faiss_store), ("milvus", milvus)):
            case(store, 0)  # warm: the lexical caches, the engine's load
            got[name], out[f"{name}_{label}_ms"] = timed(lambda i, st=store, c=case: c(st, i), range(queries))
        if label != "fetch_150":
            same = [[h.id for h in a] == [h.id for h in b]
                    for a, b in zip(got["faiss"], got["milvus"], strict=True)]
            out[f"{label}_identical_top64"] = f"{sum(same)}/{queries}"
    milvus.close()
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    for n in args.chunks:
        print(json.dumps(run(n, args.queries)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
