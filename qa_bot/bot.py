"""The Python API: open a corpus folder, keep its index in step, answer questions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import index as index_mod
from . import index_lock, inputs, uploads
from .answers import Result, assemble
from .config import DEFAULT_CORPUS, DEFAULT_INDEX, Settings
from .embedding import Embedder, SentenceTransformerEmbedder
from .errors import QuestionError, TranscriptError
from .parsers.base import META_SUFFIX, Transcript, TurnKind
from .parsers.corpus import load_corpus, load_file
from .retrieval import Retriever
from .stores.base import Store
from .stores.sync import store_for

log = logging.getLogger(__name__)
INDEX_SUBDIR = ".qa_bot-index"
MAX_LISTED = 20  # known speakers named in an error; a corpus can have hundreds


def default_index_dir(corpus: Path) -> Path:
    """The default corpus keeps its index in ``embeddings/``; any other in ``<corpus>/.qa_bot-index``."""
    if corpus.resolve() == DEFAULT_CORPUS.resolve():
        return DEFAULT_INDEX
    return corpus / INDEX_SUBDIR


class QaBot:
    """Questions in, verified quotes out, over one corpus folder.

    Build with ``QaBot.open`` (or ``qa_bot.load``); then ``ask``.
    """

    def __init__(self, corpus: Path, index_dir: Path | None, settings: Settings,
                 embedder: Embedder) -> None:
        self.corpus = corpus
        self.index_dir = index_dir
        self.settings = settings
        self.embedder = embedder
        self.uploads = uploads.uploads_dir(settings, corpus, index_dir)
        self.transcripts: dict[str, Transcript] = {}
        self.uploaded: tuple[str, ...] = ()  # the transcripts that are uploads, removable
        self.errors: list[TranscriptError] = []
        self.report = index_mod.SyncReport()
        self._lock = threading.RLock()  # held only to swap or read the loaded state
        self._refresh_lock = threading.RLock()  # one refresh or addition at a time
        self._index: index_mod.Index | None = None
        self._retriever: Retriever | None = None
        self._store: Store | None = None  # a Milvus store, kept open across refreshes
        self._speakers: dict[str | None, list[str]] = {}  # per transcript scope, for this index

    @classmethod
    def open(cls, corpus: str | Path = DEFAULT_CORPUS, index_dir: str | Path | None = None,
             settings: Settings | None = None, embedder: Embedder | None = None,
             progress: index_mod.Progress | None = None, save: bool = True) -> QaBot:
        """Load a corpus and its saved index, embedding only what is new or changed.

        Args:
            corpus: the folder of transcripts.
            index_dir: where its index is saved (default: see ``default_index_dir``).
            settings: defaults to ``Settings.from_env()``.
            embedder: defaults to the configured sentence-transformers model.
            progress: called as ``progress(done, total, description)`` while embedding.
            save: write the index back when it changed.

        Returns:
            A ready bot; ``bot.errors`` lists the files that could not be parsed.
        """
        corpus = Path(corpus)
        settings = settings or Settings.from_env()
        if index_dir is None:
            index_dir = default_index_dir(corpus)
        embedder = embedder or SentenceTransformerEmbedder(
            settings.model, settings.device, settings.batch_size, settings.backend,
            settings.threads or None, Path(settings.cache) if settings.cache else None)
        bot = cls(corpus, Path(index_dir), settings, embedder)
        bot.refresh(progress, save=save)
        return bot

    def refresh(self, progress: index_mod.Progress | None = None, save: bool = True
                ) -> index_mod.SyncReport:
        """Re-read the corpus folder and bring the index up to date; questions asked meanwhile
        are answered from the index as it was."""
        with self._refresh_lock:
            transcripts, errors = load_corpus(self.corpus, self.settings.max_file_bytes)
            added, failed = uploads.load_uploads(self.uploads, {t.name for t in transcripts},
                                                 self.settings.max_file_bytes)
            transcripts, errors = transcripts + added, errors + failed
            index, report = index_mod.sync(transcripts, self.index_dir, self.embedder,
                                           self.settings, progress, save)
            by_name = {t.name: t for t in transcripts}
            self._store = store_for(self.settings.store, self._store, index, by_name)
            retriever = Retriever(index, self.settings, by_name, self._store)
            # Here, while questions are still answered by the old retriever, rather than on the
            # first question after a load or an upload.
            retriever.prepare()
            with self._lock:
                self.transcripts = by_name
                self.uploaded = tuple(t.name for t in added)
                self.errors = errors
                self.report = report
                self._index = index
                self._retriever = retriever
                self._speakers = {}
        return report

    def retriever(self, settings: Settings | None = None) -> Retriever:
        """A retriever over the loaded index, wired like the bot's own, with other settings
        (the evaluation compares fusion weights this way, re-embedding and rebuilding nothing)."""
        with self._lock:
            retriever = self._retriever
        assert retriever is not None
        return retriever if settings is None else retriever.with_settings(settings)

    def add_transcript(self, filename: str, data: bytes, fmt: str | None = None,
                       progress: index_mod.Progress | None = None,
                       cancel: threading.Event | None = None) -> Transcript:
        """Add a transcript file to the uploads folder and index it; a bad file changes nothing.

        Args:
            cancel: once set, the addition stops at the next batch of passages and nothing is
                changed: no file is kept, the index is as it was (Cancelled is raised).

        Raises:
            TranscriptError: the name, the size (``max_upload_mb``, ``max_file_bytes``) or the
                content is not acceptable, or the corpus or the uploads have a transcript of that
                name (or stem) already; nothing was written.
            Cancelled: ``cancel`` was set before the index was saved; nothing was changed.
        """
        from .parsers.corpus import parse

        name = uploads.check_name(filename)
        uploads.check_size(name, len(data), self.settings)
        if not data.removeprefix(b"\xef\xbb\xbf").strip():
            raise TranscriptError(name, "the file is empty")
        parsed = parse(name, data, fmt=fmt, path=Path(name))  # raises before anything is written
        if not any(t.kind in (TurnKind.SPEECH, TurnKind.NARRATION) for t in parsed.turns):
            raise TranscriptError(name, "no text to search: nothing in the file can be quoted")
        if self.uploads is None:
            raise TranscriptError(name, "this bot has no uploads folder (open it with an index folder)")
        # The check and the write as one step, across processes too: no upload clobbers another.
        with self._refresh_lock, index_lock.hold(self.index_dir, self.settings.lock_timeout):
            uploads.stop_if_cancelled(name, cancel)  # pressed while it waited for another upload
            other = uploads.clash(name, self.corpus, self.uploads, set(self.transcripts))
            if other:
                raise TranscriptError(name, other)
            target = uploads.write(self.uploads, name, data)
            try:
                self.refresh(uploads.cancellable(name, progress, cancel))
            except BaseException:  # cancelled or failed: the index was not saved; the file goes too
                target.unlink(missing_ok=True)
                raise
        return load_file(target, self.uploads)

    def remove_transcript(self, name: str, progress: index_mod.Progress | None = None) -> Transcript:
        """Remove an uploaded transcript: its file goes, and its passages leave the index; nothing
        else is re-embedded. A failure changes nothing.

        Raises:
            TranscriptError: no transcript has that name, or it is a corpus file (only uploads
                can be removed; the corpus folder is left as it is).
        """
        with self._refresh_lock, index_lock.hold(self.index_dir, self.settings.lock_timeout):
            found = [name] if name in self.transcripts else \
                [n for n in self.transcripts if name and Path(n).stem == name]
            if len(found) != 1:
                known = ", ".join(self.uploaded) or "none"
                raise TranscriptError(name or "(no name)", f"no transcript of that name to remove "
                                                           f"(uploaded: {known})")
            name = found[0]
            if name not in self.uploaded or self.uploads is None:
                raise TranscriptError(name, f"part of the corpus folder {self.corpus}/, not an upload: "
                                            "only uploaded transcripts can be removed")
            removed, path = self.transcripts[name], self.uploads / name
            # Hidden first, deleted once the index is rewritten: a failure on the way puts it back.
            hidden = uploads.set_aside(path) if path.exists() else None
            try:
                self.refresh(progress)
            except BaseException:
                if hidden is not None:
                    hidden.replace(path)
                raise
            if hidden is not None:
                hidden.unlink(missing_ok=True)
            path.with_name(path.name + META_SUFFIX).unlink(missing_ok=True)
        return removed

    def source_path(self, name: str) -> Path:
        """The file a loaded transcript was read from: in the corpus folder or the uploads."""
        if name in self.uploaded and self.uploads is not None:
            return self.uploads / name
        return self.corpus / name

    @property
    def index(self) -> index_mod.Index:
        assert self._index is not None
        return self._index

    def speakers(self, transcript: str | None = None) -> list[str]:
        """Names of the speakers with quotable words, in order of first appearance."""
        with self._lock:
            cache, chunks = self._speakers, self.index.chunks
        if transcript not in cache:  # a pass over every chunk: once per scope and index
            seen: dict[str, None] = {}
            for chunk in chunks:
                if chunk.speaker and (transcript is None or chunk.transcript == transcript):
                    seen.setdefault(chunk.speaker)
            cache[transcript] = list(seen)
        return list(cache[transcript])

    def resolve_speaker(self, name: str | None, transcript: str | None = None) -> str | None:
        """A speaker's name as the transcripts spell it, from any case; QuestionError when no one
        of that name has words to search (in ``transcript``, a resolved name, when given)."""
        wanted = " ".join((name or "").split())
        if not wanted:
            return None
        known = self.speakers(transcript)
        found = {s.casefold(): s for s in known}.get(wanted.casefold())
        if found is not None:
            return found
        listed = ", ".join(known[:MAX_LISTED]) or "none"
        if len(known) > MAX_LISTED:
            listed += f" (and {len(known) - MAX_LISTED} more)"
        where = f" in {transcript}" if transcript else ""
        raise QuestionError(f"speaker: no speaker named {wanted[:80]!r}{where} (known: {listed})")

    def resolve_transcript(self, name: str | None) -> str | None:
        """A transcript's name from its file name or stem; QuestionError when unknown."""
        if not name:
            return None
        if name in self.transcripts:
            return name
        matches = [t for t in self.transcripts if Path(t).stem == name or Path(t).name == name]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(sorted(self.transcripts)) or "none"
        raise QuestionError(f"transcript: no transcript named {name!r} (known: {known})")

    def ask(self, question: str, top_k: int | None = None, transcript: str | None = None,
            speaker: str | None = None) -> Result:
        """Answer a question with verified quotes.

        Args:
            question: plain-language question.
            top_k: most answers (the first is the answer, the rest support it).
            transcript: only search this transcript (file name or stem).
            speaker: only search this speaker's words.

        Returns:
            The result: ``no_answer`` is true when nothing relevant was found.

        Raises:
            QuestionError: the question is empty or too long, or the scope (transcript or
                speaker) is unknown; the message lists the known ones.
        """
        text = inputs.question(question, self.settings.max_question_chars)
        top_k = inputs.top_k(top_k, self.settings.top_k)
        transcript, speaker = inputs.scope("transcript", transcript), inputs.scope("speaker", speaker)
        with self._lock:
            scope = self.resolve_transcript(transcript)
            retriever, index, transcripts = self._retriever, self.index, self.transcripts
        speaker = self.resolve_speaker(speaker, scope)
        assert retriever is not None
        query = self.embedder.encode([text])[0]
        hits = retriever.search(query, text, top_k * 4, scope, speaker)
        return assemble(text, hits, index, transcripts, top_k, self.settings.no_answer_threshold,
                        self.settings.whole_turn_chars)

    def ask_many(self, requests: Iterable[dict[str, Any]]) -> list[Result]:
        return [self.ask(r["question"], r.get("top_k"), r.get("transcript"), r.get("speaker"))
                for r in requests]
