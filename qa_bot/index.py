"""The index kept in step with the corpus: what to reuse, what to embed, and when to save.

The folder's layout, and reading and writing it, are ``index_store.py``'s; one writer at a time
per folder is ``index_lock.py``'s; building and searching the FAISS indexes is ``vectors.py``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import index_check, index_lock, lexical_files
from .chunking import MAX_CHUNK_CHARS, QUOTABLE, Chunk, chunk_transcript
from .chunking import embed_text as embed_text
from .config import Settings
from .embedding import Embedder

# Re-exported: the app, bench/ and tests use them from here.
from .index_store import MANIFEST as MANIFEST
from .index_store import Index as Index
from .index_store import TurnKey as TurnKey
from .index_store import add_lexical
from .index_store import load as load
from .index_store import write as write
from .manifest import IndexKey, Manifest, TranscriptEntry
from .parsers.base import Transcript, TurnKind
from .vectors import ChunkVectors, chunk_index

# Re-exported, as ChunkVectors and chunk_index are by the line above: bench/ and tests import them
# from here. EXACT_LIMIT is not, so that a patch of it here, which chunk_index would never see,
# fails loudly instead of silently testing the flat index.
from .vectors import ivf_lists as ivf_lists
from .vectors import ivf_probes as ivf_probes

log = logging.getLogger(__name__)
FORMAT_VERSION = 3
# Bump when parsing or chunking gives other turns or chunks for the same file: the saved chunks
# would no longer match what the files parse to, so every index is re-embedded once. An explicit
# number, not a digest of the source, so that editing a comment re-embeds nothing;
# tests/unit/test_parser_version.py fails when the output changes and this number does not.
PARSER_VERSION = 1
Progress = Callable[[int, int, str], None]


@dataclass
class SyncReport:
    """What bringing an index up to date did."""

    embedded: int = 0
    reused: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    saved: bool = False
    warnings: list[str] = field(default_factory=list)


CONTEXT = "context"  # the kind of a turn unit that is a turn read with its neighbours


def context_text(transcript: Transcript, turn: int) -> str:
    """A turn with the turns either side, as the model reads it for the context signal: in
    dialogue the line before says what a reply is about ("Who enters?" is answered by a
    greeting), and in an interview it is the question."""
    turns = transcript.turns[max(0, turn - 1): turn + 2]
    return " ".join(embed_text(t.speaker, t.text) for t in turns)


def unit_keys(transcript: Transcript) -> list[TurnKey]:
    """The interviewer's questions (for the question signal) and every chunked turn read with
    its neighbours (for the context signal); whole turns alone measured no better than their
    chunks."""
    # A key holds the kind as the plain string its JSON record gives back (index_check compares
    # the types of what was saved with what the transcript gives).
    return [TurnKey(transcript.name, t.index, str(t.kind)) for t in transcript.turns
            if t.kind == TurnKind.QUESTION] \
        + [TurnKey(transcript.name, t.index, CONTEXT) for t in transcript.turns if t.kind in QUOTABLE]


def _turn_units(transcript: Transcript) -> list[tuple[TurnKey, str]]:
    """Each of ``unit_keys`` with the text its vector is embedded from."""
    return [(k, transcript.question_text(k.turn) if k.kind == TurnKind.QUESTION
             else context_text(transcript, k.turn)) for k in unit_keys(transcript)]


def parser_version() -> str:
    """What the manifest records of the parsing and chunking code (see ``PARSER_VERSION``)."""
    return str(PARSER_VERSION)


def _settings_key(settings: Settings, embedder: Embedder) -> IndexKey:
    return IndexKey(FORMAT_VERSION, parser_version(), embedder.name, embedder.weights_sha256,
                    settings.chunk_sentences, settings.chunk_stride, MAX_CHUNK_CHARS)


def sync(transcripts: Sequence[Transcript], index_dir: Path | None, embedder: Embedder,
         settings: Settings, progress: Progress | None = None, save: bool = True
         ) -> tuple[Index, SyncReport]:
    """Bring the index of ``index_dir`` up to date with ``transcripts``, embedding only what changed.

    Args:
        transcripts: the corpus as parsed now.
        index_dir: where the index is saved (None: keep it in memory only).
        embedder: the model; its name and weights hash must match the saved index's.
        settings: chunking settings.
        progress: called as ``progress(done, total, description)`` while embedding.
        save: write the updated index back when anything changed.

    Returns:
        The index in memory and a report of what was reused, embedded and saved.

    Raises:
        IndexBusyError: another process kept writing ``index_dir`` for ``settings.lock_timeout``.
    """
    # A writer holds the folder's lock from reading the saved index to switching the manifest: a
    # second one waits, then reads the first one's index and embeds nothing it saved.
    with index_lock.hold(Path(index_dir) if index_dir and save else None, settings.lock_timeout) as locked:
        return _sync(transcripts, index_dir, embedder, settings, progress, save, locked)


def _sync(transcripts: Sequence[Transcript], index_dir: Path | None, embedder: Embedder,
          settings: Settings, progress: Progress | None, save: bool, locked: bool
          ) -> tuple[Index, SyncReport]:
    report = SyncReport()
    old = load(index_dir, report.warnings, settings.verify_index.lower() == "full") if index_dir else None
    key = _settings_key(settings, embedder)
    if old is not None and old.manifest.key != key:
        log.info("index settings or model changed: re-embedding everything")
        old = None
    old_entries = old.manifest.transcripts if old else {}
    names = {t.name for t in transcripts}
    report.removed = sorted(set(old_entries) - names)

    reusable = {t.name for t in transcripts if old is not None and (entry := old_entries.get(t.name))
                and entry.fingerprint == t.fingerprint
                and not index_check.doctored(old, t, unit_keys(t), report.warnings)}
    if old is not None and len(reusable) == len(transcripts) and not report.removed \
            and (old.lexical is not None or not (index_dir and save)) \
            and _same_layout(transcripts, old_entries):
        # Nothing changed: the saved index is served as read (its vectors, records and BM25
        # files), not copied row by row into a new one, which took half a restart at 1M chunks.
        # (Saved without BM25 files, it takes the path below, which adds them.)
        report.reused = [t.name for t in transcripts]
        log.info("embedded 0 texts (%d transcripts reused)", len(report.reused))
        return old, report

    chunk_parts: list[tuple[list[Chunk], np.ndarray | None]] = []
    turn_parts: list[tuple[list[TurnKey], np.ndarray | None]] = []
    to_embed: list[str] = []
    for t in transcripts:
        entry = old_entries.get(t.name)
        if old is not None and t.name in reusable:
            (c0, c1), (u0, u1) = old.ranges(t.name)
            vectors = old.chunk_vectors.reconstruct_n(c0, c1 - c0) if c1 > c0 else None
            chunk_parts.append((old.chunks[c0:c1], vectors))
            turn_parts.append((old.turn_keys[u0:u1], old.turn_vectors[u0:u1]))
            report.reused.append(t.name)
            continue
        (report.changed if entry else report.added).append(t.name)
        chunks = chunk_transcript(t, settings.chunk_sentences, settings.chunk_stride)
        units = _turn_units(t)
        chunk_parts.append((chunks, None))
        turn_parts.append(([k for k, _ in units], None))
        to_embed += [embed_text(c.speaker, c.text) for c in chunks] + [text for _, text in units]

    vectors = _encode(embedder, to_embed, progress)
    report.embedded = len(to_embed)
    log.info("embedded %d texts (%d transcripts reused, %d added, %d changed, %d removed)",
             report.embedded, len(report.reused), len(report.added), len(report.changed),
             len(report.removed))
    dim = embedder.dimension if to_embed or old is None else old.manifest.dimension
    index = _assemble(transcripts, chunk_parts, turn_parts, vectors, dim, key,
                      old.chunk_vectors if old is not None else None)
    # Save whenever the manifest would differ, even when nothing needed embedding (a transcript
    # that changed to one with no quotable text), or every restart would report it changed.
    writing = bool(index_dir and save and (report.added or report.changed or report.removed or old is None))
    same = old is not None and not writing and \
        list(old.manifest.transcripts.items()) == list(index.manifest.transcripts.items())
    if same and old is not None:
        index.lexical = old.lexical  # the saved BM25 indexes, memory-mapped, when it has them
    if index_dir and save and index.lexical is None:  # saved beside the vectors (below)
        index.lexical = _lexical(index, transcripts)
    if same and old is not None and old.lexical is None and index_dir and locked:
        # An index saved without its BM25 indexes, or with damaged ones: add them, now built.
        index.manifest = old.manifest
        try:
            add_lexical(index, Path(index_dir), sweep=True)
        except OSError as exc:
            log.warning("could not save the BM25 index to %s (%s); it is rebuilt at each start",
                        index_dir, exc)
    if writing and index_dir:
        try:
            write(index, Path(index_dir), sweep=locked)
            report.saved = True
        except OSError as exc:
            message = f"could not save the index to {index_dir} ({exc}); serving it from memory"
            log.warning(message)
            report.warnings.append(message)
    return index, report


def _same_layout(transcripts: Sequence[Transcript], entries: Mapping[str, TranscriptEntry]) -> bool:
    """Whether ``_assemble`` would give reused ``transcripts`` the saved ``entries`` as they are:
    the same names in the same order (the saved row ranges tile them in that order, which the
    loader checked) with the same titles and formats (fingerprints are compared by the caller)."""
    return list(entries) == [t.name for t in transcripts] and all(
        (entries[t.name].title, entries[t.name].format) == (t.title, t.format) for t in transcripts)


def _lexical(index: Index, transcripts: Sequence[Transcript]) -> lexical_files.Lexical:
    """The BM25 indexes of ``index``'s chunks, as the embedded store would build them."""
    by_name = {t.name: t for t in transcripts}

    def context_of(_: int, c: Chunk) -> str:
        t = by_name.get(c.transcript)
        return context_text(t, c.turn) if t is not None else embed_text(c.speaker, c.text)

    return lexical_files.build(index.chunks, context_of)


