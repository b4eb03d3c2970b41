"""Opening the bot in a background thread, so that the page comes up at once and shows progress.

The app's handlers all wait on one ``BotHolder``; a failed load is raised to each of them and
tried again on the next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import DEFAULT_CORPUS, Settings

log = logging.getLogger(__name__)


class BotHolder:
    """Builds the bot once, in the background, and lets every caller wait for it with progress."""

    def __init__(self, corpus: Path = DEFAULT_CORPUS, index_dir: Path | None = None,
                 settings: Settings | None = None, embedder: Any = None) -> None:
        self.corpus, self.index_dir = Path(corpus), index_dir
        self.settings, self.embedder = settings, embedder
        self._bot: Any = None
        self._error: Exception | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.progress: tuple[int, int, str] = (0, 0, "Loading the model and the index")
        self.started = time.monotonic()  # of the current load, for the page's "(12 s)"

    def _build(self) -> None:
        from .bot import QaBot

        def report(done: int, total: int, desc: str) -> None:
            self.progress = (done, total, "Embedding the transcripts" if desc == "embedding" else desc)

        try:
            settings = self.settings or Settings.from_env()
            self._bot = QaBot.open(self.corpus, self.index_dir, settings, self.embedder, progress=report)
            for error in self._bot.errors:
                log.warning("skipped %s", error)
            # the terminal's counterpart of the page's status line: a slow first start ends here
            n = len(self._bot.transcripts)
            log.info("ready: %d transcript%s, %d passages, in %.0f s", n, "" if n == 1 else "s",
                     len(self._bot.index.chunks), time.monotonic() - self.started)
        except Exception as exc:  # shown in the page; the next call tries again
            log.exception("could not open %s", self.corpus)
            self._error = exc

    def start(self) -> threading.Thread:
        with self._lock:
            if self._thread is None or (not self._thread.is_alive() and self._bot is None):
                self._error = None
                self.started = time.monotonic()
                self._thread = threading.Thread(target=self._build, name="qa-bot-load", daemon=True)
                self._thread.start()
            return self._thread

    @property
    def loading(self) -> bool:
        """True while the bot is being built: the page says so, and questions wait for it."""
        thread = self._thread
        return self._bot is None and thread is not None and thread.is_alive()

    @property
    def ready(self) -> bool:
        return self._bot is not None

    def get(self, progress: Callable[..., Any] | None = None) -> Any:
        """The bot, building it first if need be; raises what building it raised."""
        if self._bot is not None:
            return self._bot
        thread = self.start()
        while thread.is_alive():
            if progress is not None:
                done, total, desc = self.progress
                if total:
                    progress((done, total), desc=desc, unit="passages")
                else:  # nothing to count yet: a spinner, not "0 passages" (which reads as none)
                    progress(None, desc=desc)
            thread.join(0.25)
        if self._bot is None:
            error = self._error or RuntimeError("the bot did not load")
            raise error
        return self._bot
