"""Markup in speaker names, titles and long answer turns (tests/payloads.py) shows as text in a real
browser and never runs: in the chat, Source (both passages, pin 2 opening the second), More quotes,
the map's pins, the filters, the status and the citation. The same strings are checked without a
browser in unit/test_ui.py. Playwright driving Debian's headless Chromium.
"""

from __future__ import annotations

import json

import pytest
from browser_steps import BROWSER, ask
from helpers import FakeEmbedder, launched
from payloads import BROTHER, KEEPER, LANTERN, LANTERN_TURNS, PAYLOADS, write_lantern

from qa_bot.config import Settings

pytestmark = BROWSER


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An app (FakeEmbedder, no login) whose corpus has markup in speaker names and a title."""
    base = tmp_path_factory.mktemp("markup-app")
    corpus = base / "corpus"
    corpus.mkdir()
    turns = [{"speaker": p, "text": f"Turn {n}: the harbour froze in the winter."}
             for n, p in enumerate(PAYLOADS)]
    (corpus / "names.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))
    (corpus / "titled.txt").write_text(f"{PAYLOADS[0]} {PAYLOADS[1]}\n\nWhy did the harbour freeze?\n\n"
                                       "Because the winter was the coldest in forty years.\n")
    write_lantern(corpus)
    with launched(corpus, base / "index", Settings(), FakeEmbedder(), load=True) as served:
        yield served


def test_markup_in_speaker_names_and_titles_shows_as_text_in_the_browser(page):
    ask(page, "Why did the harbour freeze in the winter?")
    for pin in page.locator("#qa-source .qa-pin").all():
        pin.hover()
    page.get_by_role("tab", name="More quotes").click()
    for summary in page.locator("#qa-more details summary").all():
        summary.click()
    page.click("#qa-speaker input")
    page.wait_for_selector("#qa-speaker [data-testid=dropdown-option]", timeout=10_000)
    options = page.locator("#qa-speaker [data-testid=dropdown-option]").all_inner_texts()
    page.keyboard.press("Escape")
    page.click("#qa-transcript input")
    page.wait_for_selector("#qa-transcript [data-testid=dropdown-option]", timeout=10_000)
    transcripts = page.locator("#qa-transcript [data-testid=dropdown-option]").all_inner_texts()
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    shown = page.locator("body").inner_text()
    injected = page.evaluate("""() => {
        const panels = ['#qa-chat', '#qa-source', '#qa-more', '#qa-status', '#qa-speaker',
                        '#qa-transcript', '#qa-citation', '#qa-notice'];
        let n = 0;
        for (const sel of panels) for (const root of document.querySelectorAll(sel))
            n += root.querySelectorAll(
                'img[src="x"], svg[onload], iframe, script, a[href^="javascript"]').length;
        n += document.querySelectorAll('[onerror],[onload],[onmouseover]').length;
        return n;
    }""")
    pwned = page.evaluate("window.__pwned")
    assert pwned is None and page.dialogs == [] and injected == 0
    assert PAYLOADS[0] in shown  # a speaker's name, shown as written
    assert any(PAYLOADS[2] in o for o in options), options
    assert any(PAYLOADS[3] in o for o in options), options
    assert any(PAYLOADS[0] in t and PAYLOADS[1] in t for t in transcripts)  # the title, as text


def test_markup_around_long_supporting_quotes_shows_as_text_in_the_browser(page):
    """LANTERN in the page: the answer and the supporting quote, each with markup before, in and
    after its highlight, in the chat, Source (both passages, pin 2 opening the second), More quotes
    (opened), the map's pins and the citation; no payload element in any panel, nothing runs."""
    ask(page, LANTERN)
    chat = page.locator("#qa-chat .message-row").last.inner_text()
    citation = page.locator("#qa-citation textarea").input_value()
    pins = [pin.get_attribute("title") for pin in page.locator("#qa-source .qa-pin").all()]
    shown = [page.locator("#qa-source .qa-passage:not([hidden])").inner_text()]
    page.locator("#qa-source .qa-pin[data-n='2']").click()
    shown.append(page.locator("#qa-source .qa-passage:not([hidden])").inner_text())
    page.get_by_role("tab", name="More quotes").click()
    page.locator("#qa-more details summary").first.click()
    more = page.locator("#qa-more details[open] .qa-ctx").inner_text()
    page.wait_for_timeout(500)
    injected = page.evaluate("""() => {
        const found = '[data-pwned], script, iframe, u, img[src="x"], svg[onload], '
                      + 'a[href^="javascript"], [onerror], [onload]';
        let n = 0;
        for (const sel of ['#qa-chat', '#qa-source', '#qa-more'])
            for (const root of document.querySelectorAll(sel))
                n += root.querySelectorAll(found).length;
        return n;
    }""")
    pwned = page.evaluate("window.__pwned")
    assert pwned is None and page.dialogs == [] and injected == 0
    keeper, brother = (" ".join(t["text"].split()) for t in (LANTERN_TURNS[1], LANTERN_TURNS[3]))
    assert keeper in " ".join(shown[0].split()) and brother in " ".join(shown[1].split())
    assert brother in " ".join(more.split())
    assert "I hid the brass lantern <img src=x data-pwned onerror='window.__pwned=13'>" in chat
    assert KEEPER in chat and "<u data-pwned>keeper</u> of the light" in chat
    assert citation.startswith("“I hid the brass lantern <img src=x") and f"— {KEEPER}" in citation
    assert [t.split(",")[0] for t in pins[:2]] == [f"1: {KEEPER}", f"2: {BROTHER}"]  # the map's labels