def _encode(embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    step = 256  # big enough for the model to batch by length, small enough to show progress
    parts = []
    if progress:
        progress(0, len(texts), "embedding")
    for at in range(0, len(texts), step):
        parts.append(embedder.encode(texts[at:at + step]))
        if progress:
            progress(min(at + step, len(texts)), len(texts), "embedding")
    return _normalised(np.vstack(parts))


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """Unit rows (a zero row stays zero): inner product is then cosine whatever the embedder."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _assemble(transcripts: Sequence[Transcript], chunk_parts: list, turn_parts: list,
              fresh: np.ndarray, dim: int, key: IndexKey,
              previous: ChunkVectors | None = None) -> Index:
    chunks: list[Chunk] = []
    turn_keys: list[TurnKey] = []
    chunk_vecs, turn_vecs = [], []
    entries: dict[str, TranscriptEntry] = {}
    at = 0
    for t, (cs, cv), (tk, tv) in zip(transcripts, chunk_parts, turn_parts, strict=True):
        if cv is None and cs:
            cv, at = fresh[at:at + len(cs)], at + len(cs)
        if tv is None and tk:
            tv, at = fresh[at:at + len(tk)], at + len(tk)
        entries[t.name] = TranscriptEntry(t.fingerprint, t.title, t.format,
                                          (len(chunks), len(chunks) + len(cs)),
                                          (len(turn_keys), len(turn_keys) + len(tk)))
        chunks += cs
        turn_keys += tk
        if cs:
            chunk_vecs.append(cv)
        if tk:
            turn_vecs.append(tv)

    def stack(parts: list[np.ndarray]) -> np.ndarray:
        return np.vstack(parts).astype(np.float32) if parts else np.zeros((0, dim), np.float32)

    return Index(Manifest(key, dim, entries, len(chunks)), chunks,
                 chunk_index(stack(chunk_vecs), dim, previous), turn_keys, stack(turn_vecs))


__all__ = ["Index", "SyncReport", "TurnKey", "embed_text", "load", "sync", "write"]
