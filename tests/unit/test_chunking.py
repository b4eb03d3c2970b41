"""Sentence spans, capping of over-long sentences, windows, and chunks of whole transcripts."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from helpers import INTERVIEW, assert_chunks, assert_every_sentence_covered

from qa_bot.chunking import MAX_CHUNK_CHARS, Chunk, chunk_transcript, windows
from qa_bot.parsers.base import SPEECH, Metadata, Transcript
from qa_bot.parsers.corpus import parse
from qa_bot.parsers.sentences import sentence_spans


def texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


# --- sentences ------------------------------------------------------------------------------


def test_sentences_are_found_by_pysbd_not_by_every_period() -> None:
    text = "Mr. Smith went to Washington. He met the U.S. envoy on May 9, 2011. Then he left"
    assert texts(text, sentence_spans(text)) == [
        "Mr. Smith went to Washington.", "He met the U.S. envoy on May 9, 2011.", "Then he left"]


def test_sentences_of_a_region_have_offsets_into_the_whole_text() -> None:
    text = "IGNORED. Why?  Because.\r\n Fine! IGNORED TOO."
    start, end = text.index("Why"), text.index(" IGNORED TOO")
    spans = sentence_spans(text, start, end)
    assert texts(text, spans) == ["Why?", "Because.", "Fine!"]
    assert spans[0][0] == start


@pytest.mark.parametrize("region", ["", "   ", "\r\n\t \n"])
def test_no_sentences_in_white_space(region: str) -> None:
    assert sentence_spans(region) == []


def test_an_over_long_sentence_is_cut_at_word_breaks() -> None:
    words = [f"word{n}" for n in range(300)]
    text = " ".join(words)  # about 2,000 characters and no full stop
    spans = sentence_spans(text)
    assert len(spans) > 1
    for s, e in spans:
        assert 0 < e - s <= MAX_CHUNK_CHARS
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert s == 0 or text[s - 1] == " "  # each piece starts at a word ...
        assert e == len(text) or text[e] == " "  # ... and ends at one
    assert " ".join(texts(text, spans)).split() == words  # nothing lost, nothing repeated


def test_a_word_longer_than_the_cap_is_cut_inside() -> None:
    text = "x" * 1000
    assert [e - s for s, e in sentence_spans(text)] == [400, 400, 200]


def test_a_cut_does_not_end_in_white_space() -> None:
    # The run of spaces starts before the search for a break (at half the cap) does.
    text = "abc     defghijklmn"
    assert texts(text, sentence_spans(text, max_chars=10)) == ["abc", "defghijklm", "n"]


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError):
        sentence_spans("Hello.", max_chars=0)


# --- windows --------------------------------------------------------------------------------

FOUR = [(0, 10), (11, 20), (21, 30), (31, 40)]


def test_default_windows_are_pairs_overlapping_by_one() -> None:
    assert windows(FOUR, 2, 1) == [(0, 20), (11, 30), (21, 40)]


def test_windows_of_three_every_two() -> None:
    spans = [*FOUR, (41, 50)]
    assert windows(spans, 3, 2) == [(0, 30), (21, 50)]


def test_windows_without_overlap() -> None:
    assert windows(FOUR, 2, 2) == [(0, 20), (21, 40)]
    assert windows(FOUR, 1, 1) == FOUR


def test_a_window_stopped_by_the_cap_leaves_no_sentence_out() -> None:
    # Pairs do not fit in 15 characters, so each window holds one sentence; with a stride of
    # 2 the next window must still start at the very next sentence.
    assert windows(FOUR, 2, 2, max_chars=15) == FOUR


def test_a_stride_wider_than_the_window_leaves_no_sentence_out() -> None:
    assert windows(FOUR, 1, 2) == FOUR


def test_windows_of_nothing_and_of_one() -> None:
    assert windows([], 2, 1) == []
    assert windows([(3, 9)], 2, 1) == [(3, 9)]


@pytest.mark.parametrize(("size", "stride"), [(0, 1), (2, 0)])
def test_window_size_and_stride_must_be_positive(size: int, stride: int) -> None:
    with pytest.raises(ValueError):
        windows(FOUR, size, stride)


# --- chunks of transcripts ------------------------------------------------------------------


def test_interview_chunks(interview: Transcript) -> None:
    chunks = chunk_transcript(interview)
    assert_chunks(interview, chunks)
    assert_every_sentence_covered(interview, chunks)
    kinds = {interview.turns[c.turn].kind for c in chunks}
    # No title; the interviewer's questions are chunks too, offered only to questions about asking.
    assert kinds == {"narration", SPEECH, "question"}
    assert not any(c.turn == 0 for c in chunks)


def test_interview_chunks_are_overlapping_sentence_pairs(interview: Transcript) -> None:
    first_answer = [c for c in chunk_transcript(interview) if c.turn == 3]
    assert [c.text for c in first_answer[:3]] == [
        "Of course we should. We have wasted time.",
        "We have wasted time. Our previous efforts did not have any system.",
        "Our previous efforts did not have any system. Leaders of Tajikistan and Kyrgyzstan meet "
        "with me, although the protocol does not always allow that.",
    ]
    assert first_answer[-1].text == "Central Asia is across the border. We have to help them."
    assert {c.speaker for c in first_answer} == {"Viktor Ivanov"}
    assert {c.in_reply_to for c in first_answer} == {
        "Do you think Russia should have more influence in the former Soviet states?"}


def test_interview_sentences_keep_abbreviations_and_dashes(interview: Transcript) -> None:
    answer = interview.turns[9]
    sentences = texts(interview.text, sentence_spans(interview.text, answer.start, answer.end))
    assert sentences == [
        "Our brightest example is the United States—they have a problem with cocaine from Latin "
        "America; to solve it, the U.S. helps the Mexican government fight the drug mafia.",
        "So our job is to increase economic and humanitarian cooperation with Central Asia—we "
        "already invested $7 million to help Kyrgyzstan.",
        "The level of unemployment in Central Asian states is significantly high, unfortunately.",
    ]


def test_chunk_size_and_stride(interview: Transcript) -> None:
    singles = chunk_transcript(interview, size=1, stride=1)
    answer = interview.turns[9]
    assert [c.text for c in singles if c.turn == 9] == \
        texts(interview.text, sentence_spans(interview.text, answer.start, answer.end))
    triples = chunk_transcript(interview, size=3, stride=3)
    assert_chunks(interview, triples)
    assert_every_sentence_covered(interview, triples)
    for a, b in pairwise(triples):
        assert a.end <= b.start  # no overlap
    assert len(triples) < len(chunk_transcript(interview)) < len(singles) * 2


def test_a_small_cap_still_yields_valid_chunks(interview: Transcript) -> None:
    chunks = chunk_transcript(interview, max_chars=60)
    assert_chunks(interview, chunks, max_chars=60)
    assert_every_sentence_covered(interview, chunks, max_chars=60)


def test_chunks_of_a_crlf_interview_slice_exactly(interview: Transcript) -> None:
    meta = Metadata.read(Path(str(INTERVIEW) + ".meta.json"))
    crlf = parse(INTERVIEW.name, INTERVIEW.read_bytes().replace(b"\n", b"\r\n"), meta)
    chunks = chunk_transcript(crlf)
    assert_chunks(crlf, chunks)
    assert [c.text for c in chunks] == [c.text for c in chunk_transcript(interview)]


def test_chunks_never_cross_speakers_in_a_shared_cue() -> None:
    text = ("WEBVTT\n\n00:01.000 --> 00:04.000\n<v Alice>Are you ready? We leave now.</v>\n"
            "<v Bob>Yes. I am ready.</v>\n")
    transcript = parse("talk.vtt", text.encode())
    chunks = chunk_transcript(transcript)
    assert_chunks(transcript, chunks)
    assert [(c.speaker, c.text, c.start_time, c.end_time) for c in chunks] == [
        ("Alice", "Are you ready? We leave now.", 1.0, 4.0),
        ("Bob", "Yes. I am ready.", 1.0, 4.0),
    ]
    assert chunks[1].in_reply_to == "Are you ready? We leave now."


def test_chunks_of_labelled_lines_are_per_line() -> None:
    transcript = parse("talk.txt", b"Ann: One. Two. Three.\nBob: Four.\n")
    assert [(c.speaker, c.text, c.line) for c in chunk_transcript(transcript)] == [
        ("Ann", "One. Two.", 1), ("Ann", "Two. Three.", 1), ("Bob", "Four.", 2)]


def test_chunk_dict_round_trip(interview: Transcript) -> None:
    chunk = chunk_transcript(interview)[5]
    assert Chunk.from_dict(chunk.to_dict()) == chunk
    assert set(chunk.to_dict()) >= {"transcript", "speaker", "start", "end", "line", "text"}
