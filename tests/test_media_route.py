"""The media route: a known transcript's recording and nothing else, behind the app's login."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from qa_bot import page_state
from qa_bot.config import Settings
from qa_bot.media_route import media_url

USER, PASSWORD = "reporter", "correct horse battery staple"
SRT = "1\n00:00:12,000 --> 00:00:15,000\nAnna: The harbour froze in the winter.\n"
AUDIO = b"RIFF" + bytes(range(256)) * 4  # served as is: the route never reads what it serves
SECRET = b"RIFF secret recording outside the corpus"

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app with a login over a corpus with one recorded transcript; secrets beside the corpus."""
    import app

    base = tmp_path_factory.mktemp("media-app")
    corpus = base / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "talk.srt").write_text(SRT, encoding="utf-8")
    (corpus / "talk.wav").write_bytes(AUDIO)
    (corpus / "sub" / "nested talk.srt").write_text(SRT, encoding="utf-8")
    (corpus / "sub" / "nested talk.ogg").write_bytes(AUDIO[::-1])
    (corpus / "orphan.wav").write_bytes(SECRET)  # media of no transcript
    (corpus / "escape.srt").write_text(SRT, encoding="utf-8")
    (corpus / "escape.srt.meta.json").write_text(json.dumps({"media": "../secret.wav"}), encoding="utf-8")
    (base / "secret.wav").write_bytes(SECRET)
    (base / "escape.wav").write_bytes(SECRET)
    previous = page_state.holder()
    app.configure(corpus, base / "index", Settings(), FakeEmbedder()).get()
    port = free_port()
    page = app.build_demo()
    app.serve(page, "127.0.0.1", port, auth=(USER, PASSWORD), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", base
    finally:
        page.close()
        page_state.reset(previous)


@pytest.fixture
def http(served):
    import httpx

    with httpx.Client(base_url=served[0], timeout=30) as client:
        assert client.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        yield client


def test_media_url_names_the_transcript_relative_to_the_page():
    assert media_url("sub/nested talk.srt") == "media/sub/nested%20talk.srt"
    assert media_url("a{b}$`.srt") == "media/a%7Bb%7D%24%60.srt"


def test_a_known_transcripts_recording_is_served_whole_and_by_range(http):
    whole = http.get(media_url("talk.srt"))
    assert whole.status_code == 200 and whole.content == AUDIO
    assert whole.headers["content-type"] == "audio/wav" and whole.headers["accept-ranges"] == "bytes"
    part = http.get(media_url("talk.srt"), headers={"Range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == AUDIO[4:12]
    nested = http.get(media_url("sub/nested talk.srt"))
    assert nested.status_code == 200 and nested.content == AUDIO[::-1]
    assert nested.headers["content-type"] == "audio/ogg"


def test_media_need_the_login(served):
    import httpx

    response = httpx.get(served[0] + media_url("talk.srt"), timeout=30)
    assert response.status_code == 401 and response.content != AUDIO


@pytest.mark.parametrize("path", [
    "media/..%2Fsecret.wav", "media/%2E%2E/secret.wav", "media/sub/..%2F..%2Fsecret.wav",
    "media/escape.srt", "media/orphan.wav", "media/talk.wav", "media/orphan.srt", "media/escape",
    "media/%2Fetc%2Fpasswd", "media/", "media/TALK.SRT"])
def test_nothing_but_a_known_transcripts_media_is_served(http, served, path):
    response = http.get(path)
    assert response.status_code == 404, response.text[:200]
    assert SECRET not in response.content and AUDIO not in response.content


def test_the_corpus_folder_is_not_opened_to_gradios_file_route(http, served):
    corpus = Path(served[1]) / "corpus"
    for name in ("talk.wav", "talk.srt", "orphan.wav"):
        response = http.get(f"gradio_api/file={corpus / name}")
        assert response.status_code == 403 and response.content not in (AUDIO, SECRET)
