"""Checking a saved index against what it stands for: the manifest's rows against the records,
and every record against the transcript it was cut from.

The SHA-256 of each data file in the manifest catches a damaged or truncated file, not an edit
that re-writes the checksum too. So each transcript's records are checked against the
transcript as parsed now: every field is type- and range-checked, and every field an answer
shows (speaker, the question replied to, the turn whose words are the context, line,
timestamps) must be what the parser gives for that turn. A transcript whose records are not
borne out is re-chunked and re-embedded like a changed file. What is not re-derived is the
vectors: a doctored vector can change the ranking, never a quote or its attribution.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from .chunking import MAX_CHUNK_CHARS, QUOTABLE, Chunk
from .manifest import Manifest
from .parsers.base import Transcript

if TYPE_CHECKING:
    from .index_store import Index, TurnKey

log = logging.getLogger(__name__)
SHOWN = 60  # characters of a doctored value quoted in a warning
# The fields of a record that the transcript's turn determines, besides its turn and offsets.
FIELDS = ("transcript", "speaker", "kind", "reply_turn", "in_reply_to", "line", "start_time",
          "end_time")
_saved = attrgetter(*FIELDS)


@dataclass(frozen=True)
class Mismatch:
    """The first saved record that its transcript does not bear out: the index file, its line."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"


def check_ranges(manifest: Manifest, chunks: Sequence[Chunk], turn_keys: Sequence[TurnKey],
                 *dimensions: int) -> None:
    """The manifest's row ranges must tile the records in order, each holding its own transcript's
    records, and its dimension be the vectors': the checksums cover the data files, not it."""
    if any(d != manifest.dimension for d in dimensions):
        raise ValueError("the manifest's dimension is not the vectors'")
    at = {"chunks": 0, "turns": 0}
    records: dict[str, Sequence[Any]] = {"chunks": chunks, "turns": turn_keys}
    for name, entry in manifest.transcripts.items():
        for kind, rows in records.items():
            start, end = entry.chunks if kind == "chunks" else entry.turns
            if not (start == at[kind] <= end <= len(rows)
                    and all(r.transcript == name for r in rows[start:end])):
                raise ValueError(f"the manifest's {kind} rows of {name} do not match the records")
            at[kind] = end
    if at != {"chunks": len(chunks), "turns": len(turn_keys)}:
        raise ValueError("the manifest's rows do not cover the records")


def doctored(index: Index, transcript: Transcript, turn_keys: Sequence[TurnKey],
             warnings: list[str]) -> bool:
    """Whether a saved record of an unchanged transcript is not what the transcript gives: it is
    then re-chunked as if changed, and one warning (logged and added to ``warnings``) names the
    index file and the record's line."""
    found = mismatch(index, transcript, turn_keys)
    if found is not None:
        message = f"the saved index does not match {transcript.name} ({found}); re-indexed it"
        log.warning(message)
        warnings.append(message)
    return found is not None


def mismatch(index: Index, transcript: Transcript, turn_keys: Sequence[TurnKey]) -> Mismatch | None:
    """The first of ``transcript``'s saved records in ``index`` that it does not bear out, or None.

    Args:
        index: a loaded index whose manifest lists ``transcript`` with its current fingerprint.
        transcript: the transcript as parsed now.
        turn_keys: the turn records the transcript gives now, in order.
    """
    (c0, c1), (u0, u1) = index.ranges(transcript.name)
    files = index.manifest.files
    found = _chunks_mismatch(index.chunks[c0:c1], transcript)
    if found is not None:
        return Mismatch(files["chunks_jsonl"].name, c0 + found[0] + 1, found[1])
    saved = index.turn_keys[u0:u1]
    for row, (key, wanted) in enumerate(zip(saved, turn_keys, strict=False)):
        # ``type`` too: True would equal the turn 1 it stands for.
        if key != wanted or type(key.turn) is not int:
            return Mismatch(files["turns_jsonl"].name, u0 + row + 1,
                            f"{_shown(key.__dict__)} is not {_shown(wanted.__dict__)}")
    if len(saved) != len(turn_keys):
        return Mismatch(files["turns_jsonl"].name, u0 + min(len(saved), len(turn_keys)) + 1,
                        f"{len(saved)} turn records where the transcript gives {len(turn_keys)}")
    return None


