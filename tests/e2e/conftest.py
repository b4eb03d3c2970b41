"""Fixtures of the end-to-end tests: the app launched in this process, a gradio_client on it, and
Chromium with the app's page loaded.

Each is module-scoped where it launches something: every test module gets an app (and a browser)
of its own, and its tests share them. The module's app, ``served``, is the app over a copy of
corpus/ with the real model unless the module defines another (``helpers.launched``); ``client``
and ``page`` talk to it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from browser_steps import TIMEOUT, launch, new_page
from helpers import CORPUS, launched


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory, real_embedder) -> Iterator[SimpleNamespace]:
    """The app (``app.demo``) over a copy of corpus/ with the real model: its ``url``, its
    ``corpus`` copy and its ``index`` folder."""
    import app

    base: Path = tmp_path_factory.mktemp("app")
    shutil.copytree(CORPUS, base / "corpus")
    with launched(base / "corpus", base / "index", embedder=real_embedder, page=app.demo) as served:
        yield SimpleNamespace(url=served.url, auth=None, corpus=base / "corpus", index=base / "index")


@pytest.fixture(scope="module")
def served(corpus_app) -> Any:
    """The module's app: the one over a copy of corpus/, unless the module launches another."""
    return corpus_app


@pytest.fixture(scope="module")
def client(served) -> Any:
    """A gradio_client on the module's ``served`` app, logged in when it has a login."""
    from gradio_client import Client

    return Client(served.url, auth=served.auth, verbose=False)


@pytest.fixture
def http(served) -> Iterator[Any]:
    """An HTTP client on the module's app, logged in as a browser would be when it has a login."""
    import httpx

    with httpx.Client(base_url=served.url, timeout=30) as client:
        if served.auth:
            username, password = served.auth
            assert client.post("login", data={"username": username, "password": password}).status_code == 200
        yield client


@pytest.fixture(scope="module")
def url(request) -> str:
    """The page the browser tests open: the module's app or, in a module that says it may
    (``ANY_APP = True``), QABOT_URL: an app you started yourself."""
    if getattr(request.module, "ANY_APP", False) and os.environ.get("QABOT_URL"):
        return os.environ["QABOT_URL"]
    return request.getfixturevalue("served").url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, url) -> Iterator[Any]:
    """A page at ``url`` with the bot loaded; ``page.dialogs`` lists any dialog that opened."""
    page = new_page(browser, url)
    yield page
    page.close()


@pytest.fixture
def open_page(browser):
    """Opens pages at given URLs, in one context that may read the clipboard, once the bot has loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  permissions=["clipboard-read", "clipboard-write"])

    def go(address: str):
        page = context.new_page()
        page.goto(address)
        page.wait_for_selector("#qa-status .qa-status", timeout=TIMEOUT)
        return page

    yield go
    context.close()
