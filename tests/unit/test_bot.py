"""The Python API: qa_bot.load, QaBot.ask and its errors, and a cheap import. The errors say what
to do: an unknown speaker lists the known ones, as an unknown transcript does (the command line's
in test_cli.py, over HTTP in e2e/test_http_api.py), and a too-long question says how long it may
be. Bad questions and files of every kind are in test_bot_bad_input.py."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import CORPUS, INTERVIEW, ROOT, FakeEmbedder, write_corpus

import qa_bot
from qa_bot.answers import Result
from qa_bot.bot import INDEX_SUBDIR, QaBot
from qa_bot.errors import QaBotError, QuestionError


@pytest.fixture
def bot(corpus: Path, tmp_path: Path) -> QaBot:
    return qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder())


def test_load_then_ask(bot, tmp_path):
    assert isinstance(bot, qa_bot.QaBot)
    assert (tmp_path / "index" / "manifest.json").exists()
    result = bot.ask("What fruit does Alice love?", top_k=3, transcript=None)
    assert isinstance(result, Result)
    assert result.question == "What fruit does Alice love?"
    assert 1 <= len(result.answers) <= 3
    top = result.answers[0]
    assert top.quote == "I love mangoes. They are sweet and juicy."
    assert (top.speaker, top.in_reply_to) == ("Alice", "What is your favourite fruit?")
    assert result.to_dict()["answers"][0]["quote"] == top.quote


def test_top_k_bounds_the_number_of_answers(bot):
    assert len(bot.ask("river bread mangoes", top_k=1).answers) == 1
    assert len(bot.ask("river bread mangoes", top_k=2).answers) == 2
    # Three answer turns in the corpus: never more answers than that.
    assert len(bot.ask("river bread mangoes", top_k=10).answers) == 3


@pytest.mark.parametrize("name", ["beta.txt", "beta"])
def test_transcript_scope_by_file_name_or_stem(bot, name):
    result = bot.ask("What fruit does Alice love?", top_k=3, transcript=name)
    assert result.answers
    assert {a.transcript for a in result.answers} == {"beta.txt"}


def test_speaker_scope(bot):
    result = bot.ask("Why did you start the bakery?", speaker="alice")
    assert result.answers and {a.speaker for a in result.answers} == {"Alice"}


def test_unknown_transcript_is_a_question_error_naming_it_and_the_known_ones(bot):
    with pytest.raises(QuestionError) as caught:
        bot.ask("Where does Alice live?", transcript="gamma.txt")
    message = str(caught.value)
    assert "'gamma.txt'" in message
    assert "alpha.txt" in message and "beta.txt" in message


@pytest.mark.parametrize("top_k", [0, -1, 51])
def test_top_k_out_of_range_is_a_question_error(bot, top_k):
    with pytest.raises(QuestionError, match="top_k"):
        bot.ask("Where does Alice live?", top_k=top_k)


def test_question_errors_are_qa_bot_errors(bot):
    with pytest.raises(QaBotError):
        bot.ask("")


def test_default_index_lives_in_the_corpus_folder_and_is_reused(corpus):
    embedder = FakeEmbedder()
    first = qa_bot.load(corpus, embedder=embedder)
    assert first.index_dir == corpus / INDEX_SUBDIR
    assert (corpus / INDEX_SUBDIR / "manifest.json").exists()
    again = FakeEmbedder()
    second = qa_bot.load(corpus, embedder=again)
    assert again.calls == 0 and second.report.embedded == 0
    assert sorted(second.transcripts) == ["alpha.txt", "beta.txt"]  # the index is not a transcript


def test_ask_many_answers_in_order(bot):
    results = bot.ask_many([{"question": "mangoes"}, {"question": "rye bread", "top_k": 1},
                            {"question": "river", "transcript": "alpha"}])
    assert [r.question for r in results] == ["mangoes", "rye bread", "river"]
    assert len(results[1].answers) == 1
    assert {a.transcript for a in results[2].answers} == {"alpha.txt"}


def test_malformed_transcript_is_reported_and_the_others_load(corpus, tmp_path):
    (corpus / "broken.jsonl").write_text('{"speaker": "A", "text": "fine"}\n{not json\n')
    bot = qa_bot.load(corpus, tmp_path / "index", embedder=FakeEmbedder())
    assert sorted(bot.transcripts) == ["alpha.txt", "beta.txt"]
    assert len(bot.errors) == 1
    error = bot.errors[0]
    assert error.path.endswith("broken.jsonl") and error.line == 2
    assert "broken.jsonl:2" in str(error)


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


HEAVY = ("torch", "sentence_transformers", "faiss", "transformers")


@pytest.mark.e2e
def test_import_is_cheap():
    done = run_python(f"""
        import json, sys
        import qa_bot
        qa_bot.Settings, qa_bot.QaBot  # the lazy attributes too
        from qa_bot import cli
        cli._parser()
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


