"""Decoding, line numbers, metadata, format detection, corpus loading and the default interview."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from helpers import INTERVIEW, assert_turns, write_corpus

from qa_bot.errors import TranscriptError
from qa_bot.parsers.base import (
    NARRATION,
    QUESTION,
    SPEECH,
    TITLE,
    LineIndex,
    Metadata,
    Transcript,
    line_index,
)
from qa_bot.parsers.corpus import decode, load_corpus, parse
from qa_bot.parsers.detect import detect_format


def assert_offsets(transcript: Transcript) -> None:
    """Every turn is the exact slice of the text its offsets name, on the line it names."""
    assert_turns(transcript.text, transcript.turns)


# --- decoding -------------------------------------------------------------------------------


def test_decode_keeps_a_byte_order_mark_as_every_utf8_reader_does() -> None:
    assert decode(Path("a.txt"), b"\xef\xbb\xbfHello") == "\ufeffHello"


def test_decode_names_the_line_of_a_bad_byte() -> None:
    data = "one\ntwo\nthr\xe9e\n".encode("latin-1")  # é as the single byte 0xE9 on line 3
    with pytest.raises(TranscriptError) as caught:
        decode(Path("talk.txt"), data)
    assert caught.value.line == 3
    assert str(caught.value).startswith("talk.txt:3: ")


def test_decode_counts_crlf_and_lone_cr_lines_before_a_bad_byte() -> None:
    with pytest.raises(TranscriptError) as caught:
        decode(Path("a.txt"), b"one\r\ntwo\rthree\n\xff")
    assert caught.value.line == 4


def test_decode_rejects_utf16_and_binary() -> None:
    with pytest.raises(TranscriptError, match="UTF-16"):
        decode(Path("a.txt"), "hello".encode("utf-16"))
    with pytest.raises(TranscriptError, match="binary"):
        decode(Path("a.txt"), b"PK\x03\x04\x00\x00")


# --- line numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\nbb\nccc", "a\r\nbb\r\nccc", "a\rbb\rccc"])
def test_line_index_counts_every_kind_of_line_break(text: str) -> None:
    index = LineIndex(text)
    c = text.index("c")
    assert index.line_of(0) == 1
    assert index.line_of(text.index("b")) == 2
    assert index.line_of(c) == 3
    assert index.line_of(c - 1) == 2  # the break ending line 2 still belongs to it
    assert index.line_of(len(text)) == 3


def test_line_of_an_empty_text() -> None:
    assert LineIndex("").line_of(0) == 1


# --- metadata -------------------------------------------------------------------------------


def test_metadata_of_the_default_interview() -> None:
    meta = Metadata.read(Path(str(INTERVIEW) + ".meta.json"))
    assert meta.format == "interview"
    assert meta.interviewee == "Viktor Ivanov"
    assert meta.aliases == ("Victor Ivanov", "Ivanov")
    assert meta.interviewer is None
    assert meta.speaker_roles["Viktor Ivanov"].startswith("head of Russia's Federal Drug Control")


def test_missing_metadata_is_empty() -> None:
    assert Metadata.read(Path("nothing.meta.json")) == Metadata()


def test_metadata_interviewee_as_a_plain_name_and_a_lone_alias(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.meta.json"
    path.write_text(json.dumps({"interviewee": "Jane Roe"}))
    assert Metadata.read(path).interviewee == "Jane Roe"
    path.write_text(json.dumps({"interviewee": {"name": "Jane Roe", "aliases": "Roe"}}))
    assert Metadata.read(path).aliases == ("Roe",)  # not ("R", "o", "e")


@pytest.mark.parametrize(("raw", "field"), [
    ({"format": "pdf"}, "format"),
    ({"interviewee": ["Jane"]}, "interviewee"),
    ({"interviewee": {"name": "Jane", "aliases": 3}}, "aliases"),
    ({"speaker_roles": ["host"]}, "speaker_roles"),
    ({"title": 12}, "title"),
    ({"interviewee": {"name": 5}}, "interviewee.name"),
])
def test_bad_metadata_fields_are_named(tmp_path: Path, raw: dict, field: str) -> None:
    path = tmp_path / "a.txt.meta.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(TranscriptError, match=field) as caught:
        Metadata.read(path)
    assert caught.value.path == str(path)


def test_metadata_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.meta.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"title": "Notepad"}).encode())
    assert Metadata.read(path).title == "Notepad"


def test_metadata_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.meta.json"
    path.write_text('{\n  "title": "x",\n  oops\n}')
    with pytest.raises(TranscriptError) as caught:
        Metadata.read(path)
    assert caught.value.line == 3


# --- format detection -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [
    ("a.srt", "srt"), ("a.SRT", "srt"), ("a.vtt", "vtt"), ("a.json", "json"),
    ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"),
])
def test_format_from_the_extension(name: str, fmt: str) -> None:
    assert detect_format(name, "whatever") == fmt


@pytest.mark.parametrize(("text", "fmt"), [
    ("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n", "vtt"),
    ("1\n00:00:01,000 --> 00:00:02,000\nHi\n", "srt"),
    ('[{"speaker": "A", "text": "Hi"}]', "json"),
    ('{"turns": [{"text": "Hi"}]}', "json"),
    ('{"text": "Hi"}\n{"text": "Bye"}\n', "jsonl"),
    ('{"text": "Hi"}\n', "jsonl"),  # one record and no "turns": a JSON Lines file of one line
    ("[Music]\nAnn: Hello.\nBob: Hi there.\n", "labelled"),  # "[" alone is not JSON
    ("{laughs}\nAnn: Hello.\nBob: Hi.\n", "labelled"),
    ("Ann: Hello.\nBob: Hi.\nAnn: Bye.\n", "labelled"),
    ("A Title\n\nWhy? Because.\n\nHow? Like this.\n", "interview"),
    ("Just some prose.\n\nAnd more of it.\n", "plain"),
    ("", "plain"),
])
def test_format_of_a_text_file_from_its_content(text: str, fmt: str) -> None:
    assert detect_format("talk.txt", text) == fmt


def test_the_format_argument_overrides_metadata_and_detection() -> None:
    data = b"Ann: Hello.\nBob: Hi.\n"
    assert parse("a.txt", data).format == "labelled"
    by_meta = parse("a.txt", data, Metadata(format="plain"))
    assert by_meta.format == "plain"
    assert [t.kind for t in by_meta.turns] == [NARRATION]
    assert parse("a.txt", data, Metadata(format="plain"), fmt="labelled").format == "labelled"


def test_an_unknown_format_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="unknown format 'pdf'"):
        parse("a.txt", b"hi", fmt="pdf")


def test_parse_with_a_bom_and_crlf_keeps_exact_offsets() -> None:
    data = b"\xef\xbb\xbfAnn: Hello, world.\r\nBob: Hi \xe2\x80\x94 you\xe2\x80\x99re late.\r\n"
    transcript = parse("a.txt", data)
    assert transcript.format == "labelled"  # the BOM hides no label
    # Offsets index the text as any UTF-8 reader decodes the file: the BOM counts as one.
    assert transcript.text == data.decode("utf-8")
    assert [(t.speaker, t.text, t.line) for t in transcript.turns] == [
        ("Ann", "Hello, world.", 1), ("Bob", "Hi — you’re late.", 2)]
    assert transcript.turns[0].start == len("\ufeffAnn: ")
    assert_offsets(transcript)


def test_title_comes_from_metadata_then_the_file_then_the_name() -> None:
    data = b"The Title\n\nWhy? Because.\n"
    assert parse("x/talk.txt", data, Metadata(title="Given")).title == "Given"
    assert parse("x/talk.txt", data).title == "The Title"
    assert parse("x/talk.txt", b"Ann: Hi.\nBob: Yo.\n").title == "talk"


def test_the_fingerprint_follows_content_metadata_and_format() -> None:
    a = parse("a.txt", b"Ann: Hi.\nBob: Yo.\n")
    assert parse("b.txt", b"Ann: Hi.\nBob: Yo.\n").fingerprint == a.fingerprint
    assert parse("a.txt", b"Ann: Hi.\nBob: No.\n").fingerprint != a.fingerprint
    assert parse("a.txt", b"Ann: Hi.\nBob: Yo.\n", Metadata(title="T")).fingerprint != a.fingerprint
    assert parse("a.txt", b"Ann: Hi.\nBob: Yo.\n", fmt="plain").fingerprint != a.fingerprint


# --- corpus loading -------------------------------------------------------------------------


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return path


def test_load_corpus_reports_bad_files_and_loads_the_rest(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", "Ann: Hello.\nBob: Hi.\n")
    write(corpus / "sub" / "good.jsonl", '{"speaker": "Ann", "text": "Hi"}\n')
    write(corpus / "bad-timing.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n"
                                     "2\n00:00:03,000 -> 00:00:04,000\nBye\n")
    write(corpus / "no-header.vtt", "00:01.000 --> 00:02.000\nHi\n")
    write(corpus / "bad.json", '[\n  {"speaker": "Ann", "text": "Hi"},\n  {"speaker": "Bob"}\n]\n')
    write(corpus / "broken.json", '[\n  {"text": "Hi"}\n  {"text": "Bye"}\n]\n')
    write(corpus / "latin1.txt", "Ann: ok\nBob: caf\xe9\n".encode("latin-1"))
    write(corpus / "badmeta.txt", "Ann: Hello.\nBob: Hi.\n")
    write(corpus / "badmeta.txt.meta.json", '{"format": "pdf"}')
    write(corpus / ".hidden" / "skip.txt", "Ann: Hello.\n")
    write(corpus / "README.md", "# not a transcript")
    write(corpus / "notes.pdf", b"%PDF")

    loaded, errors = load_corpus(corpus)

    assert [t.name for t in loaded] == ["good.txt", "sub/good.jsonl"]
    found = {Path(e.path).name: (e.line, e.reason) for e in errors}
    assert set(found) == {"bad-timing.srt", "no-header.vtt", "bad.json", "broken.json",
                          "latin1.txt", "badmeta.txt.meta.json"}
    assert found["bad-timing.srt"][0] == 6
    assert found["no-header.vtt"][0] == 1
    assert found["bad.json"] == (3, "field 'text' must be a non-empty string")
    assert found["broken.json"][0] == 3
    assert found["latin1.txt"][0] == 2
    for error in errors:  # each message names the file, and the line where known
        where = f"{error.path}:{error.line}" if error.line else error.path
        assert str(error).startswith(where + ": ")


def test_an_unreadable_file_is_reported_not_raised(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "a.txt", "Ann: Hello.\nBob: Hi.\n")
    locked = write(corpus / "b.txt", "Ann: Hello.\nBob: Hi.\n")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    loaded, errors = load_corpus(corpus)
    assert [t.name for t in loaded] == ["a.txt"]
    assert len(errors) == 1 and errors[0].path == str(locked)
    assert "Permission denied" in errors[0].reason


def test_a_file_over_the_size_limit_is_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "small.txt", "Ann: Hi.\nBob: Yo.\n")
    write(corpus / "big.txt", "Ann: " + "words " * 100 + "\n")
    loaded, errors = load_corpus(corpus, max_bytes=100)
    assert [t.name for t in loaded] == ["small.txt"]
    assert [Path(e.path).name for e in errors] == ["big.txt"]


def test_a_symlink_out_of_the_corpus_is_skipped_with_a_warning_and_one_inside_is_read(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 13: a link must not make the corpus serve a file from elsewhere on the machine."""
    corpus = write_corpus(tmp_path / "talks", {"alpha.txt": "Host: Fruit?\nAlice: Mangoes.\n",
                                               "beta.txt": "Q: Why?\nA: Bread.\n"})
    secret = write_corpus(tmp_path / "elsewhere", {"secret.txt": "Q: Password?\nA: swordfish.\n"})
    (corpus / "outside.txt").symlink_to(secret / "secret.txt")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "again.txt").symlink_to(corpus / "alpha.txt")
    (corpus / "linked-dir").symlink_to(secret, target_is_directory=True)
    with caplog.at_level(logging.WARNING, logger="qa_bot"):
        loaded, errors = load_corpus(corpus)
    assert sorted(t.name for t in loaded) == ["alpha.txt", "beta.txt", "sub/again.txt"]
    assert errors == [] and not any("swordfish" in t.text for t in loaded)
    assert "outside.txt" in caplog.text and "not followed" in caplog.text


