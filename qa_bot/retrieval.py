"""Matching a question to passages: dense, lexical (BM25) and question-to-question scores, fused.

Three signals, each in [0, 1] or close to it:

* dense: cosine of the question and a chunk (a sentence or two);
* turn: cosine of the question and the whole turn the chunk belongs to, and, in an interview,
  of the question and the interviewer's question that the turn answers (the interviewer's
  question says what its answer is about);
* lexical: BM25 (bm25s) over the chunk and its speaker's name, divided by the best BM25 score
  in scope so that it is comparable across questions.

The fused score is their weighted mean over the signals that exist for a chunk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Settings
from .index import Index, embed_text

CANDIDATES = 64  # per signal; exact scores are computed for the union of candidates
TOP_TURNS = 4


@dataclass(frozen=True)
class Hit:
    """A scored chunk: ``row`` indexes ``Index.chunks``."""

    row: int
    score: float
    relevance: float
    dense: float
    turn: float
    question: float | None
    lexical: float


def semantic_search(query: np.ndarray, vectors: np.ndarray, top_k: int = 10) -> list[tuple[int, float]]:
    """Exact inner-product search of one unit query over unit row vectors.

    Args:
        query: shape (dim,), unit length.
        vectors: shape (n, dim), unit rows.
        top_k: how many to return.

    Returns:
        (row, score) pairs sorted by falling score, ties by row.
    """
    if len(vectors) == 0:
        return []
    return semantic_search_scores(vectors @ query, top_k)


class Retriever:
    """Scores an index's chunks against questions; cheap to build, BM25 built on first use."""

    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        turn_row = {(k.transcript, k.turn): i for i, k in enumerate(index.turn_keys)}
        self.turn_of = np.array([turn_row.get((c.transcript, c.turn), -1) for c in index.chunks],
                                dtype=np.int64)
        self.question_of = np.array(
            [turn_row.get((c.transcript, c.reply_turn), -1) if c.reply_turn is not None else -1
             for c in index.chunks], dtype=np.int64)
        # Chunks reachable from a turn row: its own chunks, and the chunks of the answers to it.
        self.chunks_of_turn: dict[int, list[int]] = defaultdict(list)
        for row in range(len(index.chunks)):
            self.chunks_of_turn[int(self.turn_of[row])].append(row)
            if self.question_of[row] >= 0:
                self.chunks_of_turn[int(self.question_of[row])].append(row)
        self._bm25: Any = None
        self._tokenizer: Any = None

    def _lexical(self) -> tuple[Any, Any]:
        if self._bm25 is None:
            import logging

            import bm25s
            import Stemmer

            logging.getLogger("bm25s").setLevel(logging.WARNING)

            self._tokenizer = bm25s.tokenization.Tokenizer(
                stemmer=Stemmer.Stemmer("english"), stopwords="en")
            texts = [embed_text(c.speaker, c.text) for c in self.index.chunks] or [""]
            tokens = self._tokenizer.tokenize(texts, return_as="tuple", show_progress=False)
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
            self._bm25 = bm25
        return self._bm25, self._tokenizer

    def lexical_scores(self, question: str) -> np.ndarray:
        """BM25 of the question against every chunk (zeros when no word is known)."""
        bm25, tokenizer = self._lexical()
        ids = tokenizer.tokenize([question], update_vocab=False, return_as="ids",
                                 show_progress=False)[0]
        ids = [i for i in ids if i != tokenizer.word_to_id.get("", -1)]
        if not ids or not self.index.chunks:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(bm25.get_scores(ids), dtype=np.float32)[: len(self.index.chunks)]

    def scope(self, transcript: str | None = None, speaker: str | None = None) -> np.ndarray | None:
        """Boolean mask of the chunks in scope, or None for all of them."""
        if transcript is None and speaker is None:
            return None
        mask = np.ones(len(self.index.chunks), dtype=bool)
        if transcript is not None:
            mask[:] = False
            if transcript in self.index.manifest["transcripts"]:
                lo, hi = self.index.manifest["transcripts"][transcript]["chunks"]
                mask[lo:hi] = True
        if speaker is not None:
            wanted = speaker.casefold()
            mask &= np.array([(c.speaker or "").casefold() == wanted for c in self.index.chunks],
                             dtype=bool)
        return mask

    def search(self, query: np.ndarray, question: str, top_k: int = 10,
               transcript: str | None = None, speaker: str | None = None) -> list[Hit]:
        """Rank the chunks in scope for one question.

        Args:
            query: the question's unit vector.
            question: the question's text, for BM25.
            top_k: how many hits to return.
            transcript: only this transcript's chunks (its name in the corpus).
            speaker: only this speaker's chunks (case-insensitive).

        Returns:
            Hits sorted by falling fused score.
        """
        n = len(self.index.chunks)
        mask = self.scope(transcript, speaker)
        allowed = np.flatnonzero(mask) if mask is not None else None
        if n == 0 or (allowed is not None and len(allowed) == 0):
            return []
        s = self.settings
        candidates: set[int] = set()
        candidates.update(self._dense_candidates(query, mask))
        lexical = self.lexical_scores(question)
        if mask is not None:
            lexical = np.where(mask, lexical, 0.0)
        best_lexical = float(lexical.max()) if len(lexical) else 0.0
        if best_lexical > 0:
            k = min(CANDIDATES, n)
            candidates.update(int(r) for r in np.argpartition(-lexical, k - 1)[:k] if lexical[r] > 0)
        turn_scores = self.index.turn_vectors @ query if len(self.index.turn_vectors) else np.zeros(0)
        candidates.update(self._turn_candidates(turn_scores, mask))
        rows = np.array(sorted(candidates), dtype=np.int64)
        if mask is not None:
            rows = rows[mask[rows]]
        if len(rows) == 0:
            return []
        dense = self.index.chunk_vectors.reconstruct_batch(rows) @ query
        hits = []
        for row, d in zip(rows.tolist(), dense.tolist(), strict=True):
            t = float(turn_scores[self.turn_of[row]]) if self.turn_of[row] >= 0 else d
            q_row = self.question_of[row]
            # A turn that answers no interviewer's question stands in for its own question, so
            # that every chunk is scored on the same scale.
            q = float(turn_scores[q_row]) if q_row >= 0 else None
            lex = float(lexical[row]) / best_lexical if best_lexical > 0 else 0.0
            total = (s.weight_dense * d + s.weight_turn * t + s.weight_lexical * lex
                     + s.weight_question * (t if q is None else q))
            weight = (s.weight_dense + s.weight_turn + s.weight_lexical + s.weight_question) or 1.0
            relevance = max(d, t, q if q is not None else -1.0)
            hits.append(Hit(row, total / weight, relevance, d, t, q, lex))
        hits.sort(key=lambda h: (-h.score, h.row))
        return hits[:top_k]

    def _dense_candidates(self, query: np.ndarray, mask: np.ndarray | None) -> list[int]:
        import faiss

        index = self.index.chunk_vectors
        k = min(CANDIDATES, index.ntotal)
        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = faiss.SearchParameters(sel=selector)
        _, ids = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [int(i) for i in ids[0] if i >= 0]

    def _turn_candidates(self, turn_scores: np.ndarray, mask: np.ndarray | None) -> list[int]:
        """All chunks of the turns that best match the question, directly or through the
        interviewer's question they answer."""
        rows: list[int] = []
        for turn_row, _ in semantic_search_scores(turn_scores, TOP_TURNS * 4):
            rows.extend(self.chunks_of_turn.get(turn_row, ()))
        return rows


def semantic_search_scores(scores: np.ndarray, top_k: int) -> list[tuple[int, float]]:
    """(row, score) of the ``top_k`` highest scores, sorted by falling score, ties by row."""
    if len(scores) == 0 or top_k <= 0:
        return []
    k = min(top_k, len(scores))
    rows = np.argpartition(-scores, k - 1)[:k]
    order = sorted(rows.tolist(), key=lambda r: (-float(scores[r]), r))
    return [(r, float(scores[r])) for r in order]
