"""The example buttons follow the scope, in a real browser: the curated questions over the whole
corpus, the uploaded transcript's own questions once the filter is set to it, and every one shown
answers when clicked."""

from __future__ import annotations

from browser_steps import BROWSER, TIMEOUT, answers, last_reply, upload
from helpers import BAKERY

from qa_bot import ui

pytestmark = BROWSER


def shown(page) -> list[str]:
    return [b.inner_text().strip() for b in page.locator(".qa-example:visible").all()]


def wait_examples(page, changed_from: list[str]) -> list[str]:
    page.wait_for_function(
        "(old) => { const now = [...document.querySelectorAll('.qa-example')]"
        ".filter(b => b.offsetParent !== null).map(b => b.innerText.trim());"
        " return now.length > 0 && JSON.stringify(now) !== JSON.stringify(old); }",
        arg=changed_from, timeout=TIMEOUT)
    return shown(page)


def click_each_and_check(page, questions: list[str], speaker: str) -> None:
    for question in questions:
        count = page.locator("#qa-chat .message-row").count()
        page.locator(".qa-example:visible", has_text=question).first.click()
        answers(page, count + 2)
        reply = last_reply(page)
        assert page.locator("#qa-chat .message-row").nth(-2).inner_text().strip() == question
        assert "No answer found." not in reply.inner_text(), question
        assert reply.locator("blockquote").count() == 1 and speaker in reply.inner_text()


def choose_all_transcripts(page) -> None:
    page.click("#qa-transcript input")
    page.get_by_role("option", name="All transcripts").click()


def test_examples_follow_the_scope_and_each_answers(url, open_page, tmp_path):
    page = open_page(url)
    page.wait_for_timeout(1000)  # the examples are checked after the page loads
    assert shown(page) == list(ui.EXAMPLES)  # the default corpus keeps its curated questions
    click_each_and_check(page, shown(page), "Viktor Ivanov")

    upload(page, tmp_path / "bakery-chat.txt", BAKERY)
    bakery = wait_examples(page, list(ui.EXAMPLES))
    assert not set(bakery) & set(ui.EXAMPLES)
    # its interviewer's questions first, in the order she asks them
    assert bakery[:3] == ["What is your best-selling bread?", "When do you start baking in the morning?",
                          "Who taught you to bake?"]
    click_each_and_check(page, bakery, "Jonas Weber")

    count = page.locator("#qa-chat .message-row").count()
    page.fill("#qa-question textarea", "Which planet has the most moons?")
    page.click("#qa-ask")
    answers(page, count + 2)
    suggested = last_reply(page).locator("li").all_inner_texts()
    assert "No answer found." in last_reply(page).inner_text()
    assert suggested and set(suggested) <= set(bakery)  # what to try instead is in scope too

    choose_all_transcripts(page)
    assert wait_examples(page, bakery) == list(ui.EXAMPLES)