def test_a_missing_corpus_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope")


# --- the default interview ------------------------------------------------------------------

QUESTIONS = [
    "Do you think Russia should have more influence in the former Soviet states?",
    "Are you aware of any radical recruiting taking place in Central Asian states?",
    "As a KGB officer you took part in the Afghanistan war. Do you regret that the USSR fell apart?",
    "Russia seems to be having a variety of its own issues. Why spend money abroad?",
    "Is the U.S. offering to combine efforts in fighting drug production in Central Asia?",
]
ANSWERS = [  # (first words, last words) of each answer, read off the file
    ("Of course we should.", "Central Asia is across the border. We have to help them."),
    ("We know that when big volumes", "they simply kill each other."),
    ("When I worked in Afghanistan in the 1980s,", "took us to colossal negative consequences."),
    ("Our brightest example is the United States—", "significantly high, unfortunately."),
    ("Unfortunately the U.S. and its partners", "who are present in Afghanistan."),
]


def test_interview_turn_structure(interview: Transcript) -> None:
    assert interview.format == "interview"
    assert interview.title == "Viktor Ivanov Russia's Anti-Narcotics Official Interview"
    kinds = [t.kind for t in interview.turns]
    assert kinds == [TITLE, NARRATION] + [QUESTION, SPEECH] * 5
    assert [t.index for t in interview.turns] == list(range(12))


