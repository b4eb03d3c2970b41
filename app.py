"""The browser app: ask the transcripts a question, see the quote, who said it, and where.

``python app.py`` (or ``make run``) serves http://127.0.0.1:7860 over ``corpus/``; see ``--help``.
Importing this module is cheap: ``demo`` is built here, but the bot (and its model) loads on
first use, with a progress bar in the page, in a thread started at launch.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from qa_bot import media, player, ui
from qa_bot.access import auth_from_env, exposure_warnings
from qa_bot.bot_loader import BotHolder
from qa_bot.config import DEFAULT_CORPUS, Settings
from qa_bot.errors import QaBotError, QuestionError
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
    return media.transcript_media(bot.corpus, bot.transcripts, name)


def _progress(progress: Any) -> Callable[[int, int, str], None]:
    def report(done: int, total: int, desc: str) -> None:
        progress((done, total), desc=desc)
    return report


def _scope(value: str | None) -> str | None:
    return None if not value or value == ALL else value


def _speakers(bot: Any, transcript: str | None) -> Any:
    names = bot.speakers(_scope(transcript))
    return gr.Dropdown(choices=[("All speakers", ALL), *((s, s) for s in names)], value=ALL)


def _filters(bot: Any, transcript: str | None = None) -> tuple[Any, Any]:
    names = [(f"{t.title} ({name})", name) for name, t in sorted(bot.transcripts.items())]
    keep = transcript if transcript in bot.transcripts else ALL
    return gr.Dropdown(choices=[("All transcripts", ALL), *names], value=keep), _speakers(bot, keep)


def _status(bot: Any) -> str:
    return ui.status_html(bot.transcripts, len(bot.index.chunks), bot.errors, str(bot.corpus),
                          bot.report.warnings)


def startup(progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008 (gradio idiom)
    """On page load: wait for the bot (showing progress), then fill the filters and the status."""
    try:
        bot = HOLDER.get(progress)
    except Exception as exc:
        message = f"Could not load the corpus {HOLDER.corpus}: {exc}"
        return ui.notice_html(message), gr.skip(), gr.skip()
    return (_status(bot), *_filters(bot))


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
        result = bot.ask(message, _top_k(top_k), transcript, speaker)
    except QaBotError as exc:
        return history, message, gr.skip(), gr.skip(), gr.skip(), ui.notice_html(str(exc))
    except Exception:  # a bug: logged with its traceback; the page says so and stays usable
        log.exception("could not answer %r", message[:200])
        return (history, message, gr.skip(), gr.skip(), gr.skip(),
                ui.notice_html("Something went wrong answering that question; it is logged on the server."))
    reply = ui.chat_reply(result, transcript, speaker, bot.settings.no_answer_threshold)
    history += [{"role": "user", "content": ui.user_message(message)},
                {"role": "assistant", "content": reply}]
    recordings = media.recordings(bot.corpus, bot.transcripts, [a.transcript for a in result.answers])
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
        return dict(bot.ask(question, _top_k(top_k), _scope(transcript), _scope(speaker)).to_dict())
    except QaBotError as exc:
        raise gr.Error(str(exc)) from None


def _top_k(value: Any) -> int:
    """``top_k`` as a whole number (the slider sends 3.0); anything else is a QuestionError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise QuestionError(f"top_k: must be a whole number, got {str(value)[:40]!r}") from None
    if not number.is_integer():
        raise QuestionError(f"top_k: must be a whole number, got {value!r}")
    return int(number)


