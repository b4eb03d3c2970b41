"""The HTTP API as a client sees it: ``/add_transcript`` answers JSON or a clear error, ``/ask``
names the known speakers for an unknown one, and ordinary input errors log one line, no traceback.

One app is launched for the module over a tiny corpus with the fake embedder (instant), so these
tests check the API's contract, not the model.
"""

from __future__ import annotations

import json
import logging

import pytest
from helpers import TALKS, FakeEmbedder, launched, write_corpus

from qa_bot import page_state

pytestmark = pytest.mark.e2e

CRANES = [{"speaker": "Interviewer", "text": "Where do the cranes spend the winter?", "start": 1.0},
          {"speaker": "Alice Moreau", "text": "The cranes winter in the marshes of southern Spain, "
           "near the lagoons.", "start": 4.5}]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A fresh page launched in this process over a copy of TALKS, in ``base/corpus``."""
    base = tmp_path_factory.mktemp("api")
    with launched(write_corpus(base / "corpus", TALKS), base / "index", embedder=FakeEmbedder()) as served:
        yield served


def _bot():
    return page_state.holder().get()


# ------------------------------------------------------------------------------ /add_transcript
def test_add_transcript_returns_json_and_the_transcript_is_searchable(client, served, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "cranes.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in CRANES), encoding="utf-8")
    got = client.predict(handle_file(path), api_name="/add_transcript")
    assert isinstance(got, dict) and set(got) == {"transcript", "turns", "speakers", "passages"}
    assert got["transcript"] == "cranes.jsonl" and got["turns"] == 2
    assert "Alice Moreau" in got["speakers"]
    passages = [c for c in _bot().index.chunks if c.transcript == "cranes.jsonl"]
    assert got["passages"] == len(passages) >= 1
    assert (served.bot.corpus.parent / "index" / "uploads" / "cranes.jsonl").read_bytes() == path.read_bytes()
    answer = client.predict("Where do cranes spend the winter?", 3, "cranes", "", api_name="/ask")
    assert "southern Spain" in answer["answers"][0]["quote"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("broken.json", '{"turns": [', "broken.json:1: invalid JSON"),
    ("notes.pdf", "Host: hello?\nAnn: hi.\n", "notes.pdf: not a transcript file"),
    ("empty.txt", "   \n", "empty.txt: the file is empty"),
])
def test_a_rejected_file_is_an_error_and_changes_nothing(client, served, tmp_path, name, content, message):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    before = sorted(p.name for p in served.bot.corpus.parent.rglob("*"))
    names = set(_bot().transcripts)
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(AppError, match=message) as caught:
        client.predict(handle_file(bad), api_name="/add_transcript")
    assert "nothing was changed" in str(caught.value)
    assert sorted(p.name for p in served.bot.corpus.parent.rglob("*")) == before
    assert set(_bot().transcripts) == names


def test_the_api_lists_add_transcript_once_with_one_file_parameter(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/add_transcript" in endpoints
    assert [p["parameter_name"] for p in endpoints["/add_transcript"]["parameters"]] == ["file"]
    assert not [name for name in endpoints if name.startswith("/add_transcript_")]


@pytest.mark.parametrize("sent", ["server-path", {"path": "server-path"}])
def test_a_path_on_the_server_is_refused_not_read(client, served, sent):
    """Only a file sent with handle_file is an upload; a path could name any file on the server."""
    from gradio_client.exceptions import AppError

    secret = served.bot.corpus.parent / "secret.txt"
    secret.write_text("Host: What is the password?\nAnn: The password is swordfish.\n", encoding="utf-8")
    sent = str(secret) if sent == "server-path" else {"path": str(secret)}
    with pytest.raises(AppError, match="handle_file"):
        client.predict(sent, api_name="/add_transcript")
    assert "secret.txt" not in _bot().transcripts and not (served.bot.corpus / "secret.txt").exists()


# ------------------------------------------------------------------------------------------ /ask
def test_ask_with_an_unknown_speaker_is_an_error_listing_the_known_ones(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="speaker: no speaker named 'Bob'") as caught:
        client.predict("Where do you live?", 3, "", "Bob", api_name="/ask")
    assert all(name in str(caught.value) for name in _bot().speakers())
    got = client.predict("Where do you live?", 3, "", "alice", api_name="/ask")
    assert got["answers"] and {a["speaker"] for a in got["answers"]} == {"Alice"}


# ------------------------------------------------------------------------------------- the log
@pytest.mark.parametrize(("args", "message"), [
    (("   ", 3, "", ""), "question: it is empty"),
    (("why " * 1000, 3, "", ""), "question: longer than"),
    (("Where do you live?", 3, "nope", ""), "transcript: no transcript named 'nope'"),
    (("Where do you live?", 3, "", "Bob"), "speaker: no speaker named 'Bob'"),
    (("Where do you live?", 0, "", ""), "top_k: must be between 1 and 50"),
])
def test_an_input_error_logs_one_line_and_no_traceback(client, capfd, caplog, args, message):
    from gradio_client.exceptions import AppError

    _bot()  # loaded: nothing else is logged meanwhile
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="qa_bot"), pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/ask")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "gradio.exceptions.Error" not in out + err
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("qa_bot")]
    assert len(lines) == 1 and lines[0].startswith("ask: ") and message in lines[0]
    assert "\n" not in lines[0] and len(lines[0]) < 400


def test_a_rejected_upload_logs_one_line_and_no_traceback(client, capfd, caplog, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    bad = tmp_path / "broken.json"
    bad.write_text('{"turns": [', encoding="utf-8")
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="qa_bot"), pytest.raises(AppError):
        client.predict(handle_file(bad), api_name="/add_transcript")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("qa_bot")]
    assert len(lines) == 1 and lines[0].startswith("add_transcript: Could not add broken.json")
