"""Cancelling an upload in a real browser (issue 13): while it is indexed the page shows the
passages embedded, the total and the time left, and a Cancel button; Cancel stops it, and the
index and the uploads folder are as they were. Playwright driving Debian's headless Chromium.

The embedder is FakeEmbedder held at a gate: the upload's first batch waits until the test has
pressed Cancel, so that the click lands while the upload is being indexed, whatever the speed
of the machine (no sleeps, no timing).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest
from browser_steps import BROWSER, TIMEOUT, new_page
from helpers import TALKS, FakeEmbedder, launched, tree, write_corpus

from qa_bot import page_state
from qa_bot import upload_handlers as uploads

pytestmark = BROWSER


class GatedEmbedder(FakeEmbedder):
    """FakeEmbedder whose batches wait at ``gate`` while it is closed; ``waiting`` is set then."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.waiting = threading.Event(), threading.Event()
        self.gate.set()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self.gate.is_set() and len(texts) > 1:  # a question (one text) is never held
            self.waiting.set()
            assert self.gate.wait(TIMEOUT / 1000), "the test never opened the gate"
        return super().encode(texts)


@pytest.fixture
def gated(tmp_path):
    """The app over two small talks with the gated embedder; yields (url, index folder, embedder)."""
    embedder = GatedEmbedder()
    try:
        with launched(write_corpus(tmp_path / "talks", TALKS), tmp_path / "index", embedder=embedder,
                      load=True) as served:
            yield served.url, tmp_path / "index", embedder
    finally:
        embedder.gate.set()


def test_cancel_stops_an_upload_being_indexed_and_changes_nothing(gated, browser, tmp_path):
    url, index, embedder = gated
    path = tmp_path / "many.txt"
    path.write_text("".join(f"{'Ann' if i % 2 else 'Ben'}: Line {i} is about rivers and bread.\n"
                            for i in range(400)), encoding="utf-8")
    page = new_page(browser, url)
    page.click("#qa-add")
    page.wait_for_function("document.querySelector('#qa-upload')?.innerText.includes('up to ')",
                           timeout=TIMEOUT)  # the limit in force, in the box's label
    assert not page.locator("#qa-cancel-upload").is_visible()
    before = tree(index)
    embedder.gate.clear()
    page.set_input_files("#qa-upload input[type=file]", str(path))
    assert embedder.waiting.wait(TIMEOUT / 1000)  # the first batch is being embedded
    page.wait_for_selector("text=/Embedding passages: 0 of [0-9,]+, .* left/", timeout=TIMEOUT)
    page.click("#qa-cancel-upload")
    page.wait_for_function("document.querySelector('#qa-upload-notice')?.innerText.includes('Cancel')",
                           timeout=TIMEOUT)
    embedder.gate.set()
    page.wait_for_selector("#qa-upload-notice :text('Cancelled: many.txt was not added')",
                           timeout=TIMEOUT)
    page.wait_for_selector("#qa-cancel-upload", state="hidden", timeout=TIMEOUT)
    page.close()
    assert tree(index) == before and not any((index / "uploads").iterdir())
    assert "many.txt" not in page_state.bot().transcripts and not uploads._cancels
