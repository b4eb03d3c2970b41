"""Tune ``no_answer_threshold`` on data (``make eval-threshold``; THRESHOLD.md says how): the
threshold on the top answer's relevance that maximises balanced accuracy between questions asked of
the transcript that answers them and out-of-domain ones; config.py is left alone.

    python -m bench.tune_threshold [--friendsqa DIR] [--qmsum DIR] [--cache DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BENCH, ROOT, questions, save

DATA = ROOT / "tests" / "data"
OFF_TOPIC = (BENCH / "off_topic_questions.txt").read_text(encoding="utf-8").splitlines()
Groups = dict[str, np.ndarray]


def collect(args: argparse.Namespace) -> tuple[Groups, Groups, Groups, Groups, dict[str, Any]]:
    """Relevance of the top answer per group: positives, negatives, report-only positives (the
    correct ones, the project's own questions) and report-only negatives (in-domain unanswerable)."""
    from qa_bot.answers import assemble
    from qa_bot.bot import QaBot
    from qa_bot.config import Settings
    from qa_bot.embedding import SentenceTransformerEmbedder
    from qa_bot.evaluation import TOP_K, answer_spans, first_hit, load_questions, open_bot, retriever_for

    settings = Settings.from_env()
    embedder = SentenceTransformerEmbedder(settings.model, settings.device, settings.batch_size)

    def relevance(bot: Any, retriever: Any, vector: np.ndarray, text: str, scope: str) -> tuple[float, Any]:
        hits = retriever.search(vector, text, TOP_K * 4, transcript=scope)
        result = assemble(text, hits, bot.index, bot.transcripts, TOP_K, settings.no_answer_threshold,
                          settings.whole_turn_chars)
        return (float(result.answers[0].score) if result.answers else 0.0), result

    sets = {name: (path, open_bot(path, settings, embedder)[0]) for name, path in
            (("friendsqa", args.friendsqa), ("qmsum", args.qmsum))}
    pos: Groups = {}
    neg: Groups = {}
    correct: Groups = {}
    hit_rate: dict[str, float] = {}
    for name, (path, bot) in sets.items():
        other_name = next(n for n in sets if n != name)
        other = sets[other_name][1]
        asked = [q for q in load_questions(path) if q.transcript in bot.transcripts]
        texts = [" ".join(q.question.split()) for q in asked]
        own, cross = retriever_for(bot, settings), retriever_for(other, settings)
        names = sorted(other.transcripts)
        p, n, hit = [], [], []
        for i, (q, text, vector) in enumerate(zip(asked, texts, embedder.encode(texts), strict=True)):
            score, result = relevance(bot, own, vector, text, q.transcript)
            p.append(score)
            source = bot.transcripts[q.transcript].text
            hit.append(first_hit([answer_spans(a, source) for a in result.answers[:1]], q.gold) == 1)
            n.append(relevance(other, cross, vector, text, names[i % len(names)])[0])
        pos[name], neg[f"{name} questions → {other_name}"] = np.array(p), np.array(n)
        hits = np.array(hit, dtype=bool)
        hit_rate[name], correct[f"{name}, top answer correct"] = float(hits.mean()), pos[name][hits]
    interview = QaBot.open(args.corpus, args.cache / "interview-index", settings, embedder)
    retriever, scope = retriever_for(interview, settings), sorted(interview.transcripts)[0]

    def ask_interview(texts: list[str]) -> np.ndarray:
        return np.array([relevance(interview, retriever, v, t, scope)[0]
                         for t, v in zip(texts, embedder.encode(texts), strict=True)])

    neg["off-topic → interview"] = ask_interview(OFF_TOPIC)
    correct["interview, tests/data questions (report only)"] = ask_interview(
        questions(DATA / "interview_questions.jsonl"))
    hard = {"in-domain unanswerable → interview (report only)": ask_interview(
        questions(DATA / "interview_unanswerable.jsonl"))}
    weights = ", ".join(f"{k}={v:g}" for k, v in vars(settings).items() if k.startswith("weight_"))
    return pos, neg, correct, hard, {"settings": settings, "hit_rate": hit_rate, "weights": weights}


def rates(groups: Groups, threshold: float, answered: bool) -> dict[str, float]:
    """Per group: the fraction answered (relevance >= threshold) or refused."""
    return {g: float(np.mean((s >= threshold) if answered else (s < threshold))) for g, s in groups.items()}


def balanced(pos: Groups, neg: Groups, t: float) -> float:
    answered = np.mean(list(rates(pos, t, True).values()))
    return float(answered + np.mean(list(rates(neg, t, False).values()))) / 2


def best_threshold(pos: Groups, neg: Groups) -> tuple[float, float, tuple[float, float]]:
    """The threshold (a midpoint between observed scores) with the highest balanced accuracy, that
    accuracy, and the range of thresholds within 0.005 of it (how flat the optimum is)."""
    scores = np.unique(np.concatenate([*pos.values(), *neg.values()]))
    candidates = np.concatenate([[scores[0] - 1e-3], (scores[1:] + scores[:-1]) / 2, [scores[-1] + 1e-3]])
    values = np.array([balanced(pos, neg, float(t)) for t in candidates])
    best = int(np.argmax(values))
    near = candidates[values >= values[best] - 0.005]
    return round(float(candidates[best]), 3), float(values[best]), (float(near.min()), float(near.max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    evalsets = BENCH / "evalsets"
    parser.add_argument("--friendsqa", type=Path, default=evalsets / "friendsqa")
    parser.add_argument("--qmsum", type=Path, default=evalsets / "qmsum")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--cache", type=Path, default=evalsets, help="where the interview's index goes")
    pos, neg, correct, hard, extra = collect(parser.parse_args())
    threshold, score, near = best_threshold(pos, neg)
    current = extra["settings"].no_answer_threshold

    def rows(t: float) -> list[list[Any]]:
        return [[label.format(g), len(groups[g]), what, r] for label, groups, what in (
            ("positive: {}", pos, "refused"), ("(positive: {})", correct, "refused"),
            ("negative: {}", neg, "answered"), ("(negative: {})", hard, "answered"))
            for g, r in rates(groups, t, what == "answered").items()]

    plotted = {f"positive: {g}": s for g, s in pos.items()} | {f"negative: {g}": s for g, s in neg.items()}
    save("threshold", {
        "threshold": threshold, "balanced": score, "near": near, "current": current,
        "current_balanced": balanced(pos, neg, current), "weights": extra["weights"],
        "pos_refused": float(np.mean(list(rates(pos, threshold, False).values()))),
        "neg_answered": float(np.mean(list(rates(neg, threshold, True).values()))),
        "correct": extra["hit_rate"], "threshold_rows": rows(threshold), "current_rows": rows(current),
        "scores": {k: np.round(s, 4).tolist() for k, s in (plotted | {f"(negative: {g})": s
                                                                     for g, s in hard.items()}).items()}})
    print(f"recommended no_answer_threshold = {threshold:.3f} (balanced accuracy {score:.3f})")


if __name__ == "__main__":
    main()
