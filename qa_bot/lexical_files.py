"""The BM25 indexes of the embedded store, built over an index's chunks and saved beside its
vectors, so that a restart memory-maps them instead of rebuilding them (a minute and ~0.8 GB at a
million chunks).

Two indexes, as ``stores/faiss_store.py`` searches them: over each chunk (``"chunk"``) and over
each chunked turn read with its neighbours (``"context"``, one document a turn, and each chunk's
document), both with each transcript's own statistics (``lexical.GroupedBM25``). Saved as bm25s
saves its own: one ``.npy`` file an array (``np.save`` without pickle, loaded with
``mmap_mode="r"``) and the vocabulary in JSON; a question then reads only its words' columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import index_files
from .chunking import Chunk, embed_text
from .lexical import ARRAYS, GroupedBM25
from .manifest import FileEntry

FORMAT = 1
MMAP_BYTES = 1 << 16  # smaller arrays are read into memory: a map costs more than it saves


@dataclass
class Lexical:
    """The two BM25 indexes of an index's chunks, in the index's order."""

    chunk: GroupedBM25
    context: GroupedBM25
    doc_of: np.ndarray  # each chunk's document in ``context``


def chunk_bm25(chunks: Sequence[Chunk]) -> GroupedBM25:
    """BM25 over each chunk as the model reads it (with its speaker's name)."""
    return GroupedBM25([embed_text(c.speaker, c.text) for c in chunks], [c.transcript for c in chunks])


def context_bm25(chunks: Sequence[Chunk], context_of: Callable[[int, Chunk], str]
                 ) -> tuple[GroupedBM25, np.ndarray]:
    """BM25 over each chunk's turn with its neighbours (``context_of(row, chunk)``), one
    document a turn, and the document of each chunk."""
    docs: list[str] = []
    groups: list[str] = []
    doc_of: dict[tuple[str, int], int] = {}
    rows = []
    for i, c in enumerate(chunks):
        if (c.transcript, c.turn) not in doc_of:
            doc_of[(c.transcript, c.turn)] = len(docs)
            docs.append(context_of(i, c))
            groups.append(c.transcript)
        rows.append(doc_of[(c.transcript, c.turn)])
    return GroupedBM25(docs, groups), np.array(rows, dtype=np.int64)


def build(chunks: Sequence[Chunk], context_of: Callable[[int, Chunk], str]) -> Lexical:
    context, doc_of = context_bm25(chunks, context_of)
    return Lexical(chunk_bm25(chunks), context, doc_of)


def _save_array(array: np.ndarray) -> Callable[[Path], object]:
    def body(path: Path) -> None:
        with path.open("wb") as f:
            np.save(f, np.ascontiguousarray(array), allow_pickle=False)
    return body


def _save_json(value: object) -> Callable[[Path], object]:
    text = json.dumps(value, ensure_ascii=False)
    return lambda path: path.write_text(text, encoding="utf-8")


def save(lexical: Lexical, index_dir: Path, gen: str) -> dict[str, Any]:
    """Write ``lexical``'s files as generation ``gen``; returns the manifest's ``"lexical"``."""
    out: dict[str, Any] = {"format": FORMAT}
    for field, bm25 in (("chunk", lexical.chunk), ("context", lexical.context)):
        meta = bm25.meta()
        arrays = dict(bm25.arrays, **({"doc_of": lexical.doc_of} if field == "context" else {}))
        files = {}
        for role, array in arrays.items():
            path = index_dir / f"bm25-{field}-{gen}-{role}.npy"
            index_files.atomic_write(path, _save_array(array))
            files[role] = index_files.entry(path).to_dict()
        vocab = index_dir / f"bm25-{field}-{gen}-vocab.json"
        index_files.atomic_write(vocab, _save_json(meta.pop("stem_to_sid")))
        files["vocab"] = index_files.entry(vocab).to_dict()
        out[field] = dict(meta, files=files)
    return out


def names(entry: Mapping[str, Any]) -> set[str]:
    """The file names a manifest's ``"lexical"`` lists."""
    return {str(f["name"]) for field in ("chunk", "context") for f in entry[field]["files"].values()}


def _load_array(index_dir: Path, item: object, full: bool) -> np.ndarray:
    path = index_files.check(index_dir, FileEntry.from_dict(item), full)
    if path.stat().st_size > MMAP_BYTES:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    else:
        array = np.load(path, allow_pickle=False)
    if array.ndim != 1:
        raise ValueError(f"{path.name} is not a vector")
    return array


def load(index_dir: Path, entry: Mapping[str, Any], chunks: int, full: bool = False) -> Lexical:
    """The saved BM25 indexes of an index of ``chunks`` chunks, memory-mapped (``full``: every
    file hashed, see ``index_files.check``).

    Raises:
        ValueError, OSError, KeyError, TypeError: a file is missing, damaged or foreign.
    """
    if entry.get("format") != FORMAT:
        raise ValueError(f"BM25 format {entry.get('format')!r}, not {FORMAT}")
    loaded = {}
    doc_of = np.zeros(0, np.int64)
    for field in ("chunk", "context"):
        spec = entry[field]
        files = spec["files"]
        arrays = {role: _load_array(index_dir, files[role], full) for role in ARRAYS}
        vocab = index_files.check(index_dir, FileEntry.from_dict(files["vocab"]), full).read_text("utf-8")
        bm25 = GroupedBM25.from_arrays(arrays, dict(spec, stem_to_sid=json.loads(vocab)))
        if field == "context":
            doc_of = _load_array(index_dir, files["doc_of"], full)
            if len(doc_of) != chunks or (chunks and not 0 <= int(doc_of.min()) <= int(doc_of.max())
                                         < bm25.size):
                raise ValueError("the BM25 context documents do not fit the chunks")
        elif bm25.size != chunks:
            raise ValueError(f"the BM25 index has {bm25.size} chunks, the index {chunks}")
        loaded[field] = bm25
    return Lexical(loaded["chunk"], loaded["context"], doc_of)


__all__ = ["Lexical", "build", "chunk_bm25", "context_bm25", "load", "names", "save"]
