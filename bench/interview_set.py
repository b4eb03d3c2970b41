"""The interview-structure evaluation set: one interview in five layouts, the same questions.

    python bench/interview_set.py OUT_DIR      # make evalsets: bench/evalsets/interview

FriendsQA and QMSum have no interviewer whose questions stand beside the answers and read like
the user's question. This set asks whether the bot quotes the interviewee's answer, never the
question, whatever the layout: ``prose`` (corpus/viktor-ivanov-interview.txt and its sidecar),
``labelled`` (``Interviewer:`` lines), ``named`` (the host by name, no sidecar: finding the host is
the bot's job), ``srt`` (cues cut at sentences), ``json`` (timed turns). The files are built from
the source paragraphs, so every answer is verbatim; each OUT_DIR/<variant> has the layout of
../shared/tools/make_evalset.py, the gold spans being the answers of the turns that
tests/data/interview_questions.jsonl names (numbered as the bot's interview parser numbers turns).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "corpus" / "viktor-ivanov-interview.txt"
QUESTIONS = ROOT / "tests" / "data" / "interview_questions.jsonl"
HOST, GUEST = "Sarah Mitchell", "Viktor Ivanov"
CUE_CHARS = 200  # an answer's sentences are grouped into cues of about this many characters
Span = tuple[int, int]


@dataclass(frozen=True)
class Unit:
    """A paragraph's part, numbered as the interview parser numbers turns."""

    kind: str  # "title", "caption", "question" or "answer"
    text: str


@dataclass(frozen=True)
class Variant:
    name: str
    filename: str
    text: str
    spans: tuple[tuple[Span, ...], ...]  # per unit: where its words stand in ``text``
    sidecar: bytes | None = None


def sentences(text: str) -> list[Span]:
    """Sentence spans of a paragraph: a break after . ? ! where the next word opens in capitals."""
    ends = [m.end() for m in re.finditer(r"[.?!][\"'”’)\]]*(?=\s+[A-Z$“\"\[])", text)]
    starts = [0] + [len(text) - len(text[e:].lstrip()) for e in ends]
    return list(zip(starts, [*ends, len(text)], strict=True))


def question_end(paragraph: str) -> int | None:
    """Where the question opening a paragraph ends: through the first sentence ending in "?"
    (after at most two lead-in sentences) and the question sentences right after it."""
    end = None
    for n, (s, e) in enumerate(sentences(paragraph)):
        if paragraph[s:e].rstrip("\"'”’)] ").endswith("?"):
            end = e
        elif end is not None or n >= 2:
            break
    return end


