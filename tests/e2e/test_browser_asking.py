"""Asking, in a real browser: every quote beside its question, More quotes read once, the chat's
label clear of the text, one answer per question however often Ask is clicked, map pins that open
their passage, and question turns drawn on the map of a ``Name: text`` interview.

The app, the browser and the page are the fixtures of e2e/conftest.py (Playwright driving
Debian's headless Chromium over a copy of ``corpus/`` with the real model).
"""

from __future__ import annotations

import os
import time

import pytest
from browser_steps import BROWSER, TIMEOUT, ask, rows, upload
from helpers import NAMED, QUESTION

from qa_bot.ui import NO_REPLY, one_line

pytestmark = BROWSER
ANY_APP = True  # QABOT_URL may name the app, as in test_browser.py (e2e/conftest.py)


@pytest.fixture(scope="module")
def expected(interview_bot):
    """What the app must show for QUESTION: the bot's own result over the same corpus and model,
    with the app's default of 3 quotes."""
    return interview_bot.ask(QUESTION, 3)


def flat(text: str) -> str:
    return " ".join(text.split())


def reply_of(answer) -> str:
    return one_line(answer.in_reply_to) if answer.in_reply_to else NO_REPLY


def open_more(page):
    page.get_by_role("tab", name="More quotes").click()
    return page.locator("#qa-more details.qa-more")


def test_every_quote_shows_the_question_it_replies_to(page, expected):
    assert len(expected.answers) == 3 and not expected.no_answer
    ask(page, QUESTION)
    top = expected.answers[0]
    assert reply_of(top) in flat(page.locator("#qa-chat .message-row").last.inner_text())
    assert reply_of(top) in flat(page.locator("#qa-source").inner_text())
    items = open_more(page)
    assert items.count() == len(expected.answers) - 1
    for n, answer in enumerate(expected.answers[1:]):
        summary = flat(items.nth(n).locator("summary").inner_text())
        # Next to the quote, before opening the item: a reply read alone misleads.
        assert flat(answer.quote) in summary and reply_of(answer) in summary, summary


def test_an_opened_more_quote_shows_its_quote_once_and_in_no_monospace_copy(page, expected):
    ask(page, QUESTION)
    items = open_more(page)
    item, answer = items.first, expected.answers[1]
    assert flat(item.inner_text()).count(flat(answer.quote)) == 1  # closed: the summary's
    item.locator("summary").click()
    page.wait_for_selector("#qa-more details[open] mark", timeout=TIMEOUT)
    text = flat(item.inner_text())
    assert text.count(flat(answer.quote)) == 1, text
    assert flat(item.locator("mark").inner_text()) == flat(answer.quote)
    assert reply_of(answer) in text
    mono = item.evaluate("""el => [...el.querySelectorAll('*')].filter(e => e.offsetParent !== null
        && e.innerText.trim() && /mono/i.test(getComputedStyle(e).fontFamily)).length""")
    assert mono == 0


# The chat's messages (clipped to the scrolled log) that the "Answers" label covers, at a few
# scroll positions: the label floats over the log by default, so text scrolls under it.
COVERED = """chat => {
  const label = chat.querySelector('[data-testid=block-label]');
  const log = chat.querySelector('[role=log]');
  if (!label || label.offsetParent === null) return [];
  const covered = [];
  for (const at of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    log.scrollTop = (log.scrollHeight - log.clientHeight) * at;
    const l = label.getBoundingClientRect(), w = log.getBoundingClientRect();
    for (const m of chat.querySelectorAll('.message-row .message')) {
      const r = m.getBoundingClientRect();
      const top = Math.max(r.top, w.top), bottom = Math.min(r.bottom, w.bottom);
      if (bottom > top && top < l.bottom && bottom > l.top && r.left < l.right && r.right > l.left)
        covered.push([at, m.innerText.slice(0, 40)]);
    }
  }
  return covered;
}"""


