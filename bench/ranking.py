"""Which turn-level signals lift retrieval: a listwise ranker, cross-validated by transcript
(``make ranking``; RANKING.md says how and what it found).

    python -m bench.ranking bench/evalsets/friendsqa bench/evalsets/qmsum
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from bench.common import ROOT, save
from qa_bot.chunking import QUOTABLE, embed_text
from qa_bot.config import Settings
from qa_bot.evaluation import load_questions, open_bot, overlaps
from qa_bot.retrieval import brevity

FOLDS = 5
L2 = 1e-2
# name -> features; "base" is the production fused score without the brevity penalty.
FEATURE_SETS: dict[str, list[str]] = {
    "base (the fused score without brevity)": ["base"],
    "base + brevity (shipped)": ["base", "brevity"],
    "base + log length": ["base", "loglen"],
    "base + narration": ["base", "narration"],
    "base + speaker named": ["base", "speaker_named"],
    "base + neighbours": ["base", "prev", "next"],
    "signals apart + brevity": ["dense", "question", "lexical", "context", "brevity"],
    "everything": ["base", "brevity", "loglen", "narration", "speaker_named", "prev", "next",
                   "dense", "lexical", "context"],
    # Not shipped: measured to see how far the model's own token vectors go (see LateInteraction).
    "late interaction": ["late"],
    "late interaction + brevity": ["late", "brevity"],
    "base + late interaction + brevity": ["base", "late", "brevity"],
}


@dataclass
class Candidates:
    """One question's candidate turns: a feature matrix by name, and which turns are right."""

    dataset: str
    transcript: str
    features: dict[str, np.ndarray]
    right: np.ndarray

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        return np.column_stack([self.features[n] for n in names])


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros_like(x)
    if k > 0:
        out[k:] = x[:-k]
    else:
        out[:k] = x[-k:]
    return out


def _named(question: str, speaker: str | None) -> float:
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+", question)}
    return float(bool(speaker) and any(p.casefold() in words
                                       for p in re.findall(r"[^\W\d_]+", speaker or "") if len(p) > 2))


