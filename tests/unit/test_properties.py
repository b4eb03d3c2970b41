"""Property tests: on any text the parsers and the chunker never crash and offsets always slice
exactly; generated subtitle and JSON Lines files give back their speakers and timestamps; damaged
subtitle and JSON files and arbitrary bytes fail only with a TranscriptError, and arbitrary text
goes end to end (parse, index with FakeEmbedder, ask) with every quote verbatim."""

from __future__ import annotations

import json
import tempfile
from itertools import pairwise
from pathlib import Path

import pytest
from helpers import FakeEmbedder, assert_every_sentence_covered, assert_turns, assert_verbatim, line_of
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from qa_bot.bot import QaBot
from qa_bot.chunking import QUOTABLE, chunk_transcript, windows
from qa_bot.config import Settings
from qa_bot.errors import QuestionError, TranscriptError
from qa_bot.parsers.base import Metadata, Transcript
from qa_bot.parsers.corpus import parse
from qa_bot.parsers.labelled import parse_labelled
from qa_bot.parsers.prose import parse_interview, parse_plain
from qa_bot.parsers.sentences import sentence_spans

# Hypothesis keeps its caches in ".hypothesis" under the folder pytest starts in, the project:
# keep them out of it. No example database either; a failure prints its example to rerun.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="qa-bot-hypothesis-"))
PATH = Path("generated.txt")
FAST = settings(max_examples=100, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# Characters that break naive parsers: every line break str.splitlines knows, a BOM, tabs,
# curly quotes, dashes, colons and question marks, letters of several scripts, an emoji.
SPECIAL = [*"\r\n\t .?!:,;\"'’“”—–-<>/{}[]0123456789QAaBbé中Ж😀",
           "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\ufeff", "\u00a0", "\u0301", "\x00"]
CHARS = st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8"))
ANY_TEXT = st.lists(CHARS, max_size=300).map("".join)  # "\r\n" is two characters

WORD = st.sampled_from(["yes", "no", "Mr.", "U.S.", "10:30", "well—", "don’t", "Émile", "why",
                        "it", "was", "the", "end", "café", "中文", "a", "I", "“so”"])
SENTENCE = st.builds(lambda words, end: " ".join(words) + end, st.lists(WORD, min_size=1, max_size=8),
                     st.sampled_from([".", "?", "!", "", "?”", "..."]))
LABEL = st.sampled_from(["", "", "Q: ", "A: ", "Bob: ", "INTERVIEWER: ", "Dr. Who: ", "Zoë: ",
                         "10:30 ", "- ", "\t"])
LINE = st.builds(lambda label, sentences: label + " ".join(sentences), LABEL,
                 st.lists(SENTENCE, min_size=1, max_size=4))
BREAK = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n \n", "\n\t\n\n"])


@st.composite
def structured_text(draw: st.DrawFn) -> str:
    """Transcript-like text: labelled lines and paragraphs with any line endings."""
    lines = draw(st.lists(LINE, max_size=10))
    out = ""
    for line in lines:
        out += line + draw(BREAK)
    return draw(st.sampled_from(["", "\n", "\r\n", " "])) + out


TEXT = st.one_of(ANY_TEXT, structured_text())
META = st.sampled_from([Metadata(), Metadata(interviewee="Ann", interviewer="Bob",
                                             aliases=("Zoë",))])


# --- parsers on arbitrary text --------------------------------------------------------------


@FAST
@given(text=TEXT, meta=META)
def test_labelled_never_crashes_and_slices_exactly(text: str, meta: Metadata) -> None:
    assert_turns(text, parse_labelled(text, PATH, meta))


@FAST
@given(text=TEXT, meta=META)
def test_interview_never_crashes_and_slices_exactly(text: str, meta: Metadata) -> None:
    assert_turns(text, parse_interview(text, PATH, meta))


@FAST
@given(text=TEXT, meta=META)
def test_plain_never_crashes_and_slices_exactly(text: str, meta: Metadata) -> None:
    turns = parse_plain(text, PATH, meta)
    assert_turns(text, turns)
    # Every word of the text is in some paragraph.
    covered = {i for t in turns for i in range(t.start, t.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@FAST
@given(text=structured_text(), meta=META)
def test_crlf_and_lf_files_give_the_same_turns(text: str, meta: Metadata) -> None:
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    crlf = lf.replace("\n", "\r\n")
    for parser in (parse_labelled, parse_plain, parse_interview):
        a, b = parser(lf, PATH, meta), parser(crlf, PATH, meta)
        assert [(t.kind, t.speaker, t.text, t.line) for t in a] == \
            [(t.kind, t.speaker, t.text.replace("\r\n", "\n"), t.line) for t in b]


@SLOW
@given(text=TEXT, bom=st.booleans(), fmt=st.sampled_from([None, "labelled", "interview", "plain"]))
def test_parse_and_chunk_any_text_file(text: str, bom: bool, fmt: str | None) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    try:
        transcript = parse("generated.txt", data, fmt=fmt)
    except TranscriptError as exc:
        # Only content sniffed as JSON (or with a NUL byte) may be refused, naming the file.
        assert fmt is None or "\0" in text
        assert exc.path == "generated.txt"
        return
    assert transcript.text == data.decode("utf-8")  # a BOM included: offsets index the file
    assert_turns(transcript.text, transcript.turns)
    assert_chunks_of(transcript)


def assert_chunks_of(transcript: Transcript, size: int = 2, stride: int = 1, max_chars: int = 400) -> None:
    """The chunks of any text: slices inside one quotable turn, short, on the right line, and
    covering every sentence of the quotable turns (helpers.assert_chunks checks more, which holds
    for the transcripts of test_chunking.py, not for any text: an in_reply_to of a question that
    is cut to max_chars, for one)."""
    text = transcript.text
    chunks = chunk_transcript(transcript, size, stride, max_chars)
    for chunk in chunks:
        turn = transcript.turns[chunk.turn]
        assert text[chunk.start:chunk.end] == chunk.text
        assert turn.kind in QUOTABLE and chunk.speaker == turn.speaker
        assert turn.start <= chunk.start < chunk.end <= turn.end  # never crosses a turn
        assert len(chunk.text) <= max_chars
        assert chunk.line == line_of(text, chunk.start)
    assert_every_sentence_covered(transcript, chunks, max_chars)


@SLOW
@given(text=structured_text(), size=st.integers(1, 4), stride=st.integers(1, 4),
       max_chars=st.integers(1, 120))
def test_chunks_of_any_labelled_text(text: str, size: int, stride: int, max_chars: int) -> None:
    transcript = parse("generated.txt", text.encode(), fmt="labelled")
    assert_chunks_of(transcript, size, stride, max_chars)


# --- sentences and windows ------------------------------------------------------------------


@FAST
@given(text=TEXT, data=st.data(), max_chars=st.one_of(st.just(400), st.integers(1, 50)))
def test_sentence_spans_cover_the_region_exactly(text: str, data: st.DataObject, max_chars: int) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = sentence_spans(text, start, end, max_chars)
    for s, e in spans:
        assert start <= s < e <= end
        assert e - s <= max_chars
        assert not text[s].isspace() and not text[e - 1].isspace()
    for (_, e1), (s2, _) in pairwise(spans):
        assert e1 <= s2
    inside = {i for s, e in spans for i in range(s, e)}
    assert all(i in inside for i in range(start, end) if not text[i].isspace())  # nothing lost


@FAST
@given(lengths=st.lists(st.tuples(st.integers(1, 30), st.integers(1, 3)), max_size=12),
       size=st.integers(1, 4), stride=st.integers(1, 5), max_chars=st.integers(1, 80))
def test_windows_cover_every_sentence(lengths: list[tuple[int, int]], size: int, stride: int,
                                      max_chars: int) -> None:
    spans, at = [], 0
    for length, gap in lengths:
        spans.append((at, at + length))
        at += length + gap
    result = windows(spans, size, stride, max_chars)
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    for s, e in result:
        first, last = starts.index(s), ends.index(e)  # windows are whole sentences
        assert 0 <= last - first < size
        assert last == first or e - s <= max_chars
    assert [e for _, e in result] == sorted({e for _, e in result})  # each ends further on
    for s, e in spans:
        assert any(ws <= s and e <= we for ws, we in result)


# --- generated subtitle and JSON Lines files round-trip -------------------------------------

NAMES = st.sampled_from(["Alice", "Bob Smith", "Émile", "Dr. Who", "O’Neil", "Jean-Luc"])
# Cue words: anything but markup, line breaks and white space at the ends.
CUE_CHARS = st.characters(codec="utf-8", exclude_characters="<>{}\r\n\x85\u2028\u2029\x0b\x0c\x1c\x1d\x1e",
                          exclude_categories=("Cc", "Cs", "Zl", "Zp"))
CUE_TEXT = st.text(CUE_CHARS, min_size=1, max_size=40).map(str.strip).filter(bool)
MILLIS = st.integers(0, 10 * 3600 * 1000)


@st.composite
def cues(draw: st.DrawFn) -> list[tuple[str, str, int, int]]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        start = draw(MILLIS)
        out.append((draw(NAMES), draw(CUE_TEXT), start, start + draw(st.integers(0, 60_000))))
    return out


def stamp(ms: int, comma: bool, hours: bool = True) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    head = f"{h:02d}:" if hours or h else ""
    return f"{head}{m:02d}:{s:02d}{',' if comma else '.'}{ms:03d}"


def assert_round_trip(transcript: Transcript, expected: list[tuple[str, str, int, int]]) -> None:
    assert_turns(transcript.text, transcript.turns)
    got = [(t.speaker, t.text, t.start_time, t.end_time) for t in transcript.turns]
    assert got == [(n, words, pytest.approx(a / 1000), pytest.approx(b / 1000))
                   for n, words, a, b in expected]


@SLOW
@given(cues=cues(), newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_srt_round_trip(cues: list[tuple[str, str, int, int]], newline: str, bom: bool) -> None:
    blocks = [f"{n}\n{stamp(a, True)} --> {stamp(b, True)}\n{name}: {words}\n"
              for n, (name, words, a, b) in enumerate(cues, 1)]
    text = ("\ufeff" if bom else "") + "\n".join(blocks).replace("\n", newline)
    assert_round_trip(parse("generated.srt", text.encode()), cues)


@SLOW
@given(cues=cues(), newline=st.sampled_from(["\n", "\r\n"]), data=st.data())
def test_vtt_round_trip(cues: list[tuple[str, str, int, int]], newline: str, data: st.DataObject) -> None:
    blocks = ["WEBVTT\n"]
    for name, words, a, b in cues:
        hours = data.draw(st.booleans())
        style = data.draw(st.sampled_from(["<v {}>{}</v>", "<v.loud {}>{}", "{}: {}"]))
        blocks.append(f"{stamp(a, False, hours)} --> {stamp(b, False, hours)}\n"
                      f"{style.format(name, words)}\n")
    text = "\n".join(blocks).replace("\n", newline)
    assert_round_trip(parse("generated.vtt", text.encode()), cues)


@SLOW
@given(records=st.lists(st.tuples(NAMES, st.lists(CHARS, min_size=1, max_size=30).map("".join),
                                  MILLIS), min_size=1, max_size=6),
       ascii_only=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]))
def test_jsonl_round_trip(records: list[tuple[str, str, int]], ascii_only: bool, newline: str) -> None:
    records = [(name, words.strip(), ms) for name, words, ms in records]
    assume(all(words for _, words, _ in records))
    lines = [json.dumps({"speaker": name, "text": words, "start": ms / 1000, "end": ms / 1000 + 1},
                        ensure_ascii=ascii_only) for name, words, ms in records]
    text = newline.join(lines) + newline
    transcript = parse("generated.jsonl", text.encode())
    assert_turns(transcript.text, transcript.turns)
    assert [(t.speaker, t.start_time, t.end_time) for t in transcript.turns] == \
        [(name, ms / 1000, ms / 1000 + 1) for name, _, ms in records]
    for number, (turn, (_, words, _)) in enumerate(zip(transcript.turns, records, strict=True), 1):
        # The quote is the literal as written; decoded, it is the words.
        assert json.loads(f'"{turn.text}"') == words
        assert turn.line == number


# --- damaged files, arbitrary bytes, arbitrary text end to end ------------------------------

SEEDS = {
    ".srt": "1\n00:00:01,000 --> 00:00:04,000\nAnn: Where were you?\n\n"
            "2\n00:00:05,000 --> 00:00:09,500\n<i>Bob:</i> At home. {\\an8}Why?\n- Ann: Just asking.\n",
    ".vtt": "WEBVTT\n\nNOTE a note\n\n00:01.000 --> 00:04.000 align:start\n<v Ann>Where were you?</v>\n\n"
            "00:00:05.000 --> 00:00:09.500\n<v.loud Bob>At home.\nAnn: Why?\n",
    ".json": json.dumps({"turns": [{"speaker": "Ann", "text": "Where were you?", "start": 1},
                                   {"speaker": "Bob", "text": 'At "home" \u00e9.', "start": 2.5, "end": 3}]},
                        indent=1, ensure_ascii=False),
    ".jsonl": '{"speaker": "Ann", "text": "Where were you?", "start": 1}\n'
              '{"speaker": "Bob", "text": "At home\\n\\u00e9.", "end": 3}\n',
    ".txt": "Title line\n\nQ: Where were you?\nA: At home. Why?\nA line of narration.\n",
}
PIECES = ["\n", "\r", "\r\n", " ", "\t", ":", "-->", ",", ".", "0", "9", "<", ">", "{", "}", "[", "]", '"',
          "\\", "\\u", "\\ud800", "\ufeff", "\x00", "\u2028", "\x85", "é", "?", "-", "<v ", "</v>", "WEBVTT",
          "NOTE", "1e999", "NaN", "null", "true", "Bob: ", "00:00:01,000 --> 00:00:00,500"]
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[str, str]:
    """A valid file of each format with a few characters inserted, deleted or replaced."""
    ext = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[ext]
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[draw(st.integers(at, min(len(text), at + 8))):]
        else:
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at + 1:]
    return ext, text


def check_parse(name: str, data: bytes) -> None:
    """Either a TranscriptError naming the file (and a line inside it), or turns that slice exactly."""
    try:
        transcript = parse(name, data)
    except TranscriptError as exc:
        assert exc.path == name and exc.reason
        assert exc.line is None or 1 <= exc.line <= data.count(b"\n") + data.count(b"\r") + 1
        return
    for turn in transcript.turns:
        assert turn.text and transcript.text[turn.start:turn.end] == turn.text


@PROPERTY
@given(file=damaged_files())
def test_damaged_subtitle_and_json_files_fail_only_with_a_transcript_error(file: tuple[str, str]) -> None:
    ext, text = file
    check_parse("damaged" + ext, text.encode("utf-8", "surrogatepass"))


@PROPERTY
@given(ext=st.sampled_from(sorted(SEEDS)), data=st.binary(max_size=400))
def test_arbitrary_bytes_fail_only_with_a_transcript_error(ext: str, data: bytes) -> None:
    check_parse("bytes" + ext, data)


WORDS = st.sampled_from(["Alice", "Bob", "mango", "river", "why", "Q", "A", "the", "café", "中文", "U.S.",
                         "10:30", "don’t", "—", "?", ".", "!", ":", "\n", "\r\n", "\n\n", "\t", "<b>", "\x0c",
                         "\u2028", "\x00", "\ufeff", "😀", "e\u0301"])
TRANSCRIPT_TEXT = st.one_of(st.lists(WORDS, max_size=120).map(" ".join),
                            st.lists(WORDS, max_size=120).map("".join),
                            st.text(max_size=300))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=TRANSCRIPT_TEXT, ext=st.sampled_from([".txt", ".md"]), bom=st.booleans(),
       questions=st.lists(st.one_of(st.lists(WORDS, min_size=1, max_size=8).map(" ".join),
                                    st.text(min_size=1, max_size=60)), min_size=1, max_size=4))
def test_any_transcript_end_to_end_every_quote_is_verbatim(text: str, ext: str, bom: bool,
                                                          questions: list[str]) -> None:
    """Arbitrary text → corpus file → index (FakeEmbedder) → ask: no crash, and every quote stands
    at its offsets in the file as read from disk. Questions are words of the text or any text."""
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass")
        (corpus / f"generated{ext}").write_bytes(data)
        bot = QaBot.open(corpus, Path(folder) / "index", Settings(), FakeEmbedder())
        if bot.errors:  # only a file that does not decode, or a NUL byte (binary), may be refused
            assert any(c == "\0" or "\ud800" <= c <= "\udfff" for c in text), bot.errors
            return
        for question in [*questions, *text.split()[:3]]:
            try:
                result = bot.ask(question, top_k=5)
            except QuestionError as exc:
                assert str(exc).startswith("question: ")
                continue
            assert_verbatim(bot, result)
