"""A first run says what it is doing: ``make run`` prints one line per slow step (a stand-in python
does the work here, so the test takes a second), and the page's status line says the model is
being prepared while it loads, never "0 passages"."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from qa_bot import page_events, page_state

# Stands in for .venv/bin/python: notes what it was asked and does the least of it.
FAKE_VENV_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
case "$*" in
  "-m qa_bot index") mkdir -p embeddings && echo '{}' > embeddings/manifest.json ;;
  "app.py") echo "qa_bot: serving http://127.0.0.1:7860 (Ctrl+C to stop; --share for a public link)" ;;
  "-m pytest -q") echo "1 passed in 0.01s" ;;
esac
"""
# Stands in for python3: ``-m venv DIR`` makes DIR/bin/python the stand-in above.
FAKE_PY = f"""#!{sys.executable}
import os, sys
assert sys.argv[1:3] == ["-m", "venv"], sys.argv
bin_dir = os.path.join(sys.argv[3], "bin")
os.makedirs(bin_dir, exist_ok=True)
with open(os.path.join(bin_dir, "python"), "w") as f:
    f.write({FAKE_VENV_PYTHON!r})
os.chmod(os.path.join(bin_dir, "python"), 0o755)
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with the project's Makefile and a python3 that makes stand-in virtualenvs."""
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / "fake-python3"
    fake.write_text(FAKE_PY)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def make(checkout: Path, target: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    done = subprocess.run(["make", "--no-print-directory", target, f"PY={checkout / 'fake-python3'}"],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


@pytest.mark.e2e
def test_make_run_says_what_each_first_run_step_does_then_only_serves(checkout):
    lines = make(checkout, "run")
    steps = [line for line in lines if line.startswith("qa_bot: ")]
    assert steps[0].startswith("qa_bot: installing dependencies into .venv (about 2 minutes")
    assert any(s.startswith("qa_bot: building the index of corpus/ (first run only)") for s in steps)
    assert steps[-1].startswith("qa_bot: serving http://127.0.0.1:7860")
    assert lines == steps, "every line says what happens, no bare commands"
    calls = (checkout / ".venv" / "bin" / "calls").read_text().splitlines()
    assert calls[-2:] == ["-m qa_bot index", "app.py"] and any("pip install" in c for c in calls)
    again = make(checkout, "run")
    assert again == [steps[-1]], "nothing to install or build the second time"


@pytest.mark.e2e
def test_make_test_output_stays_pytest_s(checkout):
    make(checkout, "run")
    assert [line for line in make(checkout, "test") if "qa_bot: " in line] == []
    assert "1 passed in 0.01s" in make(checkout, "test")


# ------------------------------------------------------------------------------ the page, loading
@pytest.fixture
def loading(tmp_path, monkeypatch):
    """The app's holder, its load held back until the test releases it; yields (holder, release)."""
    import threading

    from conftest import TALKS, FakeEmbedder, write_corpus

    import app

    previous = page_state.holder()
    holder = app.configure(write_corpus(tmp_path / "c", TALKS), tmp_path / "i", embedder=FakeEmbedder())
    gate = threading.Event()
    build = holder._build

    def held() -> None:
        gate.wait(30)
        build()

    monkeypatch.setattr(holder, "_build", held)
    holder.start()
    try:
        yield holder, gate.set
    finally:
        gate.set()
        page_state.reset(previous)


def test_the_status_says_the_model_is_being_prepared_never_0_passages():
    from qa_bot import startup

    first = startup.loading_html(0, 0, "Loading the model and the index", 3.2)
    assert "Preparing the model and the index (first run only)…" in first and "(3 s)" in first
    assert "passages" not in first
    assert "qa-status" not in first  # the class the browser tests wait on: loaded
    counting = startup.loading_html(120, 4000, "Embedding the transcripts", 12)
    assert "Embedding the transcripts: 120 of 4,000 passages" in counting
    assert startup.loading_html(desc="<b>x</b>", total=1).count("<b>") == 0  # text, never markup


def test_the_status_line_follows_the_load_then_shows_the_corpus(loading):

    holder, release = loading
    assert holder.loading and not holder.ready
    statuses = page_events.loading_status()
    first = next(statuses)
    assert "Preparing the model and the index (first run only)" in first and "0 passages" not in first
    holder.progress = (5, 20, "Embedding the transcripts")
    assert "5 of 20 passages" in next(statuses)
    release()
    rest = list(statuses)
    assert "2 transcripts" in rest[-1] and "Preparing" not in rest[-1]
    assert holder.ready and not holder.loading


def test_a_question_asked_while_loading_is_said_to_wait_then_answered(loading):
    import app

    _holder, release = loading
    notice = page_events.waiting_notice()
    assert "Waiting for the model to load" in notice and "queued" in notice
    reports: list[tuple] = []

    def progress(value, desc=None, **_):
        reports.append((value, desc))
        release()  # the load goes on once the question waits

    history, *_ = app.respond("Where does Alice live?", [], app.ALL, app.ALL, 3, progress=progress)
    assert reports and reports[0][0] is None  # a spinner while nothing counts: no "0 passages"
    assert "Lisbon" in history[-1]["content"]
    assert not isinstance(page_events.waiting_notice(), str)  # loaded: nothing to say (gr.skip)


def test_the_terminal_says_when_the_load_is_done(tmp_path, caplog):
    import logging

    from conftest import TALKS, FakeEmbedder, write_corpus

    from qa_bot.bot_loader import BotHolder

    holder = BotHolder(write_corpus(tmp_path / "c", TALKS), tmp_path / "i", embedder=FakeEmbedder())
    with caplog.at_level(logging.INFO, logger="qa_bot"):
        bot = holder.get()
    ready = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ready: ")]
    assert len(ready) == 1
    assert re.fullmatch(rf"ready: 2 transcripts, {len(bot.index.chunks)} passages, in \d+ s", ready[0])