def _chunks_mismatch(chunks: Sequence[Chunk], transcript: Transcript) -> tuple[int, str] | None:
    """(position, why) of the first chunk that is not one ``chunk_transcript`` would give: each
    record is right on its own, and together they cover the words of every quotable turn, in
    order, once, as the chunker's overlapping windows do (none dropped, added or repeated)."""
    text = transcript.text
    wanted = iter([t.index for t in transcript.turns if t.kind in QUOTABLE
                   and text[t.start:t.end].strip()])
    questions: dict[int, str | None] = {}
    prev: Chunk | None = None
    for at, chunk in enumerate(chunks):
        why = _record_mismatch(chunk, transcript, questions)
        if why is None and prev is not None and chunk.turn == prev.turn:
            if not (chunk.start > prev.start and chunk.end > prev.end
                    and not text[prev.end:chunk.start].strip()):
                why = (f"offsets {chunk.start}:{chunk.end} after {prev.start}:{prev.end} skip, "
                       "repeat or reorder the turn's words")
        elif why is None:
            if prev is not None and (ended := _turn_end_mismatch(prev, transcript)):
                return at - 1, ended
            if next(wanted, None) != chunk.turn:
                why = f"turn {chunk.turn} is out of order, or a turn before it has no record"
            elif chunk.start != _words(text, *_span(transcript, chunk.turn))[0]:
                why = f"the first record of turn {chunk.turn} does not start at its first word"
        if why is not None:
            return at, why
        prev = chunk
    if prev is not None and (ended := _turn_end_mismatch(prev, transcript)):
        return len(chunks) - 1, ended
    missing = next(wanted, None)
    return None if missing is None else (max(len(chunks) - 1, 0), f"turn {missing} has no record")


def _record_mismatch(chunk: Chunk, transcript: Transcript, questions: dict[int, str | None]
                     ) -> str | None:
    """Why one record is not borne out by its transcript on its own, or None."""
    turns, text = transcript.turns, transcript.text
    if type(chunk.turn) is not int or not 0 <= chunk.turn < len(turns):
        return f"turn {_shown(chunk.turn)} is not a turn of the transcript (0 to {len(turns) - 1})"
    turn = turns[chunk.turn]
    if turn.kind not in QUOTABLE:
        return f"turn {chunk.turn} is a {turn.kind}, which is never quoted"
    start, end = chunk.start, chunk.end
    if type(start) is not int or type(end) is not int or not turn.start <= start < end <= turn.end:
        return (f"offsets {_shown(start)}:{_shown(end)} are not inside turn {chunk.turn} "
                f"({turn.start}:{turn.end})")
    if not _same(chunk.text, text[start:end]) or end - start > MAX_CHUNK_CHARS \
            or chunk.text.strip() != chunk.text:
        return f"text {_shown(chunk.text)} is not a passage of the transcript at {start}:{end}"
    if chunk.turn not in questions:  # one turn's records all ask for the same question
        reply = turn.reply_to
        questions[chunk.turn] = transcript.question_text(reply) if reply is not None else None
    # In the order of FIELDS.
    expected = (transcript.name, turn.speaker, str(turn.kind), turn.reply_to, questions[chunk.turn],
                transcript.line_of(start), turn.start_time, turn.end_time)
    saved = _saved(chunk)
    if saved == expected and list(map(type, saved)) == list(map(type, expected)):
        return None  # the usual case, in one comparison: a third of the time field by field
    for name, was, value in zip(FIELDS, saved, expected, strict=True):
        if not _same(was, value):
            return f"{name} {_shown(was)} is not the transcript's ({_shown(value)})"
    return None


def _turn_end_mismatch(last: Chunk, transcript: Transcript) -> str | None:
    """Why the last record of a turn does not end at the turn's last word, or None."""
    if last.end != _words(transcript.text, *_span(transcript, last.turn))[1]:
        return f"the records of turn {last.turn} stop at {last.end}, before its last word"
    return None


def _span(transcript: Transcript, turn: int) -> tuple[int, int]:
    return transcript.turns[turn].start, transcript.turns[turn].end


def _words(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` without the white space at either end (the chunker's passages never have it)."""
    region = text[start:end]
    return start + len(region) - len(region.lstrip()), start + len(region.rstrip())


def _same(saved: object, value: object) -> bool:
    """Equal and of the same type: JSON gives back the types written, so ``"0"``, ``0.0`` or
    ``true`` where the parser gives ``0`` is an edit. A NaN (no parser gives one today) counts
    as equal to itself, or its transcript would be re-embedded at every load."""
    return type(saved) is type(value) and (saved == value or (saved != saved and value != value))


def _shown(value: object) -> str:
    """A saved value for a warning: its repr (control characters escaped), cut short."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


__all__ = ["Mismatch", "check_ranges", "doctored", "mismatch"]
