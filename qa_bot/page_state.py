"""The app's one shared bot and the page parts every handler fills from it (filters, status).

Every handler of the page reads the bot through ``bot()`` when it runs, so pointing the app at
another corpus (``configure``, before the page is used) changes them all. The bot itself loads
in the background (``BotHolder``); ``bot()`` waits for it.

Nothing is built at import: ``holder()`` makes the default holder on first use, from the
settings. Tests point the app elsewhere with ``configure`` and put back what ``holder()`` gave
before with ``reset`` (see there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from . import media, ui
from .bot_loader import BotHolder
from .config import DEFAULT_CORPUS, Settings
from .errors import QaBotError

ALL = "*"  # the filter value meaning "no filter"


@dataclass
class _Page:
    """What the page answers from: the holder, once ``holder()`` or ``configure`` made one."""

    holder: BotHolder | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # two first calls make one


_page = _Page()


def default_holder() -> BotHolder:
    """A holder over the corpus and index folder the settings name (QA_BOT_CORPUS, QA_BOT_INDEX).
    The rest of the settings are read when the bot loads, where a bad one is shown in the page."""
    try:
        env = Settings.read_env()
    except QaBotError:
        return BotHolder(DEFAULT_CORPUS)  # loading it raises the same error, in the page
    return BotHolder(Path(env.corpus), Path(env.index) if env.index else None)


def holder() -> BotHolder:
    """The holder of the bot the page answers from: the one ``configure`` set, else the default
    one (``default_holder``), made on first use."""
    with _page.lock:
        if _page.holder is None:
            _page.holder = default_holder()
        return _page.holder


def configure(corpus: str | Path = DEFAULT_CORPUS, index_dir: str | Path | None = None,
              settings: Settings | None = None, embedder: Any = None) -> BotHolder:
    """Point the app at another corpus (before it is used); returns the new holder."""
    made = BotHolder(Path(corpus), Path(index_dir) if index_dir else None, settings, embedder)
    with _page.lock:
        _page.holder = made
    return made


def reset(previous: BotHolder | None = None) -> None:
    """For tests: put back ``previous``, the holder ``holder()`` gave before a test pointed the
    app elsewhere, or with None forget the holder, so that the next ``holder()`` makes the
    default one again::

        previous = page_state.holder()
        app.configure(corpus, index_dir, settings, embedder)
        try:
            ...  # the page's handlers answer from ``corpus``
        finally:
            page_state.reset(previous)
    """
    with _page.lock:
        _page.holder = previous


def bot(progress: Callable[..., Any] | None = None) -> Any:
    """The bot; a failure to load it becomes a QaBotError, shown in the page like any other."""
    current = holder()
    try:
        return current.get(progress)
    except QaBotError:
        raise
    except Exception as exc:
        raise QaBotError(f"could not load the corpus {current.corpus}: {exc}") from exc


def media_of(name: str) -> media.Media | None:
    """The recording of a transcript the bot knows, for the media route; None for any other name."""
    try:
        loaded = bot()
    except QaBotError:
        return None
    return media.transcript_media(loaded.source_path, loaded.transcripts, name)


def reporter(progress: Any) -> Callable[[int, int, str], None]:
    """The bot's (done, total, what) progress calls, shown by gradio's ``progress``."""
    def report(done: int, total: int, desc: str) -> None:
        progress((done, total), desc=desc)
    return report


def scope(value: str | None) -> str | None:
    """A filter's value as the bot takes it: None for "all"."""
    return None if not value or value == ALL else value


def speakers(loaded: Any, transcript: str | None, speaker: str | None = ALL) -> Any:
    """The speaker filter for a transcript; a speaker who speaks in it stays chosen."""
    names = loaded.speakers(scope(transcript))
    keep = speaker if speaker in names else ALL
    return gr.Dropdown(choices=[("All speakers", ALL), *((s, s) for s in names)], value=keep)


def filters(loaded: Any, transcript: str | None = None, speaker: str | None = ALL) -> tuple[Any, Any]:
    """The transcript and speaker filters, keeping the choices that still exist."""
    names = [(f"{t.title} ({name})", name) for name, t in sorted(loaded.transcripts.items())]
    keep = transcript if transcript in loaded.transcripts else ALL
    return (gr.Dropdown(choices=[("All transcripts", ALL), *names], value=keep),
            speakers(loaded, keep, speaker))


def status(loaded: Any) -> str:
    """The status line: what is searched, and what could not be read."""
    return ui.status_html(loaded.transcripts, len(loaded.index.chunks), loaded.errors, str(loaded.corpus),
                          loaded.report.warnings)
