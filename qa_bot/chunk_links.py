"""Which turn vectors and turn facts each chunk of an index is scored with, as arrays.

The retriever's signals read, for every chunk, the row of its turn in context and of the turns
either side, the row of the interviewer's question it replies to, its whole turn's length and
whether its turn is a question the next speaker answers. Looked up chunk by chunk in Python they
took seconds at a restart of a million chunks; here they are worked out a transcript at a time
with numpy, from the manifest's row ranges, which tile the chunks and turn keys in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from .index import CONTEXT
from .parsers.base import TurnKind

if TYPE_CHECKING:
    from .index_store import Index
    from .parsers.base import Transcript


@dataclass(frozen=True)
class ChunkLinks:
    """Per chunk row: ``context_of`` (n, 3) the turn-vector rows of its turn, the turn before and
    the turn after read in context (-1: none); ``question_of`` its question's row among the
    question vectors (-1: none); ``turn_chars`` its whole turn's length; ``answered`` whether
    its turn is a question the next turn replies to. ``question_rows``: the turn-vector rows
    that are interviewers' questions."""

    context_of: np.ndarray
    question_of: np.ndarray
    question_rows: np.ndarray
    turn_chars: np.ndarray
    answered: np.ndarray


def _turn_facts(transcript: Transcript | None, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each turn's length and whether the next turn replies to it (-1 and False past the end,
    or for a transcript not at hand)."""
    chars = np.full(size, -1, dtype=np.int64)
    answered = np.zeros(size, dtype=bool)
    if transcript is not None:
        turns = transcript.turns[:size]
        chars[:len(turns)] = [len(t.text) for t in turns]
        answered[:max(len(turns) - 1, 0)] = [b.reply_to == a.index for a, b in pairwise(turns)]
    return chars, answered


def chunk_links(index: Index, transcripts: Mapping[str, Transcript]) -> ChunkLinks:
    """The arrays of ``ChunkLinks`` for every chunk of ``index``.

    Args:
        index: a synced or loaded index (its manifest's ranges tile its chunks and turn keys).
        transcripts: the parsed transcripts by name; a chunk of one not given stands for its
            turn (its own length) and answers nothing.

    Returns:
        The arrays, indexed by chunk row.
    """
    chunks, keys = index.chunks, index.turn_keys
    n = len(chunks)
    turn = np.fromiter((c.turn for c in chunks), np.int64, n)
    reply = np.fromiter((-1 if c.reply_turn is None else c.reply_turn for c in chunks), np.int64, n)
    own_chars = np.fromiter((len(c.text) for c in chunks), np.int64, n)
    key_turn = np.fromiter((k.turn for k in keys), np.int64, len(keys))
    is_context = np.fromiter((k.kind == CONTEXT for k in keys), bool, len(keys))
    is_question = np.fromiter((k.kind == TurnKind.QUESTION for k in keys), bool, len(keys))
    question_rows = np.flatnonzero(is_question)
    question_pos = np.full(len(keys), -1, dtype=np.int64)
    question_pos[question_rows] = np.arange(len(question_rows))

    context_of = np.full((n, 3), -1, dtype=np.int64)
    question_of = np.full(n, -1, dtype=np.int64)
    turn_chars = own_chars.copy()
    answered = np.zeros(n, dtype=bool)
    for name, entry in index.manifest.transcripts.items():
        (c0, c1), (u0, u1) = entry.chunks, entry.turns
        if c1 <= c0:
            continue
        t, r = turn[c0:c1], reply[c0:c1]
        rows = np.arange(u0, u1)
        # Lookup tables by turn number, shifted by one so that turn -1 (before the first) is 0.
        size = int(max(t.max(), r.max(), key_turn[u0:u1].max() if u1 > u0 else 0)) + 3
        ctx = np.full(size, -1, dtype=np.int64)
        ctx[key_turn[u0:u1][is_context[u0:u1]] + 1] = rows[is_context[u0:u1]]
        asked = np.full(size, -1, dtype=np.int64)
        asked[key_turn[u0:u1][is_question[u0:u1]] + 1] = question_pos[rows[is_question[u0:u1]]]
        context_of[c0:c1] = np.stack([ctx[t + 1], ctx[t], ctx[t + 2]], axis=1)
        question_of[c0:c1] = np.where(r >= 0, asked[r + 1], -1)
        chars, replied = _turn_facts(transcripts.get(name), size)
        known = (t < size) & (chars[np.minimum(t, size - 1)] >= 0)
        turn_chars[c0:c1] = np.where(known, chars[np.minimum(t, size - 1)], own_chars[c0:c1])
        answered[c0:c1] = replied[t]
    return ChunkLinks(context_of, question_of, question_rows, turn_chars, answered)


__all__ = ["ChunkLinks", "chunk_links"]
