"""Faults: a damaged index is never served, a killed indexer leaves the previous index whole, and
an index folder that cannot be written still serves answers; each time the user is told.

test_index.py already covers each data file truncated, altered or deleted, the manifest
truncated, garbage or deleted, in-process crashes at every write step and an ``os._exit`` mid
write. This file adds what it does not:

* a manifest altered so that it still parses (ranges, dimension, file names) is caught too;
* the "rebuilt" warning reaches ``SyncReport.warnings``, the page and the command line;
* ``python -m qa_bot index`` on a big generated corpus, SIGKILLed mid-embedding for real: the
  previous index still loads and answers the same;
* temporary files of a writer killed mid-write are swept by the next save;
* a read-only index folder: simulated by monkeypatching the write calls to fail with EROFS
  (tests run as root, for whom ``chmod`` stops no write), and for real on a read-only bind
  mount in a private mount namespace where the system allows one (skipped elsewhere).
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import ALPHA, CORPUS, ROOT, FakeEmbedder, configured, named_files, open_bot
from helpers import ZEPPELINS as DELTA
from helpers import write_corpus as make_corpus

from qa_bot import index as index_mod
from qa_bot import page_events
from qa_bot.bot import QaBot
from qa_bot.config import Settings

BETA = ("Q: Why did you start the bakery?\n"
        "A: My grandmother baked rye bread every Sunday. I wanted to keep her recipe alive.\n")
QUESTIONS = ["What fruit does Alice love?", "Why start a bakery?", "Where does Alice live?"]
IVANOV = ["Does Ivanov regret the fall of the USSR?", "Why should Russia help Kyrgyzstan?",
          "Who did he meet from Washington?"]



def answers(bot: QaBot, questions=QUESTIONS) -> list[dict]:
    return [bot.ask(q).to_dict() for q in questions]


def files_of(folder: Path) -> dict[str, bytes]:
    """The index folder's files and their bytes; the writers' lock holds no index data (a killed
    writer leaves its pid there), so it is left out."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != ".lock"}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "talks", {"alpha.txt": ALPHA, "beta.txt": BETA})


# --- an altered manifest ---------------------------------------------------------------------


def _swap(manifest: dict) -> None:
    alpha, beta = manifest["transcripts"]["alpha.txt"], manifest["transcripts"]["beta.txt"]
    for key in ("chunks", "turns"):
        alpha[key], beta[key] = beta[key], alpha[key]


def _outside(manifest: dict, index_dir: Path) -> None:
    """Point a file entry outside the folder, at a copy with the very bytes (so the checksum holds)."""
    entry = manifest["files"]["chunks_jsonl"]
    shutil.copy(index_dir / entry["name"], index_dir.parent / "outside.jsonl")
    entry["name"] = "../outside.jsonl"


ALTERATIONS = {
    "chunk range past the end": lambda m, d: m["transcripts"]["beta.txt"]["chunks"].__setitem__(1, 99),
    "ranges swapped": lambda m, d: _swap(m),
    "ranges overlapping": lambda m, d: m["transcripts"]["alpha.txt"].__setitem__(
        "chunks", m["transcripts"]["beta.txt"]["chunks"]),
    "turn range emptied": lambda m, d: m["transcripts"]["alpha.txt"].__setitem__("turns", [0, 0]),
    "dimension": lambda m, d: m.__setitem__("dimension", 7),
    "file outside the folder": _outside,
    "transcripts not an object": lambda m, d: m.__setitem__("transcripts", []),
    "range not numbers": lambda m, d: m["transcripts"]["alpha.txt"].__setitem__("chunks", "ab"),
}


@pytest.mark.parametrize("how", list(ALTERATIONS))
def test_altered_manifest_is_detected_never_served_and_rebuilt(corpus, index_dir, tmp_path, caplog, how):
    """A manifest edited by hand (or by a bad disk) so that it still parses as JSON."""
    first = open_bot(corpus, index_dir)
    before = answers(first)
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    ALTERATIONS[how](manifest, index_dir)
    path.write_text(json.dumps(manifest), encoding="utf-8")

    caplog.set_level(logging.WARNING, logger="qa_bot.index")
    assert index_mod.load(index_dir) is None  # never served
    assert "unusable" in caplog.text
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == bot.report.embedded == first.report.embedded  # rebuilt from scratch
    assert answers(bot) == before
    assert any("unusable" in w and "rebuilt" in w for w in bot.report.warnings), bot.report.warnings
    assert index_mod.load(index_dir) is not None


