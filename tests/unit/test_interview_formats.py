"""The interview in five layouts with the real model: whatever the format, the top answer is
Ivanov's, never the interviewer's question, it stands verbatim in its file, and it is the same
answer in every format.

The layouts are those of the interview-structure evaluation set, built by the functions of
bench/interview_set.py (imported by path: bench/ is no package) from corpus/ alone: ``prose``
(the file and its sidecar), ``labelled`` (``Interviewer:`` lines), ``named`` (the host as
"Sarah Mitchell", no sidecar), ``srt`` and ``json``. The questions are every one of
tests/data/interview_questions.jsonl; their "turns" number the turns of the prose file.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from helpers import INTERVIEW, ROOT

from qa_bot.evaluation import overlaps
from qa_bot.parsers.corpus import load_file

pytestmark = pytest.mark.integration


def _interview_set() -> ModuleType:
    spec = importlib.util.spec_from_file_location("interview_set", ROOT / "bench" / "interview_set.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


iset = _interview_set()
QUESTIONS = iset.load_questions()
VARIANTS = {v.name: v for v in iset.build(INTERVIEW)}
HOSTS = {"Interviewer", iset.HOST}
# Share of the questions whose gold answer must be on top in each layout, and whose top answer
# must be the same paragraph's in all of them. Measured: 31 of 40 in every layout, 33 of 40 the
# same in all five. The guard sits just below; issue 10's target (26 of 28, 0.93) is not met yet.
HIT_SHARE, AGREE_SHARE = 0.75, 0.80


@dataclass(frozen=True)
class Top:
    """The top answer to one question in one layout."""

    question: str
    quote: str
    speaker: str | None
    verbatim: bool  # the file's text[start:end] == quote
    parts: frozenset[int]  # the interview's parts (prose turn numbers) the quote overlaps
    hit: bool  # overlaps the gold answer


def _transcript(folder: Path, variant) -> Path:
    return folder / variant.name / "transcripts" / variant.filename


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("interview-sets")
    iset.write(folder, list(VARIANTS.values()), QUESTIONS)
    return folder


@pytest.fixture(scope="module")
def tops(sets, real_embedder) -> dict[str, list[Top]]:
    """Every question asked of every layout, each layout a corpus of its own."""
    import qa_bot

    out = {}
    for name, variant in VARIANTS.items():
        bot = qa_bot.load(sets / name / "transcripts", sets / name / "index", embedder=real_embedder)
        assert not bot.errors and len(bot.transcripts) == 1
        text = _transcript(sets, variant).read_bytes().decode("utf-8")
        out[name] = []
        for q in QUESTIONS:
            top = bot.ask(q["question"]).top
            assert top is not None
            span = (top.start, top.end)
            parts = frozenset(i for i, spans in enumerate(variant.spans)
                              if any(overlaps(span, s) for s in spans))
            gold = [s for t in q["turns"] for s in variant.spans[t]]
            out[name].append(Top(q["question"], top.quote, top.speaker,
                                 text[top.start:top.end] == top.quote, parts,
                                 any(overlaps(span, g) for g in gold)))
    return out


def test_the_questions_name_the_prose_turns_that_hold_their_phrase():
    transcript = load_file(INTERVIEW, INTERVIEW.parent)
    parts = iset.units(INTERVIEW.read_text(encoding="utf-8"))
    assert [t.text for t in transcript.turns] == [p.text for p in parts]
    kinds = {"title": "title", "caption": "narration", "question": "question", "answer": "speech"}
    assert [t.kind for t in transcript.turns] == [kinds[p.kind] for p in parts]
    for q in QUESTIONS:
        assert all(transcript.turns[t].kind in ("speech", "narration") for t in q["turns"]), q
        assert any(q["phrase"] in transcript.turns[t].text for t in q["turns"]), q


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_layout_parses_with_the_answers_verbatim_as_turns(sets, name):
    variant = VARIANTS[name]
    path = _transcript(sets, variant)
    transcript = load_file(path, path.parent)
    assert transcript.format == {"prose": "interview", "named": "labelled"}.get(name, name)
    turns = {(t.start, t.end): t for t in transcript.turns}
    parts = iset.units(INTERVIEW.read_text(encoding="utf-8"))
    for part, spans in zip(parts, variant.spans, strict=True):
        words = [transcript.text[s:e] for s, e in spans]
        assert " ".join(words).split() == part.text.split(), (name, part.kind)
        for span in spans:
            assert span in turns, (name, part.text[:60])
            if part.kind == "answer":
                assert turns[span].speaker == iset.GUEST


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_top_answer_is_never_the_interviewers(tops, name):
    questions = {i for i, p in enumerate(iset.units(INTERVIEW.read_text(encoding="utf-8")))
                 if p.kind == "question"}
    wrong = [(t.question, t.speaker, t.quote[:60]) for t in tops[name]
             if t.speaker in HOSTS or t.parts & questions]
    assert not wrong, f"{name}: {len(wrong)} of {len(tops[name])} top answers are the host's: {wrong}"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_top_quote_stands_verbatim_in_its_file(tops, name):
    assert all(t.verbatim for t in tops[name]), [t.quote for t in tops[name] if not t.verbatim]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_gold_answer_is_on_top(tops, name):
    hits = sum(t.hit for t in tops[name])
    need = math.ceil(HIT_SHARE * len(QUESTIONS))
    misses = [(t.question, t.quote[:60]) for t in tops[name] if not t.hit]
    assert hits >= need, f"{name}: {hits}/{len(QUESTIONS)} on top, need {need}: {misses}"


def test_the_same_answer_is_on_top_in_every_layout(tops):
    rows = list(zip(*(tops[name] for name in VARIANTS), strict=True))
    agree = sum(len({t.parts for t in row}) == 1 and bool(row[0].parts) for row in rows)
    need = math.ceil(AGREE_SHARE * len(QUESTIONS))
    differ = [(row[0].question, {n: sorted(t.parts) for n, t in zip(VARIANTS, row, strict=True)})
              for row in rows if len({t.parts for t in row}) != 1]
    assert agree >= need, f"{agree}/{len(QUESTIONS)} agree, need {need}: {differ}"
