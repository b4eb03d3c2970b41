"""Serving the page: its command line, its launch with this app's look and limits, its errors.

``app.py``'s ``main`` is these steps: ``environment`` (every ``QA_BOT_*`` variable, read once),
``parse_args`` (whose defaults they are), ``settings_of`` (a bad setting is one line on stderr
and exit status 2, as the CLI), ``serve``.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import gradio as gr

from . import links, ui
from . import page_state as state
from . import startup as first_run
from .access import exposure_warnings, login
from .config import CONCURRENCY, DEFAULT_HOST, DEFAULT_PORT, Settings
from .errors import QaBotError
from .media_route import media_lifespan

log = logging.getLogger("qa_bot.app")

# Questions answered at once: CONCURRENCY (config.py). At most QUEUE_SIZE events wait; past that
# a caller is told "queue is full" at once instead of waiting without end.
QUEUE_SIZE = 64
__all__ = ["CONCURRENCY", "DEFAULT_HOST", "DEFAULT_PORT", "QUEUE_SIZE", "check_port", "environment",
           "fail", "parse_args", "serve", "settings_of"]


def serve(app: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, share: bool = False,
          auth: tuple[str, str] | None = None, **kwargs: Any) -> Any:
    """Launch ``app`` with this app's look and limits, and start loading the bot at once.

    Args:
        app: the page (``app.demo`` or another ``app.build_demo()``).
        host: address to bind; the default is this machine only.
        port: TCP port.
        share: also serve through a public gradio.live link.
        auth: (user name, password) that every page and API call must log in with, or None.
        **kwargs: passed on to ``gr.Blocks.launch``.
    """
    holder = state.holder()
    settings = holder.settings or Settings.from_env()
    for warning in exposure_warnings(host, share, auth):
        log.warning(warning)
    holder.start()
    # gradio's own lines say "set `share=True` in `launch()`": quiet, and ours names --share instead
    block = not kwargs.pop("prevent_thread_lock", False)
    kwargs.setdefault("quiet", True)
    # gradio refuses a file past max_file_bytes before storing it (its own 413 message); a smaller
    # one past the upload cap (max_upload_mb) is refused by the bot, with words naming that setting.
    launched = app.launch(server_name=host, server_port=port, share=share, auth=auth,
                          css=ui.CSS + first_run.CSS + links.CSS, theme=gr.themes.Soft(),
                          max_file_size=settings.max_file_bytes, prevent_thread_lock=True,
                          app_kwargs={"lifespan": media_lifespan(state.media_of)}, **kwargs)
    print(first_run.serving_line(app.local_url or f"http://{host}:{port}/", app.share_url), flush=True)
    if block:
        app.block_thread()
    return launched


def environment() -> Settings:
    """Every ``QA_BOT_*`` variable, read once; ``fail`` on one that is not of its type. Whether
    the values make sense is checked with the flags (``settings_of``), which may override them."""
    try:
        return Settings.read_env()
    except QaBotError as exc:
        fail(str(exc))


def parse_args(argv: Sequence[str] | None = None, description: str = "",
               env: Settings | None = None) -> argparse.Namespace:
    """The app's flags; their defaults are ``env``'s (default: ``environment()``)."""
    env = env or environment()
    parser = argparse.ArgumentParser(prog="app.py", description=description)
    parser.add_argument("--host", default=env.host,
                        help="address to serve on (env QA_BOT_HOST; default 127.0.0.1)")
    # a string default goes through type=int too: a bad QA_BOT_PORT is reported like a bad --port
    parser.add_argument("--port", type=int, default=env.port,
                        help="port to serve on (env QA_BOT_PORT; default 7860)")
    parser.add_argument("--corpus", type=Path, default=Path(env.corpus),
                        help="folder of transcripts (env QA_BOT_CORPUS; default: corpus/)")
    parser.add_argument("--index", type=Path, default=Path(env.index) if env.index else None,
                        dest="index_dir",
                        help="where the corpus's index is saved (env QA_BOT_INDEX; default corpus: "
                             "embeddings/)")
    parser.add_argument("--uploads", type=Path, default=None,
                        help="where added transcripts are kept (env QA_BOT_UPLOADS; default: INDEX/uploads)")
    parser.add_argument("--model", default=None, help="'bundled', 'package:NAME' or a local folder")
    parser.add_argument("--store", default=None,
                        help="where chunks and vectors are searched: faiss (default), "
                             "milvus-lite:PATH or milvus://HOST:PORT (env QA_BOT_STORE)")
    parser.add_argument("--share", action="store_true", help="also serve through a public share link")
    parser.add_argument("--concurrency", type=_positive, default=env.concurrency,
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


def fail(message: str) -> NoReturn:
    """A user error: one line on stderr and exit status 2, as argparse and the CLI do."""
    print(f"app.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_port(host: str, port: int) -> None:
    """``fail`` at once when the port is taken, instead of gradio's traceback after the model loads."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:  # the address is not this machine's, the port is fine
            fail(f"--host: cannot serve on {host} ({exc.strerror}); "
                 "give an address of this machine with --host or QA_BOT_HOST")
        fail(f"--port: cannot serve on {host}:{port} ({exc.strerror or exc}); "
             "choose another with --port or QA_BOT_PORT")


def settings_of(args: argparse.Namespace, env: Settings | None = None
                ) -> tuple[Settings, tuple[str, str] | None]:
    """The settings and the login the flags and ``env`` (default: ``environment()``) ask for;
    ``fail`` when they make no sense, before anything is served (a bad uploads folder too, not a
    page that cannot load)."""
    from .bot import default_index_dir
    from .uploads import uploads_dir

    try:
        settings = (env or Settings.read_env()).override(
            model=args.model, uploads=str(args.uploads) if args.uploads else None, store=args.store)
        auth = login(settings)
    except QaBotError as exc:
        fail(str(exc))
    if not args.corpus.is_dir():
        fail(f"--corpus: {args.corpus} is not a folder")
    try:
        uploads_dir(settings, args.corpus, args.index_dir or default_index_dir(args.corpus))
    except QaBotError as exc:
        fail(str(exc))
    return settings, auth
