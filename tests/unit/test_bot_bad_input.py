"""Bad input through the Python API: each bad question or transcript file gets one clear error,
and nothing indexed is lost.

Questions (blank, 10,000+ characters, control characters, no words, anything at all) to
``QaBot.ask``; transcript files (tests/bad_input.py: non-UTF-8, UTF-16, binary, empty, no text,
over the size limit, malformed SRT/VTT/JSON/JSONL) and bad or taken names to ``add_transcript``,
also two at once and while questions are asked. All with FakeEmbedder; the same files through the
page are in unit/test_app.py, over the wire in e2e/test_http_hardening.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from bad_input import BAD_FILES, BAD_NAMES, BETA, QUESTIONS, limited_bot
from helpers import ZEPPELINS, FakeEmbedder, assert_verbatim, snapshot, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_bot.bot import QaBot
from qa_bot.errors import QuestionError, TranscriptError


@pytest.fixture
def bot(tmp_path: Path) -> QaBot:
    return limited_bot(tmp_path)


# --- questions -------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", " ", "   ", "\n\t", "\n\t \r\n", "\u3000\u00a0", None])
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


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory) -> QaBot:
    return limited_bot(tmp_path_factory.mktemp("shared"))


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


# --- files, through the Python API -----------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_bad_file_is_refused_with_a_clear_error_and_changes_nothing(bot: QaBot, name: str, data: bytes,
                                                                     message: str) -> None:
    before = snapshot(bot, QUESTIONS)
    with pytest.raises(TranscriptError) as caught:
        bot.add_transcript(name, data)
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 300
    assert snapshot(bot, QUESTIONS) == before


@pytest.mark.parametrize(("name", "message"), BAD_NAMES, ids=[repr(n[0])[:40] for n in BAD_NAMES])
def test_bad_or_duplicate_name_is_refused_and_nothing_is_written_anywhere(tmp_path: Path, name: str,
                                                                           message: str) -> None:
    bot = limited_bot(tmp_path / "deep" / "er")  # room above the corpus for "../" to reach
    before, around = snapshot(bot, QUESTIONS), tree(tmp_path)
    with pytest.raises(TranscriptError) as caught:
        bot.add_transcript(name, (BETA if name.endswith(".srt") else ZEPPELINS).encode())
    assert message in str(caught.value)
    assert snapshot(bot, QUESTIONS) == before and tree(tmp_path) == around
    assert not Path("/tmp/evil.txt").exists()


def test_a_good_file_after_the_bad_ones_is_added_and_searchable(bot: QaBot) -> None:
    for name, data, _ in BAD_FILES[:6]:
        with pytest.raises(TranscriptError):
            bot.add_transcript(name, data)
    added = bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    assert added.name == "zeppelins.txt" and bot.source_path("zeppelins.txt").read_text() == ZEPPELINS
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
            bot.add_transcript("same.txt", ZEPPELINS.replace("Otto", f"Otto{n}").encode())
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

    bot = limited_bot(tmp_path, SlowUploads())
    adding = threading.Thread(target=bot.add_transcript, args=("zeppelins.txt", ZEPPELINS.encode()))
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
