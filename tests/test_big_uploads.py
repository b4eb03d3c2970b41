"""Large uploads (issue 13): the upload cap (``QA_BOT_MAX_UPLOAD_MB``) in the bot, the page and
the API; cancelling an upload while it is indexed; the estimate of the time left. FakeEmbedder
throughout; bench/UPLOADS.md measures the cap's default. Symlinks out of the corpus folder are in
tests/test_transcripts.py.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from conftest import TALKS, FakeEmbedder, write_corpus

from qa_bot import page_state, upload_handlers, web_api
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.errors import Cancelled, ConfigError, TranscriptError
from qa_bot.upload_progress import PASSAGES_PER_SECOND, UploadProgress, describe, duration_words, time_left

ZEPPELINS = "Interviewer: How do zeppelins fly?\nOtto: Hydrogen lifts them. Engines push them forward.\n"


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with the SHA-256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def many_turns(n: int) -> str:
    """A transcript of ``n`` short turns: more passages than one batch of the indexer (256)."""
    return "".join(f"{'Ann' if i % 2 else 'Ben'}: Line {i} is about rivers and bread number {i}.\n"
                   for i in range(n))


def open_bot(tmp_path: Path, embedder: FakeEmbedder | None = None, **settings) -> QaBot:
    return QaBot.open(write_corpus(tmp_path / "talks", TALKS), tmp_path / "index", Settings(**settings),
                      embedder or FakeEmbedder())


def state_of(bot: QaBot) -> tuple:
    """What a refused or cancelled upload must leave as it was."""
    assert bot.index_dir is not None
    return (tree(bot.corpus), tree(bot.index_dir), sorted(bot.transcripts), len(bot.index.chunks),
            bot.ask("What fruit does Alice love?").to_dict())


# --- the cap ---------------------------------------------------------------------------------


def test_an_upload_over_the_cap_is_refused_naming_the_limit_and_the_setting(tmp_path):
    bot = open_bot(tmp_path, max_upload_mb=0.001)  # 1,000 bytes
    before = state_of(bot)
    data = many_turns(30).encode()
    assert len(data) > 1000
    with pytest.raises(TranscriptError) as caught:
        bot.add_transcript("big.txt", data)
    message = str(caught.value)
    assert "big.txt" in message and "0.001 MB upload limit" in message and "QA_BOT_MAX_UPLOAD_MB" in message
    assert state_of(bot) == before
    bot.add_transcript("small.txt", data[:data.rfind(b"\n", 0, 1000) + 1])  # within it: added
    assert "small.txt" in bot.transcripts


def test_the_smaller_of_the_two_limits_is_the_one_named(tmp_path):
    data = many_turns(30).encode()
    bot = open_bot(tmp_path, max_upload_mb=0.001, max_file_bytes=500)
    with pytest.raises(TranscriptError, match=r"500-byte limit \(QA_BOT_MAX_FILE_BYTES\)"):
        bot.add_transcript("big.txt", data)


def test_the_default_cap_is_the_one_bench_uploads_measured():
    import re

    page = (Path(__file__).resolve().parent.parent / "bench" / "UPLOADS.md").read_text(encoding="utf-8")
    measured = re.search(r"\*\*Cap: ([0-9.]+) MB\*\*", page)
    assert measured and Settings().max_upload_mb == float(measured.group(1))


def test_the_cap_is_read_from_its_variable_and_checked(monkeypatch):
    assert Settings.from_env({"QA_BOT_MAX_UPLOAD_MB": "2.5"}).max_upload_mb == 2.5
    assert Settings().max_upload_mb > 0
    for bad in ("0", "-1", "nan", "a lot", "1e9"):
        with pytest.raises(ConfigError, match="QA_BOT_MAX_UPLOAD_MB"):
            Settings.from_env({"QA_BOT_MAX_UPLOAD_MB": bad})


@pytest.fixture
def holder(tmp_path: Path):
    import app

    previous = page_state.holder()
    holder = app.configure(write_corpus(tmp_path / "talks", TALKS), tmp_path / "index",
                           Settings(max_upload_mb=0.001), FakeEmbedder())
    holder.get()
    yield holder
    page_state.reset(previous)


def picked(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / "picked" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_page_and_the_api_refuse_an_upload_over_the_cap_and_say_which_setting(holder, tmp_path):
    bot = holder.get()
    before = state_of(bot)
    path = picked(tmp_path, "big.txt", many_turns(30))
    notice, *_ = upload_handlers.add_transcript(path)
    assert "Could not add big.txt; nothing was changed" in notice and "QA_BOT_MAX_UPLOAD_MB" in notice
    with pytest.raises(gr.Error, match=r"0\.001 MB upload limit \(QA_BOT_MAX_UPLOAD_MB\)"):
        web_api.add_over_api(lambda: bot, {"path": path, "meta": {"_type": "gradio.FileData"}},
                             upload_handlers.UPLOAD_TYPES)
    assert state_of(bot) == before
    assert "up to 0.001 MB" in upload_handlers.upload_box().label


# --- cancel ----------------------------------------------------------------------------------


def test_a_cancel_during_indexing_leaves_the_index_and_the_uploads_as_they_were(tmp_path):
    embedder = FakeEmbedder()
    bot = open_bot(tmp_path, embedder)
    before, calls = state_of(bot), embedder.calls
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, what: str) -> None:
        seen.append((done, total))
        if done > 0:  # a batch is in: the user presses Cancel
            cancel.set()

    with pytest.raises(Cancelled, match=r"many\.txt: cancelled"):
        bot.add_transcript("many.txt", many_turns(400).encode(), progress=progress, cancel=cancel)
    total = seen[0][1]
    assert total > 512 and embedder.calls - calls < total  # it stopped before the last batch
    assert state_of(bot) == before
    assert not any(bot.uploads.iterdir())  # no upload kept, no temporary file either
    again = QaBot.open(bot.corpus, bot.index_dir, Settings(), FakeEmbedder())
    assert sorted(again.transcripts) == before[2] and again.report.embedded == 0
    bot.add_transcript("many.txt", many_turns(400).encode())  # the same file can be added after
    assert "many.txt" in bot.transcripts


def test_a_cancel_before_the_upload_s_turn_adds_nothing(tmp_path):
    bot = open_bot(tmp_path)
    before = state_of(bot)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        bot.add_transcript("zeppelins.txt", ZEPPELINS.encode(), cancel=cancel)
    assert state_of(bot) == before and not bot.uploads.exists()


def test_the_page_s_cancel_button_stops_its_session_s_upload(holder, tmp_path):
    import app

    bot = holder.get()
    app.configure(bot.corpus, bot.index_dir, Settings(), FakeEmbedder()).get()
    bot = page_state.bot()
    before = state_of(bot)
    mine, other = SimpleNamespace(session_hash="mine"), SimpleNamespace(session_hash="other")
    assert "No upload is being indexed" in upload_handlers.cancel_upload(mine)
    assert upload_handlers.begin_upload(mine).visible is True
    shown: list[str] = []

    def progress(value, desc=None, **kwargs):
        shown.append(desc or "")
        if isinstance(value, tuple) and value[0]:  # a batch is in
            # another page's Cancel is not this upload's
            assert "No upload is being indexed" in upload_handlers.cancel_upload(other)
            assert "Cancelling" in upload_handlers.cancel_upload(mine)

    notice, status, transcript, speaker, box = upload_handlers.add_transcript(
        picked(tmp_path, "many.txt", many_turns(400)), mine, progress)
    assert "Cancelled: many.txt was not added" in notice and box is None
    assert [status, transcript, speaker] == [gr.skip()] * 3  # the page keeps what it showed
    assert state_of(bot) == before
    assert any("Embedding passages: 0 of" in d for d in shown)
    assert "No upload is being indexed" in upload_handlers.cancel_upload(mine)  # the flag is gone
    assert upload_handlers.end_upload().visible is False


# --- the estimate ----------------------------------------------------------------------------


def test_the_time_left_starts_from_the_measured_rate_then_follows_this_upload_s():
    assert time_left(0, 3000, 0.0) == pytest.approx(3000 / PASSAGES_PER_SECOND)
    assert time_left(500, 1000, 10.0) == pytest.approx(10.0)  # 50 passages/s so far
    assert time_left(1000, 1000, 10.0) == 0
    assert describe(500, 1000, 10.0) == ("Embedding passages: 500 of 1,000, about 10 s left "
                                         "(Cancel stops it and adds nothing)")
    assert "about 3 min left" in describe(100, 10_000, 2.0)  # 50/s: 198 s
    assert "about 90 s left" in describe(100, 4_500, 2.0)  # 88 s
    assert "about 2 min left" in describe(100, 5_000, 2.0)  # 98 s
    assert "a few seconds left" in describe(900, 1000, 9.0)


def test_the_page_s_progress_carries_the_count_and_the_estimate():
    calls, now = [], [100.0]
    shown = UploadProgress(lambda value, desc=None, unit=None: calls.append((value, desc, unit)),
                           "talk.txt", clock=lambda: now[0])
    shown.reading()
    shown(0, 1000, "embedding")
    now[0] += 20.0
    shown(256, 1000, "embedding")
    assert calls[0] == ((0, None), "Reading talk.txt and cutting it into passages", "passages")
    assert calls[1][0] == (0, 1000) and calls[1][2] == "passages"
    assert f"{duration_words(1000 / PASSAGES_PER_SECOND)} left" in calls[1][1]  # the bench's rate
    assert calls[2][0] == (256, 1000) and "about 60 s left" in calls[2][1]  # 12.8/s, 744 left
