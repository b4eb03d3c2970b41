"""Files to transcripts: decoding, ``parse`` (bytes to a ``Transcript``), and loading one file or
a whole corpus folder, its sidecar metadata with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from ..errors import TranscriptError
from .base import FORMATS, META_SUFFIX, LineIndex, Metadata, Transcript, TurnKind
from .detect import EXTENSIONS, PARSERS, detect_format
from .structure import link_replies

log = logging.getLogger(__name__)


def fingerprint(data: bytes, meta_bytes: bytes = b"") -> str:
    return hashlib.sha256(data + b"\0" + meta_bytes).hexdigest()


def decode(path: Path, data: bytes) -> str:
    """Decode UTF-8 as every UTF-8 reader does, a BOM kept as U+FEFF, so that offsets index the
    file as ``data.decode("utf-8")`` gives it; raise naming the line of a bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TranscriptError(path, "is UTF-16; save it as UTF-8", 1)
    if b"\0" in data[:8192]:
        raise TranscriptError(path, "looks like a binary file, not a transcript")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte decodes, so count its lines as every parser does.
        before = data[: exc.start].decode("utf-8")
        line = LineIndex(before).line_of(len(before))
        raise TranscriptError(path, f"not valid UTF-8 (byte {exc.start})", line) from None
    return text


def parse(name: str, data: bytes, meta: Metadata | None = None, fmt: str | None = None,
          path: Path | None = None) -> Transcript:
    """Parse one transcript's bytes.

    Args:
        name: the transcript's name (its path relative to the corpus folder).
        data: the file's bytes.
        meta: the sidecar metadata, if any.
        fmt: a format that overrides detection (one of ``FORMATS``).
        path: the file, for error messages; defaults to ``name``.

    Returns:
        The parsed transcript.

    Raises:
        TranscriptError: the file cannot be decoded or parsed; the message names file and line.
    """
    meta = meta or Metadata()
    where = path or Path(name)
    text = decode(where, data)
    # The parsers see a BOM as a space: the same length, so their offsets hold for ``text`` too,
    # and white space, so no turn starts with it, a label after it is found, and JSON parses.
    view = " " + text[1:] if text.startswith("\ufeff") else text
    fmt = fmt or meta.format or detect_format(name, view)
    if fmt not in FORMATS:
        raise TranscriptError(where, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    turns = PARSERS[fmt](view, where, meta)
    turns = link_replies(turns)
    title = meta.title or next((t.text for t in turns if t.kind == TurnKind.TITLE), None) or Path(name).stem
    meta_bytes = json.dumps(meta.__dict__, sort_keys=True, default=list).encode()
    return Transcript(name=name, text=text, format=fmt, title=title, turns=tuple(turns),
                      fingerprint=fingerprint(data, meta_bytes + fmt.encode()), meta=meta)


def corpus_files(corpus: Path) -> list[Path]:
    """The transcript files under a corpus folder, sorted, sidecars and hidden files left out."""
    if not corpus.is_dir():
        raise TranscriptError(corpus, "corpus folder not found")
    root, files = corpus.resolve(), []
    for path in sorted(corpus.rglob("*")):
        if (not path.is_file() or any(part.startswith(".") for part in path.relative_to(corpus).parts)
                or path.name.endswith(META_SUFFIX) or path.suffix.lower() not in EXTENSIONS
                or path.name.lower() in {"readme.md", "license", "license.txt"}):
            continue
        # A symlink out of the folder is not followed: the corpus must not serve any file it names.
        if not (target := path.resolve()).is_relative_to(root):
            log.warning("skipped %s: a symlink to %s, outside %s; not followed", path, target, corpus)
        else:
            files.append(path)
    return files


def load_file(path: Path, corpus: Path, fmt: str | None = None,
              max_bytes: int | None = None) -> Transcript:
    """Read and parse one transcript file of a corpus folder."""
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise TranscriptError(path, f"file is larger than the {max_bytes:,}-byte limit")
        meta = Metadata.read(path.with_name(path.name + META_SUFFIX))
        data = path.read_bytes()
    except OSError as exc:  # unreadable (permissions, vanished): report it, load the rest
        raise TranscriptError(path, f"cannot be read: {exc.strerror or exc}") from None
    return parse(path.relative_to(corpus).as_posix(), data, meta, fmt, path)


def load_corpus(corpus: str | Path, max_bytes: int | None = None
                ) -> tuple[list[Transcript], list[TranscriptError]]:
    """Load every transcript under ``corpus``; a bad file is reported, the others still load.

    Returns:
        The parsed transcripts (sorted by name) and the errors of the files that failed.
    """
    corpus = Path(corpus)
    transcripts, errors = [], []
    for path in corpus_files(corpus):
        try:
            transcripts.append(load_file(path, corpus, max_bytes=max_bytes))
        except TranscriptError as exc:
            log.warning("skipped %s", exc)
            errors.append(exc)
        except Exception as exc:  # a parser bug: this file is skipped, never the whole corpus
            log.exception("could not parse %s", path)
            errors.append(TranscriptError(path, f"could not be parsed ({type(exc).__name__}); "
                                                "it is logged"))
    return transcripts, errors
