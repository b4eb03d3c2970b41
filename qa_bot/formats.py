"""One parser per transcript format, each turning decoded text into ``Turn`` values.

SRT and WebVTT cues are validated and timed by the ``srt`` and ``webvtt-py`` libraries; we only
scan the blank-line-separated blocks ourselves because neither library reports where in the file
a cue's text stands, and a quote must be found by its offsets.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from .chunking import sentence_spans
from .errors import TranscriptError
from .transcripts import LINE_BREAK, NARRATION, QUESTION, SPEECH, TITLE, Metadata, Turn, line_index

# "Name: words" — a name of at most five words (Q and A among them) starting with a letter that
# ``_label`` checks is a capital or of a script without case ("Émile", "李明"). No "^": ``match``
# anchors at its ``pos``, where a "^" would only match at the start of the text, never in a cue.
LABEL = re.compile(r"[ \t]*(?P<label>[^\W\d_][\w.'’&-]*(?:[ \t]+[\w.'’&-]+){0,4})[ \t]*:[ \t]+(?=\S)")
INTERVIEWER_LABELS = {"q", "interviewer", "question", "host", "moderator"}
INTERVIEWEE_LABELS = {"a", "answer", "interviewee", "guest"}
TIMING = re.compile(r"-->")
# A line that looks like a timestamp ("00:01,000 -> ..."), to name a bad timing line.
STAMPISH = re.compile(r"[ \t]*\d+:\d")
# Cue markup: <i>, </b>, <c.yellow>, <v Bob>, </v>, timestamp tags <00:01.000>, SRT's {\an8}.
TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>|\{\\[^{}]*\}")
# A WebVTT voice span opening: <v Name> or <v.class Name>.
VOICE = re.compile(r"<v(?:\.[^\s<>]*)?[ \t]+(?P<name>[^<>]*?)[ \t]*>")
DIALOGUE_DASH = re.compile(r"[ \t]*[-–—][ \t]*")
# How many sentences may lead in to the interviewer's question ("As a KGB officer you took part in
# the war. Do you regret ...?"). Past that, a "?" is the answer's own, rhetorical one.
MAX_LEAD_IN = 2
Parser = Callable[[str, Path, Metadata], list[Turn]]


def _turn(text: str, kind: str, speaker: str | None, start: int, end: int, **extra: object) -> Turn:
    # Trim white space so that a turn's text is exactly its words, still a slice of the source.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Turn(index=-1, kind=kind, speaker=speaker, text=text[start:end], start=start, end=end,
                line=line_index(text).line_of(start), **extra)  # type: ignore[arg-type]


def _lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, text) of each line of ``text[start:end]``, the line break left out.

    Lines break where ``LineIndex`` counts them (CRLF, LF, lone CR), not at every character
    ``str.splitlines`` breaks at (U+2028, form feed...), so that line numbers agree.
    """
    end = len(text) if end is None else end
    for match in LINE_BREAK.finditer(text, start, end):
        yield start, match.start(), text[start:match.start()]
        start = match.end()
    if start < end:
        yield start, end, text[start:end]


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


