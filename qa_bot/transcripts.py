"""Transcript files to turns: the values, format detection and corpus loading.

Every ``Turn`` keeps exact character offsets into its file's decoded text, and
``turn.text == transcript.text[turn.start:turn.end]`` always holds: that invariant is what lets
every quote be checked against the source later. The per-format parsers live in ``formats.py``
(subtitles in ``subtitles.py``).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import TranscriptError

log = logging.getLogger(__name__)

FORMATS = ("interview", "labelled", "plain", "srt", "vtt", "json", "jsonl")
EXTENSIONS = {".txt": None, ".md": None, ".srt": "srt", ".vtt": "vtt", ".json": "json",
              ".jsonl": "jsonl", ".ndjson": "jsonl"}
META_SUFFIX = ".meta.json"
# A line ends at CRLF, LF or a lone CR (old Mac files), as in an editor; every parser splits lines
# with this same pattern so that the line numbers it reports agree with ``line_of``.
LINE_BREAK = re.compile(r"\r\n|\r|\n")

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
            # No offsets point into a sidecar, so a BOM (Windows Notepad writes one) may go.
            raw = load_json(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise TranscriptError(path, f"metadata is not valid UTF-8 JSON: {exc}", line) from None
        if not isinstance(raw, dict):
            raise TranscriptError(path, "metadata must be a JSON object", 1)
        person = raw.get("interviewee") or {}
        if isinstance(person, str):
            person = {"name": person}
        if not isinstance(person, dict):
            raise TranscriptError(path, "field 'interviewee' must be a name or an object")
        fmt = raw.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise TranscriptError(path, f"field 'format': {fmt!r} is not one of {', '.join(FORMATS)}")
        roles = raw.get("speaker_roles") or {}
        if not isinstance(roles, dict):
            raise TranscriptError(path, "field 'speaker_roles' must be an object of name: role")
        roles = {str(k): str(v) for k, v in roles.items()}
        aliases = person.get("aliases") or ()
        # A lone string would otherwise become a tuple of its letters.
        aliases = (aliases,) if isinstance(aliases, str) else aliases
        if not isinstance(aliases, list | tuple) or not all(isinstance(a, str) for a in aliases):
            raise TranscriptError(path, "field 'interviewee.aliases' must be a list of names")
        texts = {key: raw.get(key) for key in ("title", "interviewer", "photo_credit")}
        texts.update({f"interviewee.{key}": person.get(key) for key in ("name", "role")})
        for key, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise TranscriptError(path, f"field {key!r} must be a string")
        if person.get("name") and person.get("role"):
            roles.setdefault(person["name"], person["role"])
        return cls(title=raw.get("title"), format=fmt, interviewee=person.get("name"),
                   interviewee_role=person.get("role"), aliases=tuple(aliases),
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

    def question_text(self, index: int) -> str:
        """The question of turn ``index`` whole: with the question turns of the same speaker right
        before it, as when a question runs over several subtitle cues."""
        first = index
        while first > 0 and self.turns[first - 1].kind == QUESTION \
                and self.turns[first - 1].speaker == self.turns[index].speaker:
            first -= 1
        return " ".join(t.text for t in self.turns[first:index + 1])

    def role_of(self, speaker: str | None) -> str | None:
        return self.meta.speaker_roles.get(speaker) if speaker else None


class LineIndex:
    """Maps character offsets to 1-based line numbers by bisecting the line start positions."""

    def __init__(self, text: str) -> None:
        self._starts = [m.end() for m in LINE_BREAK.finditer(text)]

    def line_of(self, offset: int) -> int:
        # A line break belongs to the line it ends, so only starts at or before offset count.
        return bisect.bisect_right(self._starts, offset) + 1


@lru_cache(maxsize=16)
def line_index(text: str) -> LineIndex:
    """The (cached) line index of a text; bounded, so that a long-running server's reloads
    do not keep every text it ever parsed alive."""
    return LineIndex(text)


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
    # A ".txt" file may open with "[Scene: ...]" or "[Music]": it is JSON only if it parses.
    return formats.sniff_json(text) or formats.sniff_text(text)


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
    from . import formats, structure

    meta = meta or Metadata()
    where = path or Path(name)
    text = decode(where, data)
    # The parsers see a BOM as a space: the same length, so their offsets hold for ``text`` too,
    # and white space, so no turn starts with it, a label after it is found, and JSON parses.
    view = " " + text[1:] if text.startswith("\ufeff") else text
    fmt = fmt or meta.format or detect_format(name, view)
    if fmt not in FORMATS:
        raise TranscriptError(where, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    turns = formats.PARSERS[fmt](view, where, meta)
    turns = structure.link_replies(turns)
    title = meta.title or next((t.text for t in turns if t.kind == TITLE), None) or Path(name).stem
    meta_bytes = json.dumps(meta.__dict__, sort_keys=True, default=list).encode()
    return Transcript(name=name, text=text, format=fmt, title=title, turns=tuple(turns),
                      fingerprint=fingerprint(data, meta_bytes + fmt.encode()), meta=meta)


def load_json(text: str) -> Any:
    """``json.loads``, with every way a hostile text can fail it raised as a JSONDecodeError.

    Deep nesting ("[" * 100000) overflows the decoder's stack and an integer of thousands of
    digits exceeds Python's int-conversion limit: neither is a JSONDecodeError, so callers that
    report bad JSON with its line would let them escape as a traceback.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError(str(exc).split(";")[0], text, 0) from None


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