def add_transcript(path: str | None,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """Parse an uploaded transcript, index it and make it searchable; a bad file changes nothing.

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
        if Path(name).suffix.lower() not in UPLOAD_TYPES:
            raise QaBotError(f"{name}: not a transcript file (use {', '.join(UPLOAD_TYPES)})")
        data = Path(path).read_bytes()
        transcript = bot.add_transcript(name, data, progress=_progress(progress))
    except QaBotError as exc:
        return ui.notice_html(f"Could not add {name}; nothing was changed. {exc}"), *unchanged
    except OSError as exc:
        return ui.notice_html(f"Could not add {name}: {exc.strerror or exc}"), *unchanged
    except Exception:  # a bug: logged with its traceback; the page says so and stays usable
        log.exception("could not add %s", name)
        return (ui.notice_html(f"Could not add {name}: something went wrong; it is logged on the server."),
                *unchanged)
    speakers = ", ".join(bot.speakers(transcript.name)) or "no named speakers"
    done = (f"Added {transcript.name}: “{transcript.title}”, {len(transcript.turns)} turns ({speakers}). "
            "It is searchable now; the transcript filter is set to it.")
    return (ui.notice_html(done, "ok"), _status(bot), *_filters(bot, transcript.name), None)


def speakers_for(transcript: str | None) -> Any:
    try:
        return _speakers(_bot(), transcript)
    except QaBotError:
        return gr.skip()


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
        status = gr.HTML(ui.notice_html("Loading the model and the index…", "ok"), elem_id="qa-status",
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
            with gr.Column(scale=2):
                with gr.Tab("Source"):
                    source = gr.HTML(ui.source_html(None, {}), elem_id="qa-source", js_on_load=player.PLAY_JS)
                with gr.Tab("More quotes"):
                    more = gr.HTML(ui.more_html(None), elem_id="qa-more", js_on_load=player.PLAY_JS)
                cite = gr.Textbox(label="Citation", buttons=["copy"], interactive=False, lines=2,
                                  elem_id="qa-citation", placeholder="The answer's quote and attribution, "
                                  "on one line, to copy.")
                with gr.Accordion("Add a transcript", open=False, elem_id="qa-add"):
                    upload = gr.File(label="Transcript (.txt, .srt, .vtt, .json, .jsonl)",
                                     file_types=UPLOAD_TYPES, type="filepath", elem_id="qa-upload")
                    upload_notice = gr.HTML("", elem_id="qa-upload-notice")

        outputs = [chat, question, source, more, cite, notice]
        inputs = [question, chat, transcript, speaker, top_k]
        question.submit(respond, inputs, outputs, api_visibility="undocumented", api_name="respond",
                        **asking)
        send.click(respond, inputs, outputs, api_visibility="private", **asking)
        for button, text in zip(example_buttons, ui.EXAMPLES, strict=True):
            button.click(lambda t=text: t, None, question, api_visibility="private", queue=False).then(
                respond, inputs, outputs, api_visibility="private", **asking)
        transcript.change(speakers_for, transcript, speaker, api_visibility="private")
        clear_btn.click(clear, None, outputs, api_visibility="private", queue=False)
        upload.upload(add_transcript, upload, [upload_notice, status, transcript, speaker, upload],
                      api_name="add_transcript", concurrency_limit=1, concurrency_id=INDEX_POOL)
        gr.api(ask, api_name="ask", **asking)
        demo.load(startup, None, [status, transcript, speaker], api_visibility="private",
                  show_progress="full")
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
    return app.launch(server_name=host, server_port=port, share=share, css=ui.CSS, auth=auth,
                      theme=gr.themes.Soft(), max_file_size=settings.max_file_bytes,
                      app_kwargs={"lifespan": media_lifespan(_media_of)}, **kwargs)


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


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("qa_bot").setLevel(logging.INFO)
    args = parse_args(argv)
    try:
        settings = Settings.from_env(model=args.model)
        auth = auth_from_env()
    except QaBotError as exc:
        raise SystemExit(f"app.py: error: {exc}") from None
    if not args.corpus.is_dir():
        raise SystemExit(f"app.py: error: --corpus: {args.corpus} is not a folder")
    configure(args.corpus, args.index_dir, settings)
    page = demo if args.concurrency == CONCURRENCY else build_demo(args.concurrency)
    serve(page, args.host, args.port, args.share, auth=auth)


if __name__ == "__main__":
    main()
