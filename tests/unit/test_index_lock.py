"""Two processes writing one index folder: the write lock of qa_bot/index_lock.py.

Before it, two ``qa-bot index`` runs started together over a changed file could leave a manifest
naming a data file the other run had swept away (both said they succeeded; the next run
re-embedded everything), or sweep the other's temporary file mid-write. Here real processes
race, many times over, and every race must end with a whole index that a fresh build agrees with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import ROOT, FakeEmbedder, named_files
from helpers import write_corpus as make_corpus

from qa_bot import index as index_mod
from qa_bot.bot import QaBot
from qa_bot.config import Settings

TRIALS = 40
TURNS = 80  # long enough that the two writers overlap, short enough for 40 races in seconds
QUESTIONS = ["What happened to the harbour?", "Who remembers the bridge?", "What is painted on the wall?"]

# A writer process, started once for every trial (importing takes longer than a race): each "go"
# line on stdin opens the bot, which brings the index up to date, and prints what it did.
WORKER = textwrap.dedent("""
    import json, sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from helpers import FakeEmbedder
    from qa_bot.bot import QaBot
    from qa_bot.config import Settings
    for _ in sys.stdin:
        r = QaBot.open(sys.argv[3], sys.argv[4], Settings(), FakeEmbedder()).report
        print(json.dumps({"embedded": r.embedded, "saved": r.saved, "warnings": r.warnings}), flush=True)
""")


def interview(turns: int, trial: int) -> str:
    """A long interview, every answer different; ``trial`` changes one answer and adds a turn."""
    subjects = ["the harbour", "the grain trade", "the old railway", "the winter floods", "the bridge"]
    lines = []
    for n in range(turns):
        s = subjects[n % len(subjects)]
        extra = f" Trial {trial} changed this." if n == trial % turns else ""
        lines.append(f"Interviewer: What happened to {s} in year {1900 + n}?")
        lines.append(f"Mira Novak: In {1900 + n} {s} changed for the {n}th time. Ward {n % 97} "
                     f"remembers it, and number {n * 7919 % 10007} is painted on the wall.{extra}")
    lines.append(f"Interviewer: Anything else in trial {trial}?\nMira Novak: Only trial {trial}.")
    return "\n".join(lines) + "\n"


def answers(bot: QaBot) -> list[list[tuple[str, int, str]]]:
    return [[(a.transcript, a.line, a.quote) for a in bot.ask(q).answers] for q in QUESTIONS]


def race(writers: list[subprocess.Popen]) -> list[dict]:
    """Both writers released at once on one folder; what each reported."""
    for proc in writers:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in writers:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"a writer died: {proc.communicate(timeout=30)[1]}"
        reports.append(json.loads(line))
    return reports


def problems_after(corpus: Path, index_dir: Path, reports: list[dict], fresh: list) -> dict[str, str]:
    """What is wrong with the index folder after a race, by kind (nothing, with the lock)."""
    found = {"warned": "; ".join(w for r in reports for w in r["warnings"])}
    manifest = json.loads((index_dir / index_mod.MANIFEST).read_text(encoding="utf-8"))
    found["file gone"] = ", ".join(name for name in sorted(named_files(manifest))
                                   if not (index_dir / name).exists())
    found = {kind: what for kind, what in found.items() if what}
    if index_mod.load(index_dir) is None:
        found["does not load"] = str(index_dir)
    # One writer embedded the change; the other waited, found it saved and embedded nothing.
    if sorted(r["embedded"] > 0 for r in reports) != [False, True]:
        found["both embedded"] = str([r["embedded"] for r in reports])
    embedder = FakeEmbedder()
    after = QaBot.open(corpus, index_dir, Settings(), embedder)
    if embedder.calls:
        found["next run re-embedded"] = str(embedder.calls)
    if answers(after) != fresh:
        found["answers differ"] = "from a fresh build's"
    return found


@pytest.mark.e2e
def test_concurrent_indexers_never_destroy_the_index(tmp_path):
    """TRIALS pairs of writer processes over a changed TURNS-turn file: every pair ends with a
    manifest whose files exist, an index that loads, answers a fresh build agrees with, and a
    next run that embeds nothing."""
    corpus = make_corpus(tmp_path / "corpus", {"talk.txt": interview(TURNS, 0)})
    index_dir = tmp_path / "index"
    QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
    script = tmp_path / "writer.py"
    script.write_text(WORKER, encoding="utf-8")
    args = [sys.executable, str(script), str(ROOT), str(ROOT / "tests"), str(corpus), str(index_dir)]
    writers = [subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    failures = {}
    try:
        for trial in range(1, TRIALS + 1):
            (corpus / "talk.txt").write_text(interview(TURNS, trial), encoding="utf-8")
            fresh = answers(QaBot.open(corpus, tmp_path / "fresh", Settings(), FakeEmbedder(), save=False))
            found = problems_after(corpus, index_dir, race(writers), fresh)
            if found:
                failures[trial] = found
    finally:
        for proc in writers:
            proc.communicate(timeout=60)  # stdin closed: the writer's loop ends
    kinds = Counter(kind for found in failures.values() for kind in found)
    assert not failures, f"{len(failures)} of {TRIALS} races failed ({dict(kinds)}): {failures}"


# --- the wait, and its end ---------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from qa_bot import index_lock
    with index_lock.hold(Path(sys.argv[2]), 5):
        print("held", flush=True)
        sys.stdin.readline()
""")


