"""The figures of ``qa-bot eval``, as values: ranks to recall@k, MRR, quote length and speed,
and the results of a run that ``evaluation.py`` measures and ``report.py`` renders.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

KS = (1, 3, 5)
TOP_K = 10  # answers kept per question: recall@k for k <= 10 and MRR@10


def overlaps(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether the character ranges [a0, a1) and [b0, b1) share a character."""
    return a[0] < b[1] and b[0] < a[1] and a[0] < a[1] and b[0] < b[1]


def first_hit(answers: Sequence[Sequence[Sequence[int]]], gold: Sequence[Sequence[int]]) -> int | None:
    """1-based rank of the first answer (a list of spans) overlapping a gold span, else None."""
    for rank, spans in enumerate(answers, 1):
        if any(overlaps(s, g) for s in spans for g in gold):
            return rank
    return None


def summarize(ranks: Sequence[int | None], top_chars: Sequence[int], no_answer: Sequence[bool],
              seconds: float, ks: Sequence[int] = KS, cutoff: int = TOP_K) -> dict[str, float]:
    """Recall@k for each k, MRR@cutoff, median top-quote length, no-answer rate, questions/s."""
    n = len(ranks)
    out: dict[str, float] = {}
    for k in ks:
        out[f"R@{k}"] = sum(r is not None and r <= k for r in ranks) / n if n else 0.0
    out["MRR"] = sum(1 / r for r in ranks if r is not None and r <= cutoff) / n if n else 0.0
    out["chars"] = float(statistics.median(top_chars)) if top_chars else 0.0
    out["no_answer"] = sum(no_answer) / n if n else 0.0
    out["qps"] = n / seconds if seconds > 0 else 0.0
    return out


def recall_curve(ranks: Sequence[int | None], top: int = TOP_K) -> list[float]:
    """Recall@k for k = 1 .. top."""
    n = len(ranks) or 1
    return [sum(r is not None and r <= k for r in ranks) / n for k in range(1, top + 1)]


@dataclass
class ModeResult:
    """One mode on one dataset: the rank of the first correct answer of each question, etc."""

    mode: str
    ranks: list[int | None] = field(default_factory=list)
    quote_ranks: list[int | None] = field(default_factory=list)  # the quotes alone, no labels
    top_chars: list[int] = field(default_factory=list)
    no_answer: list[bool] = field(default_factory=list)
    seconds: float = 0.0  # retrieval and assembly, plus this mode's share of embedding

    def summary(self) -> dict[str, float]:
        out = summarize(self.ranks, self.top_chars, self.no_answer, self.seconds)
        out["R@1 quote"] = summarize(self.quote_ranks, [], [], 0.0, ks=(1,))["R@1"]
        return out


@dataclass
class DatasetResult:
    name: str
    questions: int
    transcripts: int
    modes: list[ModeResult]
    notes: list[str] = field(default_factory=list)


__all__ = ["KS", "TOP_K", "DatasetResult", "ModeResult", "first_hit", "overlaps", "recall_curve", "summarize"]
