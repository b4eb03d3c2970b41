"""One parser per transcript format, each turning decoded text into ``Turn`` values.

SRT and WebVTT cues are validated and timed by the ``srt`` and ``webvtt-py`` libraries; we only
scan the blank-line-separated blocks ourselves because neither library reports where in the file
a cue's text stands, and a quote must be found by its offsets.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from .chunking import sentence_spans
from .errors import TranscriptError
from .transcripts import NARRATION, QUESTION, SPEECH, TITLE, Metadata, Turn, line_index

# "Name: words" — a name of at most five words starting with a capital, or Q / A.
LABEL = re.compile(r"^[ \t]*(?P<label>[A-Z][\w.'’&-]*(?:[ \t]+[\w.'’&-]+){0,4}|Q|A)[ \t]*:[ \t]+(?=\S)")
INTERVIEWER_LABELS = {"q", "interviewer", "question", "host", "moderator"}
INTERVIEWEE_LABELS = {"a", "answer", "interviewee", "guest"}
TIMING = re.compile(r"-->")
TAG = re.compile(r"<[^>]*>")
Parser = Callable[[str, Path, Metadata], list[Turn]]


def _turn(text: str, kind: str, speaker: str | None, start: int, end: int, **extra: object) -> Turn:
    # Trim white space so that a turn's text is exactly its words, still a slice of the source.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Turn(index=-1, kind=kind, speaker=speaker, text=text[start:end], start=start, end=end,
                line=line_index(text).line_of(start), **extra)  # type: ignore[arg-type]


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    start = 0
    for raw in text.splitlines(keepends=True):
        yield start, start + len(raw.rstrip("\r\n")), raw.rstrip("\r\n")
        start += len(raw)


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Spans of blank-line-separated blocks (paragraphs, cues)."""
    block_start: int | None = None
    block_end = 0
    for start, end, line in _lines(text):
        if line.strip():
            if block_start is None:
                block_start = start
            block_end = end
        elif block_start is not None:
            yield block_start, block_end
            block_start = None
    if block_start is not None:
        yield block_start, block_end


def _speaker_for(label: str, meta: Metadata) -> tuple[str, str]:
    """Map a label to (speaker name, kind): interviewer labels ask, everyone else speaks."""
    low = label.lower()
    if low in INTERVIEWER_LABELS or (meta.interviewer and label == meta.interviewer):
        return (meta.interviewer or "Interviewer"), QUESTION
    if low in INTERVIEWEE_LABELS:
        return (meta.interviewee or "Interviewee"), SPEECH
    return label, SPEECH


