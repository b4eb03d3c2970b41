"""What the app says while it starts (startup.py, and the page's and the loader's use of it): one
line of its own in the terminal when it serves and one when the bot is ready, and a status line in
the page that says the model is being prepared while it loads, never "0 passages", with a question
asked meanwhile said to wait, then answered. ``make run``'s lines on a first run are
e2e/test_make.py's, ``python app.py``'s e2e/test_app_process.py's, the page in a browser
e2e/test_browser_first_run.py's."""

from __future__ import annotations

import re

import pytest
from helpers import TALKS, FakeEmbedder, configured, write_corpus

from qa_bot import page_events


@pytest.fixture
def loading(tmp_path, monkeypatch):
    """The app's holder, its load held back until the test releases it; yields (holder, release)."""
    import threading

    with configured(write_corpus(tmp_path / "c", TALKS), tmp_path / "i", embedder=FakeEmbedder()) as holder:
        gate = threading.Event()
        build = holder._build

        def held() -> None:
            gate.wait(30)
            build()

        monkeypatch.setattr(holder, "_build", held)
        holder.start()
        try:
            yield holder, gate.set
        finally:
            gate.set()


def test_the_status_says_the_model_is_being_prepared_never_0_passages():
    from qa_bot import startup

    first = startup.loading_html(0, 0, "Loading the model and the index", 3.2)
    assert "Preparing the model and the index (first run only)…" in first and "(3 s)" in first
    assert "passages" not in first
    assert "qa-status" not in first  # the class the browser tests wait on: loaded
    counting = startup.loading_html(120, 4000, "Embedding the transcripts", 12)
    assert "Embedding the transcripts: 120 of 4,000 passages" in counting
    assert startup.loading_html(desc="<b>x</b>", total=1).count("<b>") == 0  # text, never markup


def test_the_status_line_follows_the_load_then_shows_the_corpus(loading):

    holder, release = loading
    assert holder.loading and not holder.ready
    statuses = page_events.loading_status()
    first = next(statuses)
    assert "Preparing the model and the index (first run only)" in first and "0 passages" not in first
    holder.progress = (5, 20, "Embedding the transcripts")
    assert "5 of 20 passages" in next(statuses)
    release()
    rest = list(statuses)
    assert "2 transcripts" in rest[-1] and "Preparing" not in rest[-1]
    assert holder.ready and not holder.loading


def test_a_question_asked_while_loading_is_said_to_wait_then_answered(loading):
    import app

    _holder, release = loading
    notice = page_events.waiting_notice()
    assert "Waiting for the model to load" in notice and "queued" in notice
    reports: list[tuple] = []

    def progress(value, desc=None, **_):
        reports.append((value, desc))
        release()  # the load goes on once the question waits

    history, *_ = app.respond("Where does Alice live?", [], app.ALL, app.ALL, 3, progress=progress)
    assert reports and reports[0][0] is None  # a spinner while nothing counts: no "0 passages"
    assert "Lisbon" in history[-1]["content"]
    assert not isinstance(page_events.waiting_notice(), str)  # loaded: nothing to say (gr.skip)


def test_the_terminal_says_when_the_load_is_done(tmp_path, caplog):
    import logging

    from qa_bot.bot_loader import BotHolder

    holder = BotHolder(write_corpus(tmp_path / "c", TALKS), tmp_path / "i", embedder=FakeEmbedder())
    with caplog.at_level(logging.INFO, logger="qa_bot"):
        bot = holder.get()
    ready = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ready: ")]
    assert len(ready) == 1
    assert re.fullmatch(rf"ready: 2 transcripts, {len(bot.index.chunks)} passages, in \d+ s", ready[0])


def test_the_startup_line_names_the_address_and_how_to_stop_and_share():
    from qa_bot import startup

    line = startup.serving_line("http://127.0.0.1:7860/", None)
    assert line == "qa_bot: serving http://127.0.0.1:7860 (Ctrl+C to stop; --share for a public link)"
    shared = startup.serving_line("http://127.0.0.1:7860/", "https://abc.gradio.live")
    assert "https://abc.gradio.live" in shared and "--share for" not in shared and "Ctrl+C" in shared