def test_the_chat_label_never_covers_the_messages_as_they_scroll(page):
    for question in (QUESTION, "Why help Kyrgyzstan?", "Is there radical recruiting in Central Asia?"):
        ask(page, question)
    scrollable = page.locator("#qa-chat [role=log]").evaluate("e => e.scrollHeight > e.clientHeight + 100")
    assert scrollable  # else the test proves nothing
    assert page.locator("#qa-chat").evaluate(COVERED) == []
    # The log fits its box: the chat block itself does not scroll as a second scroll bar.
    assert page.locator("#qa-chat").evaluate("e => e.scrollHeight <= e.clientHeight + 1")


@pytest.fixture
def slow_answers(monkeypatch):
    """Every question the app answers takes 2 s longer (the first answers of a cold start take
    longer still), so that a second submit lands while the first is pending; the questions the
    bot was asked are listed."""
    import app

    if os.environ.get("QABOT_URL"):
        pytest.skip("needs the app in this process")
    asked: list[str] = []
    real = app._bot

    class Slow:
        def __init__(self, bot):
            self._bot = bot

        def __getattr__(self, name):
            return getattr(self._bot, name)

        def ask(self, question, *args, **kwargs):
            asked.append(question)
            time.sleep(2)
            return self._bot.ask(question, *args, **kwargs)

    monkeypatch.setattr(app, "_bot", lambda progress=None: Slow(real(progress)))
    return asked


def test_ask_clicked_twice_or_enter_while_pending_gives_one_answer(page, slow_answers):
    page.fill("#qa-question textarea", QUESTION)
    page.click("#qa-ask")
    page.click("#qa-ask", force=True)  # a second click, and Enter, while the answer is pending
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function("document.querySelectorAll('#qa-chat .message-row').length >= 2",
                           timeout=TIMEOUT)
    page.wait_for_selector("#qa-ask:not([disabled])", timeout=TIMEOUT)
    page.wait_for_timeout(3_000)  # a second answer, had one been asked, would be in by now
    assert slow_answers == [QUESTION] and rows(page) == 2
    ask(page, "Why help Kyrgyzstan?")  # and the Ask button works again afterwards
    assert rows(page) == 4 and len(slow_answers) == 2


def test_ask_and_enter_are_disabled_while_an_answer_is_pending(page, slow_answers):
    page.fill("#qa-question textarea", QUESTION)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_selector("#qa-ask[disabled]", timeout=1_500)
    page.wait_for_selector("#qa-ask:not([disabled])", timeout=TIMEOUT)
    assert rows(page) == 2 and slow_answers == [QUESTION]


def shown_passage(page):
    marks = page.locator("#qa-source mark:visible")
    assert marks.count() == 1
    return flat(marks.inner_text())


def test_a_pin_on_the_map_opens_its_passage_in_source(page, expected):
    ask(page, QUESTION)
    source = page.locator("#qa-source")
    assert shown_passage(page) == flat(expected.answers[0].quote)
    for n in (3, 2, 1):  # each pin, the top one last: it comes back too
        answer = expected.answers[n - 1]
        source.locator(".qa-map-bar").get_by_text(str(n), exact=True).click()
        assert shown_passage(page) == flat(answer.quote)
        text = flat(source.inner_text())
        assert reply_of(answer) in text and f"{n} · relevance {answer.score:.2f}" in text
    # A new answer shows its own top passage, whatever pin was open before.
    source.locator(".qa-map-bar").get_by_text("2", exact=True).click()
    ask(page, "Why help Kyrgyzstan?")
    assert page.locator("#qa-chat blockquote").last.inner_text().strip()[:40] in shown_passage(page)


def test_a_name_text_interview_shows_its_questions_on_the_map(page, tmp_path):
    upload(page, tmp_path / "bakery-chat.txt", NAMED)
    ask(page, "Why did Jonas choose rye bread?")
    bar = page.locator("#qa-source .qa-map", has_text="bakery-chat").locator(".qa-map-bar")
    questions = bar.locator(".qa-seg-question")
    assert questions.count() >= 1
    assert questions.first.get_attribute("title") == "line 3 · Maria Lopez"  # "Why rye bread…?"
    box = questions.first.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0  # drawn, not just in the HTML
    color = questions.first.evaluate("e => getComputedStyle(e).backgroundColor")
    key = page.locator("#qa-source .qa-legend .qa-key.qa-seg-question")
    assert key.count() == 1 and key.evaluate("e => getComputedStyle(e).backgroundColor") == color
