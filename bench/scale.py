"""The scale ladder (RESULTS.md): for each size, exact search (a flat index: the yardstick) against
the index qa_bot chooses (``qa_bot.index.chunk_index``), then BM25 and the whole ``Retriever.search``
over generated chunk texts. Vectors are random, drawn from the Gaussian of the eval sets' real chunk
embeddings (``python -m bench.quality`` caches them), or uniform without the eval sets.

    python -m bench.scale [--sizes 10000,100000,1000000] [--queries 300]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Any

import numpy as np

from bench.common import WORK, evalsets, gaussian_like, peak_rss_mb, questions, rss_mb, save, uniform_unit

K = 64  # candidates the retriever asks the dense index for
SCOPE = 1000  # rows of the scoped search (a long transcript)


def reference_vectors() -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Real chunk vectors from the eval sets' cached indexes, and 2,000 of their questions embedded."""
    from qa_bot import index as index_mod
    from qa_bot.embedding import SentenceTransformerEmbedder

    chunks, asked = [], []
    for name in ("qmsum", "friendsqa") if (sets := evalsets()) else ():
        if saved := index_mod.load(WORK / "eval-index" / "onnx" / name):
            chunks.append(saved.chunk_vectors.reconstruct_n(0, saved.chunk_vectors.ntotal))
            asked += questions(sets / name / "questions.jsonl")
    if not chunks:
        return None, None, "uniform random unit vectors (no eval-set index: run make evalsets, bench.quality)"
    picked = np.random.default_rng(0).choice(len(asked), min(len(asked), 2000), replace=False)
    reference, embedded = np.vstack(chunks), SentenceTransformerEmbedder().encode([asked[i] for i in picked])
    return reference, embedded, (f"random unit vectors from the Gaussian of {len(reference):,} real chunk "
                                 "embeddings; real questions")


def words(n_docs: int, seed: int, lengths: tuple[int, int] = (8, 30)) -> list[str]:
    """Generated chunk texts: pseudo-words with Zipf frequencies, 8 to 30 words a chunk."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(30_000)]
    weights = 1 / np.arange(1, len(vocab) + 1)
    counts = rng.integers(lengths[0], lengths[1], size=n_docs)
    ids = rng.choice(len(vocab), size=int(counts.sum()), p=weights / weights.sum())
    ends = np.cumsum(counts).tolist()
    return [" ".join(vocab[i] for i in ids[e - c:e]) for c, e in zip(counts.tolist(), ends, strict=True)]


def searched(index: Any, queries: np.ndarray, params: Any = None) -> tuple[float, np.ndarray]:
    """Median milliseconds of one question's search, and the ids found."""
    found, times = np.zeros((len(queries), K), dtype=np.int64), []
    for row, q in enumerate(queries):
        started = time.perf_counter()
        ids = index.search(q.reshape(1, -1), K, params=params)[1]
        times.append(time.perf_counter() - started)
        found[row] = ids[0]
    return float(np.median(times) * 1000), found


def recall10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10].tolist()) & set(t[:10].tolist())) / 10
                          for f, t in zip(found, truth, strict=True)]))


