"""chunk_links: the per-chunk rows and turn facts, worked out with numpy a transcript at a time,
are what looking each chunk up one by one gives, on a corpus of every format with interviewers'
questions, replies, narration and turns no vector stands for."""

from __future__ import annotations

import json

import numpy as np
from helpers import INTERVIEW, TALKS, write_corpus

import qa_bot
from qa_bot.chunk_links import chunk_links
from qa_bot.index import CONTEXT
from qa_bot.parsers.base import QUESTION

SRT = ("1\n00:00:01,000 --> 00:00:03,000\nHost: Where did you grow up?\n\n"
       "2\n00:00:03,500 --> 00:00:06,000\nMira: In a village by the sea. We fished every summer.\n\n"
       "3\n00:00:06,500 --> 00:00:08,000\n[waves crashing]\n\n"
       "4\n00:00:08,500 --> 00:00:10,000\nHost: And now?\n\n"
       "5\n00:00:10,500 --> 00:00:14,000\nMira: Now I live in the city. I miss the boats.\n")
JSON = json.dumps({"interviewer": "Ann", "turns": [
    {"speaker": "Ann", "text": "Why did you leave the band?"},
    {"speaker": "Bo", "text": "We wanted different things. I wanted to tour, they did not."},
    {"speaker": "Bo", "text": "Still friends though."},
    {"speaker": "Ann", "text": "Do you regret it?"},
    {"speaker": "Bo", "text": "Never."}]})


def one_by_one(bot: qa_bot.QaBot) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays as a lookup per chunk gives them (what the retriever did before)."""
    index, transcripts = bot.index, bot.transcripts
    key_row = {(k.transcript, k.turn, k.kind == CONTEXT): i for i, k in enumerate(index.turn_keys)}
    question_rows = np.array([i for i, k in enumerate(index.turn_keys) if k.kind == QUESTION], dtype=np.int64)
    position = {int(r): i for i, r in enumerate(question_rows)}
    context_of, question_of, chars, answered = [], [], [], []
    for c in index.chunks:
        context_of.append([key_row.get((c.transcript, c.turn + d, True), -1) for d in (0, -1, 1)])
        reply = key_row.get((c.transcript, c.reply_turn, False), -1) if c.reply_turn is not None else -1
        question_of.append(position.get(reply, -1))
        turns = transcripts[c.transcript].turns
        chars.append(len(turns[c.turn].text))
        answered.append(c.turn < len(turns) - 1 and turns[c.turn + 1].reply_to == c.turn)
    return (np.array(context_of, dtype=np.int64).reshape(-1, 3), np.array(question_of, dtype=np.int64),
            question_rows, np.array(chars, dtype=np.int64), np.array(answered, dtype=bool))


def test_chunk_links_are_the_one_by_one_lookups(tmp_path, fake_embedder):
    files = {**TALKS, "sea.srt": SRT, "band.json": JSON, INTERVIEW.name: INTERVIEW.read_text("utf-8")}
    bot = qa_bot.load(write_corpus(tmp_path / "corpus", files), tmp_path / "index", embedder=fake_embedder)
    assert not bot.errors, bot.errors
    links = chunk_links(bot.index, bot.transcripts)
    context_of, question_of, question_rows, chars, answered = one_by_one(bot)
    # The corpus exercises every case: turns either side missing, replies and unanswered turns.
    assert (context_of == -1).any() and (context_of >= 0).all(axis=1).any()
    assert (question_of >= 0).any() and (question_of == -1).any() and answered.any()
    np.testing.assert_array_equal(links.context_of, context_of)
    np.testing.assert_array_equal(links.question_of, question_of)
    np.testing.assert_array_equal(links.question_rows, question_rows)
    np.testing.assert_array_equal(links.turn_chars, chars)
    np.testing.assert_array_equal(links.answered, answered)


def test_a_chunk_of_a_transcript_not_at_hand_stands_for_its_turn(tmp_path, fake_embedder):
    bot = qa_bot.load(write_corpus(tmp_path / "corpus", TALKS), tmp_path / "index", embedder=fake_embedder)
    links = chunk_links(bot.index, {})
    np.testing.assert_array_equal(links.turn_chars, [len(c.text) for c in bot.index.chunks])
    assert not links.answered.any()
    assert (links.context_of[:, 0] >= 0).all()  # the turn vectors need no transcript
