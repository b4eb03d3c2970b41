"""Cancelling an upload in a real browser (issue 13): while it is indexed the page shows the
passages embedded, the total and the time left, and a Cancel button; Cancel stops it, and the
index and the uploads folder are as they were. Playwright driving Debian's headless Chromium.

The embedder is FakeEmbedder held at a gate: the upload's first batch waits until the test has
pressed Cancel, so that the click lands while the upload is being indexed, whatever the speed
of the machine (no sleeps, no timing).
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import TALKS, FakeEmbedder, write_corpus

from qa_bot import page_state
from qa_bot import upload_handlers as uploads

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT = 60_000

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium); Playwright cannot download one here"),
]


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


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path):
    """The app over two small talks with the gated embedder; yields (url, index folder, embedder)."""
    import app

    embedder = GatedEmbedder()
    previous = page_state.holder()
    app.configure(write_corpus(tmp_path / "talks", TALKS), tmp_path / "index", embedder=embedder).get()
    page = app.build_demo()
    port = free_port()
    app.serve(page, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", tmp_path / "index", embedder
    finally:
        embedder.gate.set()
        page.close()
        page_state.reset(previous)


def test_cancel_stops_an_upload_being_indexed_and_changes_nothing(served, tmp_path):
    from playwright.sync_api import sync_playwright

    url, index, embedder = served
    path = tmp_path / "many.txt"
    path.write_text("".join(f"{'Ann' if i % 2 else 'Ben'}: Line {i} is about rivers and bread.\n"
                            for i in range(400)), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("#qa-status .qa-status", timeout=TIMEOUT)
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
        browser.close()
    assert tree(index) == before and not any((index / "uploads").iterdir())
    assert "many.txt" not in page_state.bot().transcripts and not uploads._cancels
