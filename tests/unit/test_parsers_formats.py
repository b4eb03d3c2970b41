"""Each format's parser on small files written by hand, and the errors of malformed ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_turns

from qa_bot.chunking import chunk_transcript
from qa_bot.errors import TranscriptError
from qa_bot.parsers.base import NARRATION, QUESTION, SPEECH, TITLE, Metadata, Transcript, Turn
from qa_bot.parsers.corpus import parse
from qa_bot.parsers.json_turns import parse_json, parse_jsonl
from qa_bot.parsers.labelled import parse_labelled
from qa_bot.parsers.prose import parse_interview, parse_plain
from qa_bot.parsers.structure import link_replies
from qa_bot.parsers.subtitles import parse_srt, parse_vtt

NO_META = Metadata()
PATH = Path("talk.txt")


def check(text: str, turns: list[Turn]) -> list[Turn]:
    """Assert the offset invariant and the line numbers, then hand the turns back."""
    assert_turns(text, turns)
    return turns


def load(name: str, text: str, meta: Metadata = NO_META) -> Transcript:
    """Write a file into tmp_path (the working folder) and parse it as the corpus would."""
    Path(name).write_text(text, encoding="utf-8", newline="")
    transcript = parse(name, Path(name).read_bytes(), meta, path=Path(name))
    check(transcript.text, list(transcript.turns))
    return transcript


def rows(transcript: Transcript) -> list[tuple]:
    return [(t.kind, t.speaker, t.text) for t in transcript.turns]


def error_of(name: str, text: str) -> TranscriptError:
    with pytest.raises(TranscriptError) as caught:
        load(name, text)
    assert str(caught.value).startswith(f"{name}:{caught.value.line}: ")
    return caught.value


# --- labelled -------------------------------------------------------------------------------

LABELLED = """INTERVIEWER: Where were you at 10:30?
Jane Doe: At home: asleep, of course.
The phone rang at 10:30 exactly.
Q: And then?
A: I answered it.
"""


def test_labelled_speakers_questions_and_narration() -> None:
    turns = check(LABELLED, parse_labelled(LABELLED, PATH, NO_META))
    assert [(t.kind, t.speaker, t.text, t.line) for t in turns] == [
        (QUESTION, "Interviewer", "Where were you at 10:30?", 1),
        (SPEECH, "Jane Doe", "At home: asleep, of course.", 2),
        (NARRATION, None, "The phone rang at 10:30 exactly.", 3),
        (QUESTION, "Interviewer", "And then?", 4),
        (SPEECH, "Interviewee", "I answered it.", 5),
    ]
    assert turns[1].start == LABELLED.index("At home")


SENTENCE_WITH_A_COLON = (
    "Interviewer: Why did the mill close?\n"
    "Ana Lima: The owners left.\n"
    "The reason is simple: money.\n"
    "Woman on phone: Hello?\n"
    "Ana Lima: Who is this?\n"
    "Woman on phone: The bank.\n"
    "Voice of God: Let there be light.\n"
    "Dr. van Dijk: It closed in May.\n"
)


def test_a_sentence_with_a_colon_is_narration_not_a_speaker() -> None:
    turns = check(SENTENCE_WITH_A_COLON, parse_labelled(SENTENCE_WITH_A_COLON, PATH, NO_META))
    assert [(t.kind, t.speaker) for t in turns] == [
        (QUESTION, "Interviewer"), (SPEECH, "Ana Lima"),
        (NARRATION, None),  # "The reason is simple" reads as no name and labels one line only
        (SPEECH, "Woman on phone"), (SPEECH, "Ana Lima"), (SPEECH, "Woman on phone"),  # recurs
        (SPEECH, "Voice of God"), (SPEECH, "Dr. van Dijk"),  # the particles of names
    ]
    assert turns[2].text == "The reason is simple: money."


def test_a_subtitle_sentence_with_a_colon_is_no_speaker_either() -> None:
    text = ("1\n00:00:01,000 --> 00:00:02,000\nAna Lima: The mill closed.\n\n"
            "2\n00:00:02,000 --> 00:00:03,000\nThe reason is simple: money.\n\n"
            "3\n00:00:03,000 --> 00:00:04,000\n- Woman on phone: Hello?\n\n"
            "4\n00:00:04,000 --> 00:00:05,000\n- Woman on phone: The bank.\n")
    turns = check(text, parse_srt(text, Path("t.srt"), NO_META))
    # Cue 2 has no speaker of its own, so it goes on with the previous cue's, as any such cue.
    assert [(t.speaker, t.text) for t in turns] == [
        ("Ana Lima", "The mill closed."), ("Ana Lima", "The reason is simple: money."),
        ("Woman on phone", "Hello?"), ("Woman on phone", "The bank."),
    ]


def test_labelled_names_from_metadata_and_aliases() -> None:
    meta = Metadata(interviewee="Viktor Ivanov", aliases=("Ivanov",), interviewer="Jane Doe")
    text = "Jane Doe: Do you regret it?\nIVANOV: No.\nA: Never.\nViktor Ivanov: Truly.\nBob: Hm.\n"
    turns = check(text, parse_labelled(text, PATH, meta))
    assert [(t.kind, t.speaker) for t in turns] == [
        (QUESTION, "Jane Doe"), (SPEECH, "Viktor Ivanov"), (SPEECH, "Viktor Ivanov"),
        (SPEECH, "Viktor Ivanov"), (SPEECH, "Bob")]


@pytest.mark.parametrize(("line", "speaker", "words"), [
    ("Bob: We met at 10:30: late.", "Bob", "We met at 10:30: late."),  # the first colon labels
    ("Dr. Jane O’Neil-Smith: Yes.", "Dr. Jane O’Neil-Smith", "Yes."),
    ("Émile Zola: J’accuse.", "Émile Zola", "J’accuse."),
    ("  Bob :\tIndented.", "Bob", "Indented."),
    ("10:30 we left.", None, "10:30 we left."),  # a time is not a label
    ("10:30: we left.", None, "10:30: we left."),
    ("At 10:30 we left.", None, "At 10:30 we left."),
    ("note: lower case is no name.", None, "note: lower case is no name."),
    ("See http://example.com now.", None, "See http://example.com now."),
    ("Bob:no space after the colon", None, "Bob:no space after the colon"),
    ("One two three four five six: too many words.", None,
     "One two three four five six: too many words."),
])
def test_labels_and_lines_that_are_not_labels(line: str, speaker: str | None, words: str) -> None:
    text = f"{line}\nAnn: Hi.\n"
    first = check(text, parse_labelled(text, PATH, NO_META))[0]
    assert (first.speaker, first.text) == (speaker, words)
    assert first.kind == (NARRATION if speaker is None else SPEECH)


def test_labelled_crlf_and_lone_cr_lines() -> None:
    text = "Ann: One.\r\nBob: Two.\rAnn: Three.\r\n\r\nBob: Four."
    turns = check(text, parse_labelled(text, PATH, NO_META))
    assert [(t.speaker, t.text, t.line) for t in turns] == [
        ("Ann", "One.", 1), ("Bob", "Two.", 2), ("Ann", "Three.", 3), ("Bob", "Four.", 5)]


def test_labelled_does_not_break_lines_at_unicode_separators() -> None:
    # U+2028 and U+0085 are line breaks to str.splitlines but not to editors or to line_of.
    text = "Ann: One\u2028still one.\nBob: Two\x85still two.\n"
    turns = check(text, parse_labelled(text, PATH, NO_META))
    assert [(t.speaker, t.text, t.line) for t in turns] == [
        ("Ann", "One\u2028still one.", 1), ("Bob", "Two\x85still two.", 2)]


# --- interview ------------------------------------------------------------------------------


def test_interview_question_only_paragraph_then_answer_paragraph() -> None:
    text = ("My Title\n\nA caption under a photo.\n\nWhy did you leave?\n\n"
            "Regret? No. I left because I had to.\n\nWhat next? We rebuild.\n")
    turns = check(text, link_replies(parse_interview(text, PATH, Metadata(interviewee="Ann"))))
    assert [(t.kind, t.speaker, t.text, t.reply_to) for t in turns] == [
        (TITLE, None, "My Title", None),
        (NARRATION, None, "A caption under a photo.", None),
        (QUESTION, "Interviewer", "Why did you leave?", None),
        (SPEECH, "Ann", "Regret? No. I left because I had to.", 2),
        (QUESTION, "Interviewer", "What next?", None),
        (SPEECH, "Ann", "We rebuild.", 4),
    ]
    assert [t.line for t in turns] == [1, 3, 5, 7, 9, 9]


def test_interview_lead_in_and_several_question_sentences() -> None:
    text = ("As a KGB officer you served. Do you regret it? Of course not.\n\n"
            "Why? And how? Because we could.\n\n"
            'Did he say "never?" Yes, he did.\n')
    turns = check(text, parse_interview(text, PATH, NO_META))
    assert [(t.kind, t.text) for t in turns] == [
        (QUESTION, "As a KGB officer you served. Do you regret it?"),
        (SPEECH, "Of course not."),
        (QUESTION, "Why? And how?"),
        (SPEECH, "Because we could."),
        (QUESTION, 'Did he say "never?"'),
        (SPEECH, "Yes, he did."),
    ]


def test_interview_answer_paragraphs_go_on_even_with_a_late_rhetorical_question() -> None:
    text = ("Did it work? Not at first.\n\n"
            "We tried hard. We failed often. We learned a lot. Was it worth it? Yes.\n\n"
            "And the money went where it should.\n")
    turns = check(text, link_replies(parse_interview(text, PATH, NO_META)))
    assert [(t.kind, t.text, t.reply_to) for t in turns] == [
        (QUESTION, "Did it work?", None),
        (SPEECH, "Not at first.", 0),
        (SPEECH, "We tried hard. We failed often. We learned a lot. Was it worth it? Yes.", 0),
        (SPEECH, "And the money went where it should.", 0),
    ]


def test_interview_hard_wrapped_paragraphs_and_crlf() -> None:
    text = "Title\r\n\r\nWhy did\r\nyou go? I had\r\nto go.\r\n\r\nWhen? Monday.\r\n"
    turns = check(text, parse_interview(text, PATH, NO_META))
    assert [(t.kind, t.text, t.line) for t in turns] == [
        (TITLE, "Title", 1), (QUESTION, "Why did\r\nyou go?", 3), (SPEECH, "I had\r\nto go.", 4),
        (QUESTION, "When?", 7), (SPEECH, "Monday.", 7)]


def test_interview_with_no_title_and_a_multi_line_first_paragraph() -> None:
    text = "Some preface\nover two lines.\n\nWhy? Because.\n"
    turns = check(text, parse_interview(text, PATH, NO_META))
    assert [t.kind for t in turns] == [NARRATION, QUESTION, SPEECH]


def test_plain_paragraphs() -> None:
    text = "\n\nFirst paragraph\nstill first.\n\n\nSecond.  \n"
    turns = check(text, parse_plain(text, PATH, NO_META))
    assert [(t.kind, t.speaker, t.text, t.line) for t in turns] == [
        (NARRATION, None, "First paragraph\nstill first.", 3), (NARRATION, None, "Second.", 7)]
    spoken = parse_plain(text, PATH, Metadata(interviewee="Ann"))
    assert [(t.kind, t.speaker) for t in spoken] == [(SPEECH, "Ann"), (SPEECH, "Ann")]


# --- SRT ------------------------------------------------------------------------------------

SRT = """1
00:00:01,000 --> 00:00:02,500
Alice: Hello there.

