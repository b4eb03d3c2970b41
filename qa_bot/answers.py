"""Hits to answers: verified quotes with their attribution, or an honest "no answer"."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .chunking import Chunk
from .index import Index
from .parsers.base import Transcript, Turn
from .retrieval import Hit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A verified quote: ``quote == source[start:end]`` of ``transcript``, always.

    ``score`` is the hit's relevance, the one number the hits are ranked by and the result's
    ``no_answer`` is decided on; it is the only score users see, so the chat's "best match" and
    the listed quotes can never disagree.
    """

    quote: str
    transcript: str
    title: str
    speaker: str | None
    in_reply_to: str | None
    start: int
    end: int
    line: int
    timestamp: str | None
    score: float
    context: str
    context_start: int
    role: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def citation(self) -> str:
        """The quote and its attribution on one line, for pasting into an article or notes."""
        who = self.speaker or "Unattributed"
        if self.role:
            who += f", {self.role}"
        where = f"line {self.line}" if self.timestamp is None else f"at {self.timestamp}"
        return f"“{' '.join(self.quote.split())}” — {who}, {self.title} ({self.transcript}, {where})"


@dataclass(frozen=True)
class Result:
    """The answer to one question; with ``no_answer`` the answers are only the closest passages."""

    question: str
    no_answer: bool
    answers: tuple[Answer, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "no_answer": self.no_answer,
                "answers": [a.to_dict() for a in self.answers]}

    @property
    def top(self) -> Answer | None:
        return self.answers[0] if self.answers else None


def timestamp(seconds: float | None) -> str | None:
    """``HH:MM:SS.mmm``, or None when the time is unknown."""
    if seconds is None:
        return None
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return f"{h:02d}:{m:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def assemble(question: str, hits: Sequence[Hit], index: Index,
             transcripts: Mapping[str, Transcript], top_k: int, threshold: float,
             whole_turn_chars: int = 0) -> Result:
    """Turn ranked hits into at most ``top_k`` answers, one per turn, each quote verified.

    Args:
        question: the question as asked.
        hits: retrieval hits, best first.
        index: the index the hits point into.
        transcripts: the parsed transcripts by name, whose text the quotes are checked against.
        top_k: most answers to return.
        threshold: score (the hit's relevance) below which the best answer does not count.
        whole_turn_chars: a turn at most this long is quoted whole (a line of dialogue reads
            best entire); a longer one by the hit's sentences.

    Returns:
        The result; ``no_answer`` is true when nothing reaches the threshold.
    """
    answers: list[Answer] = []
    seen_turns: set[tuple[str, int]] = set()
    for hit in hits:
        chunk = index.chunks[hit.row]
        transcript = transcripts.get(chunk.transcript)
        turn = _turn_now(chunk, transcript)
        if transcript is None or turn is None:
            # The file changed under the index, or a bug: such a passage is never shown as a quote.
            log.warning("dropped an unverifiable quote from %s at %d", chunk.transcript, chunk.start)
            continue
        key = (chunk.transcript, turn.index)
        if key in seen_turns:
            continue
        source = transcript.text
        start, end = chunk.start, chunk.end
        if len(turn.text) <= whole_turn_chars and _read_whole(index.chunks, hit.row, turn, source):
            start, end = turn.start, turn.end
        seen_turns.add(key)
        answers.append(Answer(
            quote=source[start:end], transcript=chunk.transcript, title=transcript.title,
            speaker=chunk.speaker, in_reply_to=chunk.in_reply_to, start=start, end=end,
            line=transcript.line_of(start), timestamp=timestamp(chunk.start_time),
            score=round(hit.relevance, 4), context=turn.text, context_start=turn.start,
            role=transcript.role_of(chunk.speaker)))
        if len(answers) >= top_k:
            break
    no_answer = not answers or answers[0].score < threshold
    return Result(question=question, no_answer=no_answer, answers=tuple(answers))


def _turn_now(chunk: Chunk, transcript: Transcript | None) -> Turn | None:
    """The turn holding the chunk in the transcript as parsed now, or None when the chunk no
    longer stands as it was indexed: its text is not at its offsets, or the turn around it is not
    what it was (another speaker, question or time, or run together with the turn before)."""
    if transcript is None or transcript.text[chunk.start:chunk.end] != chunk.text:
        return None
    turns = transcript.turns
    at = chunk.turn  # where it was; a turn split or run together earlier in the file moves it
    if not (0 <= at < len(turns) and turns[at].start <= chunk.start < turns[at].end):
        at = bisect.bisect_right(turns, chunk.start, key=lambda t: t.start) - 1
    turn = turns[at] if at >= 0 else None
    if turn is None or not turn.start <= chunk.start <= chunk.end <= turn.end:
        return None
    reply = transcript.question_text(turn.reply_to) if turn.reply_to is not None else None
    same = (turn.kind, turn.speaker, reply, turn.start_time) == \
        (chunk.kind, chunk.speaker, chunk.in_reply_to, chunk.start_time)
    return turn if same else None


def _read_whole(chunks: Sequence[Chunk], row: int, turn: Turn, source: str) -> bool:
    """Whether the index read all of ``turn`` as it stands now: its chunks (the rows around
    ``row`` of the same turn) still stand at their offsets and leave none of its words out. Only
    then is it quoted whole; a turn changed since indexing is quoted by the chunk that was checked."""
    first, last = row, row
    while first > 0 and (chunks[first - 1].transcript, chunks[first - 1].turn) == \
            (chunks[row].transcript, chunks[row].turn):
        first -= 1
    while last + 1 < len(chunks) and (chunks[last + 1].transcript, chunks[last + 1].turn) == \
            (chunks[row].transcript, chunks[row].turn):
        last += 1
    read = turn.start
    for chunk in sorted(chunks[first:last + 1], key=lambda c: c.start):
        if source[chunk.start:chunk.end] != chunk.text or source[read:chunk.start].strip():
            return False
        read = max(read, chunk.end)
    return not source[read:turn.end].strip()
