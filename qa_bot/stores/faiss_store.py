"""The embedded default store: FAISS for the vectors, our grouped BM25 (bm25s's tokenizer) for
the words, all in this process.

Built over the index that ``index.sync`` keeps in step with the corpus folder (``from_index``);
``replace_transcript`` and ``delete_transcript`` rebuild the in-memory FAISS index, which is
what the contract suite and a migration need; the folder's incremental updates stay
``index.sync``'s job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..chunking import Chunk
from ..index import context_text, embed_text
from ..lexical import GroupedBM25
from ..lexical_files import Lexical, chunk_bm25, context_bm25
from ..parsers.base import TurnKind
from ..vectors import ChunkVectors, chunk_index
from .base import Field, Scope, StoreHit, TranscriptPart, chunk_id, top_hits

if TYPE_CHECKING:
    from ..index import Index
    from ..parsers.base import Transcript

log = logging.getLogger(__name__)
_CACHED = 4  # a question's lexical scores, kept for the features of its candidates


class FaissStore:
    """Chunks, vectors and BM25 indexes in memory.

    Args:
        parts: each transcript's chunks, vectors and context texts (None: read from
            ``transcripts``, or the chunk itself when the transcript is unknown).
        dim: the vectors' dimension.
        vectors: the FAISS index of the parts' vectors in order, when one is at hand.
        transcripts: the parsed transcripts by name, for context texts not given.
        lexical: the BM25 indexes of the parts' chunks in order (saved with the index), instead
            of building them.
    """

    def __init__(self, parts: Sequence[TranscriptPart], dim: int, vectors: ChunkVectors | None = None,
                 transcripts: Mapping[str, Transcript] | None = None,
                 lexical: Lexical | None = None) -> None:
        self.dim = dim
        self.parts = {p.name: p for p in parts}
        self._transcripts = transcripts or {}
        self.chunks: list[Chunk] = [c for p in parts for c in p.chunks]
        self.ids = [chunk_id(p.name, i) for p in parts for i in range(len(p.chunks))]
        self.row_of = {cid: row for row, cid in enumerate(self.ids)}
        self.ranges: dict[str, tuple[int, int]] = {}
        at = 0
        for p in parts:
            self.ranges[p.name] = (at, at + len(p.chunks))
            at += len(p.chunks)
        if vectors is None:
            stacked = [p.vectors for p in parts if len(p.chunks)]
            vectors = chunk_index(np.vstack(stacked) if stacked else np.zeros((0, dim), np.float32), dim)
        self.vectors = vectors
        self.speakers = np.array([(c.speaker or "").casefold() for c in self.chunks], dtype=object)
        self.asking = np.array([c.kind == TurnKind.QUESTION for c in self.chunks], dtype=bool)
        self._chunk_bm25: GroupedBM25 | None = lexical.chunk if lexical else None
        self._context_bm25: tuple[GroupedBM25, np.ndarray] | None = \
            (lexical.context, lexical.doc_of) if lexical else None
        self._saved = lexical is not None  # BM25 read from files, not built here
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_index(cls, index: Index, transcripts: Mapping[str, Transcript] | None = None) -> FaissStore:
        """The store over a synced index, sharing its FAISS index (nothing is copied)."""
        empty = np.zeros((0, index.manifest.dimension), np.float32)
        parts = []
        for name, entry in index.manifest.transcripts.items():
            lo, hi = entry.chunks
            parts.append(TranscriptPart(name, entry.fingerprint, index.chunks[lo:hi], empty, ()))
        return cls(parts, int(index.chunk_vectors.d), index.chunk_vectors, transcripts,
                   getattr(index, "lexical", None))

    # --- sync ---------------------------------------------------------------------------------

    def transcripts(self) -> Mapping[str, str]:
        return {name: p.fingerprint for name, p in self.parts.items()}

    def _parts_with_vectors(self) -> list[TranscriptPart]:
        out = []
        for name, p in self.parts.items():
            lo, hi = self.ranges[name]
            out.append(TranscriptPart(name, p.fingerprint, p.chunks,
                                      self.vectors.reconstruct_n(lo, hi - lo),
                                      p.contexts or self._context_texts(p.chunks)))
        return out

    def replace_transcript(self, part: TranscriptPart) -> None:
        parts = [p for p in self._parts_with_vectors() if p.name != part.name] + [part]
        self.__init__(parts, self.dim)  # type: ignore[misc]

    def delete_transcript(self, name: str) -> None:
        if name in self.parts:
            self.__init__([p for p in self._parts_with_vectors() if p.name != name], self.dim)  # type: ignore[misc]

    # --- search -------------------------------------------------------------------------------

    def mask(self, scope: Scope) -> np.ndarray | None:
        """Boolean mask of the rows in scope, or None for all of them."""
        if scope.everything or (scope.transcript is None and scope.speaker is None
                                and not self.asking.any()):
            return None
        mask = np.ones(len(self.chunks), dtype=bool) if scope.asking else ~self.asking
        if scope.transcript is not None:
            keep = np.zeros_like(mask)
            lo, hi = self.ranges.get(scope.transcript, (0, 0))
            keep[lo:hi] = True
            mask &= keep
        if scope.speaker is not None:
            mask &= self.speakers == scope.speaker.casefold()
        return mask

    def dense(self, query: np.ndarray, k: int, scope: Scope) -> list[StoreHit]:
        import faiss

        mask = self.mask(scope)
        k = min(k, self.vectors.ntotal)
        if k <= 0 or (mask is not None and not mask.any()):
            return []
        params: Any = None
        if mask is not None:  # only the rows in scope are scored: exact however small the scope
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, rows = self.vectors.search(np.asarray(query, np.float32).reshape(1, -1), k, params=params)
        return [StoreHit(self.ids[r], float(s)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]

    def prepare(self) -> None:
        """Build the BM25 indexes now, not at the first question (a minute at a million chunks)."""
        self._chunk_lexical()
        self._context_lexical()

    def _chunk_lexical(self) -> GroupedBM25:
        if self._chunk_bm25 is None:
            self._chunk_bm25 = chunk_bm25(self.chunks)
        return self._chunk_bm25

    def _context_texts(self, chunks: Sequence[Chunk]) -> list[str]:
        out = []
        for c in chunks:
            transcript = self._transcripts.get(c.transcript)
            out.append(context_text(transcript, c.turn) if transcript is not None
                       else embed_text(c.speaker, c.text))
        return out

    def _context_lexical(self) -> tuple[GroupedBM25, np.ndarray]:
        """BM25 over each chunk's turn with its neighbours (one document a turn), and the
        document of each chunk."""
        if self._context_bm25 is None:
            given: list[str | None] = []
            for p in self.parts.values():
                given += p.contexts or [None] * len(p.chunks)

            def context_of(row: int, c: Chunk) -> str:
                text = given[row]
                return text if text is not None else self._context_texts([c])[0]

            self._context_bm25 = context_bm25(self.chunks, context_of)
        return self._context_bm25

    def _scores(self, text: str, field: Field) -> np.ndarray:
        """Every chunk's BM25 for ``text``; the last few questions' kept, since the retriever
        asks for its candidates' scores right after searching."""
        with self._lock:
            cached = self._cache.get((text, field))
        if cached is not None:
            return cached
        try:
            scores = self._field_scores(text, field)
        except (IndexError, ValueError) as exc:  # a saved file damaged past what its load checks
            if not self._saved:
                raise
            log.warning("the saved BM25 index is damaged (%s); rebuilding it from the chunks", exc)
            self._chunk_bm25 = self._context_bm25 = None
            self._saved = False
            scores = self._field_scores(text, field)
        with self._lock:
            if len(self._cache) >= _CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[(text, field)] = scores
        return scores

    def _field_scores(self, text: str, field: Field) -> np.ndarray:
        if field == "chunk":
            return self._chunk_lexical().scores(text)
        bm25, doc_of = self._context_lexical()
        return bm25.scores(text)[doc_of]

    def lexical(self, text: str, k: int, scope: Scope, field: Field = "chunk") -> list[StoreHit]:
        mask = self.mask(scope)
        scores = self._scores(text, field)
        return top_hits(self.ids, scores if mask is None else np.where(mask, scores, 0.0), k, positive=True)

    def lexical_scores(self, text: str, ids: Sequence[str], field: Field = "chunk") -> np.ndarray:
        rows = np.array([self.row_of[i] for i in ids], dtype=np.int64)
        return np.asarray(self._scores(text, field)[rows], dtype=np.float64)

    def fetch(self, ids: Sequence[str]) -> tuple[list[Chunk], np.ndarray]:
        rows = [self.row_of[i] for i in ids]
        return [self.chunks[r] for r in rows], self.vectors.reconstruct_batch(rows)

    def close(self) -> None:
        """Nothing to let go: everything is in memory."""


__all__ = ["FaissStore"]
