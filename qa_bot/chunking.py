"""Turns to chunks: sentences found by pysbd, grouped into small overlapping windows.

A chunk never crosses a turn, so it never mixes speakers, and its text is always the exact
slice ``source[start:end]`` of the transcript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .transcripts import Transcript

# Turns cut into chunks. An interviewer's question is one too, but retrieval offers it as an
# answer only to a question about the asking ("What did she ask about holidays?").
QUOTABLE = ("speech", "narration", "question")
MAX_CHUNK_CHARS = 400
_WORD_BREAK = re.compile(r"\s+")


@dataclass(frozen=True)
class Chunk:
    """A quotable window of one or more sentences of a single turn."""

    transcript: str
    turn: int
    speaker: str | None
    start: int
    end: int
    line: int
    text: str
    in_reply_to: str | None = None
    reply_turn: int | None = None
    start_time: float | None = None
    end_time: float | None = None
    kind: str = "speech"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Chunk:
        return cls(**record)


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def sentence_spans(text: str, start: int = 0, end: int | None = None,
                   max_chars: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]``, white space trimmed, in order.

    pysbd finds the boundaries; each sentence is then located in the source right after the
    previous one, so the spans are exact even where pysbd's own character spans drift, and no
    text is ever skipped: should pysbd alter a sentence, the rest of the region is taken as one
    (then cut to ``max_chars``). A sentence longer than
    ``max_chars`` (unpunctuated speech) is cut at word breaks so that a quote stays short.

    Args:
        text: the whole source text.
        start: where the region starts.
        end: where it ends (default: the end of the text).
        max_chars: longest span returned.

    Returns:
        (start, end) offsets into ``text``, sorted, non-overlapping, never empty.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    end = len(text) if end is None else end
    region = text[start:end]
    if not region.strip():
        return []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segment(region):
        stripped = piece.strip()
        if not stripped:
            continue
        at = cursor
        while at < len(region) and region[at].isspace():
            at += 1
        if not region.startswith(stripped, at):
            break  # pysbd altered the text: the tail below takes the rest
        spans.extend(_cap(start + at, start + at + len(stripped), text, max_chars))
        cursor = at + len(stripped)
    tail = region[cursor:].strip()
    if tail:
        at = region.find(tail, cursor)
        spans.extend(_cap(start + at, start + at + len(tail), text, max_chars))
    return spans


def _segment(region: str) -> list[str]:
    try:
        return list(_segmenter().segment(region))
    except Exception:  # pysbd has crashed on odd input; then the whole region is one sentence
        return [region]


def _cap(start: int, end: int, text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut a too-long sentence into pieces of at most ``max_chars`` at white space."""
    pieces = []
    while end - start > max_chars:
        cut = start + max_chars
        breaks = [m.start() for m in _WORD_BREAK.finditer(text, start + max_chars // 2, cut)]
        if breaks:
            cut = breaks[-1]
        # The run of white space may have begun before the search did: end on a word. ``start``
        # is never white space, so the cut stays past it and the loop moves on.
        while text[cut - 1].isspace():
            cut -= 1
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def windows(spans: list[tuple[int, int]], size: int, stride: int,
            max_chars: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """Group sentence spans into overlapping windows of up to ``size`` sentences.

    Windows start every ``stride`` sentences; a window stops growing once it would pass
    ``max_chars``. Every sentence is covered: where a window stopped short (or ``stride`` is
    wider than ``size``), the next one starts right after it rather than skip sentences.
    """
    if size < 1 or stride < 1:
        raise ValueError(f"size and stride must be at least 1, not {size} and {stride}")
    out: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and last + 1 < first + size \
                and spans[last + 1][1] - spans[first][0] <= max_chars:
            last += 1
        window = (spans[first][0], spans[last][1])
        if not out or window[1] > out[-1][1]:
            out.append(window)
        if last == len(spans) - 1:
            break
        first = min(first + stride, last + 1)
    return out


def chunk_transcript(transcript: Transcript, size: int = 2, stride: int = 1,
                     max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Chunk every quotable turn of a transcript.

    Args:
        transcript: the parsed transcript.
        size: sentences per window.
        stride: sentences between window starts (``size - stride`` sentences overlap).
        max_chars: longest chunk, in characters.

    Returns:
        Chunks in source order.
    """
    text, turns = transcript.text, transcript.turns
    chunks = []
    for turn in turns:
        if turn.kind not in QUOTABLE:
            continue
        question = transcript.question_text(turn.reply_to) if turn.reply_to is not None else None
        spans = sentence_spans(text, turn.start, turn.end, max_chars)
        for start, end in windows(spans, size, stride, max_chars):
            chunks.append(Chunk(
                transcript=transcript.name, turn=turn.index, speaker=turn.speaker, start=start,
                end=end, line=transcript.line_of(start), text=text[start:end], in_reply_to=question,
                reply_turn=turn.reply_to,
                start_time=turn.start_time, end_time=turn.end_time, kind=turn.kind))
    return chunks
