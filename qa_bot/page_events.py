"""The page's events: what each click, upload and page load runs, and in which worker pool.

``wire`` connects the layout's components (``Parts``) to the handlers; the handlers of the page's
own life (loading, deep links, filters, examples) are here, the asking ones come from app.py.

Every way of asking (the chat, the examples, the /ask API) shares one pool of ``concurrency``
workers: a question is CPU-bound work on one shared model, so running more at once than there are
cores only interleaves them. Adding or removing a transcript rewrites the index: one at a time,
in a pool of its own, so questions go on meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from . import examples, links, ui
from . import page_state as state
from . import startup as first_run
from . import upload_handlers as uploads
from .errors import QaBotError

log = logging.getLogger("qa_bot.app")

QUESTIONS_POOL = "questions"
INDEX_POOL = "index"


@dataclass(frozen=True)
class Parts:
    """The layout's components that events read or write."""

    status: Any
    chat: Any
    question: Any
    send: Any
    notice: Any
    example_buttons: Sequence[Any]
    transcript: Any
    speaker: Any
    top_k: Any
    clear_btn: Any
    widen: Any
    pending: Any
    source: Any
    more: Any
    cite: Any
    upload: Any
    upload_notice: Any
    uploaded: Any
    remove_btn: Any
    cancel_upload: Any