def test_interview_title_and_caption_are_narration(interview: Transcript) -> None:
    title, caption = interview.turns[:2]
    assert (title.text, title.line, title.start, title.speaker) == (
        "Viktor Ivanov Russia's Anti-Narcotics Official Interview", 1, 0, None)
    assert caption.line == 3 and caption.speaker is None
    assert caption.text.startswith("Russian Chief for fighting drug traffic Victor Ivanov waves")
    assert caption.text.endswith("on May 9, 2011 in Paris. Eric Feferberg, AFP / Getty Images")


def test_interview_questions_and_answers(interview: Transcript) -> None:
    text = interview.text
    questions = [t for t in interview.turns if t.kind == QUESTION]
    answers = [t for t in interview.turns if t.kind == SPEECH]
    assert [q.text for q in questions] == QUESTIONS
    assert {q.speaker for q in questions} == {"Interviewer"}  # the sidecar names no interviewer
    assert {a.speaker for a in answers} == {"Viktor Ivanov"}
    for n, (question, answer, (first, last)) in enumerate(zip(questions, answers, ANSWERS,
                                                                strict=True)):
        assert question.line == answer.line == 5 + 2 * n  # one paragraph each, blank lines between
        assert question.start == text.index(QUESTIONS[n])
        assert answer.start == text.index(first)
        assert answer.text.startswith(first) and answer.text.endswith(last)
        assert answer.end == text.index(last) + len(last)
        assert text[question.end:answer.start] == " "  # the question and its answer share a line
        assert answer.reply_to == question.index
        assert question.reply_to is None


