"""The app's handlers in process (app.py's ``ask`` and ``respond``, the page's upload box): a bad
question, a bad file or a bug is a notice or an API error, never a crash; and importing app.py
loads nothing heavy. FakeEmbedder, over the small corpus of tests/bad_input.py.
"""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input import BAD_FILES, LIMIT, QUESTIONS, make_corpus
from helpers import ALPHA, ROOT, ZEPPELINS, snapshot

from qa_bot import upload_handlers
from qa_bot.config import Settings

# --- the app's handlers, in process ----------------------------------------------------------


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The small corpus the bad files are tried against, for ``holder``."""
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def app_settings() -> Settings:
    """Files of up to LIMIT bytes, for ``holder``."""
    return Settings(max_file_bytes=LIMIT)


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
    ("alpha.txt", ZEPPELINS.encode(), "already in the corpus"),
    ("script.py", ZEPPELINS.encode(), "not a transcript file"),
    ("x.txt.meta.json", b'{"title": "x"}', "not an acceptable file name"),
    # Gradio checks size and type first; the handler and the bot check again on their own.
    ("notes.md", ALPHA.encode(), "not a transcript file"),
    ("page.html", b"<script>alert(1)</script>", "not a transcript file")]


@pytest.mark.parametrize(("name", "data", "message"), APP_BAD_FILES, ids=[f[0] for f in APP_BAD_FILES])
def test_app_upload_of_a_bad_file_shows_why_and_changes_nothing(holder, tmp_path: Path, name: str,
                                                                data: bytes, message: str) -> None:

    bot = holder.get()
    before = snapshot(bot, QUESTIONS)
    path = tmp_path / "upload" / name
    path.parent.mkdir()
    path.write_bytes(data)
    notice, _status, _transcript, _speaker, box = upload_handlers.add_transcript(str(path))
    assert f"Could not add {name}" in notice and html.escape(message) in notice
    assert "qa-notice-error" in notice
    assert box is None  # the file box is cleared for the next try
    assert snapshot(bot, QUESTIONS) == before


@pytest.mark.e2e  # it starts a python process, as test_bot.py's import checks do
def test_importing_the_app_is_cheap():
    heavy = "('torch', 'sentence_transformers', 'faiss', 'qa_bot.bot')"
    code = (f"import sys, app; from qa_bot import page_state; assert page_state.holder()._bot is None; "
            f"print([m for m in {heavy} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
