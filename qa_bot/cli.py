"""``qa-bot`` / ``python -m qa_bot``: a thin command line over the library.

User errors print one line on stderr and exit 2; nothing here imports the model until a command
needs it, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .config import DEFAULT_CORPUS
from .errors import QaBotError
from .parsers.base import load_json
from .terminal import progress_bar, terminal_safe

log = logging.getLogger("qa_bot")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="folder of transcripts (default: corpus/)")
    common.add_argument("--index", type=Path, default=None, dest="index_dir",
                        help="where the corpus's index is saved (default corpus: embeddings/)")
    common.add_argument("--uploads", type=Path, default=None,
                        help="folder of transcripts added through the app, searched too "
                             "(env QA_BOT_UPLOADS; default: INDEX/uploads)")
    common.add_argument("--store", default=None,
                        help="where chunks and vectors are searched: faiss (default), "
                             "milvus-lite:PATH or milvus://HOST:PORT (env QA_BOT_STORE)")
    common.add_argument("--model", default=None, help="'bundled', 'package:NAME' or a local folder")
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser = argparse.ArgumentParser(prog="qa-bot", description=(
        "Ask a transcript a question; get back the speaker's exact words, who said them, "
        "in reply to which question, and where."))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("index", parents=[common], help="build or update the saved index")
    ask = sub.add_parser("ask", parents=[common], help="answer a question (or --jsonl from stdin)")
    ask.add_argument("question", nargs="*", help="the question, in plain language")
    ask.add_argument("--top-k", type=int, default=None, help="answers to show (default 3)")
    ask.add_argument("--transcript", default=None, help="only search this transcript")
    ask.add_argument("--speaker", default=None, help="only search this speaker's words")
    ask.add_argument("--json", action="store_true", help="print the result as JSON")
    ask.add_argument("--jsonl", action="store_true",
                     help='batch: read {"question", "transcript"?, "top_k"?} lines from stdin, '
                          "write one result a line")
    mig = sub.add_parser("migrate", parents=[common],
                         help="copy a saved index into a store, re-embedding nothing")
    mig.add_argument("--from", dest="source", type=Path, required=True, help="the index folder")
    mig.add_argument("--to", dest="target", required=True, help="milvus-lite:PATH or milvus://HOST:PORT")
    ev = sub.add_parser("eval", parents=[common], help="measure retrieval on an evaluation set")
    ev.add_argument("dataset", type=Path, nargs="+",
                    help="folder(s) with transcripts/ and questions.jsonl; one report for all")
    ev.add_argument("--out", type=Path, default=None, help="where to write the report")
    ev.add_argument("--modes", default=None, help="comma-separated retrieval modes to compare")
    ev.add_argument("--limit", type=int, default=None, help="only the first N questions")
    return parser


def _open(args: argparse.Namespace) -> Any:
    from .bot import QaBot
    from .config import Settings

    uploads = getattr(args, "uploads", None)
    settings = Settings.from_env(model=args.model, uploads=str(uploads) if uploads else None,
                                 store=args.store)
    # A skipped file is shown once, as the "warning: skipped FILE:LINE: ..." line below, not
    # also as a log record (unless --verbose asks for every log record).
    parse_log = logging.getLogger("qa_bot.parsers")
    level = parse_log.level
    if not args.verbose:
        parse_log.setLevel(logging.ERROR)
    try:
        bot = QaBot.open(args.corpus, args.index_dir, settings, progress=progress_bar())
    finally:
        parse_log.setLevel(level)
    for error in bot.errors:
        print(terminal_safe(f"warning: skipped {error}"), file=sys.stderr)
    return bot


def format_result(result: Any) -> str:
    """The human form: the quote, then who said it in reply to what, then where."""
    if not result.answers:
        return "No answer: nothing in the corpus matches this question."
    lines = []
    if result.no_answer:
        lines.append("No answer found in the transcripts. The closest passages, for a person to judge:")
    for n, a in enumerate(result.answers):
        if n == 1 and not result.no_answer:
            lines.append("More quotes:")
        who = a.speaker or "Narration"
        if a.role:
            who += f" ({a.role})"
        where = f"{a.transcript}, line {a.line}, chars {a.start}-{a.end}"
        if a.timestamp:
            where += f", at {a.timestamp}"
        lines.append(f"\n  “{a.quote}”\n  — {who}")
        if a.in_reply_to:
            lines.append(f"    in reply to: “{a.in_reply_to}”")
        lines.append(f"    {a.title} · {where} · relevance {a.score:.2f}")
    return "\n".join(lines)


def _request(request: Any) -> dict[str, Any]:
    """Check one ``--jsonl`` request's fields, so that a bad value is an error for its line only."""
    if not isinstance(request, dict) or "question" not in request:
        raise QaBotError("expected an object with a 'question' field")
    if not isinstance(request["question"], str):
        raise QaBotError("field 'question' must be a string")
    for key in ("transcript", "speaker"):
        if request.get(key) is not None and not isinstance(request[key], str):
            raise QaBotError(f"field {key!r} must be a string")
    top_k = request.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)):
        raise QaBotError("field 'top_k' must be a whole number")
    return request


