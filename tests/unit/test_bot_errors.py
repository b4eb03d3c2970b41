"""Errors of ask that say what to do: an unknown speaker lists the known ones, as an unknown
transcript does (Python API and CLI here, over HTTP in test_http_api.py); a too-long question says
how long it may be."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from helpers import FakeEmbedder, write_corpus

import qa_bot
from qa_bot import bot as bot_mod
from qa_bot import cli
from qa_bot.errors import QuestionError


@pytest.fixture
def bot(corpus: Path, tmp_path: Path) -> qa_bot.QaBot:
    return qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder())


def test_unknown_speaker_is_a_question_error_naming_it_and_the_known_ones(bot):
    with pytest.raises(QuestionError) as caught:
        bot.ask("Where does Alice live?", speaker="Bob")
    message = str(caught.value)
    assert message.startswith("speaker: no speaker named 'Bob'")
    known = bot.speakers()
    assert "Alice" in known and all(name in message for name in known)


def test_unknown_speaker_in_a_transcript_lists_that_transcripts_speakers(bot):
    assert "Alice" not in bot.speakers("beta.txt")  # the Q/A talk
    with pytest.raises(QuestionError) as caught:
        bot.ask("Where does Alice live?", transcript="beta", speaker="Alice")
    message = str(caught.value)
    assert "'Alice'" in message and "beta.txt" in message
    assert "(known: " in message and "Alice," not in message and "Host" not in message


@pytest.mark.parametrize("spelled", ["Alice", "alice", "  ALICE "])
def test_a_known_speaker_in_any_case_is_searched(bot, spelled):
    result = bot.ask("Where do you live?", speaker=spelled)
    assert result.answers and {a.speaker for a in result.answers} == {"Alice"}


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_no_speaker_means_every_speaker(bot, empty):
    assert {a.speaker for a in bot.ask("river bread mangoes", top_k=3, speaker=empty).answers} \
        == {"Alice", "Interviewee"}


def test_a_long_list_of_speakers_is_cut_short(tmp_path):
    lines = "".join(f"Speaker{n:02d}: I am number {n}, and I like bread.\n" for n in range(60))
    corpus = write_corpus(tmp_path / "many", {"crowd.txt": "Host: Who are you?\n" + lines})
    many = qa_bot.load(corpus, tmp_path / "i", embedder=FakeEmbedder())
    with pytest.raises(QuestionError) as caught:
        many.ask("bread", speaker="Nobody")
    message = str(caught.value)
    assert "Speaker00" in message and "Speaker59" not in message and "more)" in message
    assert len(message) < 600


def test_cli_unknown_speaker_prints_one_line_and_exits_2(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bot_mod, "SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    common = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert cli.main(["index", *common], stdout=io.StringIO()) == 0
    capsys.readouterr()
    out = io.StringIO()
    code = cli.main(["ask", "--speaker", "Bob", "mangoes", *common], stdout=out)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and out.getvalue() == ""
    assert len(lines) == 1 and lines[0].startswith("qa-bot: error: speaker: no speaker named 'Bob'")
    assert "Alice" in lines[0]


# ------------------------------------------------------------------------ what the notices say
@pytest.mark.parametrize("limit", [2000, 120])
def test_a_too_long_question_says_what_to_do(corpus, tmp_path, limit):
    from qa_bot.config import Settings

    bot = qa_bot.load(corpus, tmp_path / "index", settings=Settings(max_question_chars=limit),
                      embedder=FakeEmbedder())
    with pytest.raises(QuestionError) as caught:
        bot.ask("why " * limit)
    assert str(caught.value) == (f"question: longer than {limit:,} characters; "
                                 f"shorten it to {limit:,} characters")
    assert bot.ask("why " * (limit // 4 - 2) + "mangoes").answers  # within the limit, it is asked
