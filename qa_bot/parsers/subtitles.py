"""SRT and WebVTT: cues to turns, timed, with speakers from ``<v Name>`` spans or ``Name:`` lines.

Cues are validated and timed by the ``srt`` and ``webvtt-py`` libraries; we only scan the
blank-line-separated blocks ourselves because neither library reports where in the file a cue's
text stands, and a quote must be found by its offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import TranscriptError
from .base import LINE_BREAK, Metadata, Turn, TurnKind, line_index
from .lines import block_spans, label_at, line_spans, make_turn, speaker_for, speaker_labels

TIMING = re.compile(r"-->")
# A line that looks like a timestamp ("00:01,000 -> ..."), to name a bad timing line.
STAMPISH = re.compile(r"[ \t]*\d+:\d")
# Cue markup: <i>, </b>, <c.yellow>, <v Bob>, </v>, timestamp tags <00:01.000>, SRT's {\an8}.
TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>|\{\\[^{}]*\}")
# A WebVTT voice span opening: <v Name> or <v.class Name>.
VOICE = re.compile(r"<v(?:\.[^\s<>]*)?[ \t]+(?P<name>[^<>]*?)[ \t]*>")
DIALOGUE_DASH = re.compile(r"[ \t]*[-–—][ \t]*")


def _timed_blocks(text: str, path: Path) -> Iterator[tuple[int, int, int, int]]:
    """(block start, timing line start, cue text start, block end) of each cue; header, NOTE,
    STYLE and REGION blocks are skipped."""
    for start, end in block_spans(text):
        lines = list(line_spans(text, start, end))
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


def _line_labels(text: str, payload: int, end: int) -> list[tuple[int, re.Match[str] | None]]:
    """(line start, ``Name:`` or ``- Name:`` label or None) of each line of a cue without voice
    spans (where ``<v Name>`` spans are, they alone name the speakers)."""
    if VOICE.search(text, payload, end):
        return []
    out = []
    for start, stop, _ in line_spans(text, payload, end):
        pos = _trim_tags(text, start, stop)[0]
        dash = DIALOGUE_DASH.match(text, pos, stop)
        out.append((start, label_at(text, dash.end() if dash else pos, stop)))
    return out


def _cue_segments(text: str, payload: int, end: int, previous: tuple[str | None, TurnKind],
                  meta: Metadata, labels: dict[int, re.Match[str]]
                  ) -> list[tuple[int, int, str | None, TurnKind]]:
    """Split a cue's text by speaker: (start, end, speaker, kind) of each part.

    ``<v Name>`` spans name the speaker where present; else a line whose label (in ``labels``,
    by line start) names a speaker starts a new one. Text before any of them goes on with the
    previous cue's.
    """
    marks: list[tuple[int, int, str | None, TurnKind]] = []  # (where, text start, speaker, kind)
    for voice in VOICE.finditer(text, payload, end):
        marks.append((voice.start(), voice.end(), *speaker_for(voice.group("name"), meta)))
    for start, _ in _line_labels(text, payload, end):
        if start in labels:
            match = labels[start]
            marks.append((start, match.end(), *speaker_for(match.group("label"), meta)))
    if not marks or marks[0][0] > payload:
        marks.insert(0, (payload, payload, *previous))
    stops = [m[0] for m in marks[1:]] + [end]
    return [(begin, stop, speaker, kind)
            for (_, begin, speaker, kind), stop in zip(marks, stops, strict=True)]


def _cue_turns(text: str, payload: int, end: int, previous: tuple[str | None, TurnKind],
               start_time: float, end_time: float, meta: Metadata,
               labels: dict[int, re.Match[str]]) -> list[Turn]:
    turns = []
    for start, stop, speaker, kind in _cue_segments(text, payload, end, previous, meta, labels):
        start, stop = _trim_tags(text, start, stop)
        if start < stop:
            turns.append(make_turn(text, kind, speaker, start, stop, start_time=start_time,
                               end_time=end_time))
    return turns


def _check_times(path: Path, start: float, end: float, line: int) -> None:
    if end < start:
        raise TranscriptError(path, "cue ends before it starts", line)


def _parse_cues(text: str, path: Path, meta: Metadata,
                timing: Callable[[str, int], tuple[float, float]]) -> list[Turn]:
    """Turns of every cue; ``timing(block, line)`` reads a cue's start and end seconds (or raises
    the format's error), while the speakers come from our own scan of the cue's text."""
    blocks: list[tuple[int, int, int, int]] = []
    malformed: TranscriptError | None = None
    try:
        blocks.extend(_timed_blocks(text, path))
    except TranscriptError as exc:  # raised below after the cues before it, in file order
        malformed = exc
    lines = [pair for _, _, payload, end in blocks for pair in _line_labels(text, payload, end)]
    labels = {start: match for (start, _), match in
              zip(lines, speaker_labels(m for _, m in lines), strict=True) if match}
    turns: list[Turn] = []
    # A cue with no label goes on with the previous cue's speaker, asking if that one asked.
    previous: tuple[str | None, TurnKind] = (None, TurnKind.SPEECH)
    for start, time_line, payload, end in blocks:
        line = line_index(text).line_of(time_line)
        begin, finish = timing(LINE_BREAK.sub("\n", text[start:end]), line)
        _check_times(path, begin, finish, line)
        new = _cue_turns(text, payload, end, previous, begin, finish, meta, labels)
        if new:
            previous = (new[-1].speaker, new[-1].kind)
        turns.extend(new)
    if malformed is not None:
        raise malformed
    return turns


def parse_srt(text: str, path: Path, meta: Metadata) -> list[Turn]:
    import srt

    def timing(block: str, line: int) -> tuple[float, float]:
        try:  # srt only knows "\n" and "\r\n" line breaks
            (cue,) = list(srt.parse(block + "\n\n"))
        except (srt.SRTParseError, ValueError) as exc:
            raise TranscriptError(path, f"malformed SRT cue: {str(exc)[:120]}", line) from None
        return cue.start.total_seconds(), cue.end.total_seconds()

    return _parse_cues(text, path, meta, timing)


def parse_vtt(text: str, path: Path, meta: Metadata) -> list[Turn]:
    import webvtt

    if not text.lstrip().startswith("WEBVTT"):
        raise TranscriptError(path, "a WebVTT file must start with 'WEBVTT'", 1)

    def timing(block: str, line: int) -> tuple[float, float]:
        try:  # webvtt-py reports only a cue's first voice: it is asked for the times alone
            cues = webvtt.from_string("WEBVTT\n\n" + block + "\n").captions
        except Exception as exc:  # webvtt-py raises several of its own types
            raise TranscriptError(path, f"malformed WebVTT cue: {exc}", line) from None
        if len(cues) != 1:
            raise TranscriptError(path, "malformed WebVTT timing line", line)
        return _seconds(cues[0].start), _seconds(cues[0].end)

    return _parse_cues(text, path, meta, timing)


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))
