"""Matching a question to passages: dense, lexical and question-to-question scores, fused.

Four similarity signals, each about 0 to 1, and a penalty:

* dense: cosine of the question and a chunk (a sentence or two, with its speaker's name);
* question: cosine of the question and the interviewer's question that the chunk's turn answers
  (in an interview the question says what its answer is about);
* lexical: BM25 (bm25s) over the chunk and its speaker's name;
* context: BM25 over the chunk's turn with the turns either side of it (dialogue answers often
  lean on the line before: "Who enters?" is answered by the next speaker's greeting);
* brevity: a penalty, ``min(0, ln((chars + 1) / 60))`` of the chunk's whole turn, for turns of
  a few words ("Yeah.", "What?", "Hi Monica."): they match a question's names and words yet
  rarely answer it, and such a quote tells a reader nothing.

BM25 scores are divided by the best score in scope so that they compare across questions. The
fused score is the weighted sum over the sum of the similarity weights, so the brevity penalty
only ever lowers it. A chunk whose turn answers no interviewer's question has no question signal,
and that weight leaves the sum: standing in its dense score instead, as this once did, counted
the dense score twice, which in dialogue (where no turn has such a question) weighed the words too
little (QMSum R@1 0.481 -> 0.498, FriendsQA 0.520 -> 0.525, the interview unchanged). The weights
were tuned on FriendsQA and QMSum (bench/EVAL.md, bench/RANKING.md).
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .config import Settings
from .index import Index, embed_text

if TYPE_CHECKING:
    from .chunking import Chunk
    from .transcripts import Transcript

CANDIDATES = 64  # per signal; exact scores are computed for the union of candidates
TOP_QUESTIONS = 4
# Turns shorter than this many characters are penalised (see "brevity" above); 60 measured best
# of 20-150 on FriendsQA and QMSum together, and leaves our interview's long answers untouched.
BRIEF_CHARS = 60


def brevity(chars: np.ndarray) -> np.ndarray:
    """The brevity penalty of turns of ``chars`` characters: 0 from ``BRIEF_CHARS`` up."""
    return np.minimum(0.0, np.log((np.asarray(chars, dtype=np.float64) + 1) / BRIEF_CHARS))


@dataclass(frozen=True)
class Hit:
    """A scored chunk: ``row`` indexes ``Index.chunks``."""

    row: int
    score: float
    relevance: float
    dense: float
    question: float | None
    lexical: float
    context: float
    brevity: float = 0.0


def semantic_search_scores(scores: np.ndarray, top_k: int) -> list[tuple[int, float]]:
    """(row, score) of the ``top_k`` highest scores, sorted by falling score, ties by row."""
    if len(scores) == 0 or top_k <= 0:
        return []
    k = min(top_k, len(scores))
    rows = np.argpartition(-scores, k - 1)[:k]
    order = sorted(rows.tolist(), key=lambda r: (-float(scores[r]), r))
    return [(r, float(scores[r])) for r in order]


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


class Lexical:
    """BM25 over a list of documents, with the question tokenised the same way."""

    def __init__(self, documents: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.size = len(documents)
        self.tokenizer = bm25s.tokenization.Tokenizer(stemmer=Stemmer.Stemmer("english"),
                                                      stopwords="en")
        tokens = self.tokenizer.tokenize(list(documents) or [""], return_as="tuple",
                                         show_progress=False)
        self.bm25 = bm25s.BM25()
        self.bm25.index(tokens, show_progress=False)

    def scores(self, question: str) -> np.ndarray:
        """BM25 of the question against every document (zeros when no word of it is known)."""
        ids = self.tokenizer.tokenize([question], update_vocab=False, return_as="ids",
                                      show_progress=False)[0]
        empty = self.tokenizer.word_to_id.get("", -1)
        ids = [i for i in ids if i != empty]
        if not ids or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(ids), dtype=np.float32)[: self.size]


class Retriever:
    """Scores an index's chunks against questions; the BM25 indexes are built on first use.

    Args:
        index: the index to search.
        settings: the fusion weights.
        transcripts: the parsed transcripts by name, for the context signal (without them the
            context signal repeats the lexical one).
    """

    def __init__(self, index: Index, settings: Settings,
                 transcripts: Mapping[str, Transcript] | None = None) -> None:
        self.index = index
        self.settings = settings
        self.transcripts = transcripts
        turn_row = {(k.transcript, k.turn): i for i, k in enumerate(index.turn_keys)}
        self.question_of = np.array(
            [turn_row.get((c.transcript, c.reply_turn), -1) if c.reply_turn is not None else -1
             for c in index.chunks], dtype=np.int64)
        self.answers_to: dict[int, list[int]] = defaultdict(list)
        for row, q in enumerate(self.question_of.tolist()):
            if q >= 0:
                self.answers_to[q].append(row)
        # Speakers once, case-folded, so that a speaker scope costs one comparison per question.
        self.speakers = np.array([(c.speaker or "").casefold() for c in index.chunks], dtype=object)
        self.brief = brevity(np.array([self._turn_chars(c) for c in index.chunks], dtype=np.int64))
        self._lexical: Lexical | None = None
        self._context: tuple[Lexical, np.ndarray] | None = None

    def _turn_chars(self, chunk: Chunk) -> int:
        """Length of the chunk's whole turn (of the chunk itself when the transcript is unknown)."""
        transcript = self.transcripts.get(chunk.transcript) if self.transcripts else None
        if transcript is None or not 0 <= chunk.turn < len(transcript.turns):
            return len(chunk.text)
        return len(transcript.turns[chunk.turn].text)

    def with_settings(self, settings: Settings) -> Retriever:
        """This retriever with other fusion weights, sharing its arrays and BM25 indexes (they do
        not depend on the weights), so that comparing weights rebuilds nothing."""
        other = copy.copy(self)
        other.settings = settings
        return other

    def prepare(self) -> None:
        """Build the BM25 indexes now, not at the first question (a minute at a million chunks)."""
        _ = self.lexical
        self._context_lexical()

    @property
    def lexical(self) -> Lexical:
        if self._lexical is None:
            self._lexical = Lexical([embed_text(c.speaker, c.text) for c in self.index.chunks])
        return self._lexical

    def _context_lexical(self) -> tuple[Lexical, np.ndarray] | None:
        """BM25 over each chunk's turn with its neighbours, and the document of each chunk."""
        if self._context is None and self.transcripts is not None:
            docs: list[str] = []
            doc_of: dict[tuple[str, int], int] = {}
            for c in self.index.chunks:
                if (c.transcript, c.turn) in doc_of:
                    continue
                transcript = self.transcripts.get(c.transcript)
                if transcript is None:
                    doc_of[(c.transcript, c.turn)] = len(docs)
                    docs.append(embed_text(c.speaker, c.text))
                    continue
                turns = transcript.turns[max(0, c.turn - 1): c.turn + 2]
                doc_of[(c.transcript, c.turn)] = len(docs)
                docs.append(" ".join(embed_text(t.speaker, t.text) for t in turns))
            rows = np.array([doc_of[(c.transcript, c.turn)] for c in self.index.chunks], np.int64)
            self._context = (Lexical(docs), rows)
        return self._context

    def scope(self, transcript: str | None = None, speaker: str | None = None) -> np.ndarray | None:
        """Boolean mask of the chunks in scope, or None for all of them."""
        if transcript is None and speaker is None:
            return None
        mask = np.ones(len(self.index.chunks), dtype=bool)
        if transcript is not None:
            mask[:] = False
            entry = self.index.manifest["transcripts"].get(transcript)
            if entry:
                lo, hi = entry["chunks"]
                mask[lo:hi] = True
        if speaker is not None:
            mask &= self.speakers == speaker.casefold()
        return mask

    def search(self, query: np.ndarray, question: str, top_k: int = 10,
               transcript: str | None = None, speaker: str | None = None,
               exhaustive: bool = False) -> list[Hit]:
        """Rank the chunks in scope for one question.

        Args:
            query: the question's unit vector.
            question: the question's text, for BM25.
            top_k: how many hits to return.
            transcript: only this transcript's chunks (its name in the corpus).
            speaker: only this speaker's chunks (case-insensitive).
            exhaustive: score every chunk in scope, not only each signal's best candidates
                (for studies of the ranking; slow on a large corpus).

        Returns:
            Hits sorted by falling fused score.
        """
        n = len(self.index.chunks)
        mask = self.scope(transcript, speaker)
        if n == 0 or (mask is not None and not mask.any()):
            return []
        s = self.settings
        lexical = _normalise(self.lexical.scores(question), mask)
        context_index = self._context_lexical()
        if context_index is not None:
            by_doc = context_index[0].scores(question)
            context = _normalise(by_doc[context_index[1]], mask)
        else:
            context = lexical
        question_scores = (self.index.turn_vectors @ query if len(self.index.turn_vectors)
                           else np.zeros(0, dtype=np.float32))

        if exhaustive:
            rows = np.arange(n, dtype=np.int64)
        else:
            candidates = set(self._dense_candidates(query, mask))
            for scores in (lexical, context):
                candidates.update(r for r, v in semantic_search_scores(scores, CANDIDATES) if v > 0)
            for q_row, _ in semantic_search_scores(question_scores, TOP_QUESTIONS):
                candidates.update(self.answers_to.get(q_row, ()))
            rows = np.array(sorted(candidates), dtype=np.int64)
        if mask is not None:
            rows = rows[mask[rows]]
        if len(rows) == 0:
            return []
        dense = self.index.chunk_vectors.reconstruct_batch(rows) @ query
        others = s.weight_dense + s.weight_lexical + s.weight_context
        hits = []
        for row, d in zip(rows.tolist(), dense.tolist(), strict=True):
            q_row = self.question_of[row]
            q = float(question_scores[q_row]) if q_row >= 0 else None
            brief = float(self.brief[row])
            total = (s.weight_dense * d + s.weight_lexical * float(lexical[row])
                     + s.weight_context * float(context[row]) + s.weight_brevity * brief)
            weight = others
            if q is not None:
                total += s.weight_question * q
                weight += s.weight_question
            relevance = max(d, q) if q is not None else d
            hits.append(Hit(row, total / (weight or 1.0), relevance, d, q, float(lexical[row]),
                            float(context[row]), brief))
        hits.sort(key=lambda h: (-h.score, h.row))
        return hits[:top_k]

    def _dense_candidates(self, query: np.ndarray, mask: np.ndarray | None) -> list[int]:
        import faiss

        index = self.index.chunk_vectors
        k = min(CANDIDATES, index.ntotal)
        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        _, ids = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [int(i) for i in ids[0] if i >= 0]


def _normalise(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Scores in scope divided by the best of them; zero out of scope."""
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else np.zeros_like(scores)
