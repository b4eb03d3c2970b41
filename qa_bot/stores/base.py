"""The store protocol: where chunks, their vectors and their lexical indexes live.

Retrieval asks a store for candidates (dense and lexical, within a scope) and for the records and
vectors of chunks by id; fusion, ranking, quoting and verification stay above it, the same for
every backend. A chunk's id is stable (``chunk_id``): the transcript's name and the chunk's place
in it, so that it survives other transcripts being added, changed or removed, unlike a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from ..chunking import Chunk

Field = Literal["chunk", "context"]


def chunk_id(transcript: str, ordinal: int) -> str:
    """The stable id of a transcript's ``ordinal``-th chunk (its chunks are replaced together)."""
    return f"{transcript}#{ordinal}"


@dataclass(frozen=True)
class Scope:
    """Which chunks a search may return.

    Attributes:
        transcript: only this transcript's chunks (its name), or None for all.
        speaker: only this speaker's chunks, compared case-folded, or None for all.
        asking: whether the interviewer's questions are candidates too.
    """

    transcript: str | None = None
    speaker: str | None = None
    asking: bool = True

    @property
    def everything(self) -> bool:
        return self.transcript is None and self.speaker is None and self.asking


@dataclass(frozen=True)
class StoreHit:
    """A chunk a store found: its stable id and the score the search ranked it by."""

    id: str
    score: float


@dataclass(frozen=True)
class TranscriptPart:
    """What a store keeps of one transcript: its chunks in order, one unit vector and one
    context text (the chunk's turn read with its neighbours, for lexical ``"context"``) each."""

    name: str
    fingerprint: str
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    contexts: Sequence[str]


class Store(Protocol):
    """A backend: FAISS + bm25s in process (``faiss_store.py``), or Milvus (``milvus_store.py``).

    Searches return at most ``k`` hits in ``scope``, best first, ties by id.
    """

    def transcripts(self) -> Mapping[str, str]:
        """Each stored transcript's name and fingerprint, to sync with the corpus."""
        ...

    def replace_transcript(self, part: TranscriptPart) -> None:
        """Store a transcript's chunks in place of any it had."""
        ...

    def delete_transcript(self, name: str) -> None:
        """Remove a transcript's chunks; a name not stored is no error."""
        ...

    def dense(self, query: np.ndarray, k: int, scope: Scope) -> list[StoreHit]:
        """The chunks whose vectors have the highest inner product with the unit ``query``."""
        ...

    def lexical(self, text: str, k: int, scope: Scope, field: Field = "chunk") -> list[StoreHit]:
        """The chunks (or their turns in context) with the highest BM25, each transcript scored
        with its own statistics (``lexical.GroupedBM25``); hits score above 0."""
        ...

    def lexical_scores(self, text: str, ids: Sequence[str], field: Field = "chunk") -> np.ndarray:
        """The BM25 of given chunks, in the order of ``ids``, as ``lexical`` scores them."""
        ...

    def fetch(self, ids: Sequence[str]) -> tuple[list[Chunk], np.ndarray]:
        """The records and vectors of chunks by id, in the order of ``ids``.

        Raises:
            KeyError: an id is not stored.
        """
        ...

    def close(self) -> None:
        """Let go of connections and files."""
        ...


def top_hits(ids: Sequence[str], scores: np.ndarray, k: int, positive: bool = False) -> list[StoreHit]:
    """The ``k`` best of ``ids`` by ``scores``, best first, ties by id, so that every backend
    cuts a tie at the k-th place alike; with ``positive``, only scores above 0."""
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.flatnonzero(scores > 0) if positive else np.arange(len(scores))
    if k <= 0 or len(keep) == 0:
        return []
    if len(keep) > k:  # everything tied with the k-th best, then the exact order of those
        kth = np.partition(-scores[keep], k - 1)[k - 1]
        keep = keep[-scores[keep] <= kth]
    order = sorted(keep.tolist(), key=lambda i: (-scores[i], ids[i]))[:k]
    return [StoreHit(ids[i], float(scores[i])) for i in order]


__all__ = ["Field", "Scope", "Store", "StoreHit", "TranscriptPart", "chunk_id", "top_hits"]
