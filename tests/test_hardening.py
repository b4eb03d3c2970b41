"""Bad input and load: each bad thing gets one clear error, the app stays up, nothing indexed is lost.

Questions (blank, 10,000+ characters, control characters, no words), transcript files (non-UTF-8,
UTF-16, binary, empty, no text, over the size limit, malformed SRT/VTT/JSON/JSONL, duplicate names,
path-traversal and other bad names) through the Python API, the app's handlers and, over the wire,
the launched app. Property tests add what tests/test_properties.py does not cover: damaged
subtitle and JSON files and arbitrary bytes fail only with a TranscriptError, and arbitrary text
goes end to end (parse, index with FakeEmbedder, ask) with every quote verbatim. The concurrency
limits are checked by counting questions in flight, and bench/load_test.py is smoke-tested.

All with FakeEmbedder: the real model is not the point here (bench/load_test.py uses it).
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, FakeEmbedder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_bot import page_state, upload_handlers
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.errors import QuestionError, TranscriptError
from qa_bot.parsers.corpus import parse

ALPHA = ("Host: What is your favourite fruit?\n"
         "Alice: I love mangoes. They are sweet and juicy.\n"
         "Host: Where do you live?\n"
         "Alice: I live in Lisbon near the river. The ferries wake me at dawn.\n")
BETA = ("1\n00:00:01,000 --> 00:00:04,000\nQ: Why did you start the bakery?\n\n"
        "2\n00:00:05,000 --> 00:00:09,500\nA: My grandmother baked rye bread every Sunday.\n")
GOOD_UPLOAD = "Interviewer: How do zeppelins fly?\nOtto: Hydrogen lifts them. Engines push them forward.\n"
QUESTIONS = ["What fruit does Alice love?", "Why start a bakery?", "When do the ferries wake her?"]
LIMIT = 4_000  # bytes: the size limit of the bots and the app below

# (file name, content, what the error must say). Every one must be refused and change nothing.
BAD_FILES = [
    ("latin1.txt", "Host: Café?\nAlice: Oui.\n".encode("latin-1"), "latin1.txt:1: not valid UTF-8"),
    ("late-latin1.txt", b"Host: Hi?\nAlice: Yes.\nAlice: Caf\xe9.\n", "late-latin1.txt:3: not valid UTF-8"),
    ("utf16.txt", "Host: Hi?\nAlice: Yes.\n".encode("utf-16"), "is UTF-16; save it as UTF-8"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "looks like a binary file"),
    ("random.srt", bytes((i * 37 + 11) % 256 for i in range(600)), "looks like a binary file"),
    ("empty.txt", b"", "empty.txt: the file is empty"),
    ("blank.srt", b" \r\n\n\t \n", "blank.srt: the file is empty"),
    ("bom-only.txt", b"\xef\xbb\xbf\n", "bom-only.txt: the file is empty"),
    ("no-turns.json", b"[]", "no-turns.json: no text to search"),
    ("header-only.vtt", b"WEBVTT\n\nNOTE nothing here\n", "header-only.vtt: no text to search"),
    ("only-questions.txt", b"Q: Where were you?\nQ: And after that?\n",
     "only-questions.txt: no text to search"),
    ("too-big.txt", ("Alice: " + "words " * 700 + "\n").encode(), "larger than the 4,000-byte limit"),
    ("bad-timing.srt", b"1\n00:00:01,000 -> 00:00:02,000\nHi.\n",
     "bad-timing.srt:2: bad or missing timing"),
    ("backwards.srt", b"1\n00:00:05,000 --> 00:00:02,000\nHi.\n",
     "backwards.srt:2: cue ends before it starts"),
    ("no-header.vtt", b"00:01.000 --> 00:02.000\nHi.\n",
     "no-header.vtt:1: a WebVTT file must start with 'WEBVTT'"),
    ("bad-cue.vtt", b"WEBVTT\n\n00:01.000 --> 00:02.000\nHi.\n\nHello there\n",
     "bad-cue.vtt:6: bad or missing timing"),
    ("truncated.json", b'{"turns": [{"speaker": "A", "text": "Hi', "truncated.json:1: invalid JSON"),
    ("wrong-shape.json", b'{"speaker": "A"}', "expected a list of turns"),
    ("no-text.json", b'[{"speaker": "A", "text": ""}]', "field 'text' must be a non-empty string"),
    ("bad-line.jsonl", b'{"speaker": "A", "text": "Hi."}\n{"speaker": "B", "text": \n',
     "bad-line.jsonl:2: invalid JSON"),
    ("bad-time.jsonl", b'{"speaker": "A", "text": "Hi.", "start": "soon"}\n',
     "field 'start' must be a number"),
]
# Names that must never become a file, wherever they point: (name, what the error must say).
BAD_NAMES = [
    ("../evil.txt", "not an acceptable file name"),
    ("../../../../tmp/evil.txt", "not an acceptable file name"),
    ("/etc/cron.d/evil.txt", "not an acceptable file name"),
    ("sub/evil.txt", "not an acceptable file name"),
    ("..\\..\\evil.txt", "not an acceptable file name"),
    ("sub\\evil.txt", "not an acceptable file name"),
    ("..", "not an acceptable file name"),
    ("", "not an acceptable file name"),
    (".hidden.txt", "not an acceptable file name"),
    ("ev\0il.txt", "not an acceptable file name"),
    ("bell\x07.txt", "not an acceptable file name"),
    ("new\nline.txt", "not an acceptable file name"),
    ("a" * 250 + ".txt", "not an acceptable file name"),
    ("notes.txt.meta.json", "not an acceptable file name"),
    ("script.py", "not a transcript file"),
    ("page.html", "not a transcript file"),
    ("no-extension", "not a transcript file"),
    ("alpha.txt", "already in the corpus"),
    ("ALPHA.TXT", "already in the corpus"),
    ("alpha.srt", "already in the corpus"),
]


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.txt").write_text(ALPHA, encoding="utf-8")
    (folder / "beta.srt").write_text(BETA, encoding="utf-8")
    return folder


def open_bot(tmp_path: Path, embedder: FakeEmbedder | None = None) -> QaBot:
    return QaBot.open(make_corpus(tmp_path / "corpus"), tmp_path / "index",
                      Settings(max_file_bytes=LIMIT), embedder or FakeEmbedder())


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with the SHA-256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def snapshot(bot: QaBot) -> tuple:
    """What must not change: the corpus and index folders, what is loaded, and the answers."""
    assert bot.index_dir is not None
    answers = [bot.ask(q).to_dict() for q in QUESTIONS]
    return tree(bot.corpus), tree(bot.index_dir), sorted(bot.transcripts), len(bot.index.chunks), answers


def line_of(text: str, offset: int) -> int:
    """The 1-based line of an offset, counted independently of the code under test."""
    return text[:offset].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


def assert_verbatim(bot: QaBot, result) -> None:
    """Every quote is the exact slice of its transcript's text, which is its file as on disk (a
    byte order mark aside), and of its context."""
    for a in result.answers:
        text = bot.transcripts[a.transcript].text
        on_disk = bot.source_path(a.transcript).read_bytes().decode("utf-8")
        assert on_disk.removeprefix("\ufeff") == text.removeprefix("\ufeff")
        assert a.quote and text[a.start:a.end] == a.quote
        assert a.context[a.start - a.context_start:a.end - a.context_start] == a.quote
        assert a.line == line_of(text, a.start)


@pytest.fixture
def bot(tmp_path: Path) -> QaBot:
    return open_bot(tmp_path)


# --- questions -------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", " ", "\n\t \r\n", "\u3000\u00a0", None])
def test_blank_question_is_one_clear_error(bot: QaBot, question) -> None:
    with pytest.raises(QuestionError, match=r"^question: it is empty$"):
        bot.ask(question)


@pytest.mark.parametrize("question", ["\x00\x01\x02", "\x1b[2J\x1b[H", "???", "!!! ... ---",
                                      "\u200b\u200d\ufeff", "\x7f\x9f\u202e"])
def test_question_with_no_words_is_one_clear_error(bot: QaBot, question: str) -> None:
    """Control characters or punctuation alone: nothing to search for, and it says so."""
    with pytest.raises(QuestionError, match=r"^question: it has no words to search for$"):
        bot.ask(question)


def test_control_characters_in_a_question_are_dropped_and_it_is_answered(bot: QaBot) -> None:
    clean = bot.ask("What fruit does Alice love?")
    noisy = bot.ask("\x1b[31mWhat\x00 fruit\u200b does\x07 Alice\u202e love?\x1b[0m\x7f")
    assert noisy.question == "What fruit does Alice love?"
    assert [a.to_dict() for a in noisy.answers] == [a.to_dict() for a in clean.answers]
    assert noisy.top is not None and "mangoes" in noisy.top.quote
    assert_verbatim(bot, noisy)


@pytest.mark.parametrize("length", [2_001, 10_000, 250_000, 5_000_000])
def test_overlong_question_is_one_clear_error_and_quick(bot: QaBot, length: int) -> None:
    question = ("Does Alice love mangoes? " * (length // 25 + 1))[:length]
    too_long = r"^question: longer than 2,000 characters; shorten it to 2,000 characters$"
    began = time.perf_counter()
    with pytest.raises(QuestionError, match=too_long):
        bot.ask(question)
    with pytest.raises(QuestionError, match=too_long):
        bot.ask("x" * length)
    assert time.perf_counter() - began < 2.0
    assert bot.ask(QUESTIONS[0]).top is not None  # still answers


# --- files, through the Python API -----------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_bad_file_is_refused_with_a_clear_error_and_changes_nothing(bot: QaBot, name: str, data: bytes,
                                                                     message: str) -> None:
    before = snapshot(bot)
    with pytest.raises(TranscriptError) as caught:
        bot.add_transcript(name, data)
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 300
    assert snapshot(bot) == before


@pytest.mark.parametrize(("name", "message"), BAD_NAMES, ids=[repr(n[0])[:40] for n in BAD_NAMES])
def test_bad_or_duplicate_name_is_refused_and_nothing_is_written_anywhere(tmp_path: Path, name: str,
                                                                           message: str) -> None:
    bot = open_bot(tmp_path / "deep" / "er")  # room above the corpus for "../" to reach
    before, around = snapshot(bot), tree(tmp_path)
    with pytest.raises(TranscriptError) as caught:
        bot.add_transcript(name, (BETA if name.endswith(".srt") else GOOD_UPLOAD).encode())
    assert message in str(caught.value)
    assert snapshot(bot) == before and tree(tmp_path) == around
    assert not Path("/tmp/evil.txt").exists()


def test_a_good_file_after_the_bad_ones_is_added_and_searchable(bot: QaBot) -> None:
    for name, data, _ in BAD_FILES[:6]:
        with pytest.raises(TranscriptError):
            bot.add_transcript(name, data)
    added = bot.add_transcript("zeppelins.txt", GOOD_UPLOAD.encode())
    assert added.name == "zeppelins.txt" and bot.source_path("zeppelins.txt").read_text() == GOOD_UPLOAD
    assert bot.ask("How do zeppelins fly?").top.transcript == "zeppelins.txt"
    assert {"alpha.txt", "beta.srt", "zeppelins.txt"} == set(bot.transcripts)
    assert not [p for p in bot.corpus.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert bot.uploads is not None and not [p for p in bot.uploads.iterdir() if p.name.startswith(".")]


def test_concurrent_uploads_of_one_name_add_it_once(bot: QaBot) -> None:
    """Two callers adding the same name at once: one wins, the other is told; no file is clobbered."""
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def add(n: int) -> None:
        barrier.wait()
        try:
            bot.add_transcript("same.txt", GOOD_UPLOAD.replace("Otto", f"Otto{n}").encode())
            outcomes.append(f"added {n}")
        except TranscriptError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    added = [o for o in outcomes if o.startswith("added")]
    assert len(added) == 1 and len(outcomes) == 4
    assert all("already in the corpus" in o for o in outcomes if not o.startswith("added"))
    winner = added[0].split()[1]
    assert f"Otto{winner}:" in bot.source_path("same.txt").read_text()


def test_questions_are_answered_while_a_transcript_is_being_indexed(tmp_path: Path) -> None:
    """Indexing an upload (minutes for a long file) must not hold every question up."""
    release, embedding = threading.Event(), threading.Event()

    class SlowUploads(FakeEmbedder):
        def encode(self, texts):
            if any("zeppelin" in t.lower() or "Otto" in t for t in texts):
                embedding.set()
                assert release.wait(20), "never released"
            return super().encode(texts)

    bot = open_bot(tmp_path, SlowUploads())
    adding = threading.Thread(target=bot.add_transcript, args=("zeppelins.txt", GOOD_UPLOAD.encode()))
    adding.start()
    try:
        assert embedding.wait(10)
        answered: list = []
        asking = threading.Thread(target=lambda: answered.append(bot.ask(QUESTIONS[0])))
        asking.start()
        asking.join(5)
        assert answered and "mangoes" in answered[0].top.quote, "a question waited for the indexing"
    finally:
        release.set()
        adding.join(30)
    assert bot.ask("How do zeppelins fly?").top.transcript == "zeppelins.txt"


# --- the app's handlers, in process ----------------------------------------------------------


@pytest.fixture
def holder(tmp_path: Path):
    import app

    previous = page_state.holder()
    holder = app.configure(make_corpus(tmp_path / "corpus"), tmp_path / "index",
                           Settings(max_file_bytes=LIMIT), FakeEmbedder())
    holder.get()
    yield holder
    page_state.reset(previous)


def test_app_question_errors_are_notices_and_api_errors(holder) -> None:
    import gradio as gr

    import app

    cases = {"": "question: it is empty", "x" * 10_001: "longer than 2,000 characters",
             "\x00\x1b[0m": "no words to search for"}
    for question, message in cases.items():
        with pytest.raises(gr.Error, match=message):
            app.ask(question)
        history, box, *_, notice = app.respond(question, [{"role": "user", "content": "earlier"}])
        assert history == [{"role": "user", "content": "earlier"}] and box == question
        assert message in notice or "Type a question first" in notice
        assert "qa-notice-error" in notice
    for top_k, message in [("three", "top_k: must be a whole number"), (2.5, "must be a whole number"),
                           (True, "must be a whole number"), (0, "between 1 and 50"),
                           (10**9, "between 1 and 50")]:
        with pytest.raises(gr.Error, match=message):
            app.ask(QUESTIONS[0], top_k)
    assert app.ask(QUESTIONS[0], 2.0)["answers"][0]["quote"].startswith("I love mangoes")


def test_app_unexpected_error_is_a_notice_not_a_crash(holder, monkeypatch, caplog) -> None:
    import app

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(holder.get(), "ask", broken)
    *_, notice = app.respond(QUESTIONS[0], [])
    assert "Something went wrong" in notice and "logged" in notice and "ZeroDivision" in caplog.text


APP_BAD_FILES = [f for f in BAD_FILES if f[0] in {
    "latin1.txt", "image.txt", "empty.txt", "too-big.txt", "bad-timing.srt", "no-header.vtt",
    "truncated.json", "bad-line.jsonl", "no-turns.json"}] + [
    ("alpha.txt", GOOD_UPLOAD.encode(), "already in the corpus"),
    ("script.py", GOOD_UPLOAD.encode(), "not a transcript file"),
    ("x.txt.meta.json", b'{"title": "x"}', "not an acceptable file name")]


@pytest.mark.parametrize(("name", "data", "message"), APP_BAD_FILES, ids=[f[0] for f in APP_BAD_FILES])
def test_app_upload_of_a_bad_file_shows_why_and_changes_nothing(holder, tmp_path: Path, name: str,
                                                                data: bytes, message: str) -> None:

    bot = holder.get()
    before = snapshot(bot)
    path = tmp_path / "upload" / name
    path.parent.mkdir()
    path.write_bytes(data)
    notice, _status, _transcript, _speaker, box = upload_handlers.add_transcript(str(path))
    assert f"Could not add {name}" in notice and html.escape(message) in notice
    assert "qa-notice-error" in notice
    assert box is None  # the file box is cleared for the next try
    assert snapshot(bot) == before


# --- property tests: damaged files, arbitrary bytes, arbitrary text end to end ---------------

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


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory) -> QaBot:
    return open_bot(tmp_path_factory.mktemp("shared"))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(question=st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_any_question_is_answered_verbatim_or_refused_clearly(shared_bot: QaBot, question: str) -> None:
    bot = shared_bot
    try:
        result = bot.ask(question)
    except QuestionError as exc:
        assert str(exc).startswith("question: ")
        return
    assert result.question and len(result.question) <= 2_000
    assert_verbatim(bot, result)


# --- over the wire: the launched app ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CountingEmbedder(FakeEmbedder):
    """Counts questions being embedded at once; each takes ``delay`` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay, self.now, self.most = delay, 0, 0
        self._lock = threading.Lock()

    def encode(self, texts):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.delay)
            return super().encode(texts)
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app launched in this process over a small corpus with FakeEmbedder; yields (url, bot)."""
    import app

    base = tmp_path_factory.mktemp("hardening-app")
    embedder = CountingEmbedder()
    previous = page_state.holder()
    holder = app.configure(make_corpus(base / "corpus"), base / "index", Settings(max_file_bytes=LIMIT),
                           embedder)
    port = free_port()
    app.serve(app.demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", holder.get(), embedder
    finally:
        app.demo.close()
        page_state.reset(previous)


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[0], verbose=False)


@pytest.mark.e2e
def test_wire_bad_questions_are_clear_errors_and_the_app_stays_up(client, served) -> None:
    from gradio_client.exceptions import AppError

    before = snapshot(served[1])
    for question, message in [("", "question: it is empty"), ("why " * 2_600, "longer than 2,000"),
                              ("\x00\x01\x1b[0m", "no words to search for")]:
        with pytest.raises(AppError, match=message):
            client.predict(question, 3, "", "", api_name="/ask")
    with pytest.raises(AppError, match="top_k: must be a whole number"):
        client.predict(QUESTIONS[0], "three", "", "", api_name="/ask")
    got = client.predict("What\x00 fruit\x1b[0m does Alice love?", 3, "", "", api_name="/ask")
    assert got["question"] == "What fruit does Alice love?" and "mangoes" in got["answers"][0]["quote"]
    assert snapshot(served[1]) == before


@pytest.mark.e2e
def test_wire_bad_uploads_are_clear_errors_and_change_nothing(client, served, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    bot = served[1]
    before = snapshot(bot)
    for name, data, message in [f for f in BAD_FILES if f[0] in {"latin1.txt", "image.txt", "empty.txt",
                                                                 "bad-timing.srt", "bad-cue.vtt",
                                                                 "truncated.json"}]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(AppError) as caught:
            client.predict(handle_file(path), api_name="/add_transcript")
        notice = str(caught.value)
        assert f"Could not add {name}; nothing was changed" in notice and message in notice
    dup = tmp_path / "alpha.txt"
    dup.write_text(GOOD_UPLOAD)
    with pytest.raises(AppError, match="already in the corpus"):
        client.predict(handle_file(dup), api_name="/add_transcript")
    assert snapshot(bot) == before


@pytest.mark.e2e
def test_wire_traversal_file_name_never_leaves_the_corpus(client, served, tmp_path: Path) -> None:
    """A client that names its upload "../../evil.txt" by hand: gradio keeps the base name, and the
    file lands in the corpus folder or nowhere."""
    import httpx

    url, bot, _ = served
    around = tree(bot.corpus.parent)
    with httpx.Client(base_url=url, timeout=30) as http:
        uploaded = http.post("gradio_api/upload", files={"files": ("../../evil.txt", GOOD_UPLOAD.encode(),
                                                                   "text/plain")}).json()[0]
        assert ".." not in Path(uploaded).name
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    try:
        added = client.predict(handle_file(uploaded), api_name="/add_transcript")
        assert ".." not in added["transcript"] and added["transcript"] in bot.transcripts
    except AppError as exc:
        assert "not an acceptable file name" in str(exc)
    written = {k for k in tree(bot.corpus.parent)} - set(around)
    assert all(k.startswith("corpus/") or k.startswith("index/") for k in written), written
    assert not (bot.corpus.parent.parent / "evil.txt").exists()


@pytest.mark.e2e
def test_questions_share_one_pool_of_the_declared_size(served) -> None:
    """The chat and the API together never run more than CONCURRENCY questions at once, and do
    run that many: the limit is the one declared in app.py, shared on purpose."""
    from gradio_client import Client

    import app

    url, _, embedder = served
    embedder.delay, embedder.most = 0.3, 0
    n = app.CONCURRENCY * 3
    clients = [Client(url, verbose=False) for _ in range(n)]
    errors: list[Exception] = []

    def ask(i: int) -> None:
        try:
            if i % 2:
                clients[i].predict(QUESTIONS[i % 3], 3, "", "", api_name="/ask")
            else:
                clients[i].predict(QUESTIONS[i % 3], [], "*", "*", 3, api_name="/respond")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        embedder.delay = 0.0
    assert not errors
    assert embedder.most == app.CONCURRENCY


@pytest.mark.e2e
def test_a_full_queue_is_refused_at_once_and_the_app_stays_up(tmp_path: Path) -> None:
    """Past the queue's size a caller is told at once, instead of waiting without end."""
    from gradio_client import Client

    import app

    embedder = CountingEmbedder(delay=0.0)
    previous = page_state.holder()
    holder = app.configure(make_corpus(tmp_path / "corpus"), tmp_path / "index", Settings(), embedder)
    holder.get()
    small = app.build_demo(concurrency=1, queue_size=2)
    port = free_port()
    app.serve(small, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    embedder.delay = 0.5
    try:
        url = f"http://127.0.0.1:{port}/"
        clients = [Client(url, verbose=False) for _ in range(6)]
        outcomes: list[str] = []

        def ask(c) -> None:
            try:
                c.predict(QUESTIONS[0], 3, "", "", api_name="/ask")
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(str(exc))

        threads = [threading.Thread(target=ask, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert outcomes.count("ok") >= 3 and len(outcomes) == 6
        refused = [o for o in outcomes if o != "ok"]
        assert refused and all("queue is full" in o.lower() for o in refused), outcomes
        embedder.delay = 0.0
        assert Client(url, verbose=False).predict(QUESTIONS[0], 3, "", "", api_name="/ask")["answers"]
    finally:
        small.close()
        page_state.reset(previous)


@pytest.mark.e2e
def test_load_test_script_runs_clean_against_the_app(served) -> None:
    """bench/load_test.py (``make bench``) against the app: a few clients for a few seconds, zero
    errors, an upload half-way through that is searchable at once."""
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "bench" / "load_test.py")
    assert spec and spec.loader
    load_test = importlib.util.module_from_spec(spec)
    sys.modules["load_test"] = load_test  # for its dataclasses
    spec.loader.exec_module(load_test)
    questions = [(q, 3, "", "") for q in QUESTIONS] + [("Why start a bakery?", 2, "beta", ""),
                                                      ("Where does she live?", 1, "", "Alice")]
    stats = load_test.run_load(served[0], clients=4, duration=3.0, upload=True, questions=questions)
    assert stats.errors == [] and stats.upload.startswith("ok")
    assert len(stats.latencies) > 8 and 0 < stats.percentile(50) <= stats.percentile(95)
    section = load_test.report(stats, command="test")
    assert section.startswith("## Load\n") and "| 4 |" in section
    out = Path("RESULTS.md")
    out.write_text("# Results\n\n## Speed\n\nfast\n\n## Load\n\nold\n\n## Later\n\nkept\n")
    load_test.write_section(out, section)
    text = out.read_text()
    assert "old" not in text and "## Speed\n\nfast" in text and "## Later\n\nkept" in text
    assert text.count("## Load") == 1
    with pytest.raises(ValueError, match="not verbatim"):
        load_test.check_result({"answers": [{"quote": "abc", "context": "xabd", "start": 1, "end": 4,
                                             "context_start": 0}]})
