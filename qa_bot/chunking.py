"""Turns to chunks: sentences found by pysbd (``parsers/sentences.py``), grouped into small
overlapping windows.

A chunk never crosses a turn, so it never mixes speakers, and its text is always the exact
slice ``source[start:end]`` of the transcript.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .parsers.base import Transcript, TurnKind
from .parsers.sentences import MAX_SENTENCE_CHARS, sentence_spans

# Turns cut into chunks. An interviewer's question is one too, but retrieval offers it as an
# answer only to a question about the asking ("What did she ask about holidays?").
QUOTABLE = (TurnKind.SPEECH, TurnKind.NARRATION, TurnKind.QUESTION)
# A window holds whole sentences, so the longest chunk is the longest sentence span.
MAX_CHUNK_CHARS = MAX_SENTENCE_CHARS



def embed_text(speaker: str | None, text: str) -> str:
    """What the model reads for a passage: the speaker's name helps "who said" questions."""
    return f"{speaker}: {text}" if speaker else text


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
    # The plain string a saved record gives back, also in a chunk just cut: index_check compares
    # the types of what was saved with what the transcript gives.
    kind: str = TurnKind.SPEECH.value

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Chunk:
        if record.keys() != _CHUNK_FIELDS:
            return cls(**record)  # a field missing (its default) or unknown (a TypeError)
        # Every field, as ``to_dict`` writes them: filled in directly, a third of the time of
        # the frozen dataclass's __init__ (a million records are read at a restart).
        chunk = object.__new__(cls)
        chunk.__dict__.update(record)
        return chunk


_CHUNK_FIELDS = frozenset(f.name for f in fields(Chunk))


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
                start_time=turn.start_time, end_time=turn.end_time, kind=str(turn.kind)))
    return chunks
