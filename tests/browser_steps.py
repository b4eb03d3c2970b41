"""The steps the browser tests take in the app's page: Playwright driving Debian's headless Chromium
(Playwright cannot download a browser here). The fixtures (the browser, the app, a loaded page)
are in e2e/conftest.py.

Set QABOT_SCREENSHOTS=DIR to also save the screenshots the tests take (docs/ holds them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT = 60_000  # ms, for every wait on the page

# Every browser test's marks: end to end, and skipped without Debian's chromium.
BROWSER = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium); Playwright cannot download one here"),
]


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def new_page(browser: Any, url: str) -> Any:
    """A page at ``url`` once the bot has loaded; the messages of any dialog that opens (a script
    run by a payload would open one) are listed in ``page.dialogs``."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("#qa-status .qa-status", timeout=TIMEOUT)  # the bot has loaded
    return page


def rows(page: Any) -> int:
    """The messages in the chat, questions and answers."""
    return page.locator("#qa-chat .message-row").count()


def answers(page: Any, count: int) -> None:
    """Waits for the chat to hold ``count`` messages and the Ask button to be free again."""
    page.wait_for_function(f"document.querySelectorAll('#qa-chat .message-row').length >= {count}",
                           timeout=TIMEOUT)
    page.wait_for_selector("#qa-ask:not([disabled])", timeout=TIMEOUT)


def ask(page: Any, question: str) -> None:
    """Types ``question``, clicks Ask and waits for its answer."""
    count = rows(page)
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    answers(page, count + 2)


def last_reply(page: Any) -> Any:
    return page.locator("#qa-chat .message-row").last


def upload(page: Any, path: Path, text: str | None = None, outcome: str = "ok") -> None:
    """Adds the file ``path`` (written first when ``text`` is given) from the "Add a transcript"
    panel and waits for its notice: ``outcome`` "ok" or "error"."""
    if text is not None:
        path.write_text(text, encoding="utf-8")
    page.click("#qa-add")
    page.set_input_files("#qa-upload input[type=file]", str(path))
    page.wait_for_selector(f"#qa-upload-notice .qa-notice-{outcome}", timeout=TIMEOUT)


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot in $QABOT_SCREENSHOTS, when it is set."""
    folder = os.environ.get("QABOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)