def startup(request: gr.Request | None = None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """On page load: wait for the bot (showing progress), then fill the filters and the status;
    a deep link (``/?q=…&transcript=…&speaker=…``) sets the scope and leaves its question pending.

    Returns:
        (status, transcript filter, speaker filter, question box, pending question, notice).
    """
    link = links.Link.from_query(dict(request.query_params) if request else {})
    holder = state.holder()
    try:
        bot = holder.get(progress)
    except Exception as exc:
        message = f"Could not load the corpus {holder.corpus}: {exc}"
        return ui.notice_html(message), gr.skip(), gr.skip(), gr.skip(), "", gr.skip()
    try:
        transcript = bot.resolve_transcript(link.transcript) or state.ALL
    except QaBotError as exc:  # a link to a transcript this corpus lacks: ask nothing, say why
        return (state.status(bot), *state.filters(bot), link.question, "",
                ui.notice_html(f"This link's {exc}. Choose a transcript below and ask again."))
    if link.speaker and link.speaker not in bot.speakers(state.scope(transcript)):
        return (state.status(bot), *state.filters(bot, transcript), link.question, "",
                ui.notice_html(f"This link's speaker {link.speaker!r} does not speak in "
                               f"{links.scope_words(state.scope(transcript) or 'any transcript', '')}. "
                               "Choose a speaker below and ask again."))
    return (state.status(bot), *state.filters(bot, transcript, link.speaker or state.ALL), link.question,
            link.question, "")


def loading_status() -> Iterator[Any]:
    """The status line while the bot loads (what is being prepared, how far, for how long), then
    the loaded one: startup's too, so that a late loading line never stays behind it."""
    holder = state.holder()
    yield from first_run.loading_statuses(holder)
    yield state.status(holder.get()) if holder.ready else gr.skip()  # a failure: startup says so


def waiting_notice() -> Any:
    """At once, beside a question asked while the bot loads: it is queued, not lost."""
    return first_run.waiting_html() if state.holder().loading else gr.skip()


def speakers_for(transcript: str | None, speaker: str | None = state.ALL) -> Any:
    try:
        return state.speakers(state.bot(), transcript, speaker)
    except QaBotError:
        return gr.skip()


def suggestions(bot: Any, transcript: str | None, speaker: str | None) -> tuple[str, ...]:
    """Questions that answer in this scope, for the example buttons and a no-answer reply."""
    return examples.suggest(bot, state.scope(transcript), state.scope(speaker), len(ui.EXAMPLES),
                            ui.EXAMPLES)


def examples_for(transcript: str | None, speaker: str | None) -> list[Any]:
    """The example buttons for the scope: its questions that answer; the spare buttons hidden."""
    try:
        found = suggestions(state.bot(), transcript, speaker)
    except Exception:  # examples are a help, never a reason for an error in the page
        log.exception("could not find examples for %r, %r", transcript, speaker)
        return [gr.skip() for _ in ui.EXAMPLES]
    return [gr.Button(value=found[i], visible=True) if i < len(found) else gr.Button(visible=False)
            for i in range(len(ui.EXAMPLES))]


def toggle(controls: Sequence[Any], interactive: bool) -> Callable[..., list[Any]]:
    """A handler turning the ways of asking (the question box first) on or off; given an
    example's text, it also fills the box with it."""
    def switch(text: str | None = None) -> list[Any]:
        box = gr.Textbox(interactive=interactive) if text is None else \
            gr.Textbox(value=text, interactive=interactive)
        return [box, *(type(c)(interactive=interactive) for c in controls[1:])]
    return switch


def clear() -> tuple[Any, ...]:
    return [], "", ui.source_html(None, {}), ui.more_html(None), "", ""


def wire(demo: gr.Blocks, p: Parts, respond: Callable[..., Any], ask: Callable[..., Any],
         ask_pending: Callable[..., Any], search_all: Callable[..., Any], concurrency: int) -> None:
    """Connect the page's events (inside ``with demo:``)."""
    asking: dict[str, Any] = {"concurrency_limit": concurrency, "concurrency_id": QUESTIONS_POOL}
    indexing: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": INDEX_POOL}
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}
    outputs = [p.chat, p.question, p.source, p.more, p.cite, p.notice]
    inputs = [p.question, p.chat, p.transcript, p.speaker, p.top_k]
    for trigger in (p.question.submit, p.send.click, *(b.click for b in p.example_buttons)):
        trigger(waiting_notice, None, p.notice, show_progress="hidden", **private)
    # The ways of asking are off while an answer is pending, so that a second click or Enter
    # does not ask again; they are back on once it is in, whatever happened.
    controls = [p.question, p.send, *p.example_buttons]
    off, on = toggle(controls, False), toggle(controls, True)
    p.question.submit(off, None, controls, **private).then(
        respond, inputs, outputs, api_visibility="undocumented", api_name="respond", **asking).then(
        on, None, controls, **private)
    p.send.click(off, None, controls, **private).then(
        respond, inputs, outputs, api_visibility="private", **asking).then(on, None, controls, **private)
    for button in p.example_buttons:  # each asks the question it shows (examples_for sets it)
        button.click(off, button, controls, **private).then(
            respond, inputs, outputs, api_visibility="private", **asking).then(on, None, controls, **private)
    gr.on([p.transcript.change, p.speaker.change], examples_for, [p.transcript, p.speaker],
          p.example_buttons, api_visibility="private", show_progress="hidden", **asking)
    p.transcript.change(speakers_for, [p.transcript, p.speaker], p.speaker, api_visibility="private")
    p.clear_btn.click(clear, None, outputs, **private)
    filters = [p.upload_notice, p.status, p.transcript, p.speaker]
    # Cancel shows at once, before the upload waits for its turn, and sets the flag the bot checks
    # between batches of passages: the handler then says what was (not) done, and Cancel goes.
    p.upload.upload(uploads.begin_upload, None, p.cancel_upload, **private).then(
        uploads.add_transcript, p.upload, [*filters, p.upload], api_name="upload",
        api_visibility="private", show_progress_on=p.upload, **indexing).then(
        uploads.end_upload, None, p.cancel_upload, **private).then(
        uploads.list_uploads, None, p.uploaded, api_visibility="private")
    p.cancel_upload.click(uploads.cancel_upload, None, p.upload_notice, **private)
    p.remove_btn.click(uploads.remove_upload, [p.uploaded, p.transcript], [*filters, p.uploaded],
                       api_visibility="private", **indexing)
    gr.api(uploads.add_transcript_api, api_name="add_transcript", **indexing)
    gr.api(uploads.remove_transcript, api_name="remove_transcript", **indexing)
    gr.api(ask, api_name="ask", **asking)
    p.widen.click(search_all, [p.question, p.chat, p.top_k], [*outputs, p.transcript, p.speaker],
                  api_visibility="private", **asking)
    # The status line says what is loading itself: gradio's bar would cover it with "0 passages".
    demo.load(loading_status, None, p.status, api_visibility="private", show_progress="hidden",
              concurrency_limit=None)
    loaded = demo.load(startup, None, [p.status, p.transcript, p.speaker, p.question, p.pending, p.notice],
                       api_visibility="private", show_progress="hidden")
    loaded.then(uploads.list_uploads, None, p.uploaded, api_visibility="private")
    loaded.then(uploads.upload_box, None, p.upload, **private)
    loaded.then(ask_pending, [p.pending, p.chat, p.transcript, p.speaker, p.top_k], outputs,
                api_visibility="private", **asking)
    loaded.then(examples_for, [p.transcript, p.speaker], p.example_buttons, api_visibility="private",
                show_progress="hidden", **asking)
    demo.load(None, None, None, js=links.JS)
