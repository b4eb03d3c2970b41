"""The browser app: ask the transcripts a question, see the quote, who said it, and where.

``python app.py`` (or ``make run``) serves http://127.0.0.1:7860 over ``corpus/``; see ``--help``.
Importing this module is cheap: ``demo`` is built here, but the bot (and its model) loads on
first use, with a progress bar in the page, in a thread started at launch.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import gradio as gr
from gradio.data_classes import FileDataDict

from qa_bot import examples, links, map_pins, media, player, ui, uploads_page, web_api
from qa_bot import startup as first_run
from qa_bot.access import auth_from_env, exposure_warnings
from qa_bot.bot_loader import BotHolder
from qa_bot.config import DEFAULT_CORPUS, Settings
from qa_bot.errors import QaBotError
from qa_bot.media_route import media_lifespan

log = logging.getLogger("qa_bot.app")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
ALL = "*"  # the filter value meaning "no filter"
UPLOAD_TYPES = [".txt", ".srt", ".vtt", ".json", ".jsonl"]
# Every way of asking (the chat, the examples, the /ask API) shares one pool of CONCURRENCY workers:
# a question is CPU-bound work on one shared model, so running more at once than there are cores
# only interleaves them and makes each slower. 2 is the cores of the machine it was measured on;
# 1 to 8 served 32 clients equally well there (bench/RESULTS.md, "Load"), the queue and HTTP
# costing more than the question. Adding a transcript rewrites the index: one at a time, in a pool
# of its own, so questions go on meanwhile. At most QUEUE_SIZE events wait; past that a caller is
# told "queue is full" at once instead of waiting without end.
CONCURRENCY = 2
QUEUE_SIZE = 64
QUESTIONS_POOL = "questions"
INDEX_POOL = "index"


HOLDER = BotHolder(Path(os.environ.get("QA_BOT_CORPUS", DEFAULT_CORPUS)),
                   Path(os.environ["QA_BOT_INDEX"]) if os.environ.get("QA_BOT_INDEX") else None)


def configure(corpus: str | Path = DEFAULT_CORPUS, index_dir: str | Path | None = None,
              settings: Settings | None = None, embedder: Any = None) -> BotHolder:
    """Point the app at another corpus (before it is used); returns the new holder."""
    global HOLDER
    HOLDER = BotHolder(Path(corpus), Path(index_dir) if index_dir else None, settings, embedder)
    return HOLDER


def _bot(progress: Callable[..., Any] | None = None) -> Any:
    """The bot; a failure to load it becomes a QaBotError, shown in the page like any other."""
    try:
        return HOLDER.get(progress)
    except QaBotError:
        raise
    except Exception as exc:
        raise QaBotError(f"could not load the corpus {HOLDER.corpus}: {exc}") from exc


def _media_of(name: str) -> media.Media | None:
    """The recording of a transcript the bot knows, for the media route; None for any other name."""
    try:
        bot = _bot()
    except QaBotError:
        return None
    return media.transcript_media(bot.source_path, bot.transcripts, name)


def _progress(progress: Any) -> Callable[[int, int, str], None]:
    def report(done: int, total: int, desc: str) -> None:
        progress((done, total), desc=desc)
    return report


def _scope(value: str | None) -> str | None:
    return None if not value or value == ALL else value


def _speakers(bot: Any, transcript: str | None, speaker: str | None = ALL) -> Any:
    """The speaker filter for a transcript; a speaker who speaks in it stays chosen."""
    names = bot.speakers(_scope(transcript))
    keep = speaker if speaker in names else ALL
    return gr.Dropdown(choices=[("All speakers", ALL), *((s, s) for s in names)], value=keep)


def _filters(bot: Any, transcript: str | None = None, speaker: str | None = ALL) -> tuple[Any, Any]:
    names = [(f"{t.title} ({name})", name) for name, t in sorted(bot.transcripts.items())]
    keep = transcript if transcript in bot.transcripts else ALL
    return (gr.Dropdown(choices=[("All transcripts", ALL), *names], value=keep),
            _speakers(bot, keep, speaker))


def _status(bot: Any) -> str:
    return ui.status_html(bot.transcripts, len(bot.index.chunks), bot.errors, str(bot.corpus),
                          bot.report.warnings)


def startup(request: gr.Request | None = None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """On page load: wait for the bot (showing progress), then fill the filters and the status;
    a deep link (``/?q=…&transcript=…&speaker=…``) sets the scope and leaves its question pending.

    Returns:
        (status, transcript filter, speaker filter, question box, pending question, notice).
    """
    link = links.Link.from_query(dict(request.query_params) if request else {})
    try:
        bot = HOLDER.get(progress)
    except Exception as exc:
        message = f"Could not load the corpus {HOLDER.corpus}: {exc}"
        return ui.notice_html(message), gr.skip(), gr.skip(), gr.skip(), "", gr.skip()
    try:
        transcript = bot.resolve_transcript(link.transcript) or ALL
    except QaBotError as exc:  # a link to a transcript this corpus lacks: ask nothing, say why
        return (_status(bot), *_filters(bot), link.question, "",
                ui.notice_html(f"This link's {exc}. Choose a transcript below and ask again."))
    if link.speaker and link.speaker not in bot.speakers(_scope(transcript)):
        return (_status(bot), *_filters(bot, transcript), link.question, "",
                ui.notice_html(f"This link's speaker {link.speaker!r} does not speak in "
                               f"{links.scope_words(_scope(transcript) or 'any transcript', '')}. "
                               "Choose a speaker below and ask again."))
    return (_status(bot), *_filters(bot, transcript, link.speaker or ALL), link.question,
            link.question, "")


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
        filters = _filters(_bot(progress))
    except QaBotError:
        filters = (gr.skip(), gr.skip())
    return (*respond(message, history, ALL, ALL, top_k, progress), *filters)


def loading_status() -> Iterator[Any]:
    """The status line while the bot loads (what is being prepared, how far, for how long), then
    the loaded one: startup's too, so that a late loading line never stays behind it."""
    yield from first_run.loading_statuses(HOLDER)
    yield _status(HOLDER.get()) if HOLDER.ready else gr.skip()  # a failure: startup says so


