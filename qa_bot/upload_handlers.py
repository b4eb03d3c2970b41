"""The page's and the HTTP API's handlers that add and remove transcripts.

A rejected file, a cancelled upload or a failed removal changes nothing: the page shows a notice
(a bug is logged with its traceback and the page stays usable), the API raises a one-line error.

An upload being indexed can be cancelled from its page: dropping a file gives the page's session
a cancel flag (``begin_upload``) that its Cancel button sets (``cancel_upload``); the bot checks
it between batches of passages. The flag is made before the upload waits for its turn, so a
Cancel pressed while another upload is indexed is not lost.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import FileDataDict

from . import page_state as state
from . import ui, uploads_page, web_api
from .config import Settings
from .errors import Cancelled, QaBotError
from .upload_progress import UploadProgress

log = logging.getLogger("qa_bot.app")

UPLOAD_TYPES = [".txt", ".srt", ".vtt", ".json", ".jsonl"]
_cancels: dict[str, threading.Event] = {}  # page session -> the cancel flag of its upload


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", None) or "")


def begin_upload(request: gr.Request) -> Any:
    """At once when a file is dropped, before it waits for its turn: its cancel flag, and Cancel shown."""
    _cancels[_session(request)] = threading.Event()
    return gr.Button(visible=True)


def cancel_upload(request: gr.Request) -> Any:
    """The Cancel button: the upload stops at its next batch of passages (the upload notice)."""
    flag = _cancels.get(_session(request))
    if flag is None:
        return ui.notice_html("No upload is being indexed.", "warning")
    flag.set()
    return ui.notice_html("Cancelling: the upload stops at its next batch of passages, and nothing is added.",
                          "warning")


def end_upload() -> Any:
    return gr.Button(visible=False)


def upload_box() -> Any:
    """The upload box's label with the size limit in force (set at load: it is a setting)."""
    limit = uploads_page.limit_words(state.holder().settings or Settings.from_env())
    return gr.File(label=f"Transcript (.txt, .srt, .vtt, .json, .jsonl; {limit})")


def add_transcript(path: str | None, request: gr.Request | None = None,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """The page's upload box: parse the file, index it and make it searchable; a bad or cancelled
    file changes nothing.

    Returns:
        (upload notice, corpus status, transcript filter, speaker filter, the file box).
    """
    unchanged = (gr.skip(), gr.skip(), gr.skip(), None)
    if not path:
        return (ui.notice_html("Choose a transcript file first (.txt, .srt, .vtt, .json or .jsonl)."),
                *unchanged)
    name = Path(path).name
    session = _session(request)
    cancel = _cancels.setdefault(session, threading.Event())
    try:
        bot = state.bot(progress)
        shown = UploadProgress(progress, name)
        shown.reading()
        transcript = web_api.add_file(bot, path, name, UPLOAD_TYPES, shown, cancel)
    except Cancelled:
        return ui.notice_html(uploads_page.cancelled_notice(name), "warning"), *unchanged
    except QaBotError as exc:
        return ui.notice_html(str(exc)), *unchanged
    except Exception:  # a bug: logged with its traceback; the page says so and stays usable
        log.exception("could not add %s", name)
        return (ui.notice_html(f"Could not add {name}: something went wrong; it is logged on the server."),
                *unchanged)
    finally:
        if _cancels.get(session) is cancel:
            del _cancels[session]
    speakers = ", ".join(bot.speakers(transcript.name)) or "no named speakers"
    done = (f"Added {transcript.name}: “{transcript.title}”, {len(transcript.turns)} turns ({speakers}). "
            "It is searchable now; the transcript filter is set to it.")
    return (ui.notice_html(done, "ok"), state.status(bot), *state.filters(bot, transcript.name), None)


def add_transcript_api(file: FileDataDict | None) -> web_api.Added:
    """Add a transcript file to the corpus and index it; a rejected file is an error and changes nothing.

    Args:
        file: the transcript (.txt, .srt, .vtt, .json or .jsonl), sent with gradio_client.handle_file.

    Returns:
        {"transcript": the name to ask about it by, "turns", "speakers", "passages": searchable passages}.
    """
    return web_api.add_over_api(state.bot, file, UPLOAD_TYPES)


def _uploaded(bot: Any) -> Any:
    return gr.Dropdown(choices=uploads_page.choices(bot), value=None)


def list_uploads() -> Any:
    """The Remove list, after the page loads or a file is added."""
    try:
        return _uploaded(state.bot())
    except QaBotError:
        return gr.skip()


def remove_upload(name: str | None, transcript: str | None = state.ALL,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """The Remove button: (upload notice, corpus status, transcript filter, speaker filter, list)."""
    unchanged = (gr.skip(),) * 4
    if not name:
        return ui.notice_html(uploads_page.nothing_chosen()), *unchanged
    try:
        bot = state.bot(progress)
        gone = bot.remove_transcript(name, state.reporter(progress))
    except QaBotError as exc:
        return ui.notice_html(f"Could not remove {name}; nothing was changed. {exc}"), *unchanged
    except Exception:  # a bug, or the disk: logged with its traceback; the page stays usable
        log.exception("could not remove %s", name)
        return (ui.notice_html(f"Could not remove {name}: something went wrong; it is logged on the server."),
                *unchanged)
    return (ui.notice_html(uploads_page.removed_notice(gone, bot.corpus), "ok"), state.status(bot),
            *state.filters(bot, transcript), _uploaded(bot))


def remove_transcript(name: str) -> dict[str, Any]:
    """Remove an uploaded transcript: its file and its passages go; corpus files cannot be removed.

    Args:
        name: the uploaded transcript's file name (or stem).

    Returns:
        {"removed", "title", "transcripts", "uploads", "passages"}: what went and what is searched now.
    """
    try:
        bot = state.bot()
        return uploads_page.removed(bot, bot.remove_transcript(name))
    except QaBotError as exc:
        raise web_api.input_error(exc, "remove_transcript") from None
