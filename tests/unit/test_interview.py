"""The default interview with the real model: paraphrased questions find the right answer
paragraph and the words that answer; off-topic questions are refused; every quote is verbatim.

The questions in tests/data/interview_questions.jsonl were written for this project in words
that differ from the interview's; each names the answer turn(s) and a phrase the quote should
hold (checked by hand against the text).
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import INTERVIEW, ROOT

pytestmark = pytest.mark.integration

QUESTIONS = [json.loads(line) for line in
             (ROOT / "tests" / "data" / "interview_questions.jsonl").read_text("utf-8").splitlines()]
OFF_TOPIC = [line.strip() for line in
             (ROOT / "tests" / "data" / "off_topic_questions.txt").read_text("utf-8").splitlines()
             if line.strip()]
# Questions whose answer sentence shares its meaning, not its words, with the question; the
# pipeline must get each of these right, not just enough of them on average.
MUST = [
    ("Does he feel sorry that the Soviet Union collapsed?", 7, ""),
    ("What did Putin say about the end of the USSR?", 7, "greatest tragedy"),
    ("How much money has Russia put into Kyrgyzstan?", 9, "$7 million"),
    ("How do the rival narcotics cartels in Kyrgyzstan deal with each other?", 5, "kill each other"),
    ("Has the American-led campaign cut opium output in Afghanistan?", 11, "results"),
    ("Which Kyrgyz leaders has he talked with?", 3, "Otunbayeva"),
]


def _turn_of(bot, answer) -> int:
    transcript = bot.transcripts[answer.transcript]
    return next(t.index for t in transcript.turns if t.start <= answer.start < t.end + 1)


def test_the_interview_parses_into_five_questions_and_five_answers(interview_bot):
    transcript = interview_bot.transcripts[INTERVIEW.name]
    kinds = [t.kind for t in transcript.turns]
    assert kinds.count("question") == 5 and kinds.count("speech") == 5
    assert {t.speaker for t in transcript.turns if t.kind == "speech"} == {"Viktor Ivanov"}


@pytest.mark.parametrize(("question", "turn", "phrase"), MUST)
def test_must_answer(interview_bot, question, turn, phrase):
    result = interview_bot.ask(question)
    top = result.top
    assert top is not None
    assert _turn_of(interview_bot, top) == turn, top.quote
    assert phrase in top.quote
    assert top.speaker == "Viktor Ivanov"
    assert top.in_reply_to == interview_bot.transcripts[INTERVIEW.name].turns[turn - 1].text
    assert len(top.quote) < len(top.context) or len(top.context) < 250  # a sentence or two


def test_paraphrased_questions_find_the_answer_paragraph(interview_bot):
    right_turn = right_words = 0
    misses = []
    for q in QUESTIONS:
        top = interview_bot.ask(q["question"]).top
        assert top is not None
        ok_turn = _turn_of(interview_bot, top) in q["turns"]
        right_turn += ok_turn
        right_words += ok_turn and q["phrase"] in top.quote
        if not ok_turn:
            misses.append((q["question"], top.quote[:80]))
    # Measured 23/30 and 22/30 with the bundled model; a regression below these fails.
    assert right_turn >= 22, misses
    assert right_words >= 20, misses


def test_most_paraphrased_questions_are_answered_not_refused(interview_bot):
    refused = [q["question"] for q in QUESTIONS if interview_bot.ask(q["question"]).no_answer]
    assert len(refused) <= len(QUESTIONS) // 5, refused


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_refused(interview_bot, question):
    result = interview_bot.ask(question)
    assert result.no_answer
    assert result.answers, "the closest passages are still listed for a person to judge"


def test_every_quote_of_a_run_stands_verbatim_at_its_offsets(interview_bot):
    on_disk = INTERVIEW.read_bytes().decode("utf-8")
    for q in [*(q["question"] for q in QUESTIONS), *OFF_TOPIC]:
        for answer in interview_bot.ask(q, top_k=5).answers:
            assert on_disk[answer.start:answer.end] == answer.quote
            assert answer.context[answer.start - answer.context_start:][: len(answer.quote)] \
                == answer.quote


# The no-answer threshold pinned with the bundled model and the trained ranker: two questions
# about the same metaphor whose best passages score just either side of the tuned value (0.2675
# and 0.2734 against 0.272). A threshold moved past either, or compared with another number than
# the score users see, fails here. Should the model or the ranker change, pick the pair again.
BELOW = "What image does he use to say the Americans attack the symptoms instead of the source?"
ABOVE = "What medical metaphor does he use for the drug problem?"


def test_the_tuned_no_answer_threshold_lies_between_two_real_questions(interview_bot):
    from qa_bot import ui
    from qa_bot.answers import assemble
    from qa_bot.config import Settings

    threshold = Settings().no_answer_threshold
    assert interview_bot.settings.no_answer_threshold == threshold
    below, above = interview_bot.ask(BELOW), interview_bot.ask(ABOVE)
    assert threshold - 0.01 < below.answers[0].score < threshold <= above.answers[0].score < threshold + 0.01
    assert below.no_answer and not above.no_answer
    # Decided on the first answer's score, the one number users see: in the JSON, ...
    for result in (below, above):
        assert result.to_dict()["answers"][0]["score"] == result.answers[0].score
        assert len(result.answers) == 3 and min(a.score for a in result.answers) < threshold
    # ... and at exactly that score a passage counts, a hair above it it does not.
    hits = interview_bot.retriever().search(interview_bot.embedder.encode([ABOVE])[0], ABOVE, 12)
    at = above.answers[0].score
    args = (ABOVE, hits, interview_bot.index, interview_bot.transcripts, 3)
    assert assemble(*args, threshold=at) == above
    assert assemble(*args, threshold=at + 0.0001).no_answer
    # The page says so with the same number More quotes lists first, and it reads as below.
    notice = ui.chat_reply(below, threshold=threshold)
    said = re.search(r"best match: relevance (\d\.\d+), below the (\d\.\d+) needed", notice)
    assert said, notice
    assert said.group(1) == f"{below.answers[0].score:.2f}" and float(said.group(1)) < float(said.group(2))
    assert f'<span class="qa-score">1 · relevance {said.group(1)}</span>' in ui.more_html(below)