def waiting_notice() -> Any:
    """At once, beside a question asked while the bot loads: it is queued, not lost."""
    return first_run.waiting_html() if HOLDER.loading else gr.skip()


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
        transcript, speaker = _scope(transcript), _scope(speaker)
        result = bot.ask(message, top_k, transcript, speaker)
    except QaBotError as exc:
        return history, message, gr.skip(), gr.skip(), gr.skip(), ui.notice_html(str(exc))
    except Exception:  # a bug: logged with its traceback; the page says so and stays usable
        log.exception("could not answer %r", message[:200])
        return (history, message, gr.skip(), gr.skip(), gr.skip(),
                ui.notice_html("Something went wrong answering that question; it is logged on the server."))
    tries = _examples(bot, transcript, speaker) if result.no_answer else ()
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
        return dict(bot.ask(question, top_k, _scope(transcript), _scope(speaker)).to_dict())
    except QaBotError as exc:
        raise web_api.input_error(exc, "ask") from None


def add_transcript(path: str | None,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """The page's upload box: parse the file, index it and make it searchable; a bad file changes nothing.

    Returns:
        (upload notice, corpus status, transcript filter, speaker filter, the file box).
    """
    unchanged = (gr.skip(), gr.skip(), gr.skip(), None)
    if not path:
        return (ui.notice_html("Choose a transcript file first (.txt, .srt, .vtt, .json or .jsonl)."),
                *unchanged)
    name = Path(path).name
    try:
        bot = _bot(progress)
        transcript = web_api.add_file(bot, path, name, UPLOAD_TYPES, _progress(progress))
    except QaBotError as exc:
        return ui.notice_html(str(exc)), *unchanged
    except Exception:  # a bug: logged with its traceback; the page says so and stays usable
        log.exception("could not add %s", name)
        return (ui.notice_html(f"Could not add {name}: something went wrong; it is logged on the server."),
                *unchanged)
    speakers = ", ".join(bot.speakers(transcript.name)) or "no named speakers"
    done = (f"Added {transcript.name}: “{transcript.title}”, {len(transcript.turns)} turns ({speakers}). "
            "It is searchable now; the transcript filter is set to it.")
    return (ui.notice_html(done, "ok"), _status(bot), *_filters(bot, transcript.name), None)


def add_transcript_api(file: FileDataDict | None) -> web_api.Added:
    """Add a transcript file to the corpus and index it; a rejected file is an error and changes nothing.

    Args:
        file: the transcript (.txt, .srt, .vtt, .json or .jsonl), sent with gradio_client.handle_file.

    Returns:
        {"transcript": the name to ask about it by, "turns", "speakers", "passages": searchable passages}.
    """
    return web_api.add_over_api(_bot, file, UPLOAD_TYPES)


def _uploaded(bot: Any) -> Any:
    return gr.Dropdown(choices=uploads_page.choices(bot), value=None)


def list_uploads() -> Any:
    """The Remove list, after the page loads or a file is added."""
    try:
        return _uploaded(_bot())
    except QaBotError:
        return gr.skip()


def remove_upload(name: str | None, transcript: str | None = ALL,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """The Remove button: (upload notice, corpus status, transcript filter, speaker filter, list)."""
    unchanged = (gr.skip(),) * 4
    if not name:
        return ui.notice_html(uploads_page.nothing_chosen()), *unchanged
    try:
        bot = _bot(progress)
        gone = bot.remove_transcript(name, _progress(progress))
    except QaBotError as exc:
        return ui.notice_html(f"Could not remove {name}; nothing was changed. {exc}"), *unchanged
    except Exception:  # a bug, or the disk: logged with its traceback; the page stays usable
        log.exception("could not remove %s", name)
        return (ui.notice_html(f"Could not remove {name}: something went wrong; it is logged on the server."),
                *unchanged)
    return (ui.notice_html(uploads_page.removed_notice(gone, bot.corpus), "ok"), _status(bot),
            *_filters(bot, transcript), _uploaded(bot))


def remove_transcript(name: str) -> dict[str, Any]:
    """Remove an uploaded transcript: its file and its passages go; corpus files cannot be removed.

    Args:
        name: the uploaded transcript's file name (or stem).

    Returns:
        {"removed", "title", "transcripts", "uploads", "passages"}: what went and what is searched now.
    """
    try:
        bot = _bot()
        return uploads_page.removed(bot, bot.remove_transcript(name))
    except QaBotError as exc:
        raise web_api.input_error(exc, "remove_transcript") from None


def speakers_for(transcript: str | None, speaker: str | None = ALL) -> Any:
    try:
        return _speakers(_bot(), transcript, speaker)
    except QaBotError:
        return gr.skip()


def _toggle(controls: Sequence[Any], interactive: bool) -> Callable[..., list[Any]]:
    """A handler turning the ways of asking (the question box first) on or off; given an
    example's text, it also fills the box with it."""
    def toggle(text: str | None = None) -> list[Any]:
        box = gr.Textbox(interactive=interactive) if text is None else \
            gr.Textbox(value=text, interactive=interactive)
        return [box, *(type(c)(interactive=interactive) for c in controls[1:])]
    return toggle


def _examples(bot: Any, transcript: str | None, speaker: str | None) -> tuple[str, ...]:
    return examples.suggest(bot, _scope(transcript), _scope(speaker), len(ui.EXAMPLES), ui.EXAMPLES)


def examples_for(transcript: str | None, speaker: str | None) -> list[Any]:
    """The example buttons for the scope: its questions that answer; the spare buttons hidden."""
    try:
        found = _examples(_bot(), transcript, speaker)
    except Exception:  # examples are a help, never a reason for an error in the page
        log.exception("could not find examples for %r, %r", transcript, speaker)
        return [gr.skip() for _ in ui.EXAMPLES]
    return [gr.Button(value=found[i], visible=True) if i < len(found) else gr.Button(visible=False)
            for i in range(len(ui.EXAMPLES))]


def clear() -> tuple[Any, ...]:
    return [], "", ui.source_html(None, {}), ui.more_html(None), "", ""


def build_demo(concurrency: int = CONCURRENCY, queue_size: int = QUEUE_SIZE) -> gr.Blocks:
    """The page; every handler reads the bot from ``HOLDER`` when it runs.

    Args:
        concurrency: questions answered at once, over the chat, the examples and the API together.
        queue_size: events that may wait; past that a caller is told the queue is full.
    """
    asking: dict[str, Any] = {"concurrency_limit": concurrency, "concurrency_id": QUESTIONS_POOL}
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
                    upload_notice = gr.HTML("", elem_id="qa-upload-notice")
                    with gr.Row(equal_height=True):
                        uploaded = gr.Dropdown([], value=None, label="Uploaded transcripts", scale=3,
                                               elem_id="qa-uploaded", info="Only uploads can be "
                                               "removed; the corpus folder is never changed.")
                        remove_btn = gr.Button("Remove", variant="stop", scale=1, elem_id="qa-remove")

        outputs = [chat, question, source, more, cite, notice]
        inputs = [question, chat, transcript, speaker, top_k]
        waiting: dict[str, Any] = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
        for trigger in (question.submit, send.click, *(b.click for b in example_buttons)):
            trigger(waiting_notice, None, notice, **waiting)
        # The ways of asking are off while an answer is pending, so that a second click or Enter
        # does not ask again; they are back on once it is in, whatever happened.
        controls = [question, send, *example_buttons]
        private: dict[str, Any] = {"api_visibility": "private", "queue": False}
        question.submit(_toggle(controls, False), None, controls, **private).then(
            respond, inputs, outputs, api_visibility="undocumented", api_name="respond", **asking).then(
            _toggle(controls, True), None, controls, **private)
        send.click(_toggle(controls, False), None, controls, **private).then(
            respond, inputs, outputs, api_visibility="private", **asking).then(
            _toggle(controls, True), None, controls, **private)
        for button in example_buttons:  # each asks the question it shows (examples_for sets it)
            button.click(_toggle(controls, False), button, controls, **private).then(
                respond, inputs, outputs, api_visibility="private", **asking).then(
                _toggle(controls, True), None, controls, **private)
        gr.on([transcript.change, speaker.change], examples_for, [transcript, speaker], example_buttons,
              api_visibility="private", show_progress="hidden", **asking)
        transcript.change(speakers_for, [transcript, speaker], speaker, api_visibility="private")
        clear_btn.click(clear, None, outputs, api_visibility="private", queue=False)
        upload.upload(add_transcript, upload, [upload_notice, status, transcript, speaker, upload],
                      api_name="upload", api_visibility="private", concurrency_limit=1,
                      concurrency_id=INDEX_POOL).then(list_uploads, None, uploaded, api_visibility="private")
        remove_btn.click(remove_upload, [uploaded, transcript],
                         [upload_notice, status, transcript, speaker, uploaded], api_visibility="private",
                         concurrency_limit=1, concurrency_id=INDEX_POOL)
        gr.api(add_transcript_api, api_name="add_transcript", concurrency_limit=1,
               concurrency_id=INDEX_POOL)
        gr.api(remove_transcript, api_name="remove_transcript", concurrency_limit=1,
               concurrency_id=INDEX_POOL)
        gr.api(ask, api_name="ask", **asking)
        widen.click(search_all, [question, chat, top_k], [*outputs, transcript, speaker],
                    api_visibility="private", **asking)
        # The status line says what is loading itself: gradio's bar would cover it with "0 passages".
        demo.load(loading_status, None, status, api_visibility="private", show_progress="hidden",
                  concurrency_limit=None)
        loaded = demo.load(startup, None, [status, transcript, speaker, question, pending, notice],
                           api_visibility="private", show_progress="hidden")
        loaded.then(list_uploads, None, uploaded, api_visibility="private")
        loaded.then(ask_pending, [pending, chat, transcript, speaker, top_k], outputs,
                    api_visibility="private", **asking)
        loaded.then(examples_for, [transcript, speaker], example_buttons, api_visibility="private",
                    show_progress="hidden", **asking)
        demo.load(None, None, None, js=links.JS)
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo


demo = build_demo()


def serve(app: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, share: bool = False,
          auth: tuple[str, str] | None = None, **kwargs: Any) -> Any:
    """Launch ``app`` with this app's look and limits, and start loading the bot at once.

    Args:
        app: the page (``demo`` or another ``build_demo()``).
        host: address to bind; the default is this machine only.
        port: TCP port.
        share: also serve through a public gradio.live link.
        auth: (user name, password) that every page and API call must log in with, or None.
        **kwargs: passed on to ``gr.Blocks.launch``.
    """
    settings = HOLDER.settings or Settings.from_env()
    for warning in exposure_warnings(host, share, auth):
        log.warning(warning)
    HOLDER.start()
    # gradio's own lines say "set `share=True` in `launch()`": quiet, and ours names --share instead
    block = not kwargs.pop("prevent_thread_lock", False)
    kwargs.setdefault("quiet", True)
    launched = app.launch(server_name=host, server_port=port, share=share, auth=auth,
                          css=ui.CSS + first_run.CSS + links.CSS, theme=gr.themes.Soft(),
                          max_file_size=settings.max_file_bytes, prevent_thread_lock=True,
                          app_kwargs={"lifespan": media_lifespan(_media_of)}, **kwargs)
    print(first_run.serving_line(app.local_url or f"http://{host}:{port}/", app.share_url), flush=True)
    if block:
        app.block_thread()
    return launched


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("QA_BOT_HOST", DEFAULT_HOST),
                        help="address to serve on (env QA_BOT_HOST; default 127.0.0.1)")
    # a string default goes through type=int too: a bad QA_BOT_PORT is reported like a bad --port
    parser.add_argument("--port", type=int, default=os.environ.get("QA_BOT_PORT", str(DEFAULT_PORT)),
                        help="port to serve on (env QA_BOT_PORT; default 7860)")
    parser.add_argument("--corpus", type=Path, default=HOLDER.corpus,
                        help="folder of transcripts (default: corpus/)")
    parser.add_argument("--index", type=Path, default=HOLDER.index_dir, dest="index_dir",
                        help="where the corpus's index is saved (default corpus: embeddings/)")
    parser.add_argument("--uploads", type=Path, default=None,
                        help="where added transcripts are kept (env QA_BOT_UPLOADS; default: INDEX/uploads)")
    parser.add_argument("--model", default=None, help="'bundled', 'package:NAME' or a local folder")
    parser.add_argument("--share", action="store_true", help="also serve through a public share link")
    parser.add_argument("--concurrency", type=_positive,
                        default=os.environ.get("QA_BOT_CONCURRENCY", str(CONCURRENCY)),
                        help=f"questions answered at once (env QA_BOT_CONCURRENCY; default {CONCURRENCY})")
    return parser.parse_args(argv)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _fail(message: str) -> NoReturn:
    """A user error: one line on stderr and exit status 2, as argparse and the CLI do."""
    print(f"app.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("qa_bot").setLevel(logging.INFO)
    args = parse_args(argv)
    try:
        settings = Settings.from_env(model=args.model, uploads=str(args.uploads) if args.uploads else None)
        auth = auth_from_env()
    except QaBotError as exc:
        _fail(str(exc))
    if not args.corpus.is_dir():
        _fail(f"--corpus: {args.corpus} is not a folder")
    try:  # a bad uploads folder is an error now, not a page that cannot load
        from qa_bot.bot import default_index_dir
        from qa_bot.uploads import uploads_dir

        uploads_dir(settings, args.corpus, args.index_dir or default_index_dir(args.corpus))
    except QaBotError as exc:
        _fail(str(exc))
    configure(args.corpus, args.index_dir, settings)
    page = demo if args.concurrency == CONCURRENCY else build_demo(args.concurrency)
    serve(page, args.host, args.port, args.share, auth=auth)


if __name__ == "__main__":
    main()
