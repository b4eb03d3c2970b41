"""The vector store: FAISS indexes of unit vectors, built, searched, read and written.

Chunk vectors sit in a flat (exact) index up to EXACT_LIMIT rows and in an IVF-SQfp16 index
beyond; ``ChunkVectors`` hides which from the retriever. The turn vectors are always flat.
What the vectors stand for, and where the files go, is ``index.py``'s business.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


def flat_index(vectors: np.ndarray, dim: int) -> Any:
    import faiss

    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


# Chunk vectors: exact search (a flat index) up to EXACT_LIMIT chunks; beyond, an inverted file
# over float16 vectors (IVF-SQfp16): memory 0.8 GB a million chunks against 1.5 GB flat, search
# a few ms against ~60, recall@10 >= 0.95 against exact search. Parameters from the scale ladder
# in bench/RESULTS.md (bench/scale.py).
EXACT_LIMIT = 100_000
IVF_TRAIN_PER_LIST = 40  # training sample: this many vectors per list (faiss warns below 39)


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: about 2 sqrt(n), a power of two, 256 to 4096 (2048 at
    a million: as good as 4096 at the same share of lists searched, and trained 8x faster)."""
    return int(min(4096, max(256, 2 ** round(np.log2(2 * np.sqrt(max(n, 1)))))))


def ivf_probes(nlist: int) -> int:
    """Lists searched per question: a quarter of them at 512 lists, 3/16 at 2048 (recall@10
    0.97 to 0.98 on the ladder's vectors at 100k and 1M, which are harder than real ones)."""
    return {256: 96, 512: 128, 1024: 224, 2048: 384, 4096: 512}.get(nlist, max(1, nlist // 5))


@contextmanager
def _one_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread for one question (the setting is per calling thread): on a
    busy 2-core machine a second thread's barrier waits cost several times the search."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class ChunkVectors:
    """The chunk vectors, behind the part of a FAISS index that retrieval and sync use:
    ``ntotal``, ``d``, ``search(x, k, params=SearchParameters(sel=...))``, ``reconstruct``,
    ``reconstruct_batch`` and ``reconstruct_n``.

    A flat index is searched exactly. An IVF index is searched over ``nprobe`` lists, and over
    all of them when ``params`` carries a selector (a transcript or speaker scope): only the
    selected rows are scored then, so a scoped search is exact however small the scope.
    """

    def __init__(self, index: Any, nprobe: int | None = None) -> None:
        import faiss

        self.index = index
        self.ivf = faiss.try_extract_index_ivf(index) if not isinstance(index, faiss.IndexFlat) else None
        self.nprobe = nprobe or (ivf_probes(self.ivf.nlist) if self.ivf is not None else 0)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def d(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        return "flat" if self.ivf is None else f"IVF{self.ivf.nlist},SQfp16 nprobe={self.nprobe}"

    def search(self, x: np.ndarray, k: int, params: Any = None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        x = np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(-1, self.d))
        if self.ivf is not None:
            sel = getattr(params, "sel", None) if params is not None else None
            params = faiss.SearchParametersIVF(  # type: ignore[call-arg]
                sel=sel, nprobe=self.ivf.nlist if sel else self.nprobe)
        if len(x) == 1:
            with _one_thread():
                return self.index.search(x, k, params=params)
        return self.index.search(x, k, params=params)

    def reconstruct(self, row: int) -> np.ndarray:
        return np.asarray(self.index.reconstruct(int(row)), dtype=np.float32)

    def reconstruct_batch(self, rows: Any) -> np.ndarray:
        rows = np.ascontiguousarray(np.asarray(rows, dtype=np.int64))
        if len(rows) == 0:
            return np.zeros((0, self.d), dtype=np.float32)
        return np.asarray(self.index.reconstruct_batch(rows), dtype=np.float32)

    def reconstruct_n(self, start: int, n: int) -> np.ndarray:
        if n <= 0:
            return np.zeros((0, self.d), dtype=np.float32)
        return np.asarray(self.index.reconstruct_n(int(start), int(n)), dtype=np.float32)


def chunk_index(vectors: np.ndarray, dim: int, previous: ChunkVectors | None = None,
                exact_limit: int | None = None) -> ChunkVectors:
    """The chunk vectors' index: flat up to ``exact_limit`` (default EXACT_LIMIT) rows, else
    IVF-SQfp16, re-using the trained lists of ``previous`` when it has as many as wanted."""
    import faiss

    index: Any
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    limit = EXACT_LIMIT if exact_limit is None else exact_limit
    if len(vectors) <= limit:
        return ChunkVectors(flat_index(vectors, dim))
    # At least IVF_TRAIN_PER_LIST training vectors a list (only a forced small IVF has fewer).
    nlist = min(ivf_lists(len(vectors)), max(1, len(vectors) // IVF_TRAIN_PER_LIST))
    old = previous.ivf if previous is not None else None
    reuse = old is not None and old.d == dim and old.is_trained and nlist / 2 <= old.nlist <= 2 * nlist
    if reuse and old:
        nlist = old.nlist
    quantizer = faiss.clone_index(old.quantizer) if reuse and old else faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT)  # keeps the quantizer
    if reuse:  # the old lists' centroids; float16 codes need no training of their own
        index.is_trained = True
    else:
        index.cp.niter = 10
        index.cp.seed = 1234
        take = np.random.default_rng(1234).choice(
            len(vectors), min(len(vectors), nlist * IVF_TRAIN_PER_LIST), replace=False)
        index.train(vectors[np.sort(take)])
    index.add(vectors)
    index.make_direct_map()  # reconstruct() of any row: the retriever's exact dense scores
    return ChunkVectors(index)


def read_faiss(path: Path) -> Any:
    import faiss

    return faiss.read_index(str(path))


def write_faiss(index: Any, path: Path) -> None:
    """``faiss.write_index``, whose I/O failures (disk full, no permission) raise RuntimeError,
    reported as the OSError they are so that ``sync`` serves the index from memory instead."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        raise OSError(f"cannot write {path.name}: {str(exc).strip().splitlines()[-1]}") from exc


__all__ = ["EXACT_LIMIT", "ChunkVectors", "chunk_index", "flat_index", "ivf_lists", "ivf_probes",
           "read_faiss", "write_faiss"]