def test_interview_keeps_curly_apostrophes_and_em_dashes(interview: Transcript) -> None:
    answers = [t for t in interview.turns if t.kind == SPEECH]
    assert "than the countries’ budgets." in answers[0].text
    assert "paramilitary outfits—guerrillas with weapons" in answers[1].text
    assert "an ideal model—it was not—but" in answers[2].text
    assert "I met with Hillary Clinton’s aide" in answers[4].text
    # Offsets count characters, not UTF-8 bytes: after multi-byte characters the two differ.
    data = INTERVIEW.read_bytes()
    last = answers[4]
    assert last.start == interview.text.index("Unfortunately the U.S.")
    assert last.start < data.index(b"Unfortunately the U.S.")
    assert data.decode("utf-8")[last.start:last.end] == last.text
    assert_offsets(interview)


def test_interview_parses_the_same_with_crlf_line_endings() -> None:
    meta = Metadata.read(Path(str(INTERVIEW) + ".meta.json"))
    lf = parse(INTERVIEW.name, INTERVIEW.read_bytes(), meta)
    crlf = parse(INTERVIEW.name, INTERVIEW.read_bytes().replace(b"\n", b"\r\n"), meta)
    assert [(t.kind, t.speaker, t.text, t.line, t.reply_to) for t in crlf.turns] == \
        [(t.kind, t.speaker, t.text, t.line, t.reply_to) for t in lf.turns]
    assert crlf.turns[-1].start == lf.turns[-1].start + 12  # one "\r" more on each of 12 lines
    assert_offsets(crlf)