2
00:00:03,000 --> 00:00:04,000
How are you?

3
01:01:05,250 --> 01:01:06,000
Bob: Fine: thanks.
It is 10:30 already.
"""


def test_srt_speakers_and_timestamps() -> None:
    transcript = load("talk.srt", SRT)
    assert transcript.format == "srt"
    assert [(t.speaker, t.text, t.line, t.start_time, t.end_time) for t in transcript.turns] == [
        ("Alice", "Hello there.", 3, 1.0, 2.5),
        ("Alice", "How are you?", 7, 3.0, 4.0),  # no label: the previous cue's speaker goes on
        ("Bob", "Fine: thanks.\nIt is 10:30 already.", 11, 3665.25, 3666.0),
    ]
    assert [t.reply_to for t in transcript.turns] == [None, None, 1]  # Bob answers Alice's "?"


def test_srt_with_crlf_and_a_bom() -> None:
    path = Path("talk.srt")
    path.write_bytes(b"\xef\xbb\xbf" + SRT.replace("\n", "\r\n").encode())
    transcript = parse("talk.srt", path.read_bytes())
    check(path.read_bytes().decode("utf-8"), list(transcript.turns))  # read_text would drop "\r"
    assert [(t.speaker, t.text, t.line) for t in transcript.turns] == [
        ("Alice", "Hello there.", 3), ("Alice", "How are you?", 7),
        ("Bob", "Fine: thanks.\r\nIt is 10:30 already.", 11)]


def test_srt_two_speakers_in_one_cue_and_inline_tags() -> None:
    text = ("1\n00:00:01,000 --> 00:00:02,000\n- Alice: Are you in?\n- Bob: <i>I am.</i>\n\n"
            "2\n00:00:02,000 --> 00:00:03,000\n<i>Alice: We go</i> <b>now</b>.\n\n"
            "3\n00:00:03,000 --> 00:00:04,000\n{\\an8}<font color=\"red\">Bob: Up here!</font>\n\n"
            "4\n00:00:04,000 --> 00:00:05,000\n<i></i>\n\n"
            "5\n00:00:05,000 --> 00:00:06,000\n10:30 is the time.\n")
    transcript = load("talk.srt", text)
    assert [(t.speaker, t.text, t.start_time) for t in transcript.turns] == [
        ("Alice", "Are you in?", 1.0),
        ("Bob", "I am.", 1.0),
        ("Alice", "We go</i> <b>now</b>.", 2.0),  # inner markup stays: a quote is a slice
        ("Bob", "Up here!", 3.0),
        ("Bob", "10:30 is the time.", 5.0),  # the tag-only cue 4 has no words
    ]


def test_srt_interviewer_question_spread_over_cues_stays_a_question() -> None:
    text = ("1\n00:00:01,000 --> 00:00:02,000\nQ: Why did you\n\n"
            "2\n00:00:02,000 --> 00:00:03,000\ngo there?\n\n"
            "3\n00:00:03,000 --> 00:00:04,000\nA: Because.\n\n"
            "4\n00:00:04,000 --> 00:00:05,000\nIt was time.\n")
    transcript = load("talk.srt", text, Metadata(interviewee="Ann"))
    assert [(t.kind, t.speaker, t.text, t.reply_to) for t in transcript.turns] == [
        (QUESTION, "Interviewer", "Why did you", None),
        (QUESTION, "Interviewer", "go there?", None),
        (SPEECH, "Ann", "Because.", 1),
        (SPEECH, "Ann", "It was time.", 1),
    ]
    # The answer replies to the whole question, not to its last cue.
    assert transcript.question_text(1) == "Why did you go there?"
    assert transcript.question_text(0) == "Why did you"
    chunks = chunk_transcript(transcript)
    assert {c.in_reply_to for c in chunks if c.speaker == "Ann"} == {"Why did you go there?"}


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,000 -> 00:00:04,000\nBye\n", 6, "timing"),
    ("1\n00:00:01,000 --> banana\nHi\n", 2, "malformed SRT cue"),
    ("1\n00:00:03,000 --> 00:00:02,000\nHi\n", 2, "ends before it starts"),
    ("1\nHi there\n00:00:01,000 --> 00:00:02,000\nHi\n", 1, "before the timing line"),
    ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\nJust words.\n", 5, "timing"),
    ("1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n\r\n2\r\n00:00:03 -> 00:00:04\r\nBye\r\n", 6, "timing"),
])
def test_malformed_srt_names_the_line(text: str, line: int, reason: str) -> None:
    error = error_of("bad.srt", text)
    assert error.line == line
    assert reason in error.reason


# --- WebVTT ---------------------------------------------------------------------------------

VTT = """WEBVTT - an interview
Kind: captions

