"""The store ladder (issue 12): milvus-lite against the embedded FAISS store at 100k, 300k, 1M chunks,
on the same vectors and questions, each backend in a process of its own (so that its memory is its
own): insert or build rate, query p50/p95 (dense unfiltered and filtered, lexical), recall@10
against exact search (numpy over the same vectors and filter), resident memory, and a restart.

    nice -n 10 .venv/bin/python bench/store_ladder.py --chunks 100000 300000 [--queries 100]
        [--out /tmp/qa_bot-bench/store_ladder.jsonl]

One JSON line a size and backend, on stdout and appended to --out. Data as bench/stores.py makes it:
random unit 384-d vectors, transcripts of 1,000 chunks of 12 random words, 5 speakers each.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stores import DIM, WORDS, parts

from qa_bot.stores.base import Scope, chunk_id

K = 10


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (milvus-lite runs its engine in a child process)."""
    found, todo = [], [pid]
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in stats.items() if pp == parent]
        found += kids
        todo += kids
    return found


def memory() -> dict[str, float]:
    me = os.getpid()
    return {"python_mb": round(rss_mb(me)), "engine_mb": round(sum(rss_mb(p) for p in children(me)))}


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2)}


def one(backend: str, n: int, queries: int) -> dict[str, object]:
    rng = np.random.default_rng(n)
    data = parts(n, rng)
    vectors = np.vstack([p.vectors for p in data])
    ids = [chunk_id(p.name, i) for p in data for i in range(len(p.chunks))]
    speakers = np.array([(c.speaker or "").casefold() for p in data for c in p.chunks])
    transcripts = np.repeat(np.arange(len(data)), [len(p.chunks) for p in data])
    q = np.random.default_rng(7).standard_normal((queries, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    texts = [" ".join(np.random.default_rng(8 + i).choice(WORDS, 4)) for i in range(queries)]
    gc.collect()
    before = memory()
    out: dict[str, object] = {"backend": backend, "chunks": n, "queries": queries,
                              "load_at_start": os.getloadavg()[0]}
    folder = tempfile.mkdtemp(prefix="qa_bot-ladder-")
    started = time.perf_counter()
    if backend == "faiss":
        from qa_bot.stores.faiss_store import FaissStore

        store = FaissStore(data, DIM)
        out["insert_per_s"] = round(n / (time.perf_counter() - started))
    else:
        from qa_bot.stores.milvus_store import MilvusStore

        store = MilvusStore(f"milvus-lite:{folder}/ladder.db", DIM)
        for part in data:
            store.replace_transcript(part)
        out["insert_per_s"] = round(n / (time.perf_counter() - started))
    started = time.perf_counter()
    store.lexical(texts[0], K, Scope())  # builds (or, for Milvus, fetches texts and builds) BM25
    out["lexical_build_s"] = round(time.perf_counter() - started, 1)
    middle = f"t{(len(data) // 2):05d}.txt"
    cases = {"dense": Scope(), "dense_transcript": Scope(middle),
             "dense_speaker": Scope(speaker="Speaker 1"), "lexical": Scope(),
             "lexical_transcript": Scope(middle)}
    masks = {"dense": None, "dense_transcript": transcripts == len(data) // 2,
             "dense_speaker": speakers == "speaker 1"}
    for label, scope in cases.items():
        ms, recall = [], []
        for i in range(queries):
            t0 = time.perf_counter()
            hits = (store.dense(q[i], K, scope) if label.startswith("dense")
                    else store.lexical(texts[i], K, scope))
            ms.append((time.perf_counter() - t0) * 1000)
            if label in masks:
                scores = vectors @ q[i]
                if masks[label] is not None:
                    scores = np.where(masks[label], scores, -np.inf)
                exact = {ids[j] for j in np.argpartition(-scores, K)[:K]}
                recall.append(len(exact & {h.id for h in hits}) / K)
        out[label] = percentiles(ms)
        if recall:
            out[label]["recall@10"] = round(float(np.mean(recall)), 4)
    out["memory_after"] = memory()
    out["memory_before"] = before
    out["store_mb"] = round(sum(out["memory_after"].values()) - sum(before.values()))
    if backend != "faiss":  # a restart: a new client on the same file, first answer, then BM25
        store.close()
        started = time.perf_counter()
        from qa_bot.stores.milvus_store import MilvusStore

        store = MilvusStore(f"milvus-lite:{folder}/ladder.db", DIM)
        store.dense(q[0], K, Scope())
        out["restart_first_dense_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        store.prepare()
        out["restart_lexical_s"] = round(time.perf_counter() - started, 1)
        store.close()
        out["disk_mb"] = round(sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
                               / 2**20)
    out["load_at_end"] = os.getloadavg()[0]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", nargs="+", default=["faiss", "milvus-lite"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/qa_bot-bench/store_ladder.jsonl"))
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "CHUNKS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.queries)), flush=True)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for n in args.chunks:
        for backend in args.backends:
            started = time.perf_counter()
            got = subprocess.run([sys.executable, __file__, "--one", backend, str(n),
                                  "--queries", str(args.queries)], capture_output=True, text=True)
            if got.returncode:
                print(f"{backend} at {n}: failed\n{got.stderr[-2000:]}", file=sys.stderr)
                continue
            line = json.loads(got.stdout.strip().splitlines()[-1])
            line["wall_s"] = round(time.perf_counter() - started)
            print(json.dumps(line), flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
