"""Transcript files to turns: the values, format detection and corpus loading.

Every ``Turn`` keeps exact character offsets into its file's decoded text, and
``turn.text == transcript.text[turn.start:turn.end]`` always holds: that invariant is what lets
every quote be checked against the source later. The per-format parsers live in ``formats.py``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TranscriptError

log = logging.getLogger(__name__)

FORMATS = ("interview", "labelled", "plain", "srt", "vtt", "json", "jsonl")
EXTENSIONS = {".txt": None, ".md": None, ".srt": "srt", ".vtt": "vtt", ".json": "json",
              ".jsonl": "jsonl", ".ndjson": "jsonl"}
META_SUFFIX = ".meta.json"

# Turn kinds. Only "speech" and "narration" are quoted as answers; an interviewer's "question"
# is matched against the user's question instead, and a "title" just names the transcript.
SPEECH, QUESTION, NARRATION, TITLE = "speech", "question", "narration", "title"


@dataclass(frozen=True)
class Turn:
    """One speaker's uninterrupted words (or a line of narration) with its place in the file."""

    index: int
    kind: str
    speaker: str | None
    text: str
    start: int
    end: int
    line: int
    start_time: float | None = None
    end_time: float | None = None
    reply_to: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Metadata:
    """What the sidecar ``<file>.meta.json`` says of a transcript; every field is optional."""

    title: str | None = None
    format: str | None = None
    interviewee: str | None = None
    interviewee_role: str | None = None
    aliases: tuple[str, ...] = ()
    interviewer: str | None = None
    photo_credit: str | None = None
    speaker_roles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Metadata:
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise TranscriptError(path, f"metadata is not valid UTF-8 JSON: {exc}", line) from None
        if not isinstance(raw, dict):
            raise TranscriptError(path, "metadata must be a JSON object", 1)
        person = raw.get("interviewee") or {}
        if isinstance(person, str):
            person = {"name": person}
        fmt = raw.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise TranscriptError(path, f"field 'format': {fmt!r} is not one of {', '.join(FORMATS)}")
        roles = {str(k): str(v) for k, v in (raw.get("speaker_roles") or {}).items()}
        if person.get("name") and person.get("role"):
            roles.setdefault(person["name"], person["role"])
        return cls(title=raw.get("title"), format=fmt, interviewee=person.get("name"),
                   interviewee_role=person.get("role"), aliases=tuple(person.get("aliases", ())),
                   interviewer=raw.get("interviewer"), photo_credit=raw.get("photo_credit"),
                   speaker_roles=roles)


@dataclass(frozen=True)
class Transcript:
    """A parsed transcript: its decoded text, its turns and what is known about it."""

    name: str
    text: str
    format: str
    title: str
    turns: tuple[Turn, ...]
    fingerprint: str
    meta: Metadata = field(default_factory=Metadata)

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return line_index(self.text).line_of(offset)

    def role_of(self, speaker: str | None) -> str | None:
        return self.meta.speaker_roles.get(speaker) if speaker else None


class LineIndex:
    """Maps character offsets to 1-based line numbers by bisecting the newline positions."""

    def __init__(self, text: str) -> None:
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1


_line_cache: dict[int, tuple[str, LineIndex]] = {}


def line_index(text: str) -> LineIndex:
    cached = _line_cache.get(id(text))
    if cached is None or cached[0] is not text:
        cached = (text, LineIndex(text))
        _line_cache[id(text)] = cached
    return cached[1]


def fingerprint(data: bytes, meta_bytes: bytes = b"") -> str:
    return hashlib.sha256(data + b"\0" + meta_bytes).hexdigest()


def decode(path: Path, data: bytes) -> str:
    """Decode UTF-8 (a BOM is dropped), or raise naming the line of the first bad byte."""
    if b"\0" in data[:8192]:
        raise TranscriptError(path, "looks like a binary file, not a transcript")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(path, f"not valid UTF-8 (byte {exc.start})", line) from None
    return text[1:] if text.startswith("\ufeff") else text


def detect_format(name: str, text: str) -> str:
    """Pick a format from the file's extension and, for plain text, its content."""
    from . import formats

    by_ext = EXTENSIONS.get(Path(name).suffix.lower())
    if by_ext:
        return by_ext
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if formats.looks_like_srt(text):
        return "srt"
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        return "jsonl" if "\n{" in head.strip() else "json"
    return formats.sniff_text(text)


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
    from . import formats

    meta = meta or Metadata()
    where = path or Path(name)
    text = decode(where, data)
    fmt = fmt or meta.format or detect_format(name, text)
    if fmt not in FORMATS:
        raise TranscriptError(where, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    turns = formats.PARSERS[fmt](text, where, meta)
    turns = formats.link_replies(turns)
    title = meta.title or next((t.text for t in turns if t.kind == TITLE), None) or Path(name).stem
    meta_bytes = json.dumps(meta.__dict__, sort_keys=True, default=list).encode()
    return Transcript(name=name, text=text, format=fmt, title=title, turns=tuple(turns),
                      fingerprint=fingerprint(data, meta_bytes + fmt.encode()), meta=meta)


def corpus_files(corpus: Path) -> list[Path]:
    """The transcript files under a corpus folder, sorted, sidecars and hidden files left out."""
    if not corpus.is_dir():
        raise TranscriptError(corpus, "corpus folder not found")
    files = []
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if path.name.endswith(META_SUFFIX) or path.name.lower() in {"readme.md", "license", "license.txt"}:
            continue
        if path.suffix.lower() in EXTENSIONS:
            files.append(path)
    return files


def load_file(path: Path, corpus: Path, fmt: str | None = None,
              max_bytes: int | None = None) -> Transcript:
    """Read and parse one transcript file of a corpus folder."""
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise TranscriptError(path, f"file is larger than the {max_bytes:,}-byte limit")
    meta = Metadata.read(path.with_name(path.name + META_SUFFIX))
    name = path.relative_to(corpus).as_posix()
    return parse(name, path.read_bytes(), meta, fmt, path)


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
    return transcripts, errors
