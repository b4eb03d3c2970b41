"""A first start in a real browser: while the model loads the status line says so (never "0
passages"), and a question asked meanwhile says it is queued, then is answered."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import TALKS, FakeEmbedder, write_corpus
from test_browser import ARGS, CHROMIUM, TIMEOUT, free_port

from qa_bot import page_state

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture
def held_app(tmp_path):
    """The app launched with its load held back until the test releases it; yields (url, release)."""
    import app

    previous = page_state.holder()
    holder = app.configure(write_corpus(tmp_path / "c", TALKS), tmp_path / "i", embedder=FakeEmbedder())
    gate = threading.Event()
    build = holder._build
    holder._build = lambda: (gate.wait(60), build())  # type: ignore[method-assign]
    page = app.build_demo()
    port = free_port()
    app.serve(page, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", gate.set
    finally:
        gate.set()
        page.close()
        page_state.reset(previous)


def test_loading_page_says_what_it_prepares_and_queues_a_question(held_app):
    from playwright.sync_api import sync_playwright

    url, release = held_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
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
            browser.close()
