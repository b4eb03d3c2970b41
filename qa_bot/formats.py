"""One parser per transcript format, each turning decoded text into ``Turn`` values.

The SRT and WebVTT parsers live in ``subtitles.py``, what every parser shares in ``parsing.py``;
``PARSERS`` names them all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

from .chunking import sentence_spans
from .errors import TranscriptError
from .parsing import block_spans, label_at, line_spans, make_turn, speaker_for, speaker_labels
from .structure import is_question
from .subtitles import parse_srt, parse_vtt
from .transcripts import LINE_BREAK, NARRATION, QUESTION, SPEECH, TITLE, Metadata, Turn, line_index, load_json

# How many sentences may lead in to the interviewer's question ("As a KGB officer you took part in
# the war. Do you regret ...?"). Past that, a "?" is the answer's own, rhetorical one.
MAX_LEAD_IN = 2
Parser = Callable[[str, Path, Metadata], list[Turn]]


def parse_labelled(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """``Name: words`` lines; a line with no label, or whose label names no speaker
    (``speaker_labels``), is narration."""
    lines = [(start, end) for start, end, line in line_spans(text) if line.strip()]
    labels = speaker_labels(label_at(text, start, end) for start, end in lines)
    turns = []
    for (start, end), match in zip(lines, labels, strict=True):
        if match:
            speaker, kind = speaker_for(match.group("label"), meta)
            turns.append(make_turn(text, kind, speaker, match.end(), end))
        else:
            turns.append(make_turn(text, NARRATION, None, start, end))
    return turns


def _question_end(text: str, start: int, end: int) -> int | None:
    """End of the interviewer's question opening a paragraph: through the first sentence ending
    in "?" (after at most ``MAX_LEAD_IN`` others) and any question sentences right after it;
    None when the paragraph opens with no question."""
    q_end = None
    for n, (s, e) in enumerate(sentence_spans(text, start, end)):
        if is_question(text[s:e]):
            q_end = e
        elif q_end is not None or n >= MAX_LEAD_IN:
            break
    return q_end


def parse_interview(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Magazine-style interview: title, caption, then paragraphs of question then answer."""
    asker = meta.interviewer or "Interviewer"
    answerer = meta.interviewee or "Interviewee"
    turns: list[Turn] = []
    for n, (start, end) in enumerate(block_spans(text)):
        if turns and turns[-1].kind == QUESTION:
            # The question stood alone in its paragraph, so this paragraph answers it, even
            # when the answer opens with a question of its own ("Regret? No, never.").
            turns.append(make_turn(text, SPEECH, answerer, start, end))
            continue
        q_end = _question_end(text, start, end)
        if q_end is None:
            if n == 0 and LINE_BREAK.search(text, start, end) is None:
                turns.append(make_turn(text, TITLE, None, start, end))
            elif any(t.kind == QUESTION for t in turns):
                turns.append(make_turn(text, SPEECH, answerer, start, end))  # answer goes on
            else:
                turns.append(make_turn(text, NARRATION, None, start, end))  # caption, preface
            continue
        turns.append(make_turn(text, QUESTION, asker, start, q_end))
        if text[q_end:end].strip():
            turns.append(make_turn(text, SPEECH, answerer, q_end, end))
    return turns


def parse_plain(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Prose with no speakers: each paragraph is a turn of the one speaker named in metadata."""
    speaker = meta.interviewee
    return [make_turn(text, SPEECH if speaker else NARRATION, speaker, s, e) for s, e in block_spans(text)]


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
    kind = SPEECH
    if speaker:
        speaker, kind = speaker_for(speaker, meta)
    return make_turn(text, kind if speaker else NARRATION, speaker, span[0] + 1, span[1] - 1,
                 start_time=start, end_time=end)


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


def looks_like_srt(text: str) -> bool:
    head = [ln for _, _, ln in line_spans(text.lstrip())][:3]
    return len(head) >= 2 and head[0].strip().isdigit() and "-->" in head[1]


def sniff_json(text: str) -> str | None:
    """The format of text that parses as JSON or JSON Lines; None for any other text, so that
    a transcript opening with "[Music]" stays text."""
    if not text.lstrip().startswith(("[", "{")):
        return None
    try:
        data = load_json(text)
    except json.JSONDecodeError:
        pass
    else:  # one object on one line, with no "turns", is a JSON Lines file of one turn
        one_record = isinstance(data, dict) and "turns" not in data
        return "jsonl" if one_record and not LINE_BREAK.search(text.strip()) else "json"
    try:
        records = [load_json(ln) for _, _, ln in line_spans(text) if ln.strip()]
    except json.JSONDecodeError:
        return None
    return "jsonl" if all(isinstance(r, dict) for r in records) else None


def sniff_text(text: str) -> str:
    """Labelled lines, a question-and-answer interview, or plain prose."""
    lines = [(s, e) for s, e, ln in line_spans(text) if ln.strip()]
    if not lines:
        return "plain"
    labelled = sum(1 for s, e in lines if label_at(text, s, e))
    # Stage directions in brackets or parentheses are narration, whatever the share of them.
    directions = sum(1 for s, e in lines if text[s:e].lstrip().startswith(("[", "(")))
    if labelled >= 2 and labelled >= 0.5 * (len(lines) - directions):
        return "labelled"
    paragraphs = list(block_spans(text))
    asked = sum(1 for s, e in paragraphs if _question_end(text, s, e) is not None)
    return "interview" if asked >= 1 and asked >= 0.3 * len(paragraphs) else "plain"


PARSERS: dict[str, Parser] = {
    "interview": parse_interview, "labelled": parse_labelled, "plain": parse_plain,
    "srt": parse_srt, "vtt": parse_vtt, "json": parse_json, "jsonl": parse_jsonl,
}