def _ask(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    if args.jsonl:
        bot = _open(args)
        status = 0
        for number, line in enumerate(stdin, 1):
            if not line.strip():
                continue
            try:
                request = _request(load_json(line))
                result = bot.ask(request["question"], request.get("top_k", args.top_k),
                                 request.get("transcript", args.transcript),
                                 request.get("speaker", args.speaker))
                out: dict[str, Any] = result.to_dict()
            except (json.JSONDecodeError, QaBotError) as exc:
                status = 1
                out = {"error": f"stdin:{number}: {exc}", "line": number}
            stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            stdout.flush()
        return status
    question = " ".join(args.question)
    if not question.strip():
        raise QaBotError("ask: give a question, or --jsonl to read questions from stdin")
    bot = _open(args)
    result = bot.ask(question, args.top_k, args.transcript, args.speaker)
    if args.json:
        stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(terminal_safe(format_result(result)) + "\n")
    return 0


def _migrate(args: argparse.Namespace, stdout: TextIO) -> int:
    """Copy the index of ``--from`` into the store ``--to``; the corpus's transcripts, when they
    parse, give each chunk's turn in context for the lexical context signal."""
    from . import index as index_mod
    from .config import Settings
    from .parsers.corpus import load_corpus
    from .stores.milvus_store import MilvusStore
    from .stores.sync import mirror

    verify = Settings.from_env().verify_index.lower() == "full"
    saved = index_mod.load(args.source, full_check=verify)
    if saved is None:
        raise QaBotError(f"migrate: no usable index in {args.source}")
    transcripts = {t.name: t for t in load_corpus(args.corpus)[0]} if args.corpus.is_dir() else {}
    store = MilvusStore(args.target, saved.manifest.dimension)
    try:
        done = mirror(store, saved, transcripts)
    finally:
        store.close()
    stdout.write(terminal_safe(f"{len(saved.chunks)} chunks of {len(saved.manifest.transcripts)} "
                               f"transcripts in {args.target}: replaced {len(done['replaced'])}, "
                               f"deleted {len(done['deleted'])}") + "\n")
    return 0


def run_eval(datasets: Sequence[Path], out: Path | None, modes: Sequence[str], settings: Any,
             embedder: Any = None, index_dir: Path | None = None, limit: int | None = None,
             progress: Any = None, stdout: TextIO | None = None) -> list[Any]:
    """``qa-bot eval``: measure the datasets (``evaluation.run``), then write the report and the
    plot (``report.write``; ``out`` defaults to the first dataset's ``.qa_bot-eval/EVAL.md``)
    and print the tables and where everything went.

    Returns:
        The ``metrics.DatasetResult`` of each dataset.
    """
    from . import evaluation, report

    results = evaluation.run(datasets, modes, settings, embedder, index_dir, limit, progress)
    where = out if out is not None else datasets[0] / evaluation.WORKDIR / "EVAL.md"
    md_path, png_path = report.write(results, settings, where, evaluation.commit())
    if stdout is not None:
        stdout.write(report.tables(results) + "\n")
        for dataset in datasets:
            stdout.write(f"per-question results: {dataset / evaluation.WORKDIR / 'results.jsonl'}\n")
        stdout.write(f"report: {md_path}\nplot: {png_path}\n")
    return results


def _eval(args: argparse.Namespace, stdout: TextIO) -> int:
    """``args.dataset`` is one folder or a list of them."""
    from .config import Settings
    from .evaluation import MODES

    datasets = args.dataset if isinstance(args.dataset, list) else [args.dataset]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()] if args.modes else list(MODES)
    settings = Settings.from_env(model=getattr(args, "model", None), store=getattr(args, "store", None))
    run_eval([Path(d) for d in datasets], args.out, modes, settings, None,
             getattr(args, "index_dir", None), args.limit, progress_bar(), stdout)
    return 0


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None,
         stdout: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    try:
        if args.command == "index":
            bot = _open(args)
            r = bot.report
            stdout.write(terminal_safe(
                         f"{len(bot.transcripts)} transcripts, {len(bot.index.chunks)} chunks in "
                         f"{bot.index_dir}: embedded {r.embedded} texts; reused {len(r.reused)}, "
                         f"added {len(r.added)}, changed {len(r.changed)}, removed {len(r.removed)}"
                         + (f"; {len(bot.uploaded)} uploaded, in {bot.uploads}" if bot.uploaded else ""))
                         + "\n")
            return 1 if bot.errors else 0
        if args.command == "ask":
            return _ask(args, stdin, stdout)
        if args.command == "migrate":
            return _migrate(args, stdout)
        if args.command == "eval":
            return _eval(args, stdout)
    except QaBotError as exc:
        print(terminal_safe(f"qa-bot: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
