"""JSON and JSON Lines: turns as ``{"speaker", "text", "start", "end"}`` objects, in a list, in an
object's ``"turns"`` list, or one a line."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

from ..errors import TranscriptError
from .base import Metadata, Turn, TurnKind, line_index, load_json
from .lines import line_spans, make_turn, speaker_for

# Valid JSON is walked a second time with positions, as json.loads reports none: a quote must
# point at the very string literal it came from, not at the first equal text (a speaker "Ann"
# holds the text "A"; a key "speaker" holds "e").
_DECODER = json.JSONDecoder()


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":  # JSON's own white space, no other
        pos += 1
    return pos


def _json_items(text: str, pos: int) -> Iterator[int]:
    """Start offsets of the items of the valid JSON array opening at ``pos``."""
    pos = _skip_space(text, pos + 1)
    while text[pos] != "]":
        yield pos
        pos = _skip_space(text, _DECODER.raw_decode(text, pos)[1])
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)


def _json_members(text: str, pos: int) -> Iterator[tuple[str, int, int]]:
    """(key, value start, value end) of the members of the valid JSON object opening at ``pos``."""
    pos = _skip_space(text, pos + 1)
    while text[pos] != "}":
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip_space(text, _skip_space(text, pos) + 1)  # past the ":"
        end = _DECODER.raw_decode(text, pos)[1]
        yield key, pos, end
        pos = _skip_space(text, end)
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)


def _member(text: str, pos: int, key: str) -> tuple[int, int] | None:
    """Span of the value of ``key`` in the object at ``pos``; the last one wins, as in json."""
    spans = [(s, e) for k, s, e in _json_members(text, pos) if k == key]
    return spans[-1] if spans else None


def _json_turn(text: str, path: Path, record: object, at: int, meta: Metadata) -> Turn:
    """The turn of the decoded ``record`` whose source starts at offset ``at``."""
    line = line_index(text).line_of(at)
    if not isinstance(record, dict):
        raise TranscriptError(path, "each turn must be an object with 'speaker' and 'text'", line)
    words = record.get("text")
    if not isinstance(words, str) or not words.strip():
        raise TranscriptError(path, "field 'text' must be a non-empty string", line)
    speaker = record.get("speaker")
    if speaker is not None and not isinstance(speaker, str):
        raise TranscriptError(path, "field 'speaker' must be a string", line)
    times = []
    for key in ("start", "end"):
        value = record.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise TranscriptError(path, f"field '{key}' must be a number of seconds", line)
        times.append(None if value is None else float(value))
    start, end = times
    if start is not None and end is not None and end < start:
        raise TranscriptError(path, "turn ends before it starts", line)
    # The quote must stand in the file as written, so point at the string literal itself: it
    # is the decoded text when it holds no escapes, and the escaped form as written otherwise.
    span = _member(text, at, "text")
    assert span is not None  # json.loads found the string "text" in this very object
    kind = TurnKind.SPEECH
    if speaker:
        speaker, kind = speaker_for(speaker, meta)
    return make_turn(text, kind if speaker else TurnKind.NARRATION, speaker, span[0] + 1,
                     span[1] - 1, start_time=start, end_time=end)


def parse_json(text: str, path: Path, meta: Metadata) -> list[Turn]:
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(path, f"invalid JSON: {exc.msg}", line_index(text).line_of(exc.pos)) \
            from None
    at = _skip_space(text, 0)
    records = data
    if isinstance(data, dict):
        records = data.get("turns")
        span = _member(text, at, "turns")
        at = span[0] if span else -1
    if not isinstance(records, list):
        raise TranscriptError(path, "expected a list of turns, or an object with a 'turns' list", 1)
    return [_json_turn(text, path, record, item, meta)
            for record, item in zip(records, _json_items(text, at), strict=True)]


def parse_jsonl(text: str, path: Path, meta: Metadata) -> list[Turn]:
    turns = []
    for start, _, line in line_spans(text):
        if not line.strip():
            continue
        try:
            record = load_json(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(path, f"invalid JSON: {exc.msg}", line_index(text).line_of(start)) \
                from None
        turns.append(_json_turn(text, path, record, _skip_space(text, start), meta))
    return turns
