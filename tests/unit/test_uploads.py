"""Uploads live in a folder of their own (issue 11): never in the corpus folder, searched with it,
kept across restarts without re-embedding, seen by the command line as by the app.

All with FakeEmbedder; the removal of uploads is test_uploads_remove.py.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from helpers import ZEPPELINS, FakeEmbedder, open_bot, tree

from qa_bot import cli
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.errors import ConfigError, TranscriptError

ZEPPELIN_QUESTION = "How do zeppelins fly?"


def test_an_upload_goes_to_the_uploads_folder_under_the_index_and_the_corpus_is_untouched(corpus, tmp_path):
    bot = open_bot(corpus, tmp_path / "index")
    before = tree(corpus)
    added = bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    assert tree(corpus) == before  # git status of a checkout stays clean
    assert bot.uploads == tmp_path / "index" / "uploads"
    assert (bot.uploads / "zeppelins.txt").read_text("utf-8") == ZEPPELINS
    assert [p.name for p in bot.uploads.iterdir()] == ["zeppelins.txt"]  # no temporary file left
    assert added.name == "zeppelins.txt" and bot.uploaded == ("zeppelins.txt",)
    assert bot.source_path("zeppelins.txt") == bot.uploads / "zeppelins.txt"
    assert bot.source_path("alpha.txt") == corpus / "alpha.txt"
    top = bot.ask(ZEPPELIN_QUESTION).top
    assert top is not None and top.transcript == "zeppelins.txt"
    assert ZEPPELINS[top.start:top.end] == top.quote
    # the corpus is still searched too
    assert bot.ask("What fruit does Alice love?").top.transcript == "alpha.txt"
    assert set(bot.transcripts) == {"alpha.txt", "beta.txt", "zeppelins.txt"}


def test_the_uploads_setting_and_its_environment_variable_choose_the_folder(corpus, tmp_path):
    bot = open_bot(corpus, tmp_path / "index", uploads=str(tmp_path / "mine"))
    bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    assert (tmp_path / "mine" / "zeppelins.txt").exists()
    assert not (tmp_path / "index" / "uploads").exists()
    from_env = Settings.from_env({"QA_BOT_UPLOADS": str(tmp_path / "elsewhere")})
    assert from_env.uploads == str(tmp_path / "elsewhere")


@pytest.mark.parametrize("where", ["talks", "talks/uploads", "."])
def test_an_uploads_folder_that_is_or_holds_the_corpus_is_a_config_error(corpus, tmp_path, where):
    with pytest.raises(ConfigError, match=r"uploads \(QA_BOT_UPLOADS\): .*corpus folder"):
        open_bot(corpus, tmp_path / "index", uploads=str(tmp_path / where))


def test_an_uploads_setting_naming_a_file_is_a_config_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"uploads \(QA_BOT_UPLOADS\): .* is not a folder"):
        Settings.from_env({"QA_BOT_UPLOADS": str(tmp_path / "afile")})


def test_an_index_inside_the_corpus_keeps_uploads_hidden_from_the_corpus_loader(corpus):
    """Any corpus but the default keeps its index in ``<corpus>/.qa_bot-index``: uploads go under
    it, a hidden folder the corpus loader skips, so an upload is loaded once, as an upload."""
    bot = QaBot.open(corpus, None, Settings(), FakeEmbedder())
    assert bot.uploads == corpus / ".qa_bot-index" / "uploads"
    bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    again = QaBot.open(corpus, None, Settings(), FakeEmbedder())
    assert again.uploaded == ("zeppelins.txt",) and not again.errors
    assert sorted(again.transcripts) == ["alpha.txt", "beta.txt", "zeppelins.txt"]


@pytest.mark.parametrize(("name", "where"), [("alpha.txt", "in the corpus folder"),
                                              ("ALPHA.TXT", "in the corpus folder"),
                                              ("Alpha.md", "in the corpus folder"),
                                              ("zeppelins.txt", "uploaded"),
                                              ("Zeppelins.json", "uploaded")])
def test_a_name_taken_by_the_corpus_or_an_upload_is_refused_and_nothing_changes(corpus, tmp_path,
                                                                                name, where):
    bot = open_bot(corpus, tmp_path / "index")
    bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    before = tree(corpus), tree(tmp_path / "index"), sorted(bot.transcripts)
    data = (json.dumps([{"speaker": "Otto", "text": "Hello."}]) if name.endswith(".json")
            else ZEPPELINS.replace("Otto", "Hugo")).encode()
    with pytest.raises(TranscriptError, match=f"already in the corpus .*{where}") as caught:
        bot.add_transcript(name, data)
    if where == "uploaded":
        assert "remove it first" in str(caught.value)
    assert (tree(corpus), tree(tmp_path / "index"), sorted(bot.transcripts)) == before


def test_uploads_are_reloaded_on_restart_and_nothing_is_re_embedded(corpus, tmp_path):
    bot = open_bot(corpus, tmp_path / "index")
    bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    chunks = len(bot.index.chunks)
    embedder = FakeEmbedder()
    again = open_bot(corpus, tmp_path / "index", embedder)
    assert embedder.calls == 0 and again.report.embedded == 0 and not again.report.saved
    assert "zeppelins.txt" in again.report.reused and again.uploaded == ("zeppelins.txt",)
    assert len(again.index.chunks) == chunks
    assert again.ask(ZEPPELIN_QUESTION).top.transcript == "zeppelins.txt"


def test_a_corpus_file_that_later_takes_an_uploads_name_wins_and_the_upload_is_reported(corpus, tmp_path):
    bot = open_bot(corpus, tmp_path / "index")
    bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    (corpus / "zeppelins.txt").write_text("Host: Any airships?\nAlice: None at all.\n", "utf-8")
    again = open_bot(corpus, tmp_path / "index")
    assert again.uploaded == () and "zeppelins.txt" in again.transcripts
    assert again.source_path("zeppelins.txt") == corpus / "zeppelins.txt"
    assert [e.path for e in again.errors] == [str(again.uploads / "zeppelins.txt")]
    assert "the corpus folder has a transcript of that name" in str(again.errors[0])


def test_a_failed_write_leaves_no_file_and_changes_nothing(corpus, tmp_path, monkeypatch):
    bot = open_bot(corpus, tmp_path / "index")
    before = tree(corpus), sorted(bot.transcripts)

    def full_disk(self, data):
        Path.write_text(self, "partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(OSError):
        bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    monkeypatch.undo()
    assert (tree(corpus), sorted(bot.transcripts)) == before
    assert not any((tmp_path / "index" / "uploads").iterdir())
    assert "zeppelins.txt" not in open_bot(corpus, tmp_path / "index").transcripts


# --- the command line sees the uploads the app made ------------------------------------------


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(list(args), stdin=io.StringIO(""), stdout=out), out.getvalue()


def test_the_cli_indexes_and_searches_the_uploads(corpus, tmp_path, fake_model):
    index = tmp_path / "index"
    open_bot(corpus, index).add_transcript("zeppelins.txt", ZEPPELINS.encode())
    code, out = run("index", "--corpus", str(corpus), "--index", str(index))
    assert code == 0
    assert out.startswith("3 transcripts, ") and "embedded 0 texts" in out
    assert f"1 uploaded, in {index / 'uploads'}" in out
    code, out = run("ask", "--json", "--corpus", str(corpus), "--index", str(index), ZEPPELIN_QUESTION)
    assert code == 0 and json.loads(out)["answers"][0]["transcript"] == "zeppelins.txt"
    code, out = run("ask", "--json", "--corpus", str(corpus), "--index", str(index),
                    "--transcript", "zeppelins", "Who lifts them?")
    assert code == 0 and {a["transcript"] for a in json.loads(out)["answers"]} == {"zeppelins.txt"}


def test_the_cli_uploads_flag_and_variable_name_the_folder(corpus, tmp_path, fake_model, monkeypatch):
    mine = tmp_path / "mine"
    open_bot(corpus, tmp_path / "index", uploads=str(mine)).add_transcript("zeppelins.txt",
                                                                          ZEPPELINS.encode())
    code, out = run("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert code == 0 and out.startswith("2 transcripts, ")  # not the default folder's
    code, out = run("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                    "--uploads", str(mine))
    assert code == 0 and out.startswith("3 transcripts, ") and f"1 uploaded, in {mine}" in out
    monkeypatch.setenv("QA_BOT_UPLOADS", str(mine))
    code, out = run("ask", "--json", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                    ZEPPELIN_QUESTION)
    assert code == 0 and json.loads(out)["answers"][0]["transcript"] == "zeppelins.txt"


def test_the_cli_reports_an_uploads_folder_inside_the_corpus_as_one_line(corpus, tmp_path, fake_model,
                                                                        capsys):
    code, _ = run("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                  "--uploads", str(corpus / "up"))
    assert code == 2
    assert "qa-bot: error: uploads (QA_BOT_UPLOADS):" in capsys.readouterr().err


def test_the_app_refuses_an_uploads_folder_inside_the_corpus_at_start(corpus, capsys):
    import app

    with pytest.raises(SystemExit) as stop:
        app.main(["--corpus", str(corpus), "--uploads", str(corpus / "up")])
    assert stop.value.code == 2
    assert re.search(r"app\.py: error: uploads \(QA_BOT_UPLOADS\): .* inside the corpus folder",
                     capsys.readouterr().err)
