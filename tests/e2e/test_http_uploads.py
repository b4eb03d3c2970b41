"""Removing an upload over the wire (issue 11): ``/remove_transcript`` with ``gradio_client``, on an
app of its own over two small talks (FakeEmbedder), so that nothing uploaded before is listed. The
handlers in process are in unit/test_upload_handlers.py, the browser in e2e/test_browser_uploads.py.
"""

from __future__ import annotations

import pytest
from helpers import TALKS, FakeEmbedder, launched, tree, write_corpus
from helpers import picked as upload

from qa_bot.config import Settings


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app launched in this process over two small talks, with FakeEmbedder."""
    import app

    base = tmp_path_factory.mktemp("uploads-app")
    with launched(write_corpus(base / "talks", TALKS), base / "index", Settings(), FakeEmbedder(),
                  page=app.demo) as served:
        yield served


@pytest.mark.e2e
def test_the_remove_transcript_api_over_the_wire(served, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    url, bot = served.url, served.bot
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
