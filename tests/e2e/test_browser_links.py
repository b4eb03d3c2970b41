"""Deep links and the scope chip in a real browser (Playwright driving Debian's Chromium).

QABOT_SCREENSHOTS=DIR also saves deep-link.png and scope-chip.png there.
``/?q=…&transcript=…&speaker=…`` opens the app with the question asked in that scope; "link to this
answer" copies such a link; an answer searched in a narrowed scope says so, and "search all"
clears the filters and asks again in the page.
"""

from __future__ import annotations

from urllib.parse import quote

from browser_steps import BROWSER, TIMEOUT, answers, ask, last_reply, shoot, upload
from helpers import ANSWER, BAKERY, MARKET, QUESTION

from qa_bot import page_state

INTERVIEW = "viktor-ivanov-interview.txt"

pytestmark = BROWSER


def test_deep_link_asks_the_question_in_its_scope(url, open_page):
    page = open_page(f"{url}?q={quote(QUESTION)}&transcript=viktor-ivanov-interview"
                     f"&speaker={quote('Viktor Ivanov')}")
    answers(page, 2)
    assert page.locator("#qa-chat .message-row").first.inner_text().strip() == QUESTION
    quote_text = page.locator("#qa-chat blockquote").last.inner_text().strip()
    assert len(quote_text) > 40 and quote_text in ANSWER
    assert INTERVIEW in page.locator("#qa-transcript input").input_value()
    assert page.locator("#qa-speaker input").input_value() == "Viktor Ivanov"
    chip = last_reply(page).locator(".qa-scope").inner_text()
    assert "searched only Viktor Ivanov’s words in viktor-ivanov-interview.txt" in chip
    shoot(page, "deep-link.png")


def test_link_to_this_answer_copies_a_link_that_reopens_it(url, open_page):
    page = open_page(url)
    assert page.locator("#qa-chat .message-row").count() == 0  # no link: nothing is asked
    ask(page, "Why help Kyrgyzstan?")
    first = page.locator("#qa-chat blockquote").last.inner_text().strip()
    last_reply(page).locator("a.qa-link").click()
    page.wait_for_selector("#qa-chat a.qa-copied", timeout=TIMEOUT)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{url}?q={quote('Why help Kyrgyzstan?')}"
    assert page.url == url  # copied, not followed
    again = open_page(copied)
    answers(again, 2)
    assert again.locator("#qa-chat blockquote").last.inner_text().strip() == first
    assert again.locator("#qa-transcript input").input_value() == "All transcripts"


def test_link_to_an_unknown_transcript_says_so_and_asks_nothing(url, open_page):
    page = open_page(f"{url}?q={quote(QUESTION)}&transcript=nowhere.txt")
    page.wait_for_selector("#qa-notice .qa-notice", timeout=TIMEOUT)
    assert "no transcript named 'nowhere.txt'" in page.locator("#qa-notice").inner_text()
    assert page.locator("#qa-question textarea").input_value() == QUESTION
    assert page.locator("#qa-chat .message-row").count() == 0


def test_scope_chip_after_an_upload_and_search_all_widens(url, open_page, tmp_path):
    page = open_page(url)
    upload(page, tmp_path / "bakery-chat.txt", BAKERY)
    assert "bakery-chat.txt" in page.locator("#qa-transcript input").input_value()
    ask(page, QUESTION)
    narrowed = last_reply(page)
    assert "No answer found." in narrowed.inner_text()
    assert narrowed.locator(".qa-scope").inner_text().startswith("searched only bakery-chat.txt")
    shoot(page, "scope-chip.png")
    narrowed.locator("a.qa-search-all").click()
    answers(page, 4)
    assert page.locator("#qa-chat .message-row").nth(-2).inner_text().strip() == QUESTION
    assert page.locator("#qa-chat blockquote").last.inner_text().strip() in ANSWER
    assert last_reply(page).locator(".qa-scope").count() == 0  # nothing narrows it any more
    assert page.locator("#qa-transcript input").input_value() == "All transcripts"
    assert page.locator("#qa-speaker input").input_value() == "All speakers"
    assert page.url == url


def choose(page, dropdown: str, option: str) -> None:
    """Picks ``option`` in a filter dropdown, as a reader would, and waits until it stays chosen.

    A transcript chosen just before updates the speaker dropdown, and that update, when it lands
    after the pick, puts back the speaker it was sent with: a reader then picks again, and so
    does this (the test is of the filter, not of how fast the update is)."""
    for _ in range(5):
        page.click(f"{dropdown} input")
        page.locator(f"{dropdown} [data-testid=dropdown-option]", has_text=option).first.click()
        page.wait_for_timeout(1500)  # time for an update in flight to land
        if page.locator(f"{dropdown} input").input_value() == option:
            return
    raise AssertionError(f"{dropdown} would not stay on {option!r}")


def test_the_speaker_filter_chosen_in_the_page_narrows_the_answer(url, open_page, tmp_path):
    """Over every transcript QUESTION is Ivanov's; with the speaker filter on another speaker
    who also speaks of the Soviet Union's fall, the page quotes only her."""
    page = open_page(url)
    upload(page, tmp_path / "market-chat.txt", MARKET)
    try:
        choose(page, "#qa-transcript", "All transcripts")
        choose(page, "#qa-speaker", "Aigul Sadykova")
        ask(page, QUESTION)
        reply = last_reply(page)
        quoted = reply.locator("blockquote").inner_text().strip()
        assert quoted.startswith("No, I do not miss the Soviet Union")
        assert "Aigul Sadykova" in reply.inner_text()
        assert "searched only Aigul Sadykova’s words" in reply.locator(".qa-scope").inner_text()
        assert "Viktor Ivanov" not in reply.inner_text() + page.locator("#qa-source").inner_text()
        choose(page, "#qa-speaker", "All speakers")
        ask(page, QUESTION)
        assert page.locator("#qa-chat blockquote").last.inner_text().strip() in ANSWER
    finally:
        page_state.holder().get().remove_transcript("market-chat.txt")