@pytest.mark.e2e
def test_the_heavy_modules_are_loaded_once_needed():
    """The control for test_import_is_cheap: loading a corpus does import faiss."""
    done = run_python(f"""
        import json, sys, tempfile
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        from helpers import FakeEmbedder
        import qa_bot
        qa_bot.load({str(CORPUS)!r}, tempfile.mkdtemp(), embedder=FakeEmbedder())
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    assert done.returncode == 0, done.stderr
    assert "faiss" in json.loads(done.stdout)


@pytest.mark.integration
def test_real_model_answers_the_readme_example(interview_bot):
    result = interview_bot.ask("Does Ivanov regret the fall of the USSR?", top_k=3)
    assert not result.no_answer
    top = result.answers[0]
    assert top.speaker == "Viktor Ivanov"
    assert top.in_reply_to is not None and "USSR fell apart" in top.in_reply_to
    with pytest.raises(QuestionError):
        interview_bot.ask("USSR", transcript="another-interview.txt")


# A second transcript on the same subject, so that a transcript scope has something to leave out.
MARKET = ("Interviewer: Do you miss the Soviet Union?\n"
          "Aigul Sadykova: No, I do not miss the USSR. Its fall gave Kyrgyzstan a voice of its own.\n"
          "Interviewer: And the old trade with Russia?\n"
          "Aigul Sadykova: The USSR bought our apricots; now the bazaar in Osh sells them to everyone.\n")


@pytest.mark.integration
def test_real_model_searches_only_the_transcript_in_scope(real_embedder, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"viktor-ivanov-interview.txt": INTERVIEW.read_text("utf-8"),
                                                "market.txt": MARKET})
    bot = qa_bot.load(corpus, tmp_path / "index", embedder=real_embedder)
    both = {"viktor-ivanov-interview.txt", "market.txt"}
    assert {a.transcript for a in bot.ask("USSR", top_k=5).answers} == both
    for name in both:
        for scope in (name, Path(name).stem):
            assert {a.transcript for a in bot.ask("USSR", top_k=5, transcript=scope).answers} == {name}


@pytest.mark.parametrize("kwargs, field", [
    ({"question": b"USSR?"}, "question"),
    ({"question": 42}, "question"),
    ({"question": ["river"]}, "question"),
    ({"top_k": "abc"}, "top_k"),
    ({"top_k": "3"}, "top_k"),
    ({"top_k": float("nan")}, "top_k"),
    ({"top_k": float("inf")}, "top_k"),
    ({"top_k": True}, "top_k"),
    ({"top_k": 3.7}, "top_k"),
    ({"top_k": [3]}, "top_k"),
    ({"transcript": ["alpha.txt"]}, "transcript"),
    ({"transcript": 5}, "transcript"),
    ({"speaker": 5}, "speaker"),
    ({"speaker": ["Alice"]}, "speaker"),
])
def test_every_wrong_type_is_one_question_error_naming_its_field(bot, kwargs, field):
    args = {"question": "Where does Alice live?", **kwargs}
    with pytest.raises(QuestionError) as caught:
        bot.ask(**args)
    assert str(caught.value).startswith(f"{field}: ")


def test_a_whole_float_top_k_counts_as_its_number(bot):
    assert len(bot.ask("river bread mangoes", top_k=2.0).answers) == 2


# --- errors that say what to do: the known speakers, the longest question -------------------


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