def test_interview_without_its_sidecar_is_still_an_interview() -> None:
    transcript = parse(INTERVIEW.name, INTERVIEW.read_bytes())
    assert transcript.format == "interview"
    assert [t.kind for t in transcript.turns] == [TITLE, NARRATION] + [QUESTION, SPEECH] * 5
    assert {t.speaker for t in transcript.turns if t.kind == SPEECH} == {"Interviewee"}


def test_transcript_role_of(interview: Transcript) -> None:
    assert (interview.role_of("Viktor Ivanov") or "").startswith("head of Russia")
    assert interview.role_of("Interviewer") is None
    assert interview.role_of(None) is None


def test_line_of_matches_turn_lines(interview: Transcript) -> None:
    for turn in interview.turns:
        assert interview.line_of(turn.start) == turn.line
    assert line_index(interview.text) is line_index(interview.text)


NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("name, data, reason", [
    ("nested.json", NESTED, "nested too deeply"),
    ("nested.jsonl", '{"text": ' + NESTED + "}\n", "nested too deeply"),
    ("huge-start.json", '[{"speaker": "Ann", "text": "Hi", "start": ' + "9" * 5000 + "}]", "digits"),
    ("nested.txt.meta.json", NESTED, "nested too deeply"),
])
def test_hostile_json_is_one_bad_file_with_its_line_not_a_broken_corpus(
        tmp_path: Path, name: str, data: str, reason: str) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", "Ann: Hello.\nBob: Hi.\n")
    write(corpus / name, data)
    if name.endswith(".meta.json"):
        write(corpus / name.removesuffix(".meta.json"), "Ann: Hello.\n")
    loaded, errors = load_corpus(corpus)
    assert [t.name for t in loaded] == ["good.txt"]
    assert len(errors) == 1 and reason in errors[0].reason and errors[0].line == 1


def test_deeply_nested_brackets_in_a_text_file_are_text(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "nested.txt", NESTED + "\n")
    loaded, errors = load_corpus(corpus)
    assert not errors and loaded[0].format == "plain"


def test_a_parser_bug_skips_that_file_only(tmp_path: Path, monkeypatch) -> None:
    from qa_bot.parsers import detect

    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", "Ann: Hello.\nBob: Hi.\n")
    write(corpus / "boom.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n")

    def boom(*_: object) -> list:
        raise IndexError("a bug")
    monkeypatch.setitem(detect.PARSERS, "srt", boom)
    loaded, errors = load_corpus(corpus)
    assert [t.name for t in loaded] == ["good.txt"]
    assert [Path(e.path).name for e in errors] == ["boom.srt"] and "IndexError" in errors[0].reason
