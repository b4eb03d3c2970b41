"""``qa-bot eval``: recall@k, MRR, quote length and speed of each retrieval mode on a QA set.

A dataset folder (what ``make_evalset.py`` writes) holds ``transcripts/<name>.txt``, one turn a
line as ``Speaker: words``, and ``questions.jsonl`` with ``{"id", "question", "transcript",
"answers": [{"text", "start", "end"}]}``, offsets into that transcript's text.

Each question is asked scoped to its own transcript. It is answered at rank k when one of the
top k returned answers overlaps a gold span (character ranges, end exclusive). An answer covers
its quote and, when it names a speaker, that speaker's label on the quote's line: the bot shows
who said every quote, so "who ..." questions whose gold span is a speaker's name count too.

The corpus is embedded once per dataset (the index is cached under ``<dataset>/.qa_bot-eval``
and re-used while unchanged), each question once, and every mode re-ranks the same vectors.

This module measures and returns the figures (``run``, ``evaluate``; the values and the metrics
are ``metrics.py``'s); ``report.py`` renders them, and ``cli.py``'s ``run_eval`` does one then
the other for ``qa-bot eval``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TextIO

from .config import Settings
from .errors import QaBotError
from .metrics import KS, TOP_K, DatasetResult, ModeResult, first_hit, overlaps, recall_curve, summarize

__all__ = ["KS", "MODES", "TOP_K", "WORKDIR", "DatasetResult", "ModeResult", "Question", "answer_spans",
           "commit", "corpus_view", "evaluate", "first_hit", "load_questions", "mode_settings",
           "open_bot", "overlaps", "recall_curve", "retriever_for", "run", "signals", "summarize"]


def signals() -> list[str]:
    """The retrieval signals: every ``weight_<signal>`` field of Settings."""
    return [f.name.removeprefix("weight_") for f in fields(Settings) if f.name.startswith("weight_")]


# Retrieval modes compared in one run: name -> change to the settings. "only" keeps one signal
# (every other ``weight_*`` of Settings set to 0), "without" switches one off, any other key
# overrides that Settings field. The "no-" modes follow the signals Settings has; names
# "only-<signal>" / "no-<signal>" also work unlisted.
MODES: dict[str, dict[str, Any]] = {
    **{name: {"only": name} for name in ("lexical", "dense") if name in signals()},
    "full": {},
    "fallback": {"ranker": "fallback"},  # the hand-set weights instead of the trained ranker
    **{f"no-{signal}": {"without": signal} for signal in signals()},
}
WORKDIR = ".qa_bot-eval"  # inside a dataset folder (git-ignored with it): index, results
LABELLED = '{"format": "labelled"}\n'  # the sidecar of a text transcript that has none


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    transcript: str
    gold: tuple[tuple[int, int], ...]


def mode_settings(base: Settings, mode: str) -> Settings:
    """``base`` changed as ``MODES[mode]`` says; QaBotError for an unknown mode or signal."""
    spec = dict(MODES.get(mode, {}))
    if mode not in MODES:
        kind, _, signal = mode.partition("-")
        if kind not in ("only", "no") or not signal:
            raise QaBotError(f"eval: unknown mode {mode!r} (known: {', '.join(MODES)}, "
                             "only-<signal>, no-<signal>)")
        spec = {"only" if kind == "only" else "without": signal}
    overrides: dict[str, Any] = {}
    known = signals()
    for key in ("only", "without"):
        if key in spec:
            signal = spec.pop(key)
            if signal not in known:
                raise QaBotError(f"eval: mode {mode!r}: no signal {signal!r} (known: {', '.join(known)})")
            if key == "without":
                overrides[f"weight_{signal}"] = 0.0
            else:
                overrides.update({f"weight_{s}": 0.0 for s in known if s != signal})
                overrides[f"weight_{signal}"] = getattr(base, f"weight_{signal}") or 1.0
    return replace(base, **overrides, **spec)


def load_questions(dataset: Path, limit: int | None = None) -> list[Question]:
    path = dataset / "questions.jsonl"
    if not path.is_file():
        raise QaBotError(f"eval: {path} not found (a dataset folder holds transcripts/ and "
                         "questions.jsonl)")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            gold = tuple((int(a["start"]), int(a["end"])) for a in r["answers"])
            questions.append(Question(str(r["id"]), str(r["question"]), str(r["transcript"]), gold))
        except (ValueError, KeyError, TypeError) as exc:
            raise QaBotError(f"eval: {path}:{number}: bad question record ({exc})") from None
        if limit is not None and len(questions) >= limit:
            break
    return questions


def corpus_view(dataset: Path) -> tuple[Path, list[str]]:
    """A folder of links to the dataset's transcripts, and the names whose format detection would
    differ from "labelled" (the layout's format) where the eval fixes it.

    A transcript with its own sidecar (``<name>.meta.json`` beside it) keeps it, linked: its
    format, interviewee and interviewer are part of the dataset. A text transcript without one
    gets a sidecar fixing the format to "labelled"; any other (.srt, .vtt, .json, .jsonl) is read
    as its extension says."""
    from .parsers.base import META_SUFFIX
    from .parsers.detect import EXTENSIONS, detect_format

    source = dataset / "transcripts"
    if not source.is_dir():
        raise QaBotError(f"eval: {source} not found")
    view = dataset / WORKDIR / "corpus"
    view.mkdir(parents=True, exist_ok=True)
    wanted, misread = set(), []
    for path in sorted(source.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(META_SUFFIX):
            continue
        link, meta = view / path.name, view / f"{path.name}{META_SUFFIX}"
        own = source / f"{path.name}{META_SUFFIX}"
        wanted.add(link.name)
        _link(link, path)
        if own.is_file():
            wanted.add(meta.name)
            _link(meta, own)
        elif EXTENSIONS.get(path.suffix.lower(), "") is None:  # .txt, .md: format from content
            wanted.add(meta.name)
            if meta.is_symlink() or not meta.is_file() or meta.read_text(encoding="utf-8") != LABELLED:
                meta.unlink(missing_ok=True)
                meta.write_text(LABELLED, encoding="utf-8")
            if detect_format(path.name, path.read_text(encoding="utf-8", errors="replace")) != "labelled":
                misread.append(path.name)
    for stale in view.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    return view, misread


def _link(link: Path, target: Path) -> None:
    # A hard link (a copy across file systems), not a symlink: the corpus loader does not follow
    # a symlink out of the corpus folder.
    if link.is_symlink() or not (link.exists() and os.path.samefile(link, target)):
        link.unlink(missing_ok=True)
        try:
            os.link(target, link)
        except OSError:
            shutil.copyfile(target, link)


def open_bot(dataset: Path, settings: Settings, embedder: Any = None,
             index_dir: Path | None = None, progress: Any = None) -> tuple[Any, list[str]]:
    """The bot over a dataset's transcripts, its index cached in ``index_dir``, and the
    transcripts whose format detection would not have found "labelled"."""
    from .bot import QaBot

    view, misread = corpus_view(dataset)
    # The dataset alone: never the app's uploads, whatever QA_BOT_UPLOADS says.
    settings = replace(settings, uploads="")
    bot = QaBot.open(view, index_dir or dataset / WORKDIR / "index", settings, embedder, progress)
    return bot, misread


def retriever_for(bot: Any, settings: Settings) -> Any:
    """A retriever over the bot's index wired as the bot wires its own, with other settings."""
    return bot.retriever(settings)


def answer_spans(answer: Any, text: str) -> list[tuple[int, int]]:
    """What an answer shows of the source: its quote, and its speaker's label on the quote's line."""
    spans = [(answer.start, answer.end)]
    if answer.speaker:
        line_start = text.rfind("\n", 0, answer.context_start) + 1
        if text[line_start:answer.context_start].strip():
            spans.append((line_start, answer.context_start))
    return spans


def evaluate(dataset: Path, modes: Sequence[str], settings: Settings, embedder: Any = None,
             index_dir: Path | None = None, limit: int | None = None, progress: Any = None,
             results: TextIO | None = None) -> DatasetResult:
    """Ask every question of ``dataset`` in every mode; per-question lines go to ``results``."""
    from .answers import assemble

    questions = load_questions(dataset, limit)
    bot, misread = open_bot(dataset, settings, embedder, index_dir, progress)
    notes = [f"skipped {e}" for e in bot.errors]
    if misread:
        notes.append(f"format detection would misread {len(misread)} transcripts as other than "
                     f"labelled (e.g. {misread[0]}); the eval reads them as labelled")
    texts = [" ".join(q.question.split()) for q in questions]
    started = time.perf_counter()
    vectors = bot.embedder.encode(texts) if texts else []
    embed_seconds = time.perf_counter() - started
    missing = sorted({q.transcript for q in questions} - set(bot.transcripts))
    if missing:
        notes.append(f"{len(missing)} transcripts missing or unparsable; their questions count "
                     f"as misses: {', '.join(missing[:5])}")
    out = []
    for mode in modes:
        mode_set = mode_settings(settings, mode)
        retriever = retriever_for(bot, mode_set)  # its BM25 indexes were built when the bot loaded
        result = ModeResult(mode, seconds=embed_seconds)
        for q, text, vector in zip(questions, texts, vectors, strict=True):
            if q.transcript not in bot.transcripts:
                result.ranks.append(None)
                result.quote_ranks.append(None)
                result.top_chars.append(0)
                result.no_answer.append(True)
                continue
            started = time.perf_counter()
            hits = retriever.search(vector, text, TOP_K * 4, transcript=q.transcript)
            res = assemble(text, hits, bot.index, bot.transcripts, TOP_K,
                           mode_set.no_answer_threshold, mode_set.whole_turn_chars)
            result.seconds += time.perf_counter() - started
            source = bot.transcripts[q.transcript].text
            spans = [answer_spans(a, source) for a in res.answers]
            rank = first_hit(spans, q.gold)
            result.ranks.append(rank)
            result.quote_ranks.append(first_hit([s[:1] for s in spans], q.gold))
            result.top_chars.append(len(res.answers[0].quote) if res.answers else 0)
            result.no_answer.append(res.no_answer)
            if results is not None:
                results.write(json.dumps({
                    "dataset": dataset.name, "mode": mode, "id": q.id, "transcript": q.transcript,
                    "question": q.question, "rank": rank, "no_answer": res.no_answer,
                    "score": res.answers[0].score if res.answers else None,
                    "top_quote": res.answers[0].quote if res.answers else None,
                    "answers": [[a.start, a.end] for a in res.answers],
                    "gold": [list(g) for g in q.gold]}, ensure_ascii=False) + "\n")
        out.append(result)
    return DatasetResult(dataset.name, len(questions), len(bot.transcripts), out, notes)


def run(datasets: Sequence[Path], modes: Sequence[str], settings: Settings, embedder: Any = None,
        index_dir: Path | None = None, limit: int | None = None, progress: Any = None
        ) -> list[DatasetResult]:
    """Evaluate each dataset in every mode; each one's per-question results go to
    ``<dataset>/.qa_bot-eval/results.jsonl``, beside the data they quote.

    Raises:
        QaBotError: an unknown mode, before anything is embedded.
    """
    for mode in modes:
        mode_settings(settings, mode)  # fail before any embedding
    results = []
    for dataset in datasets:
        cache = index_dir / dataset.name if index_dir and len(datasets) > 1 else index_dir
        (dataset / WORKDIR).mkdir(parents=True, exist_ok=True)
        with (dataset / WORKDIR / "results.jsonl").open("w", encoding="utf-8") as lines:
            results.append(evaluate(dataset, modes, settings, embedder, cache, limit, progress, lines))
    return results


def commit() -> str:
    """The commit measured, marked when the package differs from it."""
    here = Path(__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=5, cwd=here).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, timeout=5, cwd=here).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} (with uncommitted changes to qa_bot/)" if head and dirty else head or "unknown"