def parse_labelled(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """``Name: words`` lines; a line with no label is narration."""
    turns = []
    for start, end, line in _lines(text):
        if not line.strip():
            continue
        match = LABEL.match(line)
        if match:
            speaker, kind = _speaker_for(match.group("label"), meta)
            turns.append(_turn(text, kind, speaker, start + match.end(), end))
        else:
            turns.append(_turn(text, NARRATION, None, start, end))
    return turns


def _question_end(text: str, start: int, end: int) -> int | None:
    """End of the interviewer's question opening a paragraph: through the first sentence ending
    in "?" and any question sentences right after it; None when the paragraph holds no question."""
    spans = sentence_spans(text, start, end)
    q_end = None
    for s, e in spans:
        ends_in_q = text[s:e].rstrip(" \"'”’)]").endswith("?")
        if ends_in_q:
            q_end = e
        elif q_end is not None:
            break
    return q_end


def parse_interview(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Magazine-style interview: title, caption, then paragraphs of question then answer."""
    asker = meta.interviewer or "Interviewer"
    answerer = meta.interviewee or "Interviewee"
    turns: list[Turn] = []
    for n, (start, end) in enumerate(_blocks(text)):
        q_end = _question_end(text, start, end)
        if q_end is None:
            if n == 0 and "\n" not in text[start:end]:
                turns.append(_turn(text, TITLE, None, start, end))
            elif any(t.kind == QUESTION for t in turns):
                turns.append(_turn(text, SPEECH, answerer, start, end))  # answer goes on
            else:
                turns.append(_turn(text, NARRATION, None, start, end))  # caption, preface
            continue
        turns.append(_turn(text, QUESTION, asker, start, q_end))
        if text[q_end:end].strip():
            turns.append(_turn(text, SPEECH, answerer, q_end, end))
    return turns


def parse_plain(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Prose with no speakers: each paragraph is a turn of the one speaker named in metadata."""
    speaker = meta.interviewee
    return [_turn(text, SPEECH if speaker else NARRATION, speaker, s, e) for s, e in _blocks(text)]


def _timed_blocks(text: str, path: Path) -> Iterator[tuple[int, int, int]]:
    """(block start, timing line start, block end) of each cue; other blocks are skipped."""
    for start, end in _blocks(text):
        lines = list(_lines(text[start:end]))
        timing = next((i for i, (_, _, ln) in enumerate(lines) if TIMING.search(ln)), None)
        if timing is None:
            head = lines[0][2].strip()
            if head.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
                continue
            raise TranscriptError(path, "cue has no timing line ('00:00:01,000 --> 00:00:02,000')",
                                  line_index(text).line_of(start))
        if timing > 1:
            raise TranscriptError(path, "unexpected text before the timing line",
                                  line_index(text).line_of(start))
        yield start, start + lines[timing][0], end


def _cue_turns(text: str, payload: int, end: int, voice: str | None, previous: str | None,
               start_time: float, end_time: float, meta: Metadata) -> list[Turn]:
    turns = []
    if voice:
        open_tag = re.match(r"\s*<v[^>]*>", text[payload:end])
        payload += open_tag.end() if open_tag else 0
        close = text.rfind("</v>", payload, end)
        end = close if close >= 0 else end
    match = LABEL.match(text, payload, end)
    speaker, kind = (voice, SPEECH) if voice else (previous, SPEECH)
    if match and not voice:
        speaker, kind = _speaker_for(match.group("label"), meta)
        payload = match.end()
    turns.append(_turn(text, kind, speaker, payload, end, start_time=start_time, end_time=end_time))
    return turns


def parse_srt(text: str, path: Path, meta: Metadata) -> list[Turn]:
    import srt

    turns: list[Turn] = []
    speaker = None
    for start, timing, end in _timed_blocks(text, path):
        try:
            (cue,) = list(srt.parse(text[start:end] + "\n\n"))
        except (srt.SRTParseError, ValueError) as exc:
            raise TranscriptError(path, f"malformed SRT cue: {str(exc)[:120]}",
                                  line_index(text).line_of(timing)) from None
        payload = text.index("\n", timing) + 1 if "\n" in text[timing:end] else end
        if payload >= end:
            continue
        new = _cue_turns(text, payload, end, None, speaker, cue.start.total_seconds(),
                         cue.end.total_seconds(), meta)
        speaker = new[-1].speaker
        turns.extend(new)
    return turns


def parse_vtt(text: str, path: Path, meta: Metadata) -> list[Turn]:
    import webvtt

    if not text.lstrip().startswith("WEBVTT"):
        raise TranscriptError(path, "a WebVTT file must start with 'WEBVTT'", 1)
    turns: list[Turn] = []
    speaker = None
    for start, timing, end in _timed_blocks(text, path):
        line = line_index(text).line_of(timing)
        try:
            cues = list(webvtt.from_string("WEBVTT\n\n" + text[start:end] + "\n"))
        except Exception as exc:  # webvtt-py raises several of its own types
            raise TranscriptError(path, f"malformed WebVTT cue: {exc}", line) from None
        if len(cues) != 1:
            raise TranscriptError(path, "malformed WebVTT timing line", line)
        payload = text.index("\n", timing) + 1 if "\n" in text[timing:end] else end
        if payload >= end:
            continue
        cue = cues[0]
        new = _cue_turns(text, payload, end, cue.voice, speaker, _seconds(cue.start),
                         _seconds(cue.end), meta)
        speaker = new[-1].speaker
        turns.extend(new)
    return turns


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def _json_turn(text: str, path: Path, record: object, line: int, search_from: int,
               meta: Metadata) -> tuple[Turn, int]:
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
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TranscriptError(path, f"field '{key}' must be a number of seconds", line)
        times.append(None if value is None else float(value))
    # The quote must stand in the file as written, so point at the string literal itself: it
    # is the decoded text when it holds no escapes, and the escaped form as written otherwise.
    literal = json.dumps(words, ensure_ascii=False)[1:-1]
    at = text.find(literal, search_from)
    if at < 0:
        literal = json.dumps(words)[1:-1]
        at = text.find(literal, search_from)
    if at < 0:  # an unusual escape (\/ or \u00e9 for é): point at the raw literal after "text"
        key = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)"')
        found = key.search(text, search_from)
        if not found:
            raise TranscriptError(path, "cannot locate the 'text' value in the file", line)
        at, literal = found.start(1), found.group(1)
    kind = SPEECH
    if speaker:
        speaker, kind = _speaker_for(speaker, meta)
    turn = _turn(text, kind if speaker else NARRATION, speaker, at, at + len(literal),
                 start_time=times[0], end_time=times[1])
    return turn, at + len(literal)


def parse_json(text: str, path: Path, meta: Metadata) -> list[Turn]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    records = data.get("turns") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise TranscriptError(path, "expected a list of turns, or an object with a 'turns' list", 1)
    turns, cursor = [], 0
    for i, record in enumerate(records):
        turn, cursor = _json_turn(text, path, record, line_index(text).line_of(cursor), cursor, meta)
        turns.append(turn)
    return turns


def parse_jsonl(text: str, path: Path, meta: Metadata) -> list[Turn]:
    turns = []
    for number, (start, end, line) in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(path, f"invalid JSON: {exc.msg}", number) from None
        turn, _ = _json_turn(text, path, record, number, start, meta)
        turns.append(turn)
    return turns


def looks_like_srt(text: str) -> bool:
    head = [ln for ln in text.lstrip().splitlines()[:3]]
    return len(head) >= 2 and head[0].strip().isdigit() and "-->" in head[1]


def sniff_text(text: str) -> str:
    """Labelled lines, a question-and-answer interview, or plain prose."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "plain"
    labelled = sum(1 for ln in lines if LABEL.match(ln))
    if labelled >= 2 and labelled >= 0.5 * len(lines):
        return "labelled"
    paragraphs = list(_blocks(text))
    asked = sum(1 for s, e in paragraphs if _question_end(text, s, e) is not None)
    return "interview" if asked >= 1 and asked >= 0.3 * len(paragraphs) else "plain"


def link_replies(turns: list[Turn]) -> list[Turn]:
    """Number the turns and point each spoken turn at the question it answers.

    Where the transcript has interviewer turns, that is the latest one. In a dialogue without
    an interviewer, it is the previous turn when another speaker asked something there.
    """
    has_interviewer = any(t.kind == QUESTION for t in turns)
    linked: list[Turn] = []
    last_question: int | None = None
    for i, turn in enumerate(turns):
        reply_to = None
        if turn.kind == SPEECH:
            if has_interviewer:
                reply_to = last_question
            elif linked and linked[-1].kind == SPEECH and linked[-1].speaker != turn.speaker \
                    and "?" in linked[-1].text:
                reply_to = i - 1
        if turn.kind == QUESTION:
            last_question = i
        linked.append(dataclasses.replace(turn, index=i, reply_to=reply_to))
    return linked


PARSERS: dict[str, Parser] = {
    "interview": parse_interview, "labelled": parse_labelled, "plain": parse_plain,
    "srt": parse_srt, "vtt": parse_vtt, "json": parse_json, "jsonl": parse_jsonl,
}