NOTE a comment: with a colon
over two lines

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.500 align:start position:10%
<v Bob>Hello <i>there</i>.</v>

00:00:03.000 --> 00:00:04.000
<v.loud Bob Smith>Stop!

00:00:04.000 --> 00:00:05.000
<v Alice>Hi</v>
<v Bob>Hello<00:00:04.500> again</v>

00:00:05.000 --> 00:00:06.000
Alice: Once more: <c.yellow>yes</c>.

00:00:06.000 --> 00:00:07.000
and on.
"""


def test_vtt_voices_labels_and_timestamps() -> None:
    transcript = load("talk.vtt", VTT)
    assert transcript.format == "vtt"
    assert [(t.speaker, t.text, t.line, t.start_time, t.end_time) for t in transcript.turns] == [
        ("Bob", "Hello <i>there</i>.", 12, 1.0, 2.5),
        ("Bob Smith", "Stop!", 15, 3.0, 4.0),
        ("Alice", "Hi", 18, 4.0, 5.0),
        ("Bob", "Hello<00:00:04.500> again", 19, 4.0, 5.0),
        ("Alice", "Once more: <c.yellow>yes</c>.", 22, 5.0, 6.0),
        ("Alice", "and on.", 25, 6.0, 7.0),
    ]


def test_vtt_with_crlf() -> None:
    transcript = load("talk.vtt", VTT.replace("\n", "\r\n"))
    assert [(t.speaker, t.line) for t in transcript.turns] == [
        ("Bob", 12), ("Bob Smith", 15), ("Alice", 18), ("Bob", 19), ("Alice", 22), ("Alice", 25)]


def test_vtt_voice_of_the_interviewer_asks() -> None:
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Interviewer>Why?</v>\n\n"
            "00:02.000 --> 00:03.000\n<v Ann>Because.</v>\n")
    transcript = load("talk.vtt", text)
    assert [(t.kind, t.speaker, t.reply_to) for t in transcript.turns] == [
        (QUESTION, "Interviewer", None), (SPEECH, "Ann", 0)]


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("00:01.000 --> 00:02.000\nHi\n", 1, "must start with 'WEBVTT'"),
    ("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n\n00:03.000 --> later\nBye\n", 6, "WebVTT"),
    ("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n\n00:03.000 -> 00:04.000\nBye\n", 6, "timing"),
    ("WEBVTT\n\n00:05.000 --> 00:02.000\nHi\n", 3, "ends before it starts"),
])
def test_malformed_vtt_names_the_line(text: str, line: int, reason: str) -> None:
    error = error_of("bad.vtt", text)
    assert error.line == line
    assert reason in error.reason


# --- JSON and JSON Lines --------------------------------------------------------------------


def test_json_turns_point_at_their_own_text_literal() -> None:
    text = """{"turns": [
  {"speaker": "Ann", "text": "A", "start": 0, "end": 1.5},
  {"speaker": "Bob",
   "text": "Did you say \\"A\\"?", "start": 2},
  {"speaker": "e", "text": "e"}
]}
"""
    transcript = load("talk.json", text)
    ann, bob, e = transcript.turns
    assert (ann.speaker, ann.text, ann.line, ann.start_time, ann.end_time) == ("Ann", "A", 2, 0.0, 1.5)
    assert ann.start == text.index('"text": "A"') + len('"text": "')  # not the A of "Ann"
    assert (bob.text, bob.line, bob.start_time, bob.end_time) == ('Did you say \\"A\\"?', 4, 2.0, None)
    assert json.loads(f'"{bob.text}"') == 'Did you say "A"?'  # the literal as written in the file
    assert e.start == text.index('"text": "e"') + len('"text": "')  # not the e of "speaker"
    assert (bob.reply_to, e.reply_to) == (None, 1)  # "e" answers the question Bob asked


def test_json_list_with_unicode_and_escapes() -> None:
    text = '[{"text": "Naïve — café", "speaker": "Zoë"}, {"text": "caf\\u00e9 \\/ ok"}, {"text": " x "}]'
    turns = load("talk.json", text).turns
    assert [(t.kind, t.speaker, t.text) for t in turns] == [
        (SPEECH, "Zoë", "Naïve — café"), (NARRATION, None, "caf\\u00e9 \\/ ok"), (NARRATION, None, "x")]


@pytest.mark.parametrize(("text", "line", "reason"), [
    ('[\n  {"text": "Hi"}\n  {"text": "Bye"}\n]', 3, "invalid JSON"),
    ('[\n  {"text": "Hi"},\n  {"speaker": "Bob"}\n]', 3, "'text'"),
    ('[\n  {"text": "Hi"},\n\n  {"text": "   "}\n]', 4, "'text'"),
    ('[{"text": "Hi", "speaker": 5}]', 1, "'speaker'"),
    ('[\n{"text": "Hi", "start": "0:01"}]', 2, "'start'"),
    ('[{"text": "Hi", "end": true}]', 1, "'end'"),
    ('[{"text": "Hi", "start": NaN}]', 1, "'start'"),
    ('[{"text": "Hi", "start": 5, "end": 1}]', 1, "ends before it starts"),
    ('[\n  "just a string"\n]', 2, "must be an object"),
    ('{"talk": []}', 1, "'turns'"),
    ('{"turns": {"text": "Hi"}}', 1, "'turns'"),
])
def test_malformed_json_names_the_line(text: str, line: int, reason: str) -> None:
    error = error_of("bad.json", text)
    assert (error.line, reason in error.reason) == (line, True), error


def test_jsonl_turns_lines_and_replies() -> None:
    text = ('{"speaker": "Q", "text": "Why?", "start": 1, "end": 2}\r\n\r\n'
            '{"text": "Because.", "speaker": "Ivan", "start": 2.5, "end": 4}\r\n'
            '{"speaker": "Ivan", "text": "One\u2028record."}\n')
    transcript = load("talk.jsonl", text)
    assert [(t.kind, t.speaker, t.text, t.line, t.start_time, t.reply_to)
            for t in transcript.turns] == [
        (QUESTION, "Interviewer", "Why?", 1, 1.0, None),
        (SPEECH, "Ivan", "Because.", 3, 2.5, 0),
        (SPEECH, "Ivan", "One\u2028record.", 4, None, 0)]


@pytest.mark.parametrize(("text", "line", "reason"), [
    ('{"text": "Hi"}\n\n{"text": "Bye"\n', 3, "invalid JSON"),
    ('{"text": "Hi"}\r\n{"speaker": "Bob"}\r\n', 2, "'text'"),
    ('{"text": "Hi"}\n["Bye"]\n', 2, "must be an object"),
])
def test_malformed_jsonl_names_the_line(text: str, line: int, reason: str) -> None:
    error = error_of("bad.jsonl", text)
    assert (error.line, reason in error.reason) == (line, True), error


def test_json_parsers_directly() -> None:
    text = '[{"speaker": "Ann", "text": "Hi"}]'
    assert [t.text for t in parse_json(text, PATH, NO_META)] == ["Hi"]
    assert [t.text for t in parse_jsonl(text.strip("[]"), PATH, NO_META)] == ["Hi"]


def test_srt_and_vtt_parsers_directly() -> None:
    assert parse_srt(SRT, PATH, NO_META)[0].text == "Hello there."
    assert parse_vtt(VTT, PATH, NO_META)[0].text == "Hello <i>there</i>."


# --- a byte order mark before any format ----------------------------------------------------


@pytest.mark.parametrize(("name", "text", "speaker", "words"), [
    ("a.txt", "Ann: Hello there.\nBob: Hi.\n", "Ann", "Hello there."),
    ("a.txt", "Title\n\nWhy? Because.\n", None, "Title"),
    ("a.txt", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ann>Hello there.\n", "Ann", "Hello there."),
    ("a.txt", "1\n00:00:01,000 --> 00:00:02,000\nAnn: Hello there.\n", "Ann", "Hello there."),
    ("a.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ann>Hello there.\n", "Ann", "Hello there."),
    ("a.srt", "1\n00:00:01,000 --> 00:00:02,000\nAnn: Hello there.\n", "Ann", "Hello there."),
    ("a.json", '[{"speaker": "Ann", "text": "Hello there."}]', "Ann", "Hello there."),
    ("a.txt", '[{"speaker": "Ann", "text": "Hello there."}]', "Ann", "Hello there."),
    ("a.jsonl", '{"speaker": "Ann", "text": "Hello there."}\n', "Ann", "Hello there."),
])
def test_a_bom_changes_nothing_but_the_offsets(name: str, text: str, speaker: str | None,
                                               words: str) -> None:
    Path(name).write_bytes(b"\xef\xbb\xbf" + text.encode())
    transcript = parse(name, Path(name).read_bytes())
    first = transcript.turns[0]
    assert (first.speaker, first.text) == (speaker, words)
    on_disk = Path(name).read_text(encoding="utf-8")  # how anyone checking a quote reads the file
    assert first.start == 1 + text.index(words)
    assert [on_disk[t.start:t.end] for t in transcript.turns] == [t.text for t in transcript.turns]
    without = parse(name, text.encode())
    assert [(t.kind, t.speaker, t.text, t.line) for t in transcript.turns] == \
        [(t.kind, t.speaker, t.text, t.line) for t in without.turns]


# --- in_reply_to linking --------------------------------------------------------------------


def turn(kind: str, speaker: str | None, text: str) -> Turn:
    return Turn(index=-1, kind=kind, speaker=speaker, text=text, start=0, end=len(text), line=1)


def test_link_replies_points_answers_at_the_latest_question() -> None:
    linked = link_replies([
        turn(NARRATION, None, "Intro."), turn(SPEECH, "Ann", "Before any question."),
        turn(QUESTION, "Host", "First?"), turn(SPEECH, "Ann", "One."), turn(NARRATION, None, "Pause."),
        turn(SPEECH, "Ann", "Two."), turn(QUESTION, "Host", "Second?"), turn(SPEECH, "Bob", "Three."),
    ])
    assert [t.index for t in linked] == list(range(8))
    assert [t.reply_to for t in linked] == [None, None, None, 2, None, 2, None, 6]


def test_link_replies_in_a_dialogue_without_an_interviewer() -> None:
    linked = link_replies([
        turn(SPEECH, "Ann", "Are you coming?"), turn(SPEECH, "Bob", "Yes."),
        turn(SPEECH, "Bob", "Are you?"), turn(SPEECH, "Bob", "Well."),
        turn(SPEECH, "Ann", "I said so."), turn(SPEECH, "Bob", "Good?"), turn(NARRATION, None, "End."),
    ])
    assert [t.reply_to for t in linked] == [None, 0, None, None, None, None, None]


def test_a_scene_mostly_of_stage_directions_is_still_labelled():
    from qa_bot.parsers.detect import detect_format

    scene = ("[ Scene : a coffee house . ]\nRoss: Gunther ! Please tell me .\n"
             "Gunther: I 'm sorry . Was I not supposed to ?\n( Ross turns around . )\n[ Next clip . ]\n")
    assert detect_format("scene.txt", scene) == "labelled"
    prose = "(An aside.)\nA plain line: with a colon.\nAnother line.\n"
    assert detect_format("prose.txt", prose) != "labelled"
