"""``qa-bot eval``'s report: the results ``evaluation.run`` measured, rendered as markdown tables,
the report and a recall@k plot (matplotlib, Agg backend). Nothing here measures or runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .metrics import TOP_K, DatasetResult, recall_curve

if TYPE_CHECKING:
    from .config import Settings

COLUMNS = [("R@1", "R@1", "{:.3f}"), ("R@1 quote only", "R@1 quote", "{:.3f}"),
           ("R@3", "R@3", "{:.3f}"), ("R@5", "R@5", "{:.3f}"),
           ("MRR@10", "MRR", "{:.3f}"), ("top quote chars (median)", "chars", "{:.0f}"),
           ("no_answer", "no_answer", "{:.3f}"), ("questions/s", "qps", "{:.1f}")]


def table(result: DatasetResult) -> str:
    """One dataset's markdown table: a row per mode."""
    lines = ["| mode | " + " | ".join(c[0] for c in COLUMNS) + " |",
             "| --- |" + " ---: |" * len(COLUMNS)]
    for mode in result.modes:
        s = mode.summary()
        lines.append(f"| {mode.mode} | " + " | ".join(fmt.format(s[key]) for _, key, fmt in COLUMNS)
                     + " |")
    return "\n".join(lines)


def tables(results: Sequence[DatasetResult]) -> str:
    parts = []
    for r in results:
        parts.append(f"### {r.name}: {r.questions} questions, {r.transcripts} transcripts\n")
        parts.append(table(r) + "\n")
        parts.extend(f"- note: {note}" for note in r.notes)
    return "\n".join(parts)


def _describe(spec: dict) -> str:
    parts = [f"only the {spec['only']} signal"] if "only" in spec else []
    parts += [f"the {spec['without']} signal off"] if "without" in spec else []
    parts += [f"{k}={v}" for k, v in spec.items() if k not in ("only", "without")]
    return ", ".join(parts) or "the default settings"


BASELINES = """\
- FriendsQA: reciprocal-rank fusion of BM25 and dense over "Speaker: utterance" lines 0.485 / 0.787;
  BM25 alone 0.447 / 0.765; dense alone 0.415 / 0.747.
- QMSum val: fusion of BM25 and dense over 5-turn windows 0.468 / 0.806 (long passages make a hit
  easier); BM25 alone 0.409 / 0.747; dense alone 0.430 / 0.789.
- The issue's targets: FriendsQA R@1 0.60, R@5 0.90; QMSum R@1 0.55, R@5 0.85; interview 26 of 28."""


def markdown(results: Sequence[DatasetResult], settings: Settings, plot_name: str, commit: str) -> str:
    """The whole report: how it was measured (at ``commit``, ``evaluation.commit``), a table per
    dataset, the plot."""
    from .evaluation import MODES, signals

    weights = ", ".join(f"{s}={getattr(settings, f'weight_{s}'):g}" for s in signals())
    modes = "\n".join(f"- `{name}`: {_describe(spec)}" for name, spec in MODES.items())
    return f"""# Retrieval evaluation

Made by `qa-bot eval` (`make eval-public`) at commit {commit}, model `{settings.model}`,
ranker `{settings.ranker or "trained (qa_bot/models/ranker.json)"}`, weight multipliers {weights},
no_answer_threshold={settings.no_answer_threshold:g}.

Each question is asked scoped to its own transcript. It counts as answered at rank k when one of
the top k answers overlaps a gold span (character ranges); an answer covers its quote and the
label of its speaker on that line, since the bot names who said every quote ("R@1 quote only"
credits the quote alone). MRR is cut at 10.
"top quote chars" is the median length of the first quote; "no_answer" the fraction flagged as
unanswered; questions/s counts embedding the question and retrieval, not building the index
(it depends on the machine's load: compare it within one run only).

Modes (each multiplies the trained ranker's weights; "off" sets a signal's multiplier to 0, so
the gap between `full` and `no-<signal>` is that signal's share; `fallback` is the hand-set
ranker instead of the trained one, so the gap to `full` is the training's share):

{modes}

Baselines measured by ../shared/data on the same public splits, with the same model (R@1 / R@5):
{BASELINES}

The interview sets (`prose`, `labelled`, `named`, `srt`, `json`) are the default interview in five
layouts (`bench/interview_set.py`): the same answers, the interviewer unnamed, labelled
`Interviewer:`, named as a person with no hint who interviews, SRT cues and JSON turns; the
questions are ours (tests/data/interview_questions.jsonl), the gold is the answer turn.

{tables(results)}
![recall@k]({plot_name})
"""


def plot(results: Sequence[DatasetResult], path: Path) -> None:
    """Recall@k for k = 1..10, one panel per dataset, one line per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, max(len(results), 1), figsize=(6 * max(len(results), 1), 4.5),
                             squeeze=False)
    ks = list(range(1, TOP_K + 1))
    for ax, result in zip(axes[0], results, strict=False):
        for mode in result.modes:
            style = "-" if mode.mode in ("full", "lexical", "dense") else "--"
            ax.plot(ks, recall_curve(mode.ranks), style, marker="o", markersize=3, label=mode.mode)
        ax.set_title(f"{result.name} ({result.questions} questions)")
        ax.set_xlabel("k (answers returned)")
        ax.set_ylabel("recall@k")
        ax.set_xticks(ks)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: Sequence[DatasetResult], settings: Settings, out: Path, commit: str
          ) -> tuple[Path, Path]:
    """Write the report and its recall@k plot.

    Args:
        out: the report's file, or a folder for ``EVAL.md`` in it; the plot goes beside it, as
            ``<report name>_recall.png``.
        commit: the commit measured (``evaluation.commit``).

    Returns:
        The report's path and the plot's.
    """
    md_path = out if out.suffix.lower() == ".md" else out / "EVAL.md"
    png_path = md_path.with_name(f"{md_path.stem.lower()}_recall.png")
    md_path.parent.mkdir(parents=True, exist_ok=True)
    plot(results, png_path)
    md_path.write_text(markdown(results, settings, png_path.name, commit), encoding="utf-8")
    return md_path, png_path
