"""A first run says what it is doing: ``make run`` prints one line per slow step (a stand-in python
does the work here, so the test takes a second), and ``make test``'s output stays pytest's."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

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
