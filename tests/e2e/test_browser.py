"""The app in a real browser: Playwright driving Debian's headless Chromium.

Set QABOT_SCREENSHOTS=DIR to also save the screenshots of the main views (docs/ holds them), and
QABOT_URL to drive an app you started yourself instead (it gets a transcript uploaded), e.g.
``python app.py --corpus /tmp/c/corpus`` after copying corpus/ to /tmp/c.
"""

from __future__ import annotations

from browser_steps import BROWSER, TIMEOUT, ask, shoot, upload
from helpers import ANSWER, QUESTION, REPLY_TO

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
LITERALS = (SCRIPT, IMG, "${window.__pwned = 3}", "{{value}}", "**bold**", "&amp;", "www.example.com/a_b_c")
MARKUP_TRANSCRIPT = ("Interviewer: What did you hide in the <b>page</b>?\n"
                     f"Mallory: I hid {', '.join(LITERALS)} in the page.\n")

pytestmark = BROWSER
ANY_APP = True  # QABOT_URL may name the app (e2e/conftest.py)


def test_question_shows_quote_speaker_and_interviewer_question(page):
    ask(page, QUESTION)
    chat = page.locator("#qa-chat")
    quote = chat.locator("blockquote").last.inner_text().strip()
    assert len(quote) > 40 and quote in ANSWER
    text = chat.inner_text()
    assert "Viktor Ivanov" in text and "in reply to:" in text and REPLY_TO in text and "line 9" in text
    assert page.locator("#qa-source mark").first.inner_text().startswith(quote[:40])
    assert page.locator("#qa-source .qa-pin-top").count() == 1
    assert page.locator("#qa-citation textarea").input_value().startswith(f"“{quote[:40]}")
    shoot(page, "answer.png")
    page.get_by_role("tab", name="More quotes").click()
    page.locator("#qa-more details summary").first.click()
    assert page.locator("#qa-more details[open] mark").count() == 1
    shoot(page, "more-quotes.png")
    ask(page, "Why help Kyrgyzstan?")  # a follow-up keeps the history
    assert chat.locator("blockquote").count() == 2 and quote in chat.inner_text()


def test_example_is_one_click_and_no_answer_is_clear(page):
    page.get_by_role("button", name="Why should Russia help Kyrgyzstan?").click()
    page.wait_for_selector("#qa-chat blockquote", timeout=TIMEOUT)
    assert "Viktor Ivanov" in page.locator("#qa-chat").inner_text()
    ask(page, "What is the recipe for chocolate cake?")
    last = page.locator("#qa-chat .message-row").last.inner_text()
    assert "No answer found." in last and "Try one of these" in last
    assert page.locator("#qa-citation textarea").input_value() == ""
    shoot(page, "no-answer.png")


def test_empty_question_and_bad_upload_show_a_message(page, tmp_path):
    page.click("#qa-ask")
    page.wait_for_selector("#qa-notice .qa-notice", timeout=TIMEOUT)
    assert "Type a question first" in page.locator("#qa-notice").inner_text()
    upload(page, tmp_path / "broken.json", '{"turns": [', outcome="error")
    assert "broken.json:1: invalid JSON" in page.locator("#qa-upload-notice").inner_text()
    shoot(page, "bad-upload.png")
    ask(page, QUESTION)  # the app is still up
    assert page.locator("#qa-chat blockquote").last.inner_text().strip() in ANSWER


def test_markup_in_a_transcript_shows_as_text_and_never_runs(page, tmp_path):
    upload(page, tmp_path / "markup.txt", MARKUP_TRANSCRIPT)
    assert "Added markup.txt" in page.locator("#qa-upload-notice").inner_text()
    ask(page, f"What did Mallory hide in the page? {IMG}")
    quote = page.locator("#qa-chat blockquote").last.inner_text()
    for text in LITERALS:
        assert text in quote
    assert IMG in page.locator("#qa-chat .message-row").nth(-2).inner_text()  # the question, as typed
    source = page.locator("#qa-source").inner_text()
    assert SCRIPT in source and "{{value}}" in source and "<b>page</b>" in source
    assert SCRIPT in page.locator("#qa-citation textarea").input_value()
    for panel in ("#qa-chat", "#qa-source", "#qa-more"):
        found = page.locator(f"{panel} script, {panel} img[src='x'], {panel} b:text('page'), "
                                f"{panel} a:not(.qa-link):not(.qa-search-all)")  # the app's own links only
        assert found.count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    shoot(page, "markup-as-text.png")
