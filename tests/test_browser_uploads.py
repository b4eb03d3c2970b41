"""Uploads in a real browser (issue 11): add a transcript, ask about it, remove it from the
"Add a transcript" panel, and check it is gone everywhere while the corpus folder stays as it was
(what ``git status`` of a checkout would show). Playwright driving Debian's headless Chromium, the
real model, the app over a copy of corpus/ (see tests/test_browser.py).
"""

from __future__ import annotations

import hashlib
import shutil
import socket
from pathlib import Path

import pytest

from qa_bot import page_state

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT = 60_000
CRANES = ("Interviewer: Where do the cranes spend the winter?\n"
          "Mara Lindqvist: The cranes winter in the marshes of southern Spain, near the lagoons of "
          "Gallocanta. They leave Sweden in October.\n")
QUESTION = "Where do the cranes spend the winter?"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium); Playwright cannot download one here"),
]


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with the SHA-256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory, real_embedder):
    """The app over a copy of corpus/; yields (url, corpus copy, index folder)."""
    import app

    base = tmp_path_factory.mktemp("browser-uploads")
    shutil.copytree(CORPUS, base / "corpus")
    previous = page_state.holder()
    app.configure(base / "corpus", base / "index", embedder=real_embedder)
    port = free_port()
    app.serve(app.demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", base / "corpus", base / "index"
    finally:
        app.demo.close()
        page_state.reset(previous)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served[0])
    page.wait_for_selector("#qa-status .qa-status", timeout=TIMEOUT)  # the bot has loaded
    yield page
    page.close()


def ask(page, question: str) -> None:
    count = page.locator("#qa-chat .message-row").count()
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    page.wait_for_function(f"document.querySelectorAll('#qa-chat .message-row').length >= {count + 2}",
                           timeout=TIMEOUT)
    page.wait_for_selector("#qa-ask:not([disabled])", timeout=TIMEOUT)


def options(page, dropdown: str) -> list[str]:
    """The choices a dropdown offers, as shown: opened, read, closed again."""
    page.click(f"{dropdown} input")
    page.wait_for_timeout(300)  # an empty dropdown opens no list at all: nothing to wait for
    items = page.locator(f"{dropdown} [role=listbox] li.item").all_inner_texts()
    shown = [t.strip().splitlines()[-1].strip() for t in items]  # without the selected one's "✓"
    page.keyboard.press("Escape")
    page.locator(f"{dropdown} input").blur()
    return shown


def test_upload_ask_remove_and_the_corpus_folder_is_unchanged(page, served, tmp_path):
    _, corpus, index = served
    before = tree(corpus)
    status = page.locator("#qa-status").inner_text()
    path = tmp_path / "cranes.txt"
    path.write_text(CRANES, encoding="utf-8")

    page.click("#qa-add")
    page.set_input_files("#qa-upload input[type=file]", str(path))
    page.wait_for_selector("#qa-upload-notice .qa-notice-ok", timeout=TIMEOUT)
    assert "Added cranes.txt" in page.locator("#qa-upload-notice").inner_text()
    assert (index / "uploads" / "cranes.txt").read_text("utf-8") == CRANES
    assert tree(corpus) == before  # the upload did not land in corpus/
    page.wait_for_function("document.querySelector('#qa-uploaded input') !== null", timeout=TIMEOUT)
    assert options(page, "#qa-uploaded") == ["cranes.txt"]
    offered = options(page, "#qa-transcript")
    assert "All transcripts" in offered and any("cranes.txt" in o for o in offered)
    assert page.locator("#qa-status").inner_text() != status

    ask(page, QUESTION)
    assert "southern Spain" in page.locator("#qa-chat blockquote").last.inner_text()
    assert "Mara Lindqvist" in page.locator("#qa-chat .message-row").last.inner_text()

    page.click("#qa-uploaded input")
    page.locator("#qa-uploaded [role=listbox] li.item", has_text="cranes.txt").click()
    page.click("#qa-remove")
    page.wait_for_function("document.querySelector('#qa-upload-notice').innerText.includes('Removed')",
                           timeout=TIMEOUT)
    notice = page.locator("#qa-upload-notice").inner_text()
    assert "Removed cranes.txt" in notice and "is unchanged" in notice
    page.wait_for_function(f"document.querySelector('#qa-status').innerText === {status!r}",
                           timeout=TIMEOUT)  # the corpus as it was when the page loaded
    assert options(page, "#qa-uploaded") == []
    assert options(page, "#qa-transcript") == [o for o in offered if "cranes.txt" not in o]
    assert page.locator("#qa-transcript input").input_value() == "All transcripts"

    ask(page, QUESTION)  # asked again, over everything: the removed words are nowhere
    reply = page.locator("#qa-chat .message-row").last.inner_text()
    assert "southern Spain" not in reply and "Mara Lindqvist" not in reply
    assert tree(corpus) == before
    assert not any((index / "uploads").iterdir())


def test_a_corpus_file_is_not_offered_for_removal(page, served):
    """Nothing in the Remove list but uploads, and Remove with nothing chosen explains itself."""
    page.click("#qa-add")
    page.wait_for_selector("#qa-remove", timeout=TIMEOUT)
    assert options(page, "#qa-uploaded") == []
    page.click("#qa-remove")
    page.wait_for_selector("#qa-upload-notice .qa-notice-error", timeout=TIMEOUT)
    assert "Choose an uploaded transcript to remove first" in page.locator("#qa-upload-notice").inner_text()
    assert (served[1] / "viktor-ivanov-interview.txt").exists()
