"""A consistent edit of the index (issue 13): records changed and the manifest's SHA-256 re-written
to match are checked against the transcripts at load, never served, and rebuilt with a warning.

Each attack edits every record of the turn that answers a question, re-writes the file's checksum
in the manifest, and opens the bot again: the answer must be the one a clean index gives (true
speaker, question, context and timestamp), asked without a traceback, with one warning naming the
index file and the first doctored record's line; only the doctored transcript is re-embedded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import TALKS, FakeEmbedder, open_bot, write_corpus
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from qa_bot import index as index_mod
from qa_bot import index_check
from qa_bot.chunking import chunk_transcript
from qa_bot.errors import TranscriptError
from qa_bot.manifest import FileEntry, Manifest, TranscriptEntry
from qa_bot.parsers.corpus import parse

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="qa-bot-hypothesis-"))  # not ".hypothesis" here
SRT = ("1\n00:00:01,000 --> 00:00:04,000\nInterviewer: How do zeppelins fly?\n\n"
       "2\n00:00:05,000 --> 00:00:09,500\nOtto: Hydrogen lifts them. Engines push them forward.\n\n"
       "3\n00:00:10,000 --> 00:00:12,000\nInterviewer: And the crew?\n\n"
       "4\n00:00:13,000 --> 00:00:16,000\nOtto: Twelve men sleep in hammocks by the keel.\n")
FILES = {**TALKS, "zeppelin.srt": SRT}
FRUIT = "What fruit does Alice love?"
HYDROGEN = "What lifts the zeppelins?"
Record = dict[str, Any]
Edit = Callable[[Record, Path], None]


def _move_to_the_hosts_words(record: Record, corpus: Path) -> None:
    """A verifiable slice of the file, but the host's question, still in Alice's name."""
    text = (corpus / record["transcript"]).read_text("utf-8")
    words = "What is your favourite fruit?"
    record.update(start=text.index(words), end=text.index(words) + len(words), text=words)


# name: (question, the edit made to each record of the turn that answers it)
ATTACKS: dict[str, tuple[str, Edit]] = {
    "made-up speaker": (FRUIT, lambda r, c: r.update(speaker="Vladimir Putin")),
    "made-up in_reply_to": (FRUIT, lambda r, c: r.update(in_reply_to="Do you back the invasion?")),
    "turn -1": (FRUIT, lambda r, c: r.update(turn=-1)),
    "turn 9999": (FRUIT, lambda r, c: r.update(turn=9999)),
    "another turn's context": (FRUIT, lambda r, c: r.update(turn=3)),
    "start as a string": (FRUIT, lambda r, c: r.update(start="0")),
    "quote moved to another speaker's words": (FRUIT, _move_to_the_hosts_words),
    "start_time as a word": (HYDROGEN, lambda r, c: r.update(start_time="soon")),
    "start_time shifted": (HYDROGEN, lambda r, c: r.update(start_time=99.0)),
}


def rewrite(index_dir: Path, role: str, edit: Callable[[list[Record]], None]) -> str:
    """Edit the records of ``role``'s file in place and re-write its SHA-256 in the manifest, so
    that the checksums alone see nothing wrong; returns the file's name."""
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    path = index_dir / manifest["files"][role]["name"]
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    edit(records)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    manifest["files"][role]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return path.name


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "talks", FILES)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_doctored_record_is_never_served_and_its_transcript_is_rebuilt(corpus, tmp_path, caplog,
                                                                         attack):
    question, edit = ATTACKS[attack]
    index_dir = tmp_path / "index"
    clean = open_bot(corpus, index_dir)
    truth = clean.ask(question).to_dict()
    top = clean.ask(question).top
    assert top is not None and top.speaker in {"Alice", "Otto"}
    rows = [i for i, c in enumerate(clean.index.chunks)
            if c.transcript == top.transcript and top.start <= c.start < top.end]
    assert rows

    def doctor(records: list[Record]) -> None:
        for row in rows:
            edit(records[row], corpus)

    name = rewrite(index_dir, "chunks_jsonl", doctor)
    assert index_mod.load(index_dir) is not None  # the checksums alone let it through

    caplog.set_level(logging.WARNING)
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == bot.report.embedded > 0  # only the doctored transcript's texts
    assert bot.ask(question).to_dict() == truth  # the true speaker, question, context, time
    assert "Vladimir Putin" not in bot.speakers()
    warnings = [w for w in bot.report.warnings if "does not match" in w]
    assert warnings == [warnings[0]] and f"{name} line {rows[0] + 1}:" in warnings[0]
    assert top.transcript in warnings[0] and warnings[0] in caplog.text
    assert bot.report.changed == [top.transcript]
    assert bot.index.chunks == clean.index.chunks

    again = FakeEmbedder()  # the rebuilt records are saved: the next start reuses them all
    assert open_bot(corpus, index_dir, again).report.warnings == [] and again.calls == 0


