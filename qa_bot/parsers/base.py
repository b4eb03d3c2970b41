"""The values every parser makes and every later step reads: turns, transcripts, their metadata.

Every ``Turn`` keeps exact character offsets into its file's decoded text, and
``turn.text == transcript.text[turn.start:turn.end]`` always holds: that invariant is what lets
every quote be checked against the source later. ``Parser`` is what a format's parser is.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import TranscriptError

FORMATS = ("interview", "labelled", "plain", "srt", "vtt", "json", "jsonl")
META_SUFFIX = ".meta.json"
# A line ends at CRLF, LF or a lone CR (old Mac files), as in an editor; every parser splits lines
# with this same pattern so that the line numbers it reports agree with ``line_of``.
LINE_BREAK = re.compile(r"\r\n|\r|\n")



class TurnKind(StrEnum):
    """What a turn is. Only speech and narration are quoted as answers; an interviewer's question
    is matched against the user's question instead, and a title just names the transcript.

    Each member equals its string, so JSON, saved records and comparisons with a kind read back
    from them see "speech", "question", ... as before.
    """

    SPEECH = "speech"
    QUESTION = "question"
    NARRATION = "narration"
    TITLE = "title"


# The kinds by their old names, for the tests that build turns with them.
SPEECH, QUESTION, NARRATION, TITLE = TurnKind.SPEECH, TurnKind.QUESTION, TurnKind.NARRATION, TurnKind.TITLE


@dataclass(frozen=True)
class Turn:
    """One speaker's uninterrupted words (or a line of narration) with its place in the file."""

    index: int
    kind: TurnKind
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
        while first > 0 and self.turns[first - 1].kind == TurnKind.QUESTION \
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


# A format's parser: (decoded text, the file for error messages, its metadata) to turns, in order,
# not yet numbered nor linked (``structure.link_replies`` does that for every format).
Parser = Callable[[str, Path, Metadata], list[Turn]]
