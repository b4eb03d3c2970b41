"""Example questions from the transcript in scope: its interviewer's questions, else questions on
its most distinctive words; only those the bot answers are suggested."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BAKERY, FakeEmbedder, write_corpus

import qa_bot
from qa_bot import examples
from qa_bot.config import Settings

GARDEN = ("Mia: The garden needs water today.\n"
          "Leo: I watered the tomatoes yesterday, the tomatoes are fine, the tomatoes are red.\n"
          "Mia: The roses look dry though. The roses by the fence.\n"
          "Leo: Then I will fetch the hose from the garden shed.\n")
LONG_QUESTION = ("Q: You have spent thirty years on the river, through floods and droughts, and seen the "
                 "town change around you in ways few people would have predicted. What keeps you here?\n"
                 "A: The light on the water in the evening.\n")


@pytest.fixture
def bot(tmp_path: Path) -> qa_bot.QaBot:
    corpus = write_corpus(tmp_path / "corpus", {"bakery.txt": BAKERY, "garden.txt": GARDEN,
                                                "river.txt": LONG_QUESTION})
    return qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder())


def test_an_interviews_own_answered_questions_come_first(bot):
    bakery = bot.transcripts["bakery.txt"]
    assert examples.interviewer_questions(bakery) == ["What is your best-selling bread?",
                                                      "When do you start baking in the morning?",
                                                      "Who taught you to bake?"]
    assert examples.interviewer_questions(bakery, "Jonas Weber") == examples.interviewer_questions(bakery)
    assert examples.interviewer_questions(bakery, "Anna Schmidt") == []  # nobody asks her
    assert examples.candidates(bakery)[:3] == examples.interviewer_questions(bakery)


def test_a_long_question_turn_gives_its_asking_sentence(bot):
    assert examples.interviewer_questions(bot.transcripts["river.txt"]) == ["What keeps you here?"]


def test_without_an_interviewer_the_distinctive_words_make_the_questions(bot):
    garden = bot.transcripts["garden.txt"]
    assert examples.interviewer_questions(garden) == []
    terms = examples.distinctive_terms(garden)
    words = [w for w, _ in terms]
    # said three times in one turn, twice in one turn, then the rest
    assert terms[:2] == [("tomatoes", "Leo"), ("roses", "Mia")]
    assert words.index("garden") > words.index("roses")  # said in two turns: less distinctive
    assert not {"mia", "leo", "though", "then", "will"} & set(words)  # names and common words
    assert examples.term_questions(garden)[:2] == ["What does Leo say about tomatoes?",
                                                   "What does Mia say about roses?"]
    assert examples.term_questions(garden, "Mia")[0] == "What does Mia say about roses?"


@dataclass(frozen=True)
class Said:
    no_answer: bool


class PickyBot:
    """A bot over real transcripts that answers only questions with one of ``known`` words."""

    def __init__(self, real: qa_bot.QaBot, *known: str) -> None:
        self.transcripts, self.known, self.asked = real.transcripts, known, []
        self.resolve_transcript = real.resolve_transcript

    def ask(self, question, top_k, transcript, speaker):
        self.asked.append((question, transcript, speaker))
        return Said(not any(word in question for word in self.known))


def test_only_questions_that_answer_are_suggested_in_the_scope_asked(bot):
    picky = PickyBot(bot, "bake", "bread", "grandmother")
    found = examples.suggest(picky, "bakery", "Jonas Weber")
    assert found == ("What is your best-selling bread?", "Who taught you to bake?",
                     "What does Jonas Weber say about grandmother?")
    assert {(t, s) for _, t, s in picky.asked} == {("bakery.txt", "Jonas Weber")}


def test_with_no_filter_curated_questions_come_first_then_every_transcripts(bot):
    picky = PickyBot(bot, "Ivanov", "bread", "tomatoes", "keeps")
    found = examples.suggest(picky, None, None, 4, ["Does Ivanov regret it?", "Why Kyrgyzstan?"])
    assert found == ("Does Ivanov regret it?", "What is your best-selling bread?",
                     "What does Leo say about tomatoes?", "What keeps you here?")


def test_candidates_asked_are_bounded(bot):
    picky = PickyBot(bot)  # answers nothing
    assert examples.suggest(picky, None, None, 2) == ()
    assert len(picky.asked) == 2 * examples.TRIES


def test_suggestions_answer_with_the_real_pipeline(tmp_path):
    # The fake embedder's scores are low: a threshold between them keeps some candidates, not all.
    corpus = write_corpus(tmp_path / "corpus", {"bakery.txt": BAKERY, "garden.txt": GARDEN})
    settings = Settings(no_answer_threshold=0.2)
    bot = qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder(), settings=settings)
    for scope in ("bakery", "garden.txt", None):
        found = examples.suggest(bot, scope)
        pool = examples.candidates(bot.transcripts[bot.resolve_transcript(scope)]) if scope else []
        assert found and set(found) <= set(pool or found)
        for question in found:
            assert not bot.ask(question, 1, scope).no_answer


def test_a_distinctive_word_is_shown_as_it_is_written(tmp_path: Path) -> None:
    talk = ("Mia: We close on Saturdays. Saturdays are for the USSR exhibition.\n"
            "Leo: On Saturdays the USSR posters come down.\n"
            "Mia: The bread is good.\n")
    corpus = write_corpus(tmp_path / "corpus", {"shop.txt": talk})
    shop = qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder()).transcripts["shop.txt"]
    words = [w for w, _ in examples.distinctive_terms(shop)]
    assert "Saturdays" in words and "USSR" in words
    assert "saturdays" not in words and "ussr" not in words
