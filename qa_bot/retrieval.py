"""Matching a question to passages: each candidate's signals, weighed by the ranker.

The signals of a chunk (a sentence or two of one turn), each about 0 to 1, and each a function
of the question, the chunk and the chunk's own transcript only, never of the rest of the corpus:

* dense: cosine of the question and the chunk, with its speaker's name;
* context: cosine of the question and the chunk's turn read with the turns either side (the
  line before says what a reply is about; in an interview it is the question);
* neighbours: the mean context cosine of the turns either side: the words that answer sit where
  the contexts around them agree, which picks the one line inside the right neighbourhood;
* question, has_question: cosine of the question and the interviewer's question the chunk's turn
  answers, and whether there is one;
* lexical, lexical_context: BM25 over the chunk, and over its turn with the turns either side,
  with each transcript's own statistics (``lexical.py``);
* brevity: ``min(0, ln((chars + 1) / 60))`` of the chunk's whole turn, for turns of a few words
  ("Yeah.", "What?"), which match a question's names and words yet rarely answer it;
* asks: the chunk's turn asks a question that the next speaker answers; an echo of the user's
  question ("Where did the meeting take place?") is seldom what answers it;
* narration: a caption, a stage direction or a line nobody says; it answers questions about
  itself and should not outrank what was said;

An interviewer's question is a candidate only when the user asks about the asking ("What did she
ask about holidays?"); otherwise it is the ``in_reply_to`` of its answer, never an answer.

The ranker (``ranker.py``) weighs them into one calibrated relevance, which hits are sorted by.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import ranker as ranker_mod
from .chunk_links import chunk_links
from .config import Settings
from .index import Index
from .parsers.base import TurnKind
from .ranker import FEATURES, Ranker
from .stores.base import Scope, Store, chunk_id
from .stores.faiss_store import FaissStore

if TYPE_CHECKING:
    from .parsers.base import Transcript

CANDIDATES = 64  # per signal; exact scores are computed for the union of candidates
TOP_QUESTIONS = 4
# Turns shorter than this many characters are penalised (see "brevity" above); 60 measured best
# of 20-150 on FriendsQA and QMSum together, and leaves our interview's long answers untouched.
BRIEF_CHARS = 60
# A question about the asking itself, which an interviewer's question may answer.
ASKING = re.compile(r"\b(ask|asks|asked|asking|question|questions|questioned|enquire[sd]?|"
                    r"inquire[sd]?|wonder(?:s|ed)?)\b", re.IGNORECASE)
SIGNALS = ("dense", "context", "neighbours", "question", "lexical", "lexical_context", "brevity",
           "narration", "asks")  # the features with a ``weight_<name>`` multiplier in Settings


def brevity(chars: np.ndarray) -> np.ndarray:
    """The brevity penalty of turns of ``chars`` characters: 0 from ``BRIEF_CHARS`` up."""
    return np.minimum(0.0, np.log((np.asarray(chars, dtype=np.float64) + 1) / BRIEF_CHARS))


@dataclass(frozen=True)
class Hit:
    """A scored chunk: ``row`` indexes ``Index.chunks``; ``relevance`` is what hits are ranked
    by (``score`` is the same number), ``features`` each signal by name."""

    row: int
    score: float
    relevance: float
    features: Mapping[str, float]

    def __getattr__(self, name: str) -> float:
        if name in FEATURES:
            return self.features[name]
        raise AttributeError(name)


def semantic_search_scores(scores: np.ndarray, top_k: int) -> list[tuple[int, float]]:
    """(row, score) of the ``top_k`` highest scores, sorted by falling score, ties by row."""
    if len(scores) == 0 or top_k <= 0:
        return []
    k = min(top_k, len(scores))
    rows = np.argpartition(-scores, k - 1)[:k]
    order = sorted(rows.tolist(), key=lambda r: (-float(scores[r]), r))
    return [(r, float(scores[r])) for r in order]


class Retriever:
    """Scores an index's chunks against questions.

    Args:
        index: the index to search.
        settings: which ranker, and the multipliers of its weights.
        transcripts: the parsed transcripts by name, for the context signals and turn lengths
            (without them a chunk stands for its turn).
        store: where dense and lexical candidates, chunk vectors and BM25 scores come from
            (default: the embedded FAISS store over ``index``).
    """

    def __init__(self, index: Index, settings: Settings,
                 transcripts: Mapping[str, Transcript] | None = None, store: Store | None = None) -> None:
        self.index = index
        own = FaissStore.from_index(index, transcripts) if store is None else None
        self.store: Store = store or own  # type: ignore[assignment]
        self.transcripts = transcripts or {}
        self.settings = settings
        self.ranker = self._ranker(settings)
        chunks = index.chunks
        # Stable ids (the store's) of the rows the arrays below are indexed by: the embedded
        # store over this index has them in the same order (shared: a million of each at scale).
        if own is not None:
            self.ids, self.row_of = own.ids, own.row_of
        else:
            self.ids = [chunk_id(name, r - lo) for name, e in index.manifest.transcripts.items()
                        for lo, hi in [e.chunks] for r in range(lo, hi)]
            self.row_of = {cid: r for r, cid in enumerate(self.ids)}
        links = chunk_links(index, self.transcripts)
        self.question_rows = links.question_rows
        self.question_vectors = index.turn_vectors[links.question_rows]
        self.question_of = links.question_of
        self.context_of = links.context_of
        self.answers_to: dict[int, list[int]] = defaultdict(list)
        for r, q in enumerate(self.question_of.tolist()):
            if q >= 0:
                self.answers_to[q].append(r)
        # Speakers once, case-folded, so that a speaker scope costs one comparison per question.
        self.speakers = own.speakers if own is not None else \
            np.array([(c.speaker or "").casefold() for c in chunks], dtype=object)
        self.brief = brevity(links.turn_chars)
        self.narration = np.array([c.kind == TurnKind.NARRATION for c in chunks], dtype=np.float64)
        self.asking = np.array([c.kind == TurnKind.QUESTION for c in chunks], dtype=bool)
        self.asks = links.answered.astype(np.float64)

    @staticmethod
    def _ranker(settings: Settings) -> Ranker:
        base = ranker_mod.load(settings.ranker or None)
        return base.scaled({s: getattr(settings, f"weight_{s}") for s in SIGNALS})

    def with_settings(self, settings: Settings) -> Retriever:
        """This retriever with another ranker or weights, sharing its arrays and BM25 indexes
        (they do not depend on the weights), so that comparing weights rebuilds nothing."""
        other = copy.copy(self)
        other.settings = settings
        other.ranker = self._ranker(settings)
        return other

    def prepare(self) -> None:
        """Build the store's lexical indexes now, not at the first question."""
        prepare = getattr(self.store, "prepare", None)
        if prepare is not None:
            prepare()

    def scope(self, transcript: str | None = None, speaker: str | None = None,
              asking: bool = True) -> np.ndarray | None:
        """Boolean mask of the chunks in scope, or None for all of them; without ``asking``,
        the interviewer's questions are out of it."""
        if transcript is None and speaker is None and (asking or not self.asking.any()):
            return None
        mask = np.ones(len(self.index.chunks), dtype=bool) if asking else ~self.asking
        if transcript is not None:
            entry = self.index.manifest.transcripts.get(transcript)
            keep = np.zeros_like(mask)
            if entry:
                lo, hi = entry.chunks
                keep[lo:hi] = True
            mask &= keep
        if speaker is not None:
            mask &= self.speakers == speaker.casefold()
        return mask

    def features(self, rows: np.ndarray, query: np.ndarray, question: str) -> np.ndarray:
        """The (len(rows), len(FEATURES)) signals of some chunks for one question; their
        vectors and BM25 scores come from the store."""
        ids = [self.ids[r] for r in rows]
        _, chunk_vectors = self.store.fetch(ids)
        vectors = self.index.turn_vectors
        ctx_rows = self.context_of[rows]
        ctx = np.zeros(ctx_rows.shape, dtype=np.float64)
        known = ctx_rows >= 0
        if known.any():
            ctx[known] = vectors[ctx_rows[known]] @ query
        sides = known[:, 1:].sum(axis=1)
        q_pos = self.question_of[rows]
        q_scores = np.zeros(len(rows), dtype=np.float64)
        if (q_pos >= 0).any():
            q_scores[q_pos >= 0] = self.question_vectors[q_pos[q_pos >= 0]] @ query
        out = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
        columns = {
            "dense": chunk_vectors @ query if len(rows) else np.zeros(0),
            "context": ctx[:, 0],
            "neighbours": ctx[:, 1:].sum(axis=1) / np.maximum(sides, 1),
            "question": q_scores, "has_question": (q_pos >= 0).astype(np.float64),
            "lexical": self.store.lexical_scores(question, ids, "chunk"),
            "lexical_context": self.store.lexical_scores(question, ids, "context"),
            "brevity": self.brief[rows], "narration": self.narration[rows],
            "asks": self.asks[rows],
        }
        for i, name in enumerate(FEATURES):
            out[:, i] = columns[name]
        return out

    def search(self, query: np.ndarray, question: str, top_k: int = 10,
               transcript: str | None = None, speaker: str | None = None,
               exhaustive: bool = False) -> list[Hit]:
        """Rank the chunks in scope for one question.

        Args:
            query: the question's unit vector.
            question: the question's text, for BM25 and to tell whether it asks about asking.
            top_k: how many hits to return.
            transcript: only this transcript's chunks (its name in the corpus).
            speaker: only this speaker's chunks (case-insensitive).
            exhaustive: score every chunk in scope, not only each signal's best candidates
                (for studies of the ranking; slow on a large corpus).

        Returns:
            Hits sorted by falling relevance, ties by row.
        """
        n = len(self.index.chunks)
        asking = bool(ASKING.search(question))
        mask = self.scope(transcript, speaker, asking=asking)
        if n == 0 or (mask is not None and not mask.any()):
            return []
        if exhaustive:
            rows = np.arange(n, dtype=np.int64)
        else:
            where = Scope(transcript, speaker, asking)
            hits = self.store.dense(query, CANDIDATES, where)
            for field in ("chunk", "context"):
                hits += self.store.lexical(question, CANDIDATES, where, field)
            candidates = {self.row_of[h.id] for h in hits}
            if len(self.question_vectors):
                for q_pos, _ in semantic_search_scores(self.question_vectors @ query, TOP_QUESTIONS):
                    candidates.update(self.answers_to.get(q_pos, ()))
            rows = np.array(sorted(candidates), dtype=np.int64)
        if mask is not None:
            rows = rows[mask[rows]]
        if len(rows) == 0:
            return []
        features = self.features(rows, query, question)
        relevance = self.ranker.relevance(features)
        order = sorted(range(len(rows)), key=lambda i: (-relevance[i], rows[i]))[:top_k]
        return [Hit(int(rows[i]), float(relevance[i]), float(relevance[i]),
                    dict(zip(FEATURES, features[i].tolist(), strict=True))) for i in order]
