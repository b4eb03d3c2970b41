"""Removing uploads in the app (issue 11): the Remove list and button's handlers in process, and
the ``/remove_transcript`` API over the wire with ``gradio_client``. FakeEmbedder throughout; the
browser test is tests/test_browser_uploads.py.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from conftest import TALKS, FakeEmbedder, write_corpus

from qa_bot import page_state
from qa_bot import upload_handlers as uploads
from qa_bot.config import Settings

ZEPPELINS = "Interviewer: How do zeppelins fly?\nOtto: Hydrogen lifts them. Engines push them forward.\n"


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def holder(tmp_path: Path):
    import app

    previous = page_state.holder()
    holder = app.configure(write_corpus(tmp_path / "talks", TALKS), tmp_path / "index", Settings(),
                           FakeEmbedder())
    holder.get()
    yield holder
    page_state.reset(previous)


def upload(tmp_path: Path, name: str = "zeppelins.txt", text: str = ZEPPELINS) -> str:
    path = tmp_path / "picked" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def choices(update) -> list:
    """The (label, value) choices of a dropdown a handler returned."""
    return [tuple(c) for c in update.choices]


def test_the_remove_list_holds_the_uploads_only(holder, tmp_path):

    assert choices(uploads.list_uploads()) == []
    uploads.add_transcript(upload(tmp_path))
    uploads.add_transcript(upload(tmp_path, "cranes.srt", "1\n00:00:01,000 --> 00:00:02,000\nMara: Spain.\n"))
    (holder.get().uploads / "cranes.srt.meta.json").write_text('{"title": "Cranes <i>in</i> winter"}')
    holder.get().refresh()
    listed = uploads.list_uploads()
    assert choices(listed) == [("Cranes <i>in</i> winter (cranes.srt)", "cranes.srt"),
                               ("zeppelins.txt", "zeppelins.txt")]
    assert listed.value is None  # nothing is removed without a choice


def test_the_remove_button_removes_the_upload_and_updates_status_filters_and_list(holder, tmp_path):
    import app

    bot = holder.get()
    corpus_before = tree(bot.corpus)
    *_, transcript, _speaker, _box = uploads.add_transcript(upload(tmp_path))
    assert transcript.value == "zeppelins.txt"  # the filter was set to the upload
    notice, status, transcript, speaker, listed = uploads.remove_upload("zeppelins.txt", "zeppelins.txt")
    assert "Removed zeppelins.txt" in notice and "qa-notice-ok" in notice
    assert f"the corpus folder {bot.corpus} is unchanged" in notice
    assert "2 transcripts" in status
    assert transcript.value == app.ALL  # the removed one is no longer a scope
    assert [c[1] for c in transcript.choices] == [app.ALL, "alpha.txt", "beta.txt"]
    assert speaker.value == app.ALL and "Otto" not in [c[1] for c in speaker.choices]
    assert choices(listed) == []
    assert tree(bot.corpus) == corpus_before and not any(bot.uploads.iterdir())
    assert "zeppelins.txt" not in bot.transcripts


def test_the_remove_button_keeps_another_filter_as_it_was(holder, tmp_path):

    uploads.add_transcript(upload(tmp_path))
    _, _, transcript, _, _ = uploads.remove_upload("zeppelins.txt", "beta.txt")
    assert transcript.value == "beta.txt"


@pytest.mark.parametrize(("name", "message"), [
    (None, "Choose an uploaded transcript to remove first."),
    ("", "Choose an uploaded transcript to remove first."),
    ("alpha.txt", "Could not remove alpha.txt; nothing was changed. alpha.txt: part of the corpus folder"),
    ("gone.txt", "Could not remove gone.txt; nothing was changed. gone.txt: no transcript of that name"),
])
def test_the_remove_button_explains_what_it_cannot_do_and_changes_nothing(holder, tmp_path, name, message):
    import gradio as gr

    import app

    bot = holder.get()
    uploads.add_transcript(upload(tmp_path))
    before = tree(bot.corpus), tree(bot.index_dir), sorted(bot.transcripts)
    notice, *rest = uploads.remove_upload(name, app.ALL)
    assert message in notice and "qa-notice-error" in notice
    assert rest == [gr.skip()] * 4
    assert (tree(bot.corpus), tree(bot.index_dir), sorted(bot.transcripts)) == before


def test_the_remove_button_survives_a_bug(holder, tmp_path, monkeypatch, caplog):
    import app

    uploads.add_transcript(upload(tmp_path))

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(holder.get(), "remove_transcript", broken)
    notice, *_ = uploads.remove_upload("zeppelins.txt", app.ALL)
    assert "something went wrong" in notice and "ZeroDivision" in caplog.text


def test_the_api_function_returns_json_and_raises_a_gradio_error(holder, tmp_path):
    import gradio as gr


    uploads.add_transcript(upload(tmp_path))
    uploads.add_transcript(upload(tmp_path, "cranes.txt", "Q: Where do cranes winter?\nA: In Spain.\n"))
    assert uploads.remove_transcript("zeppelins") == {
        "removed": "zeppelins.txt", "title": "zeppelins", "uploads": ["cranes.txt"],
        "transcripts": ["alpha.txt", "beta.txt", "cranes.txt"], "passages": len(holder.get().index.chunks)}
    with pytest.raises(gr.Error, match=r"beta.txt: part of the corpus folder .*only uploaded transcripts"):
        uploads.remove_transcript("beta.txt")
    with pytest.raises(gr.Error, match=r"no transcript of that name to remove \(uploaded: cranes.txt\)"):
        uploads.remove_transcript("zeppelins.txt")


# --- over the wire ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app launched in this process over two small talks, with FakeEmbedder."""
    import app

    base = tmp_path_factory.mktemp("uploads-app")
    previous = page_state.holder()
    app.configure(write_corpus(base / "talks", TALKS), base / "index", Settings(), FakeEmbedder())
    port = free_port()
    app.serve(app.demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", page_state.holder().get()
    finally:
        app.demo.close()
        page_state.reset(previous)


@pytest.mark.e2e
def test_the_remove_transcript_api_over_the_wire(served, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    url, bot = served
    client = Client(url, verbose=False)
    assert "/remove_transcript" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    corpus_before = tree(bot.corpus)
    client.predict(handle_file(upload(tmp_path)), api_name="/add_transcript")
    assert client.predict("How do zeppelins fly?", 3, "", "", api_name="/ask")["answers"][0][
        "transcript"] == "zeppelins.txt"
    got = client.predict("zeppelins.txt", api_name="/remove_transcript")
    assert got == {"removed": "zeppelins.txt", "title": "zeppelins", "transcripts": ["alpha.txt", "beta.txt"],
                   "uploads": [], "passages": len(bot.index.chunks)}
    with pytest.raises(AppError, match=r"transcript: no transcript named 'zeppelins.txt'"):
        client.predict("How do zeppelins fly?", 3, "zeppelins.txt", "", api_name="/ask")
    with pytest.raises(AppError, match=r"alpha.txt: part of the corpus folder"):
        client.predict("alpha.txt", api_name="/remove_transcript")
    with pytest.raises(AppError, match=r"zeppelins.txt: no transcript of that name to remove "
                                       r"\(uploaded: none\)"):
        client.predict("zeppelins.txt", api_name="/remove_transcript")
    assert tree(bot.corpus) == corpus_before and not any(bot.uploads.iterdir())
    assert client.predict("What fruit does Alice love?", 3, "", "", api_name="/ask")["answers"]  # still up
