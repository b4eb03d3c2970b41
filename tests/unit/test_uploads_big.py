"""Large uploads (issue 13): the upload cap (``QA_BOT_MAX_UPLOAD_MB``) in the bot, the page and
the API, and cancelling an upload while it is indexed. FakeEmbedder throughout. The setting itself
(and that its default is the one bench/UPLOADS.md measured) is in test_config.py, the estimate of
the time left in test_upload_progress.py, symlinks out of the corpus folder in test_parsers_corpus.py.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import gradio as gr
import pytest
from helpers import ZEPPELINS, FakeEmbedder, open_bot, picked, tree

from qa_bot import page_state, upload_handlers, web_api
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.errors import Cancelled, TranscriptError


def many_turns(n: int) -> str:
    """A transcript of ``n`` short turns: more passages than one batch of the indexer (256)."""
    return "".join(f"{'Ann' if i % 2 else 'Ben'}: Line {i} is about rivers and bread number {i}.\n"
                   for i in range(n))


def state_of(bot: QaBot) -> tuple:
    """What a refused or cancelled upload must leave as it was."""
    assert bot.index_dir is not None
    return (tree(bot.corpus), tree(bot.index_dir), sorted(bot.transcripts), len(bot.index.chunks),
            bot.ask("What fruit does Alice love?").to_dict())


# --- the cap ---------------------------------------------------------------------------------


def test_an_upload_over_the_cap_is_refused_naming_the_limit_and_the_setting(corpus, index_dir):
    bot = open_bot(corpus, index_dir, max_upload_mb=0.001)  # 1,000 bytes
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


def test_the_smaller_of_the_two_limits_is_the_one_named(corpus, index_dir):
    data = many_turns(30).encode()
    bot = open_bot(corpus, index_dir, max_upload_mb=0.001, max_file_bytes=500)
    with pytest.raises(TranscriptError, match=r"500-byte limit \(QA_BOT_MAX_FILE_BYTES\)"):
        bot.add_transcript("big.txt", data)


@pytest.fixture
def app_settings() -> Settings:
    """The page's and the API's cap, for ``holder``: 1,000 bytes."""
    return Settings(max_upload_mb=0.001)


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


def test_a_cancel_during_indexing_leaves_the_index_and_the_uploads_as_they_were(corpus, index_dir):
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
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


def test_a_cancel_before_the_upload_s_turn_adds_nothing(corpus, index_dir):
    bot = open_bot(corpus, index_dir)
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