def units(text: str) -> list[Unit]:
    """Title, caption, then each paragraph's question and answer."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    out = [Unit("title", paragraphs[0]), Unit("caption", paragraphs[1])]
    for paragraph in paragraphs[2:]:
        end = question_end(paragraph)
        if end is None:
            raise SystemExit(f"{SOURCE.name}: a paragraph opens with no question: {paragraph[:60]!r}")
        out += [Unit("question", paragraph[:end]), Unit("answer", paragraph[end:].strip())]
    return out


def cues(answer: str) -> list[str]:
    """An answer cut at sentence ends into pieces of about ``CUE_CHARS``, each a slice of it."""
    pieces, start, last = [], 0, 0
    for _, end in sentences(answer):
        if end - start > CUE_CHARS and last > start:
            pieces.append(answer[start:last].strip())
            start = last
        last = end
    return [*pieces, answer[start:].strip()]


def build_lines(name: str, parts: list[Unit], host: str) -> Variant:
    """``Name: words`` lines; the title and caption as lines with no label."""
    text, spans = "", []
    for unit in parts:
        who = {"question": host, "answer": GUEST}.get(unit.kind)
        text += f"{who}: " if who else ""
        spans.append(((len(text), len(text) + len(unit.text)),))
        text += unit.text + "\n"
    return Variant(name, "viktor-ivanov-interview.txt", text, tuple(spans))


def stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def timed(parts: list[Unit]) -> list[tuple[int, str, float, float]]:
    """(unit, words, start, end) of each cue: an answer in pieces, at about 15 characters a second."""
    out, clock = [], 1.0
    for i, unit in enumerate(parts):
        for words in cues(unit.text) if unit.kind == "answer" else [unit.text]:
            length = max(2.0, len(words) / 15)
            out.append((i, words, clock, clock + length))
            clock = round(clock + length + 0.4, 1)
    return out


def build_srt(parts: list[Unit]) -> Variant:
    text, spans = "", [[] for _ in parts]
    for n, (i, words, start, end) in enumerate(timed(parts), 1):
        who = {"question": HOST, "answer": GUEST}.get(parts[i].kind)
        text += f"{n}\n{stamp(start)} --> {stamp(end)}\n" + (f"{who}: " if who else "")
        spans[i].append((len(text), len(text) + len(words)))
        text += words + "\n\n"
    return Variant("srt", "viktor-ivanov-interview.srt", text, tuple(map(tuple, spans)))


def build_json(parts: list[Unit]) -> Variant:
    """``{"turns": [...]}``, a turn a line; the title and caption with no speaker and no times."""
    times: dict[int, tuple[float, float]] = {}
    for i, _, start, end in timed(parts):  # an answer runs from its first cue to its last
        times[i] = (times.get(i, (start, end))[0], end)
    text, spans = '{"turns": [', []
    for i, unit in enumerate(parts):
        who = {"question": HOST, "answer": GUEST}.get(unit.kind)
        literal = json.dumps(unit.text, ensure_ascii=False)  # the words as written in the file
        text += ("," if i else "") + "\n  {" + (f'"speaker": {json.dumps(who)}, ' if who else "") + '"text": '
        spans.append(((len(text) + 1, len(text) + len(literal) - 1),))
        text += literal + (f', "start": {times[i][0]:.1f}, "end": {times[i][1]:.1f}' if who else "") + "}"
    return Variant("json", "viktor-ivanov-interview.json", text + "\n]}\n", tuple(spans))


def build(source: Path = SOURCE) -> list[Variant]:
    """The five variants of the interview at ``source`` (its sidecar goes with the prose)."""
    text = source.read_bytes().decode("utf-8")  # as the bot reads it: no newline translation
    parts = units(text)
    sidecar = source.with_name(source.name + ".meta.json")
    at, prose = 0, []
    for unit in parts:  # the prose file is the source itself: find each part where it stands
        at = text.index(unit.text, at) + len(unit.text)
        prose.append(((at - len(unit.text), at),))
    return [Variant("prose", source.name, text, tuple(prose),
                    sidecar.read_bytes() if sidecar.exists() else None),
            build_lines("labelled", parts, "Interviewer"), build_lines("named", parts, HOST),
            build_srt(parts), build_json(parts)]


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The questions, each checked to name answers (or the caption) that hold its phrase."""
    parts = units(SOURCE.read_bytes().decode("utf-8"))
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for q in questions:
        turns, phrase = q["turns"], q["phrase"]
        if not all(0 <= t < len(parts) and parts[t].kind in ("answer", "caption") for t in turns) \
                or not any(phrase in parts[t].text for t in turns):
            raise SystemExit(f"{q['question']!r}: no answer among turns {turns} holds {phrase!r}")
    return questions


def records(variant: Variant, questions: list[dict]) -> list[dict]:
    """The questions in make_evalset.py's layout; the gold spans are the answers' words."""
    return [{"id": f"interview-{n:02d}", "question": q["question"], "transcript": variant.filename,
             "answers": [{"text": variant.text[s:e], "start": s, "end": e}
                         for t in q["turns"] for s, e in variant.spans[t]]}
            for n, q in enumerate(questions, 1)]


def write(out_dir: Path, variants: list[Variant], questions: list[dict]) -> None:
    for variant in variants:
        folder = out_dir / variant.name
        (folder / "transcripts").mkdir(parents=True, exist_ok=True)
        path = folder / "transcripts" / variant.filename
        path.write_bytes(variant.text.encode("utf-8"))
        if variant.sidecar is not None:
            path.with_name(path.name + ".meta.json").write_bytes(variant.sidecar)
        lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records(variant, questions)]
        (folder / "questions.jsonl").write_text("".join(lines), encoding="utf-8")
        print(f"{folder}: 1 transcript, {len(lines)} questions")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.exit(__doc__)
    write(Path(argv[0]), build(), load_questions())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
