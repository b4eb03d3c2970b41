"""The store ladder (SCALE.md, issue 12): milvus-lite against the embedded FAISS store on the same
made-up data and questions, each backend in a process of its own (so that its memory is its own).
Rows are added to ``bench/results/store_ladder.json`` (prune old ones by hand).

    nice -n 10 python -m bench.store_ladder [--chunks 100000 1000000] [--queries 100]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, ROOT, save
from qa_bot.chunking import Chunk
from qa_bot.stores.base import Scope, TranscriptPart, chunk_id

K, DIM, PER = 10, 384, 1000
WORDS = [f"w{i}" for i in range(5000)]


def parts(n: int, rng: np.random.Generator) -> list[TranscriptPart]:
    """Transcripts of ``PER`` chunks of 12 random words, 5 speakers, random unit vectors."""
    out = []
    for t in range(0, n, PER):
        name, size = f"t{t // PER:05d}.txt", min(PER, n - t)
        texts = [" ".join(rng.choice(WORDS, 12)) for _ in range(size)]
        chunks = [Chunk(name, i, f"Speaker {i % 5}", 0, len(x), i + 1, x) for i, x in enumerate(texts)]
        v = rng.standard_normal((size, DIM)).astype(np.float32)
        out.append(TranscriptPart(name, "f", chunks, v / np.linalg.norm(v, axis=1, keepdims=True),
                                  [" ".join(texts[max(0, i - 1):i + 2]) for i in range(size)]))
    return out


def memory() -> tuple[float, float]:
    """Resident MB of this process and of its descendants (milvus-lite runs its engine in one)."""
    def rss(pid: int) -> float:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))

    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [os.getpid()]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found, todo = found + kids, todo + kids
    return rss(os.getpid()), sum(map(rss, found))


def one(backend: str, n: int, queries: int) -> dict[str, Any]:
    from qa_bot.stores.faiss_store import FaissStore
    from qa_bot.stores.milvus_store import MilvusStore

    data = parts(n, np.random.default_rng(n))
    vectors = np.vstack([p.vectors for p in data])
    ids = [chunk_id(p.name, i) for p in data for i in range(len(p.chunks))]
    speakers = np.array([(c.speaker or "").casefold() for p in data for c in p.chunks])
    transcripts = np.repeat(np.arange(len(data)), [len(p.chunks) for p in data])
    q = np.random.default_rng(7).standard_normal((queries, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    texts = [" ".join(np.random.default_rng(8 + i).choice(WORDS, 4)) for i in range(queries)]
    gc.collect()
    before, load = memory(), os.getloadavg()[0]
    out: dict[str, Any] = {"backend": backend, "chunks": n, "queries": queries}
    folder = tempfile.mkdtemp(prefix="qa_bot-ladder-")
    started = time.perf_counter()
    if backend == "faiss":
        store: Any = FaissStore(data, DIM)
    else:
        store = MilvusStore(f"milvus-lite:{folder}/ladder.db", DIM)
        for part in data:
            store.replace_transcript(part)
    out["insert_per_s"] = round(n / (time.perf_counter() - started))
    started = time.perf_counter()
    store.lexical(texts[0], K, Scope())  # builds (or, for Milvus, fetches texts and builds) BM25
    out["lexical_build_s"] = round(time.perf_counter() - started, 1)
    middle = f"t{(len(data) // 2):05d}.txt"
    masks = {"dense": None, "dense_transcript": transcripts == len(data) // 2,
             "dense_speaker": speakers == "speaker 1"}
    cases = {"dense": Scope(), "dense_transcript": Scope(middle), "dense_speaker": Scope(speaker="Speaker 1"),
             "lexical": Scope(), "lexical_transcript": Scope(middle)}
    for label, scope in cases.items():
        ms, recall = [], []
        for i in range(queries):
            started = time.perf_counter()
            hits = (store.dense(q[i], K, scope) if label.startswith("dense")
                    else store.lexical(texts[i], K, scope))
            ms.append((time.perf_counter() - started) * 1000)
            if label in masks:  # recall against exact search by numpy, over the same filter
                scores = vectors @ q[i]
                if masks[label] is not None:
                    scores = np.where(masks[label], scores, -np.inf)
                exact = {ids[j] for j in np.argpartition(-scores, K)[:K]}
                recall.append(len(exact & {h.id for h in hits}) / K)
        out[label] = {f"p{p}": round(float(np.percentile(ms, p)), 2) for p in (50, 95)}
        if recall:
            out[label]["recall@10"] = round(float(np.mean(recall)), 4)
    after = memory()
    out["python_mb"], out["engine_mb"] = (round(a - b) for a, b in zip(after, before, strict=True))
    if backend != "faiss":  # a restart: a new client on the same file, first answer, then BM25
        store.close()
        started = time.perf_counter()
        store = MilvusStore(f"milvus-lite:{folder}/ladder.db", DIM)
        store.dense(q[0], K, Scope())
        out["restart_first_dense_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        store.prepare()
        out["restart_lexical_s"] = round(time.perf_counter() - started, 1)
        store.close()
        out["disk_mb"] = round(sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()) / 2**20)
    return out | {"load": [load, os.getloadavg()[0]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", nargs="+", default=["faiss", "milvus-lite"])
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "CHUNKS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return print(json.dumps(one(args.one[0], int(args.one[1]), args.queries)), flush=True)
    path = RESULTS / "store_ladder.json"
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"] if path.exists() else []
    for n in args.chunks:
        for backend in args.backends:
            got = subprocess.run([sys.executable, "-m", "bench.store_ladder", "--one", backend, str(n),
                                  "--queries", str(args.queries)], capture_output=True, text=True, cwd=ROOT)
            if got.returncode:
                print(f"{backend} at {n}: failed\n{got.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(got.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
            save("store_ladder", {"rows": rows})


if __name__ == "__main__":
    main()
