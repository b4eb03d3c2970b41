"""Prose: a magazine-style interview (paragraphs opening with the interviewer's question, then the
answer) or plain paragraphs with no speakers."""

from __future__ import annotations

from pathlib import Path

from .base import LINE_BREAK, Metadata, Turn, TurnKind
from .lines import block_spans, make_turn
from .sentences import sentence_spans
from .structure import is_question

# How many sentences may lead in to the interviewer's question ("As a KGB officer you took part in
# the war. Do you regret ...?"). Past that, a "?" is the answer's own, rhetorical one.
MAX_LEAD_IN = 2


def question_end(text: str, start: int, end: int) -> int | None:
    """End of the interviewer's question opening a paragraph: through the first sentence ending
    in "?" (after at most ``MAX_LEAD_IN`` others) and any question sentences right after it;
    None when the paragraph opens with no question."""
    q_end = None
    for n, (s, e) in enumerate(sentence_spans(text, start, end)):
        if is_question(text[s:e]):
            q_end = e
        elif q_end is not None or n >= MAX_LEAD_IN:
            break
    return q_end


def parse_interview(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Magazine-style interview: title, caption, then paragraphs of question then answer."""
    asker = meta.interviewer or "Interviewer"
    answerer = meta.interviewee or "Interviewee"
    turns: list[Turn] = []
    for n, (start, end) in enumerate(block_spans(text)):
        if turns and turns[-1].kind == TurnKind.QUESTION:
            # The question stood alone in its paragraph, so this paragraph answers it, even
            # when the answer opens with a question of its own ("Regret? No, never.").
            turns.append(make_turn(text, TurnKind.SPEECH, answerer, start, end))
            continue
        q_end = question_end(text, start, end)
        if q_end is None:
            if n == 0 and LINE_BREAK.search(text, start, end) is None:
                turns.append(make_turn(text, TurnKind.TITLE, None, start, end))
            elif any(t.kind == TurnKind.QUESTION for t in turns):
                turns.append(make_turn(text, TurnKind.SPEECH, answerer, start, end))  # answer goes on
            else:
                turns.append(make_turn(text, TurnKind.NARRATION, None, start, end))  # caption, preface
            continue
        turns.append(make_turn(text, TurnKind.QUESTION, asker, start, q_end))
        if text[q_end:end].strip():
            turns.append(make_turn(text, TurnKind.SPEECH, answerer, q_end, end))
    return turns


def parse_plain(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """Prose with no speakers: each paragraph is a turn of the one speaker named in metadata."""
    speaker = meta.interviewee
    kind = TurnKind.SPEECH if speaker else TurnKind.NARRATION
    return [make_turn(text, kind, speaker, s, e) for s, e in block_spans(text)]
