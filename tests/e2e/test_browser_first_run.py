"""A first start in a real browser: while the model loads the status line says so (never "0
passages"), and a question asked meanwhile says it is queued, then is answered."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from browser_steps import BROWSER, TIMEOUT
from helpers import TALKS, FakeEmbedder, launched, write_corpus

pytestmark = BROWSER


@pytest.fixture
def held_app(tmp_path, monkeypatch):
    """The app launched with its load held back until the test releases it; yields (url, release)."""
    from qa_bot.bot_loader import BotHolder

    gate = threading.Event()
    build = BotHolder._build
    monkeypatch.setattr(BotHolder, "_build", lambda self: (gate.wait(60), build(self)))
    try:
        with launched(write_corpus(tmp_path / "c", TALKS), tmp_path / "i", embedder=FakeEmbedder()) as served:
            yield served.url, gate.set
    finally:
        gate.set()


def test_loading_page_says_what_it_prepares_and_queues_a_question(held_app, browser):
    url, release = held_app
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url)
        page.wait_for_selector("#qa-status .qa-loading", timeout=TIMEOUT)
        page.wait_for_timeout(1500)  # a load underway: the line counts seconds, not passages
        status = page.locator("#qa-status").inner_text()
        assert "Preparing the model and the index (first run only)" in status, status
        assert "0 passages" not in page.locator("body").inner_text()
        page.fill("#qa-question textarea", "Where does Alice live?")
        page.click("#qa-ask")
        page.wait_for_selector("#qa-notice .qa-notice-ok", timeout=TIMEOUT)
        notice = page.locator("#qa-notice").inner_text()
        assert "Waiting for the model to load" in notice and "queued" in notice
        shown = page.evaluate("() => getComputedStyle(document.querySelector("
                              "'#qa-notice .html-container')).opacity")
        assert shown == "1"  # not dimmed by the pending answer's overlay
        if os.environ.get("QABOT_SCREENSHOTS"):
            page.screenshot(path=str(Path(os.environ["QABOT_SCREENSHOTS"]) / "first-run.png"))
        release()
        page.wait_for_selector("#qa-status .qa-status", timeout=TIMEOUT)
        assert "2 transcripts" in page.locator("#qa-status").inner_text()
        page.wait_for_function("document.querySelectorAll('#qa-chat .message-row').length >= 2",
                               timeout=TIMEOUT)
        assert "Lisbon" in page.locator("#qa-chat").inner_text()
        assert "Waiting for the model" not in page.locator("#qa-notice").inner_text()
    finally:
        page.close()
