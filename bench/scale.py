"""The scale ladder: 10k, 100k and 1M generated chunks. For each rung, exact search (a flat
index, the yardstick) and the index qa_bot chooses (``qa_bot.index.chunk_index``): build time,
search p50 (one question, one thread, the retriever's 64 candidates), memory, recall@10 against
exact search, and a scoped search (one transcript's rows, through a FAISS selector as the
retriever passes it); then BM25 (bm25s) over the generated chunk texts and over their
three-turn contexts, as the retriever builds them when the bot loads: build time and memory;
and the whole ``Retriever.search`` of a question.

Vectors are random, not embeddings, to isolate the index: unit vectors drawn from the Gaussian
with the mean and covariance of real MiniLM chunk embeddings (the FriendsQA and QMSum eval sets'
chunks), searched with the eval sets' real questions. They are harder to search than the real
ones (at 26k: IVF128 at nprobe 32 finds 0.94 of the true top 10 against 0.96 for the real
vectors). Without the eval sets, uniform random unit vectors stand in (much harder still).
Results: ``<QA_BOT_BENCH_DIR>/results/scale.json``.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--queries 300]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Any

import numpy as np
from common import WORK, evalsets, gaussian_like, loadavg, peak_rss_mb, rss_mb, save, uniform_unit

K = 64  # candidates the retriever asks the dense index for
SCOPE = 1000  # rows of the scoped search (a long transcript)


def reference_vectors() -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Real chunk vectors and real question vectors from the eval sets' cached indexes."""
    import json

    from qa_bot import index as index_mod
    from qa_bot.embedding import SentenceTransformerEmbedder

    sets = evalsets()
    if sets is None:
        return None, None, "uniform random unit vectors (no eval sets: run make evalsets)"
    chunks, questions = [], []
    embedder = SentenceTransformerEmbedder()
    for name in ("qmsum", "friendsqa"):
        saved = index_mod.load(WORK / "eval-index" / "onnx" / name)
        if saved is None:
            continue
        chunks.append(saved.chunk_vectors.reconstruct_n(0, saved.chunk_vectors.ntotal))
        lines = (sets / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        questions += [json.loads(line)["question"] for line in lines]
    if not chunks:
        return None, None, "uniform random unit vectors (no eval-set index yet: run bench/quality.py)"
    rng = np.random.default_rng(0)
    picked = [questions[i] for i in rng.choice(len(questions), min(len(questions), 2000), replace=False)]
    reference = np.vstack(chunks)
    return (reference, embedder.encode(picked),
            f"random unit vectors from the Gaussian of {len(reference):,} real chunk embeddings; "
            "real questions")


def words(n_docs: int, seed: int, lengths: tuple[int, int] = (8, 30)) -> list[str]:
    """Generated chunk texts: pseudo-words with Zipf frequencies, 8 to 30 words a chunk."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(30_000)]
    weights = 1 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    counts = rng.integers(lengths[0], lengths[1], size=n_docs)
    ids = rng.choice(len(vocab), size=int(counts.sum()), p=weights)
    out, at = [], 0
    for c in counts.tolist():
        out.append(" ".join(vocab[i] for i in ids[at:at + c]))
        at += c
    return out


def search_times(index: Any, queries: np.ndarray, params: Any = None) -> tuple[float, np.ndarray]:
    found = np.zeros((len(queries), K), dtype=np.int64)
    times = []
    for row, q in enumerate(queries):
        started = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), K, params=params)
        times.append(time.perf_counter() - started)
        found[row] = ids[0]
    return float(np.median(times) * 1000), found


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10].tolist()) & set(t[:10].tolist())) / 10
                          for f, t in zip(found, truth, strict=True)]))


def rung(n: int, reference: np.ndarray | None, questions: np.ndarray | None, n_queries: int,
         bm25: bool) -> dict[str, Any]:
    import faiss

    from qa_bot.index import ChunkVectors, chunk_index

    out: dict[str, Any] = {"n": n}
    started = time.perf_counter()
    if reference is not None and questions is not None:
        vectors = gaussian_like(reference, n, seed=n)
        queries = questions[:n_queries]
    else:
        vectors = uniform_unit(n, seed=n)
        queries = uniform_unit(n_queries, seed=n + 1)
    out["generate_s"] = time.perf_counter() - started
    dim = vectors.shape[1]

    # exact search: the yardstick and the ground truth
    before = rss_mb()
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    exact = ChunkVectors(flat)
    out["exact"] = {"build_s": time.perf_counter() - started, "memory_mb": n * dim * 4 / 2**20,
                    "rss_growth_mb": rss_mb() - before}
    out["exact"]["search_p50_ms"], truth = search_times(exact, queries)
    out["exact"]["recall10"] = 1.0
    scope = np.arange(n // 3, n // 3 + min(SCOPE, n), dtype=np.int64)
    selector = faiss.IDSelectorBatch(scope)
    scoped_params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    out["exact"]["scoped_p50_ms"], scoped_truth = search_times(exact, queries[:50], scoped_params)
    del exact, flat
    gc.collect()

    # the chosen index
    before = rss_mb()
    started = time.perf_counter()
    chosen = chunk_index(vectors, dim)
    build = time.perf_counter() - started
    path = WORK / "scale-index.faiss"
    started = time.perf_counter()
    faiss.write_index(chosen.index, str(path))
    out["chosen"] = {"kind": chosen.kind, "build_s": build, "save_s": time.perf_counter() - started,
                     "memory_mb": path.stat().st_size / 2**20, "rss_growth_mb": rss_mb() - before}
    path.unlink()
    out["chosen"]["search_p50_ms"], found = search_times(chosen, queries)
    out["chosen"]["recall10"] = recall_at_10(found, truth)
    out["chosen"]["scoped_p50_ms"], scoped_found = search_times(chosen, queries[:50], scoped_params)
    out["chosen"]["scoped_recall10"] = recall_at_10(scoped_found, scoped_truth)
    started = time.perf_counter()
    chosen.reconstruct_batch(np.sort(found[0]))
    out["chosen"]["reconstruct64_ms"] = (time.perf_counter() - started) * 1000

    if n == 100_000:  # what an IVF index would do here (the chosen one is exact up to 100k)
        alt = chunk_index(vectors, dim, exact_limit=0)
        p50, alt_found = search_times(alt, queries)
        out["ivf_here"] = {"kind": alt.kind, "search_p50_ms": p50, "recall10": recall_at_10(alt_found, truth)}
        if reference is not None:  # the worst case: uniform random vectors, same index
            uni = uniform_unit(n, seed=7)
            uq = uniform_unit(min(100, n_queries), seed=8)
            uflat = faiss.IndexFlatIP(dim)
            uflat.add(uni)
            _, utruth = search_times(ChunkVectors(uflat), uq)
            ualt = chunk_index(uni, dim, exact_limit=0)
            p50, ufound = search_times(ualt, uq)
            out["ivf_uniform"] = {"kind": ualt.kind, "search_p50_ms": p50,
                                  "recall10": recall_at_10(ufound, utruth)}
            del uni, uflat, ualt
        del alt

    if bm25:
        out["bm25"] = bm25_and_retrieval(vectors, chosen, queries)
    del chosen, vectors
    gc.collect()
    return out


def bm25_and_retrieval(vectors: np.ndarray, chosen: Any, queries: np.ndarray) -> dict[str, Any]:
    """BM25 as the retriever builds it (chunk texts; three-turn contexts), then whole searches."""
    from qa_bot.chunking import Chunk
    from qa_bot.config import Settings
    from qa_bot.index import Index
    from qa_bot.lexical import GroupedBM25
    from qa_bot.manifest import Manifest, TranscriptEntry
    from qa_bot.retrieval import Retriever

    n = len(vectors)
    out: dict[str, Any] = {}
    started = time.perf_counter()
    texts = words(n, seed=n)
    out["generate_s"] = time.perf_counter() - started
    out["chars"] = sum(map(len, texts))
    before = rss_mb()
    started = time.perf_counter()
    per = 1000  # chunks per generated transcript
    groups = [i // per for i in range(n)]
    lexical = GroupedBM25(texts, groups)
    out["chunks_build_s"] = time.perf_counter() - started
    out["chunks_rss_growth_mb"] = rss_mb() - before
    contexts = [" ".join(texts[max(0, i - 1):i + 2]) for i in range(n)]
    before = rss_mb()
    started = time.perf_counter()
    context = GroupedBM25(contexts, groups)
    out["context_build_s"] = time.perf_counter() - started
    out["context_rss_growth_mb"] = rss_mb() - before
    del contexts
    chunks = [Chunk(f"t{i // per:05d}.txt", i % per, f"Speaker {i % 7}", 0, len(t), 1, t)
              for i, t in enumerate(texts)]
    manifest = Manifest(None, vectors.shape[1], {
        f"t{j:05d}.txt": TranscriptEntry("", "", "", (j * per, min(n, (j + 1) * per)), (0, 0))
        for j in range(0, (n + per - 1) // per)}, n)
    index = Index(manifest, chunks, chosen, [], np.zeros((0, vectors.shape[1]), np.float32))
    started = time.perf_counter()
    retriever = Retriever(index, Settings())
    out["retriever_init_s"] = time.perf_counter() - started
    store = retriever.store  # the FAISS store: hand it the BM25 indexes built (and timed) above
    store._chunk_bm25 = lexical  # type: ignore[attr-defined]
    store._context_bm25 = (context, np.arange(n, dtype=np.int64))  # type: ignore[attr-defined]
    rng = np.random.default_rng(n)
    asked = [" ".join(texts[i].split()[:6]) for i in rng.choice(n, 30)]
    times, scoped = [], []
    for q_text, q in zip(asked, queries, strict=False):
        started = time.perf_counter()
        retriever.search(q, q_text, 12)
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        retriever.search(q, q_text, 12, transcript="t00000.txt")
        scoped.append(time.perf_counter() - started)
    out["search_p50_ms"] = float(np.median(times) * 1000)
    out["scoped_search_p50_ms"] = float(np.median(scoped) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-bm25", action="store_true")
    args = parser.parse_args()
    reference, questions, source = reference_vectors()
    out: dict[str, Any] = {"load_start": loadavg(), "vectors": source, "rungs": []}
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"scale: {n:,} chunks ...", file=sys.stderr, flush=True)
        out["rungs"].append(rung(n, reference, questions, args.queries, not args.no_bm25))
        save("scale", dict(out, peak_rss_mb=peak_rss_mb(), load_end=loadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