def _label(text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
    """The ``Name:`` label opening ``text[pos:endpos]``, if any; a lower-case word is no name."""
    match = LABEL.match(text, pos, len(text) if endpos is None else endpos)
    return match if match and not match.group("label")[0].islower() else None


def _speaker_for(label: str, meta: Metadata) -> tuple[str, str]:
    """Map a label to (speaker name, kind): interviewer labels ask, everyone else speaks."""
    low = label.lower()
    if low in INTERVIEWER_LABELS or (meta.interviewer and low == meta.interviewer.lower()):
        return (meta.interviewer or "Interviewer"), QUESTION
    if low in INTERVIEWEE_LABELS:
        return (meta.interviewee or "Interviewee"), SPEECH
    # "Ivanov:" and "VIKTOR IVANOV:" are the interviewee named in metadata: one speaker, one name.
    if meta.interviewee and low in {meta.interviewee.lower(), *(a.lower() for a in meta.aliases)}:
        return meta.interviewee, SPEECH
    return label, SPEECH


def parse_labelled(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """``Name: words`` lines; a line with no label is narration."""
    turns = []
    for start, end, line in _lines(text):
        if not line.strip():
            continue
        match = _label(text, start, end)
        if match:
            speaker, kind = _speaker_for(match.group("label"), meta)
            turns.append(_turn(text, kind, speaker, match.end(), end))
        else:
            turns.append(_turn(text, NARRATION, None, start, end))
    return turns


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'”’)]").endswith("?")


def _question_end(text: str, start: int, end: int) -> int | None:
    """End of the interviewer's question opening a paragraph: through the first sentence ending
    in "?" (after at most ``MAX_LEAD_IN`` others) and any question sentences right after it;
    None when the paragraph opens with no question."""
    q_end = None
    for n, (s, e) in enumerate(sentence_spans(text, start, end)):
        if _is_question(text[s:e]):
            q_end = e
        elif q_end is not None or n >= MAX_LEAD_IN:
            break
    return q_end


def parse_interview(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Magazine-style interview: title, caption, then paragraphs of question then answer."""
    asker = meta.interviewer or "Interviewer"
    answerer = meta.interviewee or "Interviewee"
    turns: list[Turn] = []
    for n, (start, end) in enumerate(_blocks(text)):
        if turns and turns[-1].kind == QUESTION:
            # The question stood alone in its paragraph, so this paragraph answers it, even
            # when the answer opens with a question of its own ("Regret? No, never.").
            turns.append(_turn(text, SPEECH, answerer, start, end))
            continue
        q_end = _question_end(text, start, end)
        if q_end is None:
            if n == 0 and LINE_BREAK.search(text, start, end) is None:
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


def _timed_blocks(text: str, path: Path) -> Iterator[tuple[int, int, int, int]]:
    """(block start, timing line start, cue text start, block end) of each cue; header, NOTE,
    STYLE and REGION blocks are skipped."""
    for start, end in _blocks(text):
        lines = list(_lines(text, start, end))
        timing = next((i for i, (_, _, ln) in enumerate(lines) if TIMING.search(ln)), None)
        if timing is None:
            head = lines[0][2].strip()
            if head.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
                continue
            raise TranscriptError(path, "bad or missing timing line (expected "
                                  "'00:00:01,000 --> 00:00:02,000')", _bad_timing_line(text, lines))
        if timing > 1:
            raise TranscriptError(path, "unexpected text before the timing line",
                                  line_index(text).line_of(start))
        payload = lines[timing + 1][0] if timing + 1 < len(lines) else end
        yield start, lines[timing][0], payload, end


def _bad_timing_line(text: str, lines: list[tuple[int, int, str]]) -> int:
    """Line to blame for a cue without a timing line: the one that looks like a broken timing
    line, else the line after the cue number, else the cue's first line."""
    at = next((s for s, _, ln in lines if STAMPISH.match(ln)), None)
    if at is None:
        at = lines[1][0] if len(lines) > 1 and lines[0][2].strip().isdigit() else lines[0][0]
    return line_index(text).line_of(at)


def _trim_tags(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop white space and markup (``<i>``, ``</v>``, ``{\\an8}``) from both ends of a cue's
    text, so that a quote is words; markup inside stays, as the quote must be a slice."""
    while True:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        head = TAG.match(text, start, end)
        if head:
            start = head.end()
            continue
        opening = max(text.rfind("<", start, end), text.rfind("{", start, end))
        tail = TAG.fullmatch(text, opening, end) if opening >= 0 else None
        if tail:
            end = opening
            continue
        return start, end


def _cue_segments(text: str, payload: int, end: int, previous: tuple[str | None, str],
                  meta: Metadata) -> list[tuple[int, int, str | None, str]]:
    """Split a cue's text by speaker: (start, end, speaker, kind) of each part.

    ``<v Name>`` spans name the speaker where present; else a line opening with ``Name:`` (or
    ``- Name:``) starts a new speaker. Text before any of them goes on with the previous cue's.
    """
    marks: list[tuple[int, int, str | None, str]] = []  # (where, text start, speaker, kind)
    voices = list(VOICE.finditer(text, payload, end))
    for voice in voices:
        marks.append((voice.start(), voice.end(), *_speaker_for(voice.group("name"), meta)))
    if not voices:
        for start, stop, _ in _lines(text, payload, end):
            pos = _trim_tags(text, start, stop)[0]
            dash = DIALOGUE_DASH.match(text, pos, stop)
            match = _label(text, dash.end() if dash else pos, stop)
            if match:
                marks.append((start, match.end(), *_speaker_for(match.group("label"), meta)))
    if not marks or marks[0][0] > payload:
        marks.insert(0, (payload, payload, *previous))
    stops = [m[0] for m in marks[1:]] + [end]
    return [(begin, stop, speaker, kind)
            for (_, begin, speaker, kind), stop in zip(marks, stops, strict=True)]


def _cue_turns(text: str, payload: int, end: int, previous: tuple[str | None, str],
               start_time: float, end_time: float, meta: Metadata) -> list[Turn]:
    turns = []
    for start, stop, speaker, kind in _cue_segments(text, payload, end, previous, meta):
        start, stop = _trim_tags(text, start, stop)
        if start < stop:
            turns.append(_turn(text, kind, speaker, start, stop, start_time=start_time,
                               end_time=end_time))
    return turns


def _check_times(path: Path, start: float, end: float, line: int) -> None:
    if end < start:
        raise TranscriptError(path, "cue ends before it starts", line)


def parse_srt(text: str, path: Path, meta: Metadata) -> list[Turn]:
    import srt

    turns: list[Turn] = []
    # A cue with no label goes on with the previous cue's speaker, asking if that one asked.
    previous: tuple[str | None, str] = (None, SPEECH)
    for start, timing, payload, end in _timed_blocks(text, path):
        line = line_index(text).line_of(timing)
        try:  # srt only knows "\n" and "\r\n" line breaks
            (cue,) = list(srt.parse(LINE_BREAK.sub("\n", text[start:end]) + "\n\n"))
        except (srt.SRTParseError, ValueError) as exc:
            raise TranscriptError(path, f"malformed SRT cue: {str(exc)[:120]}", line) from None
        begin, finish = cue.start.total_seconds(), cue.end.total_seconds()
        _check_times(path, begin, finish, line)
        new = _cue_turns(text, payload, end, previous, begin, finish, meta)
        if new:
            previous = (new[-1].speaker, new[-1].kind)
        turns.extend(new)
    return turns


def parse_vtt(text: str, path: Path, meta: Metadata) -> list[Turn]:
    import webvtt

    if not text.lstrip().startswith("WEBVTT"):
        raise TranscriptError(path, "a WebVTT file must start with 'WEBVTT'", 1)
    turns: list[Turn] = []
    previous: tuple[str | None, str] = (None, SPEECH)
    for start, timing, payload, end in _timed_blocks(text, path):
        line = line_index(text).line_of(timing)
        block = LINE_BREAK.sub("\n", text[start:end])
        try:
            cues = webvtt.from_string("WEBVTT\n\n" + block + "\n").captions
        except Exception as exc:  # webvtt-py raises several of its own types
            raise TranscriptError(path, f"malformed WebVTT cue: {exc}", line) from None
        if len(cues) != 1:
            raise TranscriptError(path, "malformed WebVTT timing line", line)
        begin, finish = _seconds(cues[0].start), _seconds(cues[0].end)
        _check_times(path, begin, finish, line)
        # Speakers come from our own scan of the cue: webvtt-py reports only the first voice.
        new = _cue_turns(text, payload, end, previous, begin, finish, meta)
        if new:
            previous = (new[-1].speaker, new[-1].kind)
        turns.extend(new)
    return turns


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


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
        speaker, kind = _speaker_for(speaker, meta)
    return _turn(text, kind if speaker else NARRATION, speaker, span[0] + 1, span[1] - 1,
                 start_time=start, end_time=end)


def parse_json(text: str, path: Path, meta: Metadata) -> list[Turn]:
    try:
        data = json.loads(text)
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
    for start, _, line in _lines(text):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(path, f"invalid JSON: {exc.msg}", line_index(text).line_of(start)) \
                from None
        turns.append(_json_turn(text, path, record, _skip_space(text, start), meta))
    return turns


def looks_like_srt(text: str) -> bool:
    head = [ln for _, _, ln in _lines(text.lstrip())][:3]
    return len(head) >= 2 and head[0].strip().isdigit() and "-->" in head[1]


def sniff_json(text: str) -> str | None:
    """The format of text that parses as JSON or JSON Lines; None for any other text, so that
    a transcript opening with "[Music]" stays text."""
    if not text.lstrip().startswith(("[", "{")):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:  # one object on one line, with no "turns", is a JSON Lines file of one turn
        one_record = isinstance(data, dict) and "turns" not in data
        return "jsonl" if one_record and not LINE_BREAK.search(text.strip()) else "json"
    try:
        records = [json.loads(ln) for _, _, ln in _lines(text) if ln.strip()]
    except json.JSONDecodeError:
        return None
    return "jsonl" if all(isinstance(r, dict) for r in records) else None


def sniff_text(text: str) -> str:
    """Labelled lines, a question-and-answer interview, or plain prose."""
    lines = [(s, e) for s, e, ln in _lines(text) if ln.strip()]
    if not lines:
        return "plain"
    labelled = sum(1 for s, e in lines if _label(text, s, e))
    # Stage directions in brackets or parentheses are narration, whatever the share of them.
    directions = sum(1 for s, e in lines if text[s:e].lstrip().startswith(("[", "(")))
    if labelled >= 2 and labelled >= 0.5 * (len(lines) - directions):
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
