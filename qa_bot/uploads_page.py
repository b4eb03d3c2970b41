"""What the app says about uploaded transcripts: the Remove list, the notices, the API's JSON.

Only uploads are listed (corpus files cannot be removed from the page); the handlers that use
these live in upload_handlers.py. Names and titles come from files, so the notices go through
``ui.notice_html`` (which escapes) and the list's labels are plain text in a dropdown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def choices(bot: Any) -> list[tuple[str, str]]:
    """(label, name) of every uploaded transcript, in the order they are loaded: its title and
    file name, or the file name alone when the title is only its stem."""
    def label(name: str) -> str:
        title = bot.transcripts[name].title
        return name if title == Path(name).stem else f"{title} ({name})"

    return [(label(name), name) for name in bot.uploaded if name in bot.transcripts]


def removed(bot: Any, transcript: Any) -> dict[str, Any]:
    """The ``/remove_transcript`` API's result: what went, and what is searched now."""
    return {"removed": transcript.name, "title": transcript.title,
            "transcripts": sorted(bot.transcripts), "uploads": list(bot.uploaded),
            "passages": len(bot.index.chunks)}


def removed_notice(transcript: Any, corpus: object) -> str:
    return (f"Removed {transcript.name} (“{transcript.title}”): its file and its passages are gone; "
            f"the corpus folder {corpus} is unchanged.")


def cancelled_notice(name: str) -> str:
    return f"Cancelled: {name} was not added; the index and the uploads are as they were."


def limit_words(settings: Any) -> str:
    """The upload size limit in force, for the upload box: "up to 1 MB"."""
    from .uploads import limit_bytes

    return f"up to {limit_bytes(settings) / 1_000_000:g} MB"


def nothing_chosen() -> str:
    return "Choose an uploaded transcript to remove first."