class LateInteraction:
    """ColBERT's scoring over MiniLM's own token vectors, untrained: each question token's best
    cosine with the turn's tokens ("Speaker: words"), averaged with IDF weights from the corpus's
    turns. The strongest single signal measured here, but it needs every token's vector (tens of
    times the index) or the candidate turns re-encoded at each question (several times the latency
    target), so the product does not use it."""

    def __init__(self, bot) -> None:
        from sentence_transformers import SentenceTransformer

        from qa_bot.model_files import resolve_model

        self.model = SentenceTransformer(str(resolve_model(bot.settings.model)), device="cpu")
        keys = [(name, turn.index) for name, t in bot.transcripts.items() for turn in t.turns
                if turn.kind in QUOTABLE]
        texts = [embed_text(bot.transcripts[n].turns[i].speaker, bot.transcripts[n].turns[i].text)
                 for n, i in keys]
        self.turns = dict(zip(keys, self.tokens(texts), strict=True))
        df = Counter(i for ids, _ in self.turns.values() for i in set(ids.tolist()))
        self.df, self.n = df, len(keys)

    def tokens(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(wordpiece ids, unit token vectors) of each text, without [CLS] and [SEP]."""
        vectors = self.model.encode(texts, output_value="token_embeddings", batch_size=64,
                                    show_progress_bar=False)
        ids = self.model.tokenizer(texts, truncation=True,
                                   max_length=self.model.max_seq_length)["input_ids"]
        out = []
        for row, v in zip(ids, vectors, strict=True):
            v = v.float().numpy()
            assert len(row) == len(v), "token ids and vectors disagree"
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            out.append((np.asarray(row[1:-1]), v[1:-1]))
        return out

    def scores(self, question: str, keys: list[tuple[str, int]]) -> np.ndarray:
        ids, q = self.tokens([question])[0]
        idf = np.array([np.log(1 + self.n / (1 + self.df.get(i, 0))) for i in ids.tolist()])
        return np.array([float((q @ self.turns[k][1].T).max(1) @ idf / idf.sum()) for k in keys])


def candidates(bot, retriever, question: str, vector: np.ndarray, transcript: str,
               is_right, late: LateInteraction | None = None) -> Candidates | None:
    """Turn features of one question over every quotable turn of its transcript."""
    source = bot.transcripts.get(transcript)
    if source is None:
        return None
    turns = [t for t in source.turns if t.kind in QUOTABLE]
    at = {t.index: i for i, t in enumerate(turns)}
    best: dict[str, np.ndarray] = {k: np.full(len(turns), -1.0) for k in
                                   ("base", "dense", "question", "lexical", "context")}
    for hit in retriever.search(vector, question, 10**9, transcript=transcript, exhaustive=True):
        i = at[bot.index.chunks[hit.row].turn]
        values = {"base": hit.score, "dense": hit.dense, "lexical": hit.lexical,
                  "context": hit.context, "question": hit.dense if hit.question is None else hit.question}
        for k, v in values.items():
            best[k][i] = max(best[k][i], v)
    chars = np.array([len(t.text) for t in turns], dtype=np.float64)
    loglen = np.log1p(chars)
    f = dict(best)
    f["brevity"] = brevity(chars)
    f["loglen"] = loglen - loglen.mean()
    f["narration"] = np.array([t.speaker is None for t in turns], dtype=np.float64)
    f["speaker_named"] = np.array([_named(question, t.speaker) for t in turns])
    f["prev"], f["next"] = _shift(best["base"], 1), _shift(best["base"], -1)
    if late is not None:
        f["late"] = late.scores(question, [(transcript, t.index) for t in turns])
    right = np.array([is_right(source, t) for t in turns], dtype=bool)
    return Candidates("", transcript, f, right)


def public_set(folder: Path, settings: Settings) -> list[Candidates]:
    bot, _ = open_bot(folder, settings)
    retriever = bot.retriever(settings)
    late = LateInteraction(bot)
    questions = load_questions(folder)
    vectors = bot.embedder.encode([" ".join(q.question.split()) for q in questions])
    out = []
    for q, v in zip(questions, vectors, strict=True):
        def is_right(source, turn, gold=q.gold):
            line_start = source.text.rfind("\n", 0, turn.start) + 1  # the speaker's label counts
            return any(overlaps((line_start, turn.end), g) for g in gold)
        c = candidates(bot, retriever, " ".join(q.question.split()), v, q.transcript, is_right,
                       late)
        if c is not None:
            c.dataset = folder.name
            out.append(c)
    return out


def interview_set(settings: Settings) -> list[Candidates]:
    from qa_bot.bot import QaBot

    bot = QaBot.open(ROOT / "corpus", None, settings, save=False)
    retriever = bot.retriever(settings)
    late = LateInteraction(bot)
    name = next(iter(bot.transcripts))
    rows = [json.loads(line) for line in
            (ROOT / "tests" / "data" / "interview_questions.jsonl").read_text("utf-8").splitlines()]
    vectors = bot.embedder.encode([r["question"] for r in rows])
    out = []
    for r, v in zip(rows, vectors, strict=True):
        c = candidates(bot, retriever, r["question"], v, name,
                       lambda source, turn, want=set(r["turns"]): turn.index in want, late)
        if c is not None:
            c.dataset = "interview"
            out.append(c)
    return out


def fit(xs: list[np.ndarray], ys: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Linear scores whose softmax over each question's turns puts most mass on right turns."""
    dim = xs[0].shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros(dim)
        for x, y, a in zip(xs, ys, weights, strict=True):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mass = float(p[y].sum())
            total -= a * np.log(mass + 1e-12)
            grad += a * (x.T @ (p - np.where(y, p / max(mass, 1e-12), 0.0)))
        norm = sum(weights)
        return total / norm + L2 * float(w @ w), grad / norm + 2 * L2 * w

    return minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B").x


def measure(cands: Sequence[Candidates], scores: Sequence[np.ndarray]) -> dict[str, float]:
    ranks = []
    for c, s in zip(cands, scores, strict=True):
        order = np.argsort(-s, kind="stable")
        hits = np.flatnonzero(c.right[order])
        ranks.append(int(hits[0]) + 1 if len(hits) else None)
    n = len(ranks) or 1
    return {"R@1": sum(r == 1 for r in ranks) / n, "R@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "MRR": sum(1 / r for r in ranks if r is not None and r <= 10) / n}


def study(public: list[Candidates], interview: list[Candidates], names: list[str]) -> dict:
    usable = [c for c in public if c.right.any()]
    size = {d: sum(c.dataset == d for c in usable) for d in {c.dataset for c in usable}}
    weight = [1.0 / size[c.dataset] for c in usable]
    scale = np.concatenate([c.matrix(names) for c in usable]).std(0) + 1e-9
    groups = sorted({(c.dataset, c.transcript) for c in usable})
    order = np.random.default_rng(0).permutation(len(groups))
    fold = {groups[j]: pos % FOLDS for pos, j in enumerate(order)}
    scores: dict[int, np.ndarray] = {}  # by id() of the candidates
    for k in range(FOLDS):
        train = [i for i, c in enumerate(usable) if fold[(c.dataset, c.transcript)] != k]
        w = fit([usable[i].matrix(names) / scale for i in train], [usable[i].right for i in train],
                [weight[i] for i in train])
        for c in usable:
            if fold[(c.dataset, c.transcript)] == k:
                scores[id(c)] = c.matrix(names) / scale @ w
    w_all = fit([c.matrix(names) / scale for c in usable], [c.right for c in usable], weight) / scale
    out: dict = {"weights": dict(zip(names, w_all.tolist(), strict=True))}
    for d in sorted({c.dataset for c in public}):
        mine = [c for c in public if c.dataset == d]
        # A question with no right turn in scope counts as a miss, as in `qa-bot eval`.
        out[d] = measure(mine, [scores.get(id(c), np.zeros(len(c.right))) for c in mine])
    if interview:
        out["interview"] = measure(interview, [c.matrix(names) @ w_all for c in interview])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, nargs="+")
    folders = parser.parse_args().dataset
    settings = replace(Settings.from_env(), weight_brevity=0.0)
    public = [c for folder in folders for c in public_set(folder, settings)]
    interview = interview_set(settings)
    datasets = [f.name for f in folders] + ["interview"]
    save("ranking", {"datasets": datasets,
                     "counts": {d: sum(c.dataset == d for c in public + interview) for d in datasets},
                     "results": {name: study(public, interview, features)
                                 for name, features in FEATURE_SETS.items()}})


if __name__ == "__main__":
    main()
