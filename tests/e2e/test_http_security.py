"""Security over the wire: a launched app with a login refuses every page, API call and upload
without it; uploads are held to their size (gradio's 413) and type, a hand-made client cannot make
the app take a server file that was not uploaded, and no corpus, index or source file is served.

The rest of the security checks are where what they check lives: binding and login in
unit/test_serving.py, the handler's own limits in unit/test_app.py, no pickle in
unit/test_no_pickle.py and unit/test_index.py, pinned weights in unit/test_embedding.py and
e2e/test_cli_process.py, escaping in unit/test_ui.py and e2e/test_browser_escaping.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import ALPHA, PASSWORD, ROOT, USER, FakeEmbedder, launched, write_corpus

from qa_bot.config import Settings

LIMIT = 3_000

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app with a login and a small upload limit, launched in this process (FakeEmbedder); a
    secret file lies beside its corpus."""
    base = tmp_path_factory.mktemp("secure-app")
    corpus = write_corpus(base / "corpus", {"alpha.txt": ALPHA})
    (base / "secret.txt").write_text("Q: What is the password?\nA: The password is swordfish.\n")
    with launched(corpus, base / "index", Settings(max_file_bytes=LIMIT), FakeEmbedder(),
                  auth=(USER, PASSWORD), load=True) as served:
        yield served


def test_a_login_guards_the_page_the_api_and_uploads(served, client):
    import httpx
    from gradio_client import Client

    url = served.url
    for auth in (None, (USER, "wrong"), ("someone", PASSWORD)):
        with pytest.raises(Exception):  # noqa: B017 (gradio_client raises several types)
            Client(url, auth=auth, verbose=False).predict("What fruit?", 1, "", "", api_name="/ask")
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        assert anonymous.get("config").status_code == 401
        upload = anonymous.post("gradio_api/upload", files={"files": ("a.txt", ALPHA.encode())})
        assert upload.status_code == 401
        asked = anonymous.post("gradio_api/call/ask", json={"data": ["What fruit?", 1, "", ""]})
        assert asked.status_code == 401
        assert anonymous.post("login", data={"username": USER, "password": "nope"}).status_code == 400
    got = client.predict("What fruit does Alice love?", 1, "", "", api_name="/ask")
    assert "mangoes" in got["answers"][0]["quote"]


# --- uploads ---------------------------------------------------------------------------------


def test_upload_size_limit_is_enforced_before_the_file_is_kept(served, client, http, tmp_path):
    from gradio_client import handle_file

    before = sorted(p.name for p in served.bot.corpus.iterdir())
    too_big = ("Alice: " + "word " * LIMIT + "\n").encode()
    refused = http.post("gradio_api/upload", files={"files": ("big.txt", too_big, "text/plain")})
    assert refused.status_code == 413 and f"maximum allowed size of {LIMIT} bytes" in refused.text
    path = tmp_path / "big.txt"
    path.write_bytes(too_big)
    with pytest.raises(Exception, match=r"exceeds the maximum file size of 3000 bytes|maximum allowed size"):
        client.predict(handle_file(path), api_name="/add_transcript")
    assert sorted(p.name for p in served.bot.corpus.iterdir()) == before


def call(http, endpoint: str, payload: list) -> str:
    """An API call over plain HTTP, as any client could make it: the final SSE event."""
    started = http.post(f"gradio_api/call/{endpoint}", json={"data": payload})
    assert started.status_code == 200, started.text
    events = http.get(f"gradio_api/call/{endpoint}/{started.json()['event_id']}").text
    return events.strip().split("event: ")[-1]


def test_upload_type_and_origin_are_checked_by_the_server(served, http):
    """A hand-made client can name any type or any server path: neither gets in."""
    corpus = served.bot.corpus
    before = sorted(p.name for p in corpus.iterdir())
    html = http.post("gradio_api/upload", files={"files": ("page.html", b"<script>alert(1)</script>",
                                                           "text/html")}).json()[0]
    result = call(http, "add_transcript", [{"path": html, "meta": {"_type": "gradio.FileData"}}])
    assert result.startswith("error") and "page.html: not a transcript file" in result
    for path in ("/etc/passwd", str(corpus.parent / "secret.txt"), str(corpus / "alpha.txt"),
                 str(ROOT / "app.py")):
        result = call(http, "add_transcript", [{"path": path, "meta": {"_type": "gradio.FileData"}}])
        assert result.startswith("error"), (path, result)
    assert sorted(p.name for p in corpus.iterdir()) == before
    assert not any("swordfish" in p.read_text(errors="replace") for p in corpus.iterdir() if p.is_file())


def test_no_corpus_index_or_source_file_is_served(served, http):
    base = served.bot.corpus.parent
    manifest = base / "index" / "manifest.json"
    assert manifest.exists()
    for path in (base / "corpus" / "alpha.txt", manifest, base / "secret.txt", ROOT / "app.py",
                 Path("/etc/passwd")):
        for form in (str(path), os.path.relpath(path)):
            got = http.get(f"gradio_api/file={form}")
            assert got.status_code in (403, 404), (form, got.status_code)
            assert "mangoes" not in got.text and "swordfish" not in got.text
