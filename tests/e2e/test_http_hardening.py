"""Bad input and load over the wire: the launched app answers each bad question or upload with one
clear error, stays up and loses nothing indexed; a client naming its upload "../../evil.txt" writes
nothing outside the corpus; questions share one pool of the declared size and a full queue is
refused at once; bench/load_test.py is smoke-tested against the app.

All with FakeEmbedder: the real model is not the point here (bench/load_test.py uses it). The
same bad input through the Python API is in unit/test_bot_bad_input.py, through the page's
handlers in unit/test_app.py.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest
from bad_input import BAD_FILES, LIMIT, QUESTIONS, make_corpus
from helpers import ROOT, ZEPPELINS, FakeEmbedder, launched, snapshot, tree

from qa_bot.config import Settings

# --- over the wire: the launched app ---------------------------------------------------------


class CountingEmbedder(FakeEmbedder):
    """Counts questions being embedded at once; each takes ``delay`` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay, self.now, self.most = delay, 0, 0
        self._lock = threading.Lock()

    def encode(self, texts):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.delay)
            return super().encode(texts)
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture(scope="module")
def counting() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(scope="module")
def served(tmp_path_factory, counting):
    """The app launched in this process over the small corpus with FakeEmbedder, counting."""
    import app

    base = tmp_path_factory.mktemp("hardening-app")
    with launched(make_corpus(base / "corpus"), base / "index", Settings(max_file_bytes=LIMIT), counting,
                  page=app.demo) as served:
        yield served


@pytest.mark.e2e
def test_wire_bad_questions_are_clear_errors_and_the_app_stays_up(client, served) -> None:
    from gradio_client.exceptions import AppError

    before = snapshot(served.bot, QUESTIONS)
    for question, message in [("", "question: it is empty"), ("why " * 2_600, "longer than 2,000"),
                              ("\x00\x01\x1b[0m", "no words to search for")]:
        with pytest.raises(AppError, match=message):
            client.predict(question, 3, "", "", api_name="/ask")
    with pytest.raises(AppError, match="top_k: must be a whole number"):
        client.predict(QUESTIONS[0], "three", "", "", api_name="/ask")
    got = client.predict("What\x00 fruit\x1b[0m does Alice love?", 3, "", "", api_name="/ask")
    assert got["question"] == "What fruit does Alice love?" and "mangoes" in got["answers"][0]["quote"]
    assert snapshot(served.bot, QUESTIONS) == before