def rung(n: int, reference: np.ndarray | None, asked: np.ndarray | None, n_queries: int) -> dict[str, Any]:
    import faiss

    from qa_bot.index import ChunkVectors, chunk_index

    if reference is not None and asked is not None:
        vectors, queries = gaussian_like(reference, n, seed=n), asked[:n_queries]
    else:
        vectors, queries = uniform_unit(n, seed=n), uniform_unit(n_queries, seed=n + 1)
    dim, scope = vectors.shape[1], np.arange(n // 3, n // 3 + min(SCOPE, n), dtype=np.int64)
    scoped = faiss.SearchParameters(sel=faiss.IDSelectorBatch(scope))  # type: ignore[call-arg]
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    exact = {"build_s": time.perf_counter() - started, "memory_mb": n * dim * 4 / 2**20, "recall10": 1.0}
    exact["search_p50_ms"], truth = searched(ChunkVectors(flat), queries)
    exact["scoped_p50_ms"], scoped_truth = searched(ChunkVectors(flat), queries[:50], scoped)
    del flat
    gc.collect()

    started = time.perf_counter()
    chosen = chunk_index(vectors, dim)
    build, path = time.perf_counter() - started, WORK / "scale-index.faiss"
    WORK.mkdir(parents=True, exist_ok=True)
    faiss.write_index(chosen.index, str(path))
    ours = {"kind": chosen.kind, "build_s": build, "memory_mb": path.stat().st_size / 2**20}
    path.unlink()
    ours["search_p50_ms"], found = searched(chosen, queries)
    ours["scoped_p50_ms"], scoped_found = searched(chosen, queries[:50], scoped)
    ours |= {"recall10": recall10(found, truth), "scoped_recall10": recall10(scoped_found, scoped_truth)}
    out = {"n": n, "exact": exact, "chosen": ours}
    if n == 100_000:  # what an IVF index would do here, on these vectors and on uniform ones
        alt = chunk_index(vectors, dim, exact_limit=0)
        p50, alt_found = searched(alt, queries)
        out["ivf_here"] = {"kind": alt.kind, "search_p50_ms": p50, "recall10": recall10(alt_found, truth)}
        if reference is not None:
            uniform, uq = uniform_unit(n, seed=7), uniform_unit(min(100, n_queries), seed=8)
            flat = faiss.IndexFlatIP(dim)
            flat.add(uniform)
            uniform_truth = searched(ChunkVectors(flat), uq)[1]
            alt = chunk_index(uniform, dim, exact_limit=0)
            p50, alt_found = searched(alt, uq)
            out["ivf_uniform"] = {"kind": alt.kind, "search_p50_ms": p50, "recall10": recall10(alt_found,
                                                                                                uniform_truth)}
            del uniform, flat
        del alt
    out["bm25"] = bm25_and_retrieval(vectors, chosen, queries)
    return out


def bm25_and_retrieval(vectors: np.ndarray, chosen: Any, queries: np.ndarray, per: int = 1000
                       ) -> dict[str, Any]:
    """BM25 as the retriever builds it (chunk texts; three-turn contexts; transcripts of ``per``
    chunks), then whole searches, over everything and within one transcript."""
    from qa_bot.chunking import Chunk
    from qa_bot.config import Settings
    from qa_bot.index import Index
    from qa_bot.lexical import GroupedBM25
    from qa_bot.manifest import Manifest, TranscriptEntry
    from qa_bot.retrieval import Retriever

    n, texts = len(vectors), words(len(vectors), seed=len(vectors))
    out: dict[str, Any] = {"chars": sum(map(len, texts))}
    before, started = rss_mb(), time.perf_counter()
    chunk_bm25 = GroupedBM25(texts, groups := [i // per for i in range(n)])
    out |= {"chunks_build_s": time.perf_counter() - started, "chunks_rss_growth_mb": rss_mb() - before}
    contexts = [" ".join(texts[max(0, i - 1):i + 2]) for i in range(n)]
    before, started = rss_mb(), time.perf_counter()
    context_bm25 = GroupedBM25(contexts, groups)
    out |= {"context_build_s": time.perf_counter() - started, "context_rss_growth_mb": rss_mb() - before}
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
    store._chunk_bm25 = chunk_bm25  # type: ignore[attr-defined]
    store._context_bm25 = (context_bm25, np.arange(n, dtype=np.int64))  # type: ignore[attr-defined]
    everything, scoped = [], []
    for i, q in zip(np.random.default_rng(n).choice(n, 30), queries, strict=False):
        text = " ".join(texts[i].split()[:6])
        for times, transcript in ((everything, None), (scoped, "t00000.txt")):
            started = time.perf_counter()
            retriever.search(q, text, 12, transcript=transcript)
            times.append(time.perf_counter() - started)
    return out | {"search_p50_ms": float(np.median(everything) * 1000),
                  "scoped_search_p50_ms": float(np.median(scoped) * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    reference, asked, source = reference_vectors()
    rungs: list[dict[str, Any]] = []
    for n in map(int, args.sizes.split(",")):
        print(f"scale: {n:,} chunks ...", file=sys.stderr, flush=True)
        rungs.append(rung(n, reference, asked, args.queries))
        gc.collect()
        save("scale", {"vectors": source, "rungs": rungs, "peak_rss_mb": peak_rss_mb()})  # after each rung


if __name__ == "__main__":
    main()
