"""The evaluation harness: metrics against hand-computed values, and a whole run on a tiny set."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa_bot import cli
from qa_bot import evaluation as ev
from qa_bot.config import Settings
from qa_bot.errors import QaBotError

A_TXT = ("[ Scene : Central Perk . Everyone is drinking coffee . ]\n"
         "Monica Geller: The pancakes are burnt again .\n"
         "Joey Tribbiani: I love my new leather pants from Italy .\n"
         "Ross Geller: Dinosaurs are fascinating creatures .\n")
B_TXT = ("Chandler Bing: Could this meeting be any longer ?\n"
         "Rachel Green: The fashion show starts at noon tomorrow .\n")


def span(text: str, part: str) -> dict[str, object]:
    start = text.index(part)
    return {"text": part, "start": start, "end": start + len(part)}


def write_dataset(root: Path, extra: list[dict] | None = None) -> Path:
    (root / "transcripts").mkdir(parents=True)
    (root / "transcripts" / "a.txt").write_text(A_TXT, encoding="utf-8")
    (root / "transcripts" / "b.txt").write_text(B_TXT, encoding="utf-8")
    newline = B_TXT.index("\n")
    questions = [
        {"id": "q1", "question": "Where are Joey's leather pants from ?", "transcript": "a.txt",
         "answers": [span(A_TXT, "from Italy")]},
        # Gold is the speaker's name, outside every quote: credited through the answer's label.
        {"id": "q2", "question": "Who says the pancakes are burnt ?", "transcript": "a.txt",
         "answers": [span(A_TXT, "Monica Geller")]},
        # Gold is a line break, which no answer ever covers: a miss in every mode.
        {"id": "q3", "question": "When does the fashion show start ?", "transcript": "b.txt",
         "answers": [{"text": "", "start": newline, "end": newline + 1}]},
        *(extra or []),
    ]
    (root / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions),
                                          encoding="utf-8")
    return root


def test_overlap_is_half_open_character_ranges():
    assert ev.overlaps((0, 5), (4, 6))
    assert ev.overlaps((4, 6), (0, 5))
    assert ev.overlaps((0, 10), (3, 4))
    assert not ev.overlaps((0, 5), (5, 10))  # touching is not overlapping
    assert not ev.overlaps((5, 10), (0, 5))
    assert not ev.overlaps((3, 3), (0, 10))  # an empty range overlaps nothing


def test_first_hit_is_the_rank_of_the_first_overlapping_answer():
    answers = [[(0, 3)], [(10, 20), (5, 8)], [(6, 7)]]
    assert ev.first_hit(answers, [(6, 7)]) == 2
    assert ev.first_hit(answers, [(100, 200), (2, 4)]) == 1
    assert ev.first_hit(answers, [(3, 5)]) is None
    assert ev.first_hit([], [(0, 1)]) is None


def test_summary_recall_mrr_length_speed_by_hand():
    ranks = [1, 3, None, 2, 6]
    s = ev.summarize(ranks, [10, 50, 30, 20, 40], [False, False, True, True, False], seconds=2.5)
    assert s["R@1"] == pytest.approx(1 / 5)
    assert s["R@3"] == pytest.approx(3 / 5)
    assert s["R@5"] == pytest.approx(3 / 5)
    assert s["MRR"] == pytest.approx((1 + 1 / 3 + 1 / 2 + 1 / 6) / 5)
    assert s["chars"] == 30
    assert s["no_answer"] == pytest.approx(2 / 5)
    assert s["qps"] == pytest.approx(2.0)
    assert ev.summarize([12], [1], [False], 1.0)["MRR"] == 0  # MRR is cut at 10
    assert ev.recall_curve([1, 3, None, 2], top=4) == [0.25, 0.5, 0.75, 0.75]


def test_answer_spans_add_the_speaker_label_of_the_line():
    line = A_TXT.index("Monica")
    quote = A_TXT.index("The pancakes")
    answer = SimpleNamespace(start=quote, end=quote + 11, speaker="Monica Geller", context_start=quote)
    assert ev.answer_spans(answer, A_TXT) == [(quote, quote + 11), (line, quote)]
    narration = SimpleNamespace(start=0, end=10, speaker=None, context_start=0)
    assert ev.answer_spans(narration, A_TXT) == [(0, 10)]


def test_modes_change_only_the_weights_they_name():
    base = Settings()
    others = [s for s in ev.signals() if s not in ("lexical", "dense")]
    lexical = ev.mode_settings(base, "lexical")
    assert lexical.weight_dense == 0 and all(getattr(lexical, f"weight_{s}") == 0 for s in others)
    assert lexical.weight_lexical == base.weight_lexical
    no_dense = ev.mode_settings(base, "no-dense")
    assert no_dense.weight_dense == 0 and no_dense.weight_lexical == base.weight_lexical
    assert ev.mode_settings(base, "full") == base
    assert set(ev.MODES) >= {"lexical", "dense", "full", *(f"no-{s}" for s in ev.signals())}
    only_dense = ev.mode_settings(base, "only-dense")  # resolved by name
    assert only_dense == ev.mode_settings(base, "dense")
    with pytest.raises(QaBotError, match="unknown mode"):
        ev.mode_settings(base, "fancy")
    with pytest.raises(QaBotError, match="no signal"):
        ev.mode_settings(base, "no-telepathy")


def test_load_questions_limit_and_bad_records(tmp_path):
    data = write_dataset(tmp_path / "set")
    assert [q.id for q in ev.load_questions(data, limit=2)] == ["q1", "q2"]
    assert ev.load_questions(data)[0].gold == ((A_TXT.index("from Italy"), A_TXT.index(" .\nRoss")),)
    (data / "questions.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(QaBotError, match=r"questions\.jsonl:1"):
        ev.load_questions(data)
    with pytest.raises(QaBotError, match="not found"):
        ev.load_questions(tmp_path / "nowhere")


def test_run_measures_every_mode_and_writes_the_report(tmp_path, fake_embedder):
    data = write_dataset(tmp_path / "tiny", extra=[
        {"id": "q4", "question": "Anything ?", "transcript": "gone.txt", "answers": [span(B_TXT, "noon")]}])
    out = io.StringIO()
    results = cli.run_eval([data], tmp_path / "report" / "EVAL.md", list(ev.MODES), Settings(),
                           embedder=fake_embedder, stdout=out)
    (result,) = results
    assert result.transcripts == 2  # a.txt opens with "[": read as labelled all the same
    assert [m.mode for m in result.modes] == list(ev.MODES)
    lexical = result.modes[0].summary()
    # q1 and q2 at rank 1 (q2 through Monica's label), q3 and the orphan q4 missed.
    assert result.modes[0].ranks == [1, 1, None, None]
    assert (lexical["R@1"], lexical["R@5"], lexical["MRR"]) == (0.5, 0.5, 0.5)
    assert result.modes[0].quote_ranks[:2] == [1, None]  # q2 is right only through the label
    assert lexical["R@1 quote"] == 0.25
    assert all(m.ranks[2:] == [None, None] for m in result.modes)
    assert any("gone.txt" in note for note in result.notes)
    lines = [json.loads(x) for x in (data / ".qa_bot-eval" / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 3 * len(ev.MODES)  # the orphan question has no result line
    assert {line["mode"] for line in lines} == set(ev.MODES)
    md = (tmp_path / "report" / "EVAL.md").read_text()
    assert "| lexical | 0.500 | 0.250 | 0.500 | 0.500 | 0.500 |" in md
    assert "![recall@k](eval_recall.png)" in md
    assert (tmp_path / "report" / "eval_recall.png").read_bytes()[:4] == b"\x89PNG"
    assert "| full |" in out.getvalue()


def test_cli_eval_runs_on_a_dataset_folder(tmp_path, monkeypatch, fake_embedder):
    import qa_bot.bot
    from qa_bot import cli

    monkeypatch.setattr(qa_bot.bot, "SentenceTransformerEmbedder", lambda *a, **k: fake_embedder)
    data = write_dataset(tmp_path / "tiny")
    out = io.StringIO()
    code = cli.main(["eval", str(data), "--modes", "lexical,full", "--limit", "2",
                     "--out", str(tmp_path / "r")], stdout=out)
    assert code == 0
    assert "| lexical | 1.000 |" in out.getvalue()
    assert (tmp_path / "r" / "EVAL.md").exists() and (tmp_path / "r" / "eval_recall.png").exists()
    assert cli.main(["eval", str(data), "--modes", "nonsense"], stdout=out) == 2


def test_cli_eval_measures_through_the_store_it_is_given(tmp_path, monkeypatch):
    # --store reached every command but eval, which measured the embedded store whatever it said.
    from qa_bot import cli

    seen = []
    monkeypatch.setattr(cli, "run_eval",
                        lambda datasets, out, modes, settings, *a, **k: seen.append(settings))
    data = write_dataset(tmp_path / "tiny")
    lite = f"milvus-lite:{tmp_path / 'lite.db'}"
    assert cli.main(["eval", str(data), "--modes", "full", "--store", lite], stdout=io.StringIO()) == 0
    monkeypatch.setenv("QA_BOT_STORE", lite)
    assert cli.main(["eval", str(data), "--modes", "full"], stdout=io.StringIO()) == 0
    assert [s.store for s in seen] == [lite, lite]
