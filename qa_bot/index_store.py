"""The saved index on disk: FAISS over unit vectors, chunk records in JSON Lines, a JSON manifest.

Layout of an index folder (never pickle)::

    manifest.json          model, weights hash, dimension, chunk settings, per-transcript
                           fingerprints and row ranges, and the SHA-256 of every data file
                           (read and written as the typed values of manifest.py)
    chunks-<gen>.faiss     one vector per quotable chunk
    chunks-<gen>.jsonl     one chunk record per line, in the same order
    turns-<gen>.faiss      one vector per interviewer's question
    turns-<gen>.jsonl      which turn each of those vectors is
    bm25-<field>-<gen>-*   the BM25 indexes of the chunks and of their turns in context, as
                           .npy arrays and a JSON vocabulary (lexical_files.py), memory-mapped
    .lock                  the writers' lock (index_lock.py)

Each data file is checked against its manifest entry at load (index_files.py: the SHA-256,
computed only when the file's size or time changed since it was written). A damaged BM25 file
costs only the BM25 indexes, rebuilt from the chunks with a warning; any other costs the index.

Writes are atomic: the data files of a new generation are written first, then ``manifest.json``
is replaced in one rename, so a crash at any point leaves the previous index whole. The
generation it replaced stays until the next write, for readers that had just read its name.

This module reads and writes the folder; keeping the index in step with the corpus is
``index.py``'s job, and building and searching the FAISS indexes themselves ``vectors.py``'s.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import index_check, index_files, lexical_files
from .chunking import Chunk
from .index_files import atomic_write as _atomic_write
from .manifest import Manifest
from .vectors import ChunkVectors, flat_index, read_faiss, write_faiss

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
READ_TRIES = 3


@dataclass(frozen=True)
class TurnKey:
    """Which turn a row of the turn vectors stands for."""

    transcript: str
    turn: int
    kind: str


@dataclass
class Index:
    """An index in memory: chunks and turns with their vectors, and where it is saved."""

    manifest: Manifest
    chunks: list[Chunk]
    chunk_vectors: Any  # ChunkVectors (the face of a faiss.Index)
    turn_keys: list[TurnKey]
    turn_vectors: np.ndarray
    lexical: lexical_files.Lexical | None = None  # the chunks' BM25 indexes, when at hand

    def ranges(self, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
        entry = self.manifest.transcripts[name]
        return entry.chunks, entry.turns


def _records(path: Path) -> list[str]:
    # Split on "\n" alone: a record may hold U+2028 or U+0085, which splitlines() would break.
    # Every record ends in "\n" and none is empty, so that a warning can name a record's line.
    lines = path.read_text("utf-8").split("\n")
    if lines.pop() or "" in lines:
        raise ValueError(f"{path.name} is not one record a line")
    return lines


def _parsed(path: Path) -> list[Any]:
    """The JSON value of each record of ``path``: parsed as one JSON array (a single call to the
    decoder, half the time of a call a line at a million records), or line by line to name the
    line when that fails or a line holds more than one value."""
    lines = _records(path)
    try:
        values = json.loads("[" + ",".join(lines) + "]")
        if len(values) == len(lines):
            return values
    except ValueError:
        pass
    for number, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path.name} line {number} is not a JSON record ({exc})") from None
    raise ValueError(f"{path.name} has a line that is more than one JSON record")


def load(index_dir: Path, problems: list[str] | None = None, full_check: bool = False) -> Index | None:
    """Read a saved index, or None (with a warning) when it is missing, partial or altered.

    Reading takes no lock (a read-only folder must still serve): a writer that switches the
    manifest meanwhile keeps the generation it replaced, and should a read still fail, it is
    tried again while the manifest keeps changing under it.

    Args:
        index_dir: the index folder.
        problems: when given, why a saved index was unusable is appended to it.
        full_check: hash every data file, not only those whose size or time changed
            (``Settings.verify_index``, index_files.py).
    """
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        return None
    for tries_left in reversed(range(READ_TRIES)):
        text = None
        try:
            text = path.read_bytes()
            index = _read(Path(index_dir), Manifest.from_dict(json.loads(text.decode("utf-8"))), full_check)
            index.lexical = _read_lexical(Path(index_dir), index, problems, full_check)
            return index
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError) as exc:
            if tries_left and text is not None and _changed(path, text):
                log.info("the index in %s was switched while it was read; reading it again", index_dir)
                continue
            log.warning("saved index in %s is unusable (%s); it will be rebuilt", index_dir, exc)
            if problems is not None:
                problems.append(f"the saved index in {index_dir} was unusable ({exc}); rebuilt it")
            return None
    return None  # not reached: the last try returns or warns


def _changed(path: Path, text: bytes) -> bool:
    try:
        return path.read_bytes() != text
    except OSError:
        return False


def _read(index_dir: Path, manifest: Manifest, full_check: bool) -> Index:
    files = manifest.files
    for entry in files.values():
        index_files.check(index_dir, entry, full_check)
    chunks = [Chunk.from_dict(r) for r in _parsed(index_dir / files["chunks_jsonl"].name)]
    turn_keys = [TurnKey(**r) for r in _parsed(index_dir / files["turns_jsonl"].name)]
    chunk_vectors = ChunkVectors(read_faiss(index_dir / files["chunks_faiss"].name))
    turn_index = read_faiss(index_dir / files["turns_faiss"].name)
    turn_vectors = turn_index.reconstruct_n(0, turn_index.ntotal) if turn_index.ntotal else \
        np.zeros((0, manifest.dimension), dtype=np.float32)
    if chunk_vectors.ntotal != len(chunks) or len(turn_vectors) != len(turn_keys):
        raise ValueError("vector and record counts differ")
    index_check.check_ranges(manifest, chunks, turn_keys, chunk_vectors.d, turn_index.d)
    return Index(manifest, chunks, chunk_vectors, turn_keys, np.asarray(turn_vectors, np.float32))


def _read_lexical(index_dir: Path, index: Index, problems: list[str] | None, full_check: bool
                  ) -> lexical_files.Lexical | None:
    """The saved BM25 indexes, memory-mapped; None when the index has none (written before they
    were saved) or they are damaged: then they are rebuilt from the chunks, with a warning."""
    entry = index.manifest.lexical
    if entry is None:
        return None
    try:
        return lexical_files.load(index_dir, entry, len(index.chunks), full_check)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        message = f"the saved BM25 index in {index_dir} is unusable ({exc}); rebuilt it from the chunks"
        log.warning(message)
        if problems is not None:
            problems.append(message)
        return None


def write(index: Index, index_dir: Path, sweep: bool = False) -> None:
    """Save ``index`` as a new generation, then switch ``manifest.json`` to it in one rename.

    Args:
        index: what to save; its manifest gains the names and checksums of the files.
        index_dir: the index folder.
        sweep: then delete the generations before the one this replaces (which a reader may have
            just opened), and the temporary files of killed writers. Only a writer holding the
            folder's lock (index_lock.py) may: another's would be the files of a writer at work.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = _named_files(index_dir)
    gen = uuid.uuid4().hex[:12]
    turn_index = flat_index(index.turn_vectors, index.manifest.dimension)
    chunk_faiss = getattr(index.chunk_vectors, "index", index.chunk_vectors)
    bodies: dict[str, tuple[str, Callable[[Path], object]]] = {
        "chunks_jsonl": (f"chunks-{gen}.jsonl", lambda p: p.write_text(
            "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in index.chunks),
            encoding="utf-8")),
        "turns_jsonl": (f"turns-{gen}.jsonl", lambda p: p.write_text(
            "".join(json.dumps(k.__dict__) + "\n" for k in index.turn_keys), encoding="utf-8")),
        "chunks_faiss": (f"chunks-{gen}.faiss", lambda p: write_faiss(chunk_faiss, p)),
        "turns_faiss": (f"turns-{gen}.faiss", lambda p: write_faiss(turn_index, p)),
    }
    files = {}
    for role, (name, body) in bodies.items():
        _atomic_write(index_dir / name, body)
        files[role] = index_files.entry(index_dir / name)
    _switch(index, index_dir, replace(index.manifest, files=files), gen, sweep, previous)


