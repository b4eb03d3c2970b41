"""Conversation structure (structure.link_replies, _hosts, _titled) seen through parsers.corpus.parse,
the bot's answers and Retriever.asks."""

from __future__ import annotations

import json

import pytest
from helpers import FakeEmbedder, write_corpus

import qa_bot
from qa_bot import index as index_mod
from qa_bot.config import Settings
from qa_bot.parsers.corpus import parse
from qa_bot.retrieval import Retriever

HOST, GUEST = "Anna Schmidt", "Jonas Weber"
# (question, answer in two parts): a subtitle file splits each answer over two cues.
EXCHANGES = [
    ("What is your best-selling bread?", ("The sourdough rye.", "People drive from the next town for it.")),
    ("When do you start baking?", ("At three in the morning,", "every day but Monday.")),
    ("Do you take holidays?", ("Two weeks in August,", "when the whole village is empty.")),
    ("Who taught you to bake?", ("My grandmother did.", "She never wrote a recipe down.")),
]
LINES = [(who, text) for q, answer in EXCHANGES for who, text in [(HOST, q), *((GUEST, a) for a in answer)]]
INTERVIEW = {
    "bakery.txt": "".join(f"{HOST}: {q}\n{GUEST}: {' '.join(a)}\n" for q, a in EXCHANGES),
    "bakery.srt": "".join(f"{n}\n00:00:{2 * n:02d},000 --> 00:00:{2 * n + 1:02d},500\n{who}: {text}\n\n"
                          for n, (who, text) in enumerate(LINES, 1)),
    "bakery.json": json.dumps([{"speaker": who, "text": text} for who, text in LINES], indent=1),
}


@pytest.mark.parametrize("name", INTERVIEW)
def test_a_named_host_asks_and_the_guest_replies(name):
    turns = parse(name, INTERVIEW[name].encode()).turns
    questions = [t for t in turns if t.kind == "question"]
    assert [(t.speaker, t.text) for t in questions] == [(HOST, q) for q, _ in EXCHANGES]
    answers = [t for t in turns if t.speaker == GUEST]
    assert answers and all(t.kind == "speech" for t in answers)
    for t in answers:
        # The question just before it, whether the answer is one line or two cues.
        asked = max(q.index for q in questions if q.index < t.index)
        assert t.reply_to == asked, t.text


# Five speakers with four lines each, each asking in one or two of them.
SCENE = """[Scene: Monica's apartment.]
Monica: Has anyone seen my keys?
Chandler: Not since breakfast.
Ross: I think Joey had them this morning.
Joey: Why would I have your keys?
Rachel: Because you borrowed my hairdryer and never gave it back.
Joey: That was one time.
Monica: Can everyone just look around?
Chandler: I'm looking. This is me looking.
Ross: We should check the fridge.
Rachel: Who puts keys in a fridge?
Monica: I did once. It was a long day.
Joey: Found a sandwich. Is this anyone's?
Chandler: It was mine. Where did you find it?
Joey: Under the couch cushions.
Ross: Found them! They were in the fruit bowl.
Rachel: Could we go now? The movie starts at eight.
Monica: Thank you, Ross.
Ross: Anytime.
Chandler: I'll get the coats.
Rachel: I'll drive.
"""
# The same scene cut short: Joey asks in two of his three lines (2 of the others' 13 runs
# follow a question of his), which makes him the scene's host.
TWICE_IN_THREE = SCENE.split("Chandler: It was mine.")[0] + """Chandler: It was mine.
Ross: Found them! They were in the fruit bowl.
Rachel: Could we go now? The movie starts at eight.
Monica: Thank you, Ross.
"""


@pytest.mark.parametrize("scene", [
    SCENE,
    # Joey asks in 2 of his 3 lines, yet only 2 of the others' 13 runs follow his questions.
    TWICE_IN_THREE,
], ids=["everyone-asks", "twice-in-three"])
def test_nobody_hosts_a_scene_where_people_ask_now_and_then(scene):
    turns = parse("scene.txt", scene.encode()).turns
    assert len({t.speaker for t in turns if t.speaker}) == 5
    assert [t.text for t in turns if t.kind == "question"] == []


@pytest.mark.parametrize(("first", "kind"), [
    ("Bread Before Dawn", "title"),
    ("A Baker's Life, Part 2", "title"),
    ("[Scene: Monica's apartment.]", "narration"),
    ("We met the baker at dawn.", "narration"),
])
def test_a_short_unpunctuated_first_line_is_the_title(first, kind):
    transcript = parse("bakery.txt", f"{first}\n{INTERVIEW['bakery.txt']}".encode())
    assert transcript.turns[0].kind == kind and transcript.turns[0].text == first
    assert (transcript.title == first) == (kind == "title")
    assert sum(t.kind == "question" for t in transcript.turns) == len(EXCHANGES)  # still hosted


@pytest.fixture
def bakery_bot(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"bakery.txt": INTERVIEW["bakery.txt"]})
    return qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder())


@pytest.mark.parametrize("question", [q for q, _ in EXCHANGES] + [
    "Anna Schmidt", "What is your best-selling bread? When do you start?", "holidays in August"])
def test_the_hosts_question_is_never_the_top_answer(bakery_bot, question):
    result = bakery_bot.ask(question, top_k=5)
    assert result.answers[0].speaker == GUEST
    assert result.answers[0].in_reply_to in {q for q, _ in EXCHANGES}


def test_a_question_about_the_asking_may_return_the_hosts_question(bakery_bot):
    answers = bakery_bot.ask("What did Anna ask about holidays?", top_k=5).answers
    assert any(a.speaker == HOST and a.quote == "Do you take holidays?" for a in answers)


DIALOGUE = ("Ana: The river floods every spring.\n"  # 0: says
            "Ben: Why does it flood?\n"              # 1: asks, Ana answers
            "Ana: Snow melts in the hills.\n"        # 2: says
            "Ben: Does it ever reach the town?\n"    # 3: asks, but Ben goes on himself
            "Ben: It did in 1998, I think.\n"        # 4: says
            "Ana: And will it again?\n")             # 5: asks, nobody answers


def asks_by_turn(text: str, name: str = "d.txt") -> dict[int, float]:
    transcript = parse(name, text.encode())
    index, _ = index_mod.sync([transcript], None, FakeEmbedder(), Settings())
    retriever = Retriever(index, Settings(), {name: transcript})
    return {c.turn: float(a) for c, a in zip(index.chunks, retriever.asks, strict=True)}


def test_asks_marks_a_turn_that_asks_and_the_next_speaker_answers():
    assert asks_by_turn(DIALOGUE) == {0: 0.0, 1: 1.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}
    # In the interview the host's questions ask; the second cue of an answer replies to the
    # question too, which does not make the first cue of it ask.
    asks = asks_by_turn(INTERVIEW["bakery.srt"], "bakery.srt")
    assert [turn for turn, a in sorted(asks.items()) if a] == [0, 3, 6, 9]


def test_a_question_mark_inside_a_statement_is_not_asking():
    assert asks_by_turn("Ana: Snow melts. You know? It is fast.\nBen: I see.\n") == {0: 0.0, 1: 0.0}
