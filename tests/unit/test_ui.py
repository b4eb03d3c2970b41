"""The transcript map draws the turns that ask as questions from the turns' structure (what
replies to what), whatever the format: a `Name: text` interview without an "Interviewer:" label
shows its questions as the legend promises."""

from __future__ import annotations

import re

from helpers import NAMED

from qa_bot import ui
from qa_bot.answers import Answer, Result
from qa_bot.parsers.corpus import parse


def segments(html: str) -> list[str]:
    return re.findall(r'class="qa-seg qa-seg-(\w+)"', html)


def result_for(transcript, turn) -> Result:
    answer = Answer(quote=turn.text, transcript=transcript.name, title=transcript.title,
                    speaker=turn.speaker, in_reply_to=None, start=turn.start, end=turn.end,
                    line=turn.line, timestamp=None, score=0.5, context=turn.text,
                    context_start=turn.start)
    return Result("Why rye?", False, (answer,))


def test_a_turn_that_is_replied_to_is_drawn_as_a_question():
    t = parse("bakery-chat.txt", NAMED.encode())
    asked = {turn.reply_to for turn in t.turns if turn.reply_to is not None}
    assert asked, "the parser links the reply to its question"
    html = ui.map_html(result_for(t, t.turns[-1]), {t.name: t})
    kinds = segments(html)
    assert len(kinds) == len(t.turns)
    for turn, kind in zip(t.turns, kinds, strict=True):
        assert (kind == "question") == (turn.index in asked or turn.kind == "question"), (turn, kind)
    assert "qa-seg-question" in html.split("qa-legend", 1)[1]  # the legend keys what is drawn


def test_a_map_with_no_question_does_not_promise_one():
    t = parse("monologue.txt", b"Jonas Weber: We opened eleven years ago in the old shoe shop.\n")
    html = ui.map_html(result_for(t, t.turns[-1]), {t.name: t})
    assert "question" not in segments(html) and "questions" not in html
