"""qa_bot: ask a transcript a question, get back the speaker's exact words.

Importing the package is cheap: the model, FAISS and the parsers load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["QaBot", "Settings", "__version__", "load"]

if TYPE_CHECKING:
    from .bot import QaBot
    from .config import Settings


def load(corpus: Any = "corpus", index_dir: Any = None, **kwargs: Any) -> QaBot:
    """Open a corpus folder, loading its saved index or building it; see ``QaBot.open``."""
    from .bot import QaBot

    return QaBot.open(corpus, index_dir, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "QaBot":
        from .bot import QaBot

        return QaBot
    if name == "Settings":
        from .config import Settings

        return Settings
    raise AttributeError(name)