def test_damaged_index_warning_reaches_the_page(corpus, index_dir):
    open_bot(corpus, index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    chunks = index_dir / manifest["files"]["chunks_faiss"]["name"]
    chunks.write_bytes(chunks.read_bytes()[:-10])
    with configured(corpus, index_dir, Settings(), FakeEmbedder()):
        status, *_ = page_events.startup()
    assert "2 transcripts" in status and "qa-notice-warning" in status
    assert re.search(r"unusable \(chunks-\w+\.faiss does not match its checksum\); rebuilt", status), status


# --- killed while indexing -------------------------------------------------------------------


def big_transcript(turns: int) -> str:
    """A long generated interview: every answer different, so that every chunk is embedded."""
    subjects = ["the harbour", "the grain trade", "the old railway", "the winter floods", "the school",
                "the mayor", "the bridge", "the market", "the mines", "the festival", "the river"]
    lines = []
    for n in range(turns):
        s = subjects[n % len(subjects)]
        lines.append(f"Interviewer: What happened to {s} in year {1900 + n}?")
        lines.append(f"Mira Novak: In {1900 + n} {s} changed for the {n}th time. Everyone in ward {n % 97} "
                     f"remembers it, and number {n * 7919 % 10007} is still painted on the wall.")
    return "\n".join(lines) + "\n"


def cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "qa_bot", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.mark.e2e
@pytest.mark.integration
def test_sigkill_mid_embedding_leaves_the_previous_index(tmp_path, real_embedder):
    """``python -m qa_bot index`` (the real model) on a big generated corpus, killed with SIGKILL
    once its progress bar shows embedding under way: the previous index loads and answers."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = tmp_path / "index"
    previous = QaBot.open(corpus, index_dir, Settings(), real_embedder)
    before = answers(previous, IVANOV)
    saved = files_of(index_dir)

    (corpus / "big.txt").write_text(big_transcript(1500), encoding="utf-8")
    proc = cli("index", "--corpus", str(corpus), "--index", str(index_dir))
    seen = bytearray()
    progress = re.compile(rb"embedding:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")

    def read() -> None:
        assert proc.stderr is not None
        for block in iter(lambda: proc.stderr.read1(4096), b""):
            seen.extend(block)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 180
    done = total = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            counts = progress.findall(bytes(seen))
            done, total = (int(counts[-1][0]), int(counts[-1][1])) if counts else (0, 0)
            if done > 0:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"index finished or failed before it could be killed: {bytes(seen)!r}"
        assert 0 < done < total, f"not mid-embedding: {done}/{total}"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert total > 2500  # the big file was being embedded, not the interview

    # The previous index is untouched, loads, and serves the same answers without embedding.
    assert files_of(index_dir) == saved
    loaded = index_mod.load(index_dir)
    assert loaded is not None and set(loaded.manifest.transcripts) == {"viktor-ivanov-interview.txt"}
    (corpus / "big.txt").unlink()
    calls = real_embedder.calls
    again = QaBot.open(corpus, index_dir, Settings(), real_embedder)
    assert real_embedder.calls == calls and again.report.embedded == 0  # nothing re-embedded
    assert again.report.warnings == []
    assert answers(again, IVANOV) == before


@pytest.mark.e2e
def test_writer_killed_mid_write_leaves_no_litter_after_the_next_save(corpus, index_dir):
    """``os._exit`` half-way through writing a data file leaves a temporary file behind; the next
    save sweeps it, so the folder holds only the manifest, the four files it names, the four of
    the generation it replaced, and the writers' lock."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]  # this checkout's qa_bot
        from pathlib import Path
        from helpers import FakeEmbedder
        from qa_bot import index
        from qa_bot.bot import QaBot
        from qa_bot.config import Settings
        real = Path.write_text
        def write_text(self, data, *args, **kwargs):
            if self.name.startswith(".turns-"):
                real(self, data[: len(data) // 2], *args, **kwargs)
                os._exit(17)
            return real(self, data, *args, **kwargs)
        Path.write_text = write_text
        QaBot.open({str(corpus)!r}, {str(index_dir)!r}, Settings(), FakeEmbedder())
    """)
    first = open_bot(corpus, index_dir)
    before, saved = answers(first), files_of(index_dir)
    previous = named_files(first.index.manifest.to_dict())
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 17, done.stderr
    litter = [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")]
    assert litter, "the kill should have left a temporary file to sweep"
    # The previous index, whole: its manifest and the files it names as they were, byte for byte,
    # read back as the same records and vectors, and served with nothing embedded again.
    now = files_of(index_dir)
    assert {name: now.get(name) for name in saved} == saved
    loaded = index_mod.load(index_dir)
    assert loaded is not None
    assert (loaded.chunks, loaded.turn_keys) == (first.index.chunks, first.index.turn_keys)
    rows = len(first.index.chunks)
    assert np.array_equal(loaded.chunk_vectors.reconstruct_n(0, rows),
                          first.index.chunk_vectors.reconstruct_n(0, rows))
    assert np.array_equal(loaded.turn_vectors, first.index.turn_vectors)
    (corpus / "delta.txt").unlink()
    embedder = FakeEmbedder()
    again = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == 0 and again.report.warnings == [] and answers(again) == before

    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    bot = open_bot(corpus, index_dir)
    assert bot.report.saved
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    named = named_files(manifest)
    # and the generation it replaced, kept for a reader that had just read its name
    assert {p.name for p in index_dir.iterdir()} == named | previous | {"manifest.json", ".lock"}


# --- a read-only index folder ----------------------------------------------------------------


def read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Every way the index writes a file in ``folder`` fails as on a read-only file system."""
    import faiss

    folder = folder.resolve()

    def inside(path) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(folder)
        except (TypeError, ValueError):
            return False

    def refuse(path) -> OSError:
        return OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    real_open, real_os_open = io.open, os.open

    def fake_open(file, mode="r", *args, **kwargs):
        if inside(file) and any(m in mode for m in "wax+"):
            raise refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guard(real):
        def call(*paths, **kwargs):
            if any(inside(p) for p in paths[:2]):
                raise refuse(paths[0])
            return real(*paths, **kwargs)
        return call

    real_write_index = faiss.write_index

    def write_index(index, path):
        if inside(path):  # faiss reports I/O errors as RuntimeError, as it would here
            raise RuntimeError(f"Error in faiss::FileIOWriter: could not open {path} for writing: "
                               "Read-only file system")
        return real_write_index(index, path)

    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    for name in ("replace", "rename", "unlink", "remove", "mkdir"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))
    monkeypatch.setattr(faiss, "write_index", write_index)


def test_read_only_index_folder_serves_answers_with_a_warning(corpus, index_dir, monkeypatch):
    """Simulated (tests run as root): an existing index, a transcript added since, and nothing in
    the index folder can be written. The new transcript is answered from memory, with a warning
    in the report and in the page, and the saved index is left as it was."""
    import app

    open_bot(corpus, index_dir)
    saved = files_of(index_dir)
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    read_only(monkeypatch, index_dir)
    with pytest.raises(OSError, match="Read-only file system"):
        (index_dir / "probe").write_text("x")  # the simulation holds

    bot = open_bot(corpus, index_dir)
    assert not bot.report.saved and bot.report.added == ["delta.txt"]
    assert any("could not save the index" in w and "Read-only file system" in w for w in bot.report.warnings)
    assert bot.ask("How do zeppelins fly?").top.transcript == "delta.txt"
    assert bot.ask(QUESTIONS[0]).top.transcript == "alpha.txt"
    with configured(corpus, index_dir, Settings(), FakeEmbedder()):
        status, *_ = page_events.startup()
        got = app.ask("How do zeppelins fly?")
    assert "qa-notice-warning" in status and "could not save the index" in status
    assert got["answers"][0]["transcript"] == "delta.txt"
    monkeypatch.undo()
    assert files_of(index_dir) == saved


def test_read_only_index_folder_with_nothing_new_serves_without_a_warning(corpus, index_dir, monkeypatch):
    first = open_bot(corpus, index_dir)
    read_only(monkeypatch, index_dir)
    bot = open_bot(corpus, index_dir)
    assert bot.report.embedded == 0 and bot.report.warnings == [] and answers(bot) == answers(first)


READ_ONLY_SCRIPT = """
import errno, json, sys
sys.path.insert(0, sys.argv[3])
from helpers import FakeEmbedder
from qa_bot.bot import QaBot
from qa_bot.config import Settings
try:
    open(sys.argv[2] + "/probe", "w")
    probe = "writable"
except OSError as exc:
    probe = errno.errorcode[exc.errno]
bot = QaBot.open(sys.argv[1], sys.argv[2], Settings(), FakeEmbedder())
print(json.dumps({"probe": probe, "warnings": bot.report.warnings, "saved": bot.report.saved,
                  "top": bot.ask("How do zeppelins fly?").top.transcript}))
"""


@pytest.mark.e2e
def test_read_only_mount_serves_answers_with_a_warning(corpus, index_dir, tmp_path):
    """For real: the index folder bind-mounted read-only in a private mount namespace (root with
    CAP_SYS_ADMIN; skipped where the system does not allow it)."""
    if not shutil.which("unshare") or not shutil.which("mount"):
        pytest.skip("unshare and mount are needed for a read-only bind mount")
    open_bot(corpus, index_dir)
    saved = files_of(index_dir)
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    script = tmp_path / "read_only.py"
    script.write_text(READ_ONLY_SCRIPT)
    shell = ('mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift '
             '&& exec "$@"')
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh",
                           str(index_dir), sys.executable, str(script), str(corpus), str(index_dir),
                           str(ROOT / "tests")], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and ("mount" in done.stderr or "unshare" in done.stderr) \
            and "Traceback" not in done.stderr:
        pytest.skip(f"no read-only bind mount here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["probe"] == "EROFS"  # a read-only file system, even for root
    assert not got["saved"] and got["top"] == "delta.txt"
    assert any("could not save the index" in w and "Read-only file system" in w for w in got["warnings"])
    assert files_of(index_dir) == saved