def test_a_doctored_turn_record_is_rebuilt(corpus, tmp_path):
    index_dir = tmp_path / "index"
    clean = open_bot(corpus, index_dir)
    row = next(i for i, k in enumerate(clean.index.turn_keys) if k.transcript == "alpha.txt"
               and k.kind == "context" and k.turn == 1)

    def swap(records: list[Record]) -> None:  # the vector of turn 1's context now stands for 3
        records[row]["turn"] = 3

    name = rewrite(index_dir, "turns_jsonl", swap)
    bot = open_bot(corpus, index_dir)
    assert bot.report.changed == ["alpha.txt"]
    assert [w for w in bot.report.warnings if f"{name} line {row + 1}:" in w]
    assert bot.index.turn_keys == clean.index.turn_keys


def test_a_blank_line_among_the_records_makes_the_index_unusable(corpus, tmp_path):
    """Records are one a line, so that a warning's line is the record's line in the file."""
    index_dir = tmp_path / "index"
    open_bot(corpus, index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text("utf-8"))
    path = index_dir / manifest["files"]["chunks_jsonl"]["name"]
    path.write_text("\n" + path.read_text("utf-8"), "utf-8")
    manifest["files"]["chunks_jsonl"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert index_mod.load(index_dir) is None


# --- the check on its own: each field, and records dropped, repeated or reordered ----------------


TIMED = parse("talk.srt", SRT.encode())
KEYS = index_mod.unit_keys(TIMED)
CHUNKS = chunk_transcript(TIMED)


def index_of(chunks: list[Any], keys: list[Any] = KEYS, name: str = TIMED.name) -> index_mod.Index:
    manifest = Manifest(None, 4, {name: TranscriptEntry("", name, "", (0, len(chunks)), (0, len(keys)))},
                        len(chunks), {"chunks_jsonl": FileEntry("chunks-x.jsonl", ""),
                                      "turns_jsonl": FileEntry("turns-x.jsonl", "")})
    return index_mod.Index(manifest, chunks, None, keys, np.zeros((len(keys), 4), np.float32))


def with_record(row: int, **fields: Any) -> list[Any]:
    chunks = list(CHUNKS)
    chunks[row] = type(chunks[row]).from_dict({**chunks[row].to_dict(), **fields})
    return chunks


def test_the_chunker_s_own_records_pass():
    assert len(CHUNKS) >= 3
    assert index_check.mismatch(index_of(CHUNKS), TIMED, KEYS) is None


# Transcript-like text with what trips offsets up: odd line breaks and spaces, a BOM, sentences
# too long for one chunk (cut at word breaks), labels, questions, blank turns.
WORD = st.sampled_from(["yes", "Mr.", "U.S.", "well—", "don’t", "café", "中文", "a", "I", "“so”",
                        "why?", "end.", "x" * 45, "\u00a0", "\u2028", "\x85", "\t"])
LINE = st.builds(lambda label, words: label + " ".join(words),
                 st.sampled_from(["", "Q: ", "A: ", "Bob: ", "Ann: ", "INTERVIEWER: ", "- "]),
                 st.lists(WORD, min_size=0, max_size=40))
TEXT = st.builds(lambda head, lines, brk: head + brk.join(lines),
                 st.sampled_from(["", "\ufeff", " ", "Title\n\n"]), st.lists(LINE, max_size=8),
                 st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\n \n"]))


@given(text=TEXT, size=st.integers(1, 3), stride=st.integers(1, 3))
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_the_chunker_s_records_always_pass(text, size, stride):
    """A check stricter than the chunker would re-embed its transcript at every load."""
    try:
        transcript = parse("any.txt", text.encode())
    except TranscriptError:
        assume(False)
    chunks, keys = chunk_transcript(transcript, size, stride), index_mod.unit_keys(transcript)
    assert index_check.mismatch(index_of(chunks, keys, "any.txt"), transcript, keys) is None


# (field, a doctored value): each differs from the parser's in value or only in type.
FIELDS = [("transcript", "other.srt"), ("speaker", "Anna"), ("speaker", None), ("line", 99),
          ("line", 7.0), ("in_reply_to", "Why?"), ("in_reply_to", None), ("reply_turn", 2),
          ("reply_turn", False), ("start_time", 5), ("start_time", None), ("end_time", 1.5),
          ("kind", "narration"), ("text", "Hydrogen lifts them."), ("start", 0), ("end", 10 ** 6),
          ("turn", 3)]


@pytest.mark.parametrize(("field", "value"), FIELDS, ids=[f"{f}={v!r}" for f, v in FIELDS])
def test_each_field_is_checked_against_the_transcript(field, value):
    assert CHUNKS[1].line == 7 and CHUNKS[1].reply_turn == 0  # the values doctored to 7.0, False
    found = index_check.mismatch(index_of(with_record(1, **{field: value})), TIMED, KEYS)
    assert found is not None and (found.file, found.line) == ("chunks-x.jsonl", 2)
    assert (field if field not in {"start", "end", "turn"} else "offsets") in found.reason


def _cut(row: int, words: str) -> list[Any]:
    """Record ``row`` narrowed to ``words``, a part of it, every other field left true."""
    start = CHUNKS[row].start + CHUNKS[row].text.index(words)
    return with_record(row, start=start, end=start + len(words), text=words)


WHOLE = {"dropped": lambda: CHUNKS[:1] + CHUNKS[2:], "repeated": lambda: CHUNKS[:2] + CHUNKS[1:],
         "reordered": lambda: [CHUNKS[1], CHUNKS[0], *CHUNKS[2:]], "all dropped": lambda: [],
         "first words dropped": lambda: _cut(1, "Engines push them forward."),
         "last words dropped": lambda: _cut(1, "Hydrogen lifts them.")}


@pytest.mark.parametrize("how", list(WHOLE))
def test_records_dropped_repeated_reordered_or_cut_short_are_caught(how):
    assert CHUNKS[1].text == "Hydrogen lifts them. Engines push them forward."
    assert index_check.mismatch(index_of(WHOLE[how]()), TIMED, KEYS) is not None


LONG = parse("long.txt", ("Bob: What happened?\nAnn: " + " ".join(
    f"Sentence {i} runs on for a while, as the sentences of a long answer do." for i in range(12))
    + "\n").encode())


def _long_records(how: str) -> list[Any]:
    chunks = chunk_transcript(LONG)
    answer = [c for c in chunks if c.turn == 1]
    assert len(answer) > 3 and answer[-1].end - answer[0].start > 400
    if how == "widened to the white space before it":
        return [c if c is not answer[1] else type(c).from_dict(
            {**c.to_dict(), "start": c.start - 1, "text": LONG.text[c.start - 1:c.end]}) for c in chunks]
    merged = type(answer[0]).from_dict({**answer[0].to_dict(), "end": answer[-1].end,
                                        "text": LONG.text[answer[0].start:answer[-1].end]})
    return [c for c in chunks if c.turn != 1] + [merged]


@pytest.mark.parametrize("how", ["widened to the white space before it",
                                 "merged into one passage longer than a chunk"])
def test_a_record_is_a_passage_the_chunker_could_cut(how):
    keys = index_mod.unit_keys(LONG)
    found = index_check.mismatch(index_of(_long_records(how), keys, LONG.name), LONG, keys)
    assert found is not None and "is not a passage" in found.reason


@pytest.mark.parametrize("how", ["dropped", "added"])
def test_turn_records_dropped_or_added_are_caught(how):
    keys = KEYS[1:] if how == "dropped" else [*KEYS, KEYS[-1]]
    found = index_check.mismatch(index_of(CHUNKS, keys), TIMED, KEYS)
    assert found is not None and found.file == "turns-x.jsonl"
