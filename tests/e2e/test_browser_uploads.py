"""Uploads in a real browser (issue 11): add a transcript, ask about it, remove it from the
"Add a transcript" panel, and check it is gone everywhere while the corpus folder stays as it was
(what ``git status`` of a checkout would show). Playwright driving Debian's headless Chromium, the
real model, the app over a copy of corpus/ (e2e/conftest.py).
"""

from __future__ import annotations

from browser_steps import BROWSER, TIMEOUT, ask, upload
from helpers import tree

CRANES = ("Interviewer: Where do the cranes spend the winter?\n"
          "Mara Lindqvist: The cranes winter in the marshes of southern Spain, near the lagoons of "
          "Gallocanta. They leave Sweden in October.\n")
QUESTION = "Where do the cranes spend the winter?"

pytestmark = BROWSER


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
    corpus, index = served.corpus, served.index
    before = tree(corpus)
    status = page.locator("#qa-status").inner_text()

    upload(page, tmp_path / "cranes.txt", CRANES)
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
    assert (served.corpus / "viktor-ivanov-interview.txt").exists()
