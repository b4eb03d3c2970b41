"""Adding a transcript file, shared by the page's upload box and the HTTP API's ``/add_transcript``.

The page shows a notice; the API answers JSON (``Added``) or raises ``gr.Error`` with the same
words the page shows, so a client can tell a rejected file from a bug. Input errors are logged as
one line: a traceback in the server's terminal is for bugs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict

import gradio as gr
from gradio.data_classes import FileDataDict

from .errors import Cancelled, QaBotError
from .parsers.base import Transcript

log = logging.getLogger("qa_bot.app")

Progress = Callable[[int, int, str], None]


class UploadError(QaBotError):
    """A file was not added: the message names it, says why and that nothing changed."""


class Added(TypedDict):
    """What ``/add_transcript`` answers: the name it is searchable under, and what it holds."""

    transcript: str
    turns: int
    speakers: list[str]
    passages: int


def add_file(bot: Any, path: str | Path, name: str, types: Sequence[str],
             progress: Progress | None = None, cancel: threading.Event | None = None) -> Transcript:
    """Add the file at ``path`` to ``bot``'s corpus as ``name``; UploadError if it is rejected,
    Cancelled if ``cancel`` was set before it was indexed."""
    try:
        if Path(name).suffix.lower() not in types:
            raise QaBotError(f"{name}: not a transcript file (use {', '.join(types)})")
        transcript: Transcript = bot.add_transcript(name, Path(path).read_bytes(), progress=progress,
                                                    cancel=cancel)
        return transcript
    except Cancelled:
        raise
    except QaBotError as exc:
        raise UploadError(f"Could not add {name}; nothing was changed. {exc}") from exc
    except OSError as exc:
        raise UploadError(f"Could not add {name}; nothing was changed. {exc.strerror or exc}") from exc


def summary(bot: Any, transcript: Transcript) -> Added:
    passages = sum(1 for chunk in bot.index.chunks if chunk.transcript == transcript.name)
    return Added(transcript=transcript.name, turns=len(transcript.turns),
                 speakers=list(bot.speakers(transcript.name)), passages=passages)


def input_error(exc: QaBotError, endpoint: str) -> gr.Error:
    """The client's error for a rejected input; the server logs one line, not a traceback."""
    log.info("%s: %s", endpoint, exc)
    return gr.Error(str(exc), print_exception=False)


def uploaded(file: Any) -> tuple[str, str]:
    """(path on the server, the file's own name) of a file sent with ``gradio_client.handle_file``.

    Only such a file was checked by gradio to be an upload of this request: a bare path (a string,
    or a dict without gradio's file marker) could name any file on the server, so it is refused.
    """
    meta = file.get("meta") if isinstance(file, dict) else None
    if not (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and file.get("path")):
        raise UploadError("file: send the transcript file itself, e.g. gradio_client.handle_file(path)")
    path = str(file["path"])
    return path, str(file.get("orig_name") or Path(path).name)


def add_over_api(get_bot: Callable[[], Any], file: FileDataDict | None, types: Sequence[str]) -> Added:
    """``/add_transcript``: add the file and answer what was added; gr.Error if it is rejected."""
    try:
        path, name = uploaded(file)
        bot = get_bot()
        return summary(bot, add_file(bot, path, name, types))
    except QaBotError as exc:
        raise input_error(exc, "add_transcript") from None
