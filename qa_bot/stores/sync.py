"""Opening a store by its name, and bringing it in step with a synced index without
re-embedding anything (also what ``qa-bot migrate`` does)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..index import Index, context_text, embed_text
from ..parsers.base import Transcript
from .base import Store, TranscriptPart
from .faiss_store import FaissStore

EMBEDDED = ("", "faiss")  # the names of the embedded default


def parts_of(index: Index, transcripts: Mapping[str, Transcript] | None = None) -> list[TranscriptPart]:
    """Each transcript of ``index`` with its chunks, saved vectors and context texts (a chunk
    stands for its turn when the transcript is not at hand)."""
    transcripts = transcripts or {}
    parts = []
    for name, entry in index.manifest.transcripts.items():
        lo, hi = entry.chunks
        chunks = index.chunks[lo:hi]
        t = transcripts.get(name)
        contexts = [context_text(t, c.turn) if t is not None else embed_text(c.speaker, c.text)
                    for c in chunks]
        vectors = index.chunk_vectors.reconstruct_n(lo, hi - lo) if hi > lo else \
            np.zeros((0, index.manifest.dimension), np.float32)
        parts.append(TranscriptPart(name, entry.fingerprint, chunks, vectors, contexts))
    return parts


def mirror(store: Store, index: Index, transcripts: Mapping[str, Transcript] | None = None
           ) -> dict[str, list[str]]:
    """Make ``store`` hold what ``index`` holds: transcripts whose fingerprint differs are
    replaced (with the index's vectors), those the index lacks deleted.

    Returns:
        The names replaced and deleted.
    """
    stored = dict(store.transcripts())
    wanted = {name: entry.fingerprint for name, entry in index.manifest.transcripts.items()}
    report: dict[str, list[str]] = {"replaced": [], "deleted": sorted(set(stored) - set(wanted))}
    for name in report["deleted"]:
        store.delete_transcript(name)
    changed = {n for n, f in wanted.items() if stored.get(n) != f}
    for part in parts_of(index, transcripts):
        if part.name in changed:
            store.replace_transcript(part)
            report["replaced"].append(part.name)
    return report


def open_store(spec: str, index: Index, transcripts: Mapping[str, Transcript] | None = None) -> Store:
    """The store ``spec`` names ("" or "faiss": the embedded one over ``index``; otherwise a
    Milvus URI, see ``milvus_store.client_for``), in step with ``index``."""
    if spec in EMBEDDED:
        return FaissStore.from_index(index, transcripts)
    from .milvus_store import MilvusStore

    store = MilvusStore(spec, index.manifest.dimension)
    mirror(store, index, transcripts)
    return store


def store_for(spec: str, current: Store | None, index: Index,
              transcripts: Mapping[str, Transcript] | None = None) -> Store | None:
    """The store a bot answers from after a refresh: None for the embedded one (the retriever
    makes it over the index), else ``current`` brought in step, or the named one opened."""
    if spec in EMBEDDED:
        return None
    if current is None:
        return open_store(spec, index, transcripts)
    mirror(current, index, transcripts)
    return current


__all__ = ["EMBEDDED", "mirror", "open_store", "parts_of", "store_for"]