@contextmanager
def holding(index_dir: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the index folder's lock for the ``with`` block."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(ROOT), str(index_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.communicate("done\n", timeout=30)


@pytest.fixture
def held(tmp_path):
    with holding(tmp_path / "index") as proc:
        yield tmp_path / "index", proc


def test_a_writer_that_waits_too_long_says_who_holds_the_folder(held):
    from qa_bot import index_lock
    from qa_bot.errors import IndexBusyError, QaBotError

    index_dir, proc = held
    with pytest.raises(IndexBusyError) as caught, index_lock.hold(index_dir, 0.2):
        pass
    message = str(caught.value)
    assert isinstance(caught.value, QaBotError)  # shown as one clean line by the CLI and the page
    assert message == (f"another qa-bot is writing the index in {index_dir} (pid {proc.pid}); waited 0.2 s. "
                       "Try again when it is done, or wait longer with QA_BOT_LOCK_TIMEOUT (seconds)")


def test_a_busy_folder_fails_the_bot_before_anything_is_written(held, tmp_path):
    index_dir, _ = held
    corpus = make_corpus(tmp_path / "corpus", {"talk.txt": interview(5, 0)})
    from qa_bot.errors import IndexBusyError

    with pytest.raises(IndexBusyError, match="another qa-bot is writing the index"):
        QaBot.open(corpus, index_dir, Settings(lock_timeout=0.1), FakeEmbedder())
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock"]


def test_an_upload_or_a_removal_while_another_process_writes_changes_nothing(tmp_path):
    from qa_bot.errors import IndexBusyError

    corpus = make_corpus(tmp_path / "corpus", {"talk.txt": interview(5, 0)})
    index_dir = tmp_path / "index"
    bot = QaBot.open(corpus, index_dir, Settings(lock_timeout=0.1), FakeEmbedder())
    bot.add_transcript("extra.txt", b"Host: Why?\nAda: Because the river rose.\n")
    assert bot.uploads is not None
    before = sorted(p.name for p in bot.uploads.iterdir())
    with holding(index_dir):
        with pytest.raises(IndexBusyError):
            bot.add_transcript("more.txt", b"Host: When?\nAda: In the spring of 1931.\n")
        with pytest.raises(IndexBusyError):
            bot.remove_transcript("extra.txt")
    assert sorted(p.name for p in bot.uploads.iterdir()) == before  # nothing written, nothing gone
    assert sorted(bot.transcripts) == ["extra.txt", "talk.txt"]
    bot.add_transcript("more.txt", b"Host: When?\nAda: In the spring of 1931.\n")  # once it is free
    assert "more.txt" in bot.transcripts


def test_the_lock_timeout_is_a_setting_with_a_range():
    from qa_bot.errors import ConfigError

    assert Settings.from_env({"QA_BOT_LOCK_TIMEOUT": "2.5"}).lock_timeout == 2.5
    with pytest.raises(ConfigError, match="QA_BOT_LOCK_TIMEOUT"):
        Settings.from_env({"QA_BOT_LOCK_TIMEOUT": "-1"})


def test_the_lock_is_reentrant_in_a_thread_and_released_after(tmp_path):
    from qa_bot import index_lock

    with index_lock.hold(tmp_path, 0) as outer, index_lock.hold(tmp_path, 0) as inner:
        assert outer and inner
    script = HOLDER.replace("index_lock.hold(Path(sys.argv[2]), 5)", "index_lock.hold(Path(sys.argv[2]), 0)")
    done = subprocess.run([sys.executable, "-c", script, str(ROOT), str(tmp_path)], input="\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "held", done.stderr
    assert os.path.exists(tmp_path / ".lock")  # never deleted: see index_lock's docstring


# --- readers take no lock -----------------------------------------------------------------------


def test_a_write_keeps_the_generation_it_replaces_for_readers_and_sweeps_older_ones(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {"talk.txt": interview(5, 0)})
    index_dir = tmp_path / "index"

    def generation() -> set[str]:
        return named_files(QaBot.open(corpus, index_dir, Settings(), FakeEmbedder()).index.manifest.to_dict())

    first = generation()
    (corpus / "talk.txt").write_text(interview(5, 1), encoding="utf-8")
    second = generation()
    assert all((index_dir / name).exists() for name in first | second)  # a reader of the first reads on
    (corpus / "talk.txt").write_text(interview(5, 2), encoding="utf-8")
    third = generation()
    assert {p.name for p in index_dir.iterdir()} == second | third | {"manifest.json", ".lock"}


def test_a_reader_whose_generation_is_swept_mid_read_reads_the_new_one(tmp_path, monkeypatch):
    """A reader that has read the manifest, then two writes (the second sweeps the generation it
    named) before it opens the files: it reads the manifest again, and loads the newest index."""
    from qa_bot import index_files
    from qa_bot.manifest import FileEntry

    corpus = make_corpus(tmp_path / "corpus", {"talk.txt": interview(5, 0)})
    index_dir = tmp_path / "index"
    QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
    real, writes = index_files.check, []

    def check(folder: Path, item: FileEntry, *full: bool) -> Path:
        if not writes:  # the reader's first file: two writers go first
            writes.append(item.name)
            for trial in (1, 2):
                (corpus / "talk.txt").write_text(interview(5, trial), encoding="utf-8")
                QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
            assert not (index_dir / item.name).exists()
        return real(folder, item, *full)

    monkeypatch.setattr(index_files, "check", check)
    loaded = index_mod.load(index_dir)
    assert writes and loaded is not None
    assert any("Only trial 2." in chunk.text for chunk in loaded.chunks)


def test_a_folder_that_cannot_be_locked_is_written_but_nothing_in_it_swept(tmp_path, monkeypatch):
    """A file system without locks (flock fails with ENOLCK): the index is still saved, but no
    file is deleted, as it might be another writer's."""
    import errno
    import fcntl

    corpus = make_corpus(tmp_path / "corpus", {"talk.txt": interview(5, 0)})
    index_dir = tmp_path / "index"
    QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
    (index_dir / ".chunks-x.faiss.1234abcd.tmp").write_bytes(b"another writer at work")
    before = {p.name for p in index_dir.iterdir()}

    def flock(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", flock)
    for trial in (1, 2):
        (corpus / "talk.txt").write_text(interview(5, trial), encoding="utf-8")
        bot = QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
        assert bot.report.saved and bot.report.warnings == []
    assert before < {p.name for p in index_dir.iterdir()}  # every file still there
    assert index_mod.load(index_dir) is not None
