"""The browser app: ask the transcripts a question, see the quote, who said it, and where.

``python app.py`` (or ``make run``) serves http://127.0.0.1:7860 over ``corpus/``; see ``--help``.
Importing this module is cheap: ``demo`` is built here, but the bot (and its model) loads on
first use, with a progress bar in the page, in a thread started at launch.

Here are the asking handlers (``respond``, ``ask``), the layout and ``demo``; the page's other
events are in ``qa_bot.page_events``, adding and removing transcripts in
``qa_bot.upload_handlers``, the shared bot in ``qa_bot.page_state``, serving in ``qa_bot.serving``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from qa_bot import links, map_pins, media, page_events, player, ui, web_api
from qa_bot import page_state as state
from qa_bot import startup as first_run
from qa_bot.errors import QaBotError
from qa_bot.page_state import ALL, configure
from qa_bot.serving import CONCURRENCY, QUEUE_SIZE, check_port, environment, parse_args, serve, settings_of
from qa_bot.upload_handlers import UPLOAD_TYPES

__all__ = ["ALL", "CONCURRENCY", "ask", "build_demo", "configure", "demo", "main", "respond", "serve"]

log = logging.getLogger("qa_bot.app")


def _bot(progress: Callable[..., Any] | None = None) -> Any:
    return state.bot(progress)


def respond(message: str, history: list[dict[str, Any]] | None, transcript: str | None = ALL,
            speaker: str | None = ALL, top_k: float = 3,
            progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """One chat turn: the answer in the chat, its turn and map, more quotes, the citation.

    Returns:
        (chat history, question box, source panel, more quotes, citation, notice).
    """
    history = list(history or [])
    if not (message or "").strip():
        return (history, message, gr.skip(), gr.skip(), gr.skip(),
                ui.notice_html("Type a question first, for example: " + ui.EXAMPLES[0]))
    try:
        bot = _bot(progress)
        transcript, speaker = state.scope(transcript), state.scope(speaker)
        result = bot.ask(message, top_k, transcript, speaker)
    except QaBotError as exc:
        return history, message, gr.skip(), gr.skip(), gr.skip(), ui.notice_html(str(exc))
    except Exception:  # a bug: logged with its traceback; the page says so and stays usable
        log.exception("could not answer %r", message[:200])
        return (history, message, gr.skip(), gr.skip(), gr.skip(),
                ui.notice_html("Something went wrong answering that question; it is logged on the server."))
    tries = page_events.suggestions(bot, transcript, speaker) if result.no_answer else ()
    reply = ui.chat_reply(result, transcript, speaker, bot.settings.no_answer_threshold, tries)
    reply += links.footer(links.Link(message, transcript or "", speaker or ""))
    history += [{"role": "user", "content": ui.user_message(message)},
                {"role": "assistant", "content": reply}]
    recordings = media.recordings(bot.source_path, bot.transcripts, [a.transcript for a in result.answers])
    return (history, "", ui.source_html(result, bot.transcripts, recordings),
            ui.more_html(result, recordings), ui.citation(result), "")


def ask(question: str, top_k: int = 3, transcript: str = "", speaker: str = "") -> dict[str, Any]:
    """Answer a question with verified quotes: the same JSON as ``qa-bot ask --json``.

    Args:
        question: the question, in plain language.
        top_k: most answers (the first is the answer, the rest support it).
        transcript: only search this transcript (file name or stem); "" for all.
        speaker: only search this speaker's words; "" for all.
    """
    try:
        bot = _bot()
        return dict(bot.ask(question, top_k, state.scope(transcript), state.scope(speaker)).to_dict())
    except QaBotError as exc:
        raise web_api.input_error(exc, "ask") from None


def ask_pending(pending: str, history: list[dict[str, Any]] | None, transcript: str | None,
                speaker: str | None, top_k: float,
                progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """After the page loads: ask the deep link's question, if it had one."""
    if not pending:
        return (gr.skip(),) * 6
    return respond(pending, history, transcript, speaker, top_k, progress)