@pytest.mark.e2e
def test_wire_bad_uploads_are_clear_errors_and_change_nothing(client, served, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    bot = served.bot
    before = snapshot(bot, QUESTIONS)
    for name, data, message in [f for f in BAD_FILES if f[0] in {"latin1.txt", "image.txt", "empty.txt",
                                                                 "bad-timing.srt", "bad-cue.vtt",
                                                                 "truncated.json"}]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(AppError) as caught:
            client.predict(handle_file(path), api_name="/add_transcript")
        notice = str(caught.value)
        assert f"Could not add {name}; nothing was changed" in notice and message in notice
    dup = tmp_path / "alpha.txt"
    dup.write_text(ZEPPELINS)
    with pytest.raises(AppError, match="already in the corpus"):
        client.predict(handle_file(dup), api_name="/add_transcript")
    assert snapshot(bot, QUESTIONS) == before


@pytest.mark.e2e
def test_wire_traversal_file_name_never_leaves_the_corpus(client, served, tmp_path: Path) -> None:
    """A client that names its upload "../../evil.txt" by hand: gradio keeps the base name, and the
    file lands in the corpus folder or nowhere."""
    import httpx

    url, bot = served.url, served.bot
    around = tree(bot.corpus.parent)
    with httpx.Client(base_url=url, timeout=30) as http:
        uploaded = http.post("gradio_api/upload", files={"files": ("../../evil.txt", ZEPPELINS.encode(),
                                                                   "text/plain")}).json()[0]
        assert ".." not in Path(uploaded).name
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    try:
        added = client.predict(handle_file(uploaded), api_name="/add_transcript")
        assert ".." not in added["transcript"] and added["transcript"] in bot.transcripts
    except AppError as exc:
        assert "not an acceptable file name" in str(exc)
    written = {k for k in tree(bot.corpus.parent)} - set(around)
    assert all(k.startswith("corpus/") or k.startswith("index/") for k in written), written
    assert not (bot.corpus.parent.parent / "evil.txt").exists()


@pytest.mark.e2e
def test_questions_share_one_pool_of_the_declared_size(served, counting) -> None:
    """The chat and the API together never run more than CONCURRENCY questions at once, and do
    run that many: the limit is the one declared in app.py, shared on purpose."""
    from gradio_client import Client

    import app

    url, embedder = served.url, counting
    embedder.delay, embedder.most = 0.3, 0
    n = app.CONCURRENCY * 3
    clients = [Client(url, verbose=False) for _ in range(n)]
    errors: list[Exception] = []

    def ask(i: int) -> None:
        try:
            if i % 2:
                clients[i].predict(QUESTIONS[i % 3], 3, "", "", api_name="/ask")
            else:
                clients[i].predict(QUESTIONS[i % 3], [], "*", "*", 3, api_name="/respond")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        embedder.delay = 0.0
    assert not errors
    assert embedder.most == app.CONCURRENCY


@pytest.mark.e2e
def test_a_full_queue_is_refused_at_once_and_the_app_stays_up(tmp_path: Path) -> None:
    """Past the queue's size a caller is told at once, instead of waiting without end."""
    from gradio_client import Client

    import app

    embedder = CountingEmbedder(delay=0.0)
    with launched(make_corpus(tmp_path / "corpus"), tmp_path / "index", Settings(), embedder,
                  page=app.build_demo(concurrency=1, queue_size=2), load=True) as served:
        embedder.delay = 0.5
        url = served.url
        clients = [Client(url, verbose=False) for _ in range(6)]
        outcomes: list[str] = []

        def ask(c) -> None:
            try:
                c.predict(QUESTIONS[0], 3, "", "", api_name="/ask")
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(str(exc))

        threads = [threading.Thread(target=ask, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert outcomes.count("ok") >= 3 and len(outcomes) == 6
        refused = [o for o in outcomes if o != "ok"]
        assert refused and all("queue is full" in o.lower() for o in refused), outcomes
        embedder.delay = 0.0
        assert Client(url, verbose=False).predict(QUESTIONS[0], 3, "", "", api_name="/ask")["answers"]


@pytest.mark.e2e
def test_load_test_script_runs_clean_against_the_app(served) -> None:
    """bench/load_test.py (``make bench``) against the app: a few clients for a few seconds, zero
    errors, an upload half-way through that is searchable at once."""
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "bench" / "load_test.py")
    assert spec and spec.loader
    load_test = importlib.util.module_from_spec(spec)
    sys.modules["load_test"] = load_test  # for its dataclasses
    spec.loader.exec_module(load_test)
    questions = [(q, 3, "", "") for q in QUESTIONS] + [("Why start a bakery?", 2, "beta", ""),
                                                      ("Where does she live?", 1, "", "Alice")]
    stats = load_test.run_load(served.url, clients=4, duration=3.0, upload=True, questions=questions)
    assert stats.errors == [] and stats.upload.startswith("ok")
    assert len(stats.latencies) > 8 and 0 < stats.percentile(50) <= stats.percentile(95)
    section = load_test.report(stats, command="test")
    assert section.startswith("## Load\n") and "| 4 |" in section
    out = Path("RESULTS.md")
    out.write_text("# Results\n\n## Speed\n\nfast\n\n## Load\n\nold\n\n## Later\n\nkept\n")
    load_test.write_section(out, section)
    text = out.read_text()
    assert "old" not in text and "## Speed\n\nfast" in text and "## Later\n\nkept" in text
    assert text.count("## Load") == 1
    with pytest.raises(ValueError, match="not verbatim"):
        load_test.check_result({"answers": [{"quote": "abc", "context": "xabd", "start": 1, "end": 4,
                                             "context_start": 0}]})