def add_lexical(index: Index, index_dir: Path, sweep: bool = False) -> None:
    """Save ``index.lexical`` beside the vectors of the generation ``index`` was read from (an
    index written before the BM25 indexes were saved, or whose BM25 files were damaged), and
    switch ``manifest.json`` to list them: only the BM25 files are written."""
    # Entries written before files were checked by their time: their SHA-256 was checked when
    # ``index`` was read, so their time now is that of the file checked (not hashed again).
    files = {role: entry if entry.mtime_ns is not None else index_files.entry(
        index_dir / index_files.safe_name(entry.name), entry.sha256)
        for role, entry in index.manifest.files.items()}
    _switch(index, index_dir, replace(index.manifest, files=files), uuid.uuid4().hex[:12], sweep,
            _named_files(index_dir))


def _switch(index: Index, index_dir: Path, manifest: Manifest, gen: str, sweep: bool,
            previous: set[str]) -> None:
    """Write the BM25 files (when ``index`` has them) as generation ``gen``, then ``manifest``
    with them (and without the BM25 files it named before)."""
    lexical = None
    if index.lexical is not None:
        lexical = lexical_files.save(index.lexical, index_dir, gen)
        # Served from the files from now on, as after a restart: what was built is let go of.
        with contextlib.suppress(ValueError, KeyError, TypeError, IndexError):
            index.lexical = lexical_files.load(index_dir, lexical, len(index.chunks))
    manifest = replace(manifest, lexical=lexical)
    text = json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False)
    _atomic_write(index_dir / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))
    _fsync_dir(index_dir)
    index.manifest = manifest
    if sweep:
        _sweep(index_dir, _names(manifest) | previous)


def _named_files(index_dir: Path) -> set[str]:
    """The data files the saved manifest names (none when there is none, or it is unreadable:
    then no reader can be using them either)."""
    try:
        return _names(Manifest.from_dict(json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))))
    except (OSError, ValueError):
        return set()


def _names(manifest: Manifest) -> set[str]:
    names = {entry.name for entry in manifest.files.values()}
    try:
        return names | lexical_files.names(manifest.lexical) if manifest.lexical is not None else names
    except (KeyError, TypeError, AttributeError):
        return names


def _sweep(index_dir: Path, keep: set[str]) -> None:
    for stale in index_dir.iterdir():
        if stale.name not in keep and ((stale.suffix in {".faiss", ".jsonl"} and stale.name.startswith(
                ("chunks-", "turns-"))) or (stale.name.startswith("bm25-")
                                            and stale.suffix in {".npy", ".json"})):
            stale.unlink(missing_ok=True)
        elif stale.name.startswith((".chunks-", ".turns-", ".bm25-", f".{MANIFEST}.")) \
                and stale.suffix == ".tmp":
            stale.unlink(missing_ok=True)  # left by a writer killed mid-write


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["MANIFEST", "Index", "TurnKey", "add_lexical", "load", "write"]