def search_all(message: str, history: list[dict[str, Any]] | None, top_k: float,
               progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """The chip's "search all": clear both filters and ask the question again over everything."""
    try:
        filters = state.filters(_bot(progress))
    except QaBotError:
        filters = (gr.skip(), gr.skip())
    return (*respond(message, history, ALL, ALL, top_k, progress), *filters)


def build_demo(concurrency: int = CONCURRENCY, queue_size: int = QUEUE_SIZE) -> gr.Blocks:
    """The page; every handler reads the bot from ``state.holder()`` when it runs.

    Args:
        concurrency: questions answered at once, over the chat, the examples and the API together.
        queue_size: events that may wait; past that a caller is told the queue is full.
    """
    with gr.Blocks(title="qa_bot — ask the transcripts") as demo:
        gr.Markdown("## qa_bot — ask the transcripts\nAsk in plain language; every answer is the "
                    "speaker's exact words, who said them, in reply to which question, and where.")
        status = gr.HTML(first_run.loading_html(), elem_id="qa-status",
                         min_height=64)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Answers", height=520, elem_id="qa-chat", latex_delimiters=[],
                                  sanitize_html=True, feedback_options=None, buttons=["copy"],
                                  placeholder="Ask the transcripts a question: type it below, "
                                              "or pick an example.")
                with gr.Row():
                    question = gr.Textbox(placeholder="e.g. " + ui.EXAMPLES[0], show_label=False,
                                          scale=5, elem_id="qa-question", max_lines=4, submit_btn=False)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                notice = gr.HTML("", elem_id="qa-notice")
                gr.Markdown("**Examples** (one click each):")
                with gr.Row():
                    example_buttons = [gr.Button(q, size="sm", elem_classes="qa-example")
                                       for q in ui.EXAMPLES]
                with gr.Row():
                    transcript = gr.Dropdown([("All transcripts", ALL)], value=ALL, label="Transcript",
                                             elem_id="qa-transcript", scale=3)
                    speaker = gr.Dropdown([("All speakers", ALL)], value=ALL, label="Speaker",
                                          elem_id="qa-speaker", scale=2)
                    top_k = gr.Slider(1, 10, value=3, step=1, label="Quotes", scale=1)
                clear_btn = gr.Button("Clear chat", size="sm")
                # pressed by the chip's "search all" link (links.JS), which fills the question box
                widen = gr.Button("Search all", visible="hidden", elem_id="qa-search-all")
                pending = gr.State("")
            with gr.Column(scale=2):
                with gr.Tab("Source"):
                    source = gr.HTML(ui.source_html(None, {}), elem_id="qa-source",
                                     js_on_load=map_pins.JS + player.PLAY_JS)
                with gr.Tab("More quotes"):
                    more = gr.HTML(ui.more_html(None), elem_id="qa-more", js_on_load=player.PLAY_JS)
                cite = gr.Textbox(label="Citation", buttons=["copy"], interactive=False, lines=2,
                                  elem_id="qa-citation", placeholder="The answer's quote and attribution, "
                                  "on one line, to copy.")
                with gr.Accordion("Add a transcript", open=False, elem_id="qa-add"):
                    upload = gr.File(label="Transcript (.txt, .srt, .vtt, .json, .jsonl)",
                                     file_types=UPLOAD_TYPES, type="filepath", elem_id="qa-upload")
                    # shown while an upload is indexed (page_events.wire)
                    cancel_upload = gr.Button("Cancel the upload", size="sm", visible=False,
                                              elem_id="qa-cancel-upload")
                    upload_notice = gr.HTML("", elem_id="qa-upload-notice")
                    with gr.Row(equal_height=True):
                        uploaded = gr.Dropdown([], value=None, label="Uploaded transcripts", scale=3,
                                               elem_id="qa-uploaded", info="Only uploads can be "
                                               "removed; the corpus folder is never changed.")
                        remove_btn = gr.Button("Remove", variant="stop", scale=1, elem_id="qa-remove")

        page_events.wire(demo, page_events.Parts(
            status=status, chat=chat, question=question, send=send, notice=notice,
            example_buttons=example_buttons, transcript=transcript, speaker=speaker, top_k=top_k,
            clear_btn=clear_btn, widen=widen, pending=pending, source=source, more=more, cite=cite,
            upload=upload, upload_notice=upload_notice, uploaded=uploaded, remove_btn=remove_btn,
            cancel_upload=cancel_upload),
            respond, ask, ask_pending, search_all, concurrency)
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo


demo = build_demo()


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("qa_bot").setLevel(logging.INFO)
    env = environment()  # every QA_BOT_* variable, read once: the flags' defaults
    args = parse_args(argv, __doc__.splitlines()[0], env)
    settings, auth = settings_of(args, env)
    check_port(args.host, args.port)
    configure(args.corpus, args.index_dir, settings)
    page = demo if args.concurrency == CONCURRENCY else build_demo(args.concurrency)
    serve(page, args.host, args.port, args.share, auth=auth)


if __name__ == "__main__":
    main()
