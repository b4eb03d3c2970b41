"""Uploaded transcripts: kept in a user-data folder of their own, never in the corpus folder.

A checkout's ``corpus/`` is tracked by git: a file the app wrote there showed up in ``git status``
and could not be told apart from the corpus, so it could not be removed safely either. Uploads
go to the ``uploads`` setting's folder (default ``<index folder>/uploads``); the bot searches the
corpus folder and this folder together, and a transcript's name is in one or the other, never
both. Only what is here can be removed through the bot.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

from .config import Settings
from .errors import Cancelled, ConfigError, TranscriptError
from .parsers.base import META_SUFFIX, Transcript
from .parsers.corpus import corpus_files, load_file
from .parsers.detect import EXTENSIONS

log = logging.getLogger(__name__)
UPLOADS_SUBDIR = "uploads"
MAX_NAME_BYTES = 200  # file names past this fail on common file systems once ".upload" is added
Progress = Callable[[int, int, str], None]


def check_name(filename: str) -> str:
    """The name an added transcript is saved under, or TranscriptError: a plain file name (no
    folders, no control characters, not hidden, not too long) with a transcript's extension."""
    name = filename
    bad = (not name or name != Path(name).name or "\\" in name or name.startswith(".")
           or name.endswith(META_SUFFIX)
           or any(unicodedata.category(c).startswith("C") for c in name)
           or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES)
    if bad:
        shown = filename.encode("unicode_escape").decode("ascii")[:80] or "(no name)"
        raise TranscriptError(shown, "not an acceptable file name (a plain name, no folders)")
    if Path(name).suffix.lower() not in EXTENSIONS:
        raise TranscriptError(name, f"not a transcript file (use {', '.join(sorted(EXTENSIONS))})")
    return name


def limit_bytes(settings: Settings) -> int:
    """The largest upload accepted: the upload cap, or the corpus files' limit when smaller (an
    upload past that would be refused when the uploads folder is read again)."""
    return min(int(settings.max_upload_mb * 1_000_000), settings.max_file_bytes)


def check_size(name: str, size: int, settings: Settings) -> None:
    """TranscriptError naming the limit and its setting when an upload of ``size`` bytes is too big.

    ``max_upload_mb`` is what indexing an upload within a minute and 1 GB allows (bench/UPLOADS.md);
    ``max_file_bytes`` bounds every transcript file, corpus files too.
    """
    if size > settings.max_file_bytes and settings.max_file_bytes <= settings.max_upload_mb * 1_000_000:
        limit = settings.max_file_bytes
        raise TranscriptError(name, f"file is larger than the {limit:,}-byte limit (QA_BOT_MAX_FILE_BYTES)")
    if size > settings.max_upload_mb * 1_000_000:
        raise TranscriptError(name, f"the file is {size / 1_000_000:.3g} MB, larger than the "
                                    f"{settings.max_upload_mb:g} MB upload limit (QA_BOT_MAX_UPLOAD_MB); "
                                    "split it, or put it in the corpus folder and run `qa-bot index`")


def cancellable(name: str, progress: Progress | None, cancel: threading.Event | None) -> Progress:
    """``progress`` that raises Cancelled once ``cancel`` is set: the indexer calls it between
    batches of passages, before anything is saved, so a cancelled upload changes nothing."""
    def step(done: int, total: int, desc: str) -> None:
        stop_if_cancelled(name, cancel)
        if progress is not None:
            progress(done, total, desc)
    return step


def stop_if_cancelled(name: str, cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{name}: cancelled; it was not added and nothing was changed")


def uploads_dir(settings: Settings, corpus: Path, index_dir: Path | None) -> Path | None:
    """The uploads folder of a bot (None: a bot with no index folder and no setting takes none).

    Raises:
        ConfigError: the folder is the corpus folder, holds it, or lies inside it where its files
            would be read as corpus files (a hidden folder there, as ``.qa_bot-index``, is skipped
            by the corpus loader and so is allowed).
    """
    if settings.uploads:
        folder = Path(settings.uploads)
    elif index_dir is not None:
        folder = Path(index_dir) / UPLOADS_SUBDIR
    else:
        return None
    here, inside = folder.resolve(), Path(corpus).resolve()
    if here == inside or inside.is_relative_to(here):
        raise ConfigError(f"uploads (QA_BOT_UPLOADS): {folder} holds the corpus folder {corpus}; "
                          "uploads need a folder of their own")
    if here.is_relative_to(inside) and not any(p.startswith(".") for p in here.relative_to(inside).parts):
        raise ConfigError(f"uploads (QA_BOT_UPLOADS): {folder} is inside the corpus folder {corpus}, "
                          "whose files are all corpus files; choose a folder outside it")
    return folder


def load_uploads(folder: Path | None, corpus_names: set[str], max_bytes: int | None = None
                 ) -> tuple[list[Transcript], list[TranscriptError]]:
    """Every transcript in the uploads folder (none when it does not exist yet); an upload named
    as a corpus transcript is skipped with an error, the corpus file winning."""
    if folder is None or not folder.is_dir():
        return [], []
    taken = {name.lower(): name for name in corpus_names}
    transcripts, errors = [], []
    for path in corpus_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            if name.lower() in taken:
                raise TranscriptError(path, f"the corpus folder has a transcript of that name "
                                            f"({taken[name.lower()]}); rename or remove this upload")
            transcripts.append(load_file(path, folder, max_bytes=max_bytes))
        except TranscriptError as exc:
            log.warning("skipped %s", exc)
            errors.append(exc)
    return transcripts, errors


def clash(name: str, corpus: Path, folder: Path | None, loaded: set[str]) -> str | None:
    """Why ``name`` cannot be added, or None: a file of that name, or a transcript of that stem
    (``--transcript`` and the filters accept stems), in the corpus folder or the uploads."""
    stem = Path(name).stem.lower()
    in_corpus = [p.name for p in corpus.iterdir()] if corpus.is_dir() else []
    uploaded = [p.name for p in folder.iterdir()
                if not p.name.startswith(".")] if folder is not None and folder.is_dir() else []
    for names, where in ((in_corpus, "in the corpus folder"), (uploaded, "uploaded"),
                         (sorted(loaded), "in the corpus")):
        for other in names:
            if other.lower() == name.lower() or (Path(other).stem.lower() == stem
                                                 and Path(other).suffix.lower() in EXTENSIONS):
                hint = "; remove it first to replace it" if where == "uploaded" else ""
                return f"a transcript of that name is already in the corpus ({other}, {where}){hint}"
    return None


def write(folder: Path, name: str, data: bytes) -> Path:
    """Write an upload whole or not at all: a hidden temporary file (skipped by every loader),
    then one rename."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.upload"
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def set_aside(path: Path) -> Path:
    """Hide an upload from the loaders (a removal in progress) so that it can be put back."""
    hidden = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.removing")
    path.replace(hidden)
    return hidden
