"""Settings: every value from flags or the environment is checked at start, by name and range."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT

from qa_bot.config import Settings
from qa_bot.errors import ConfigError


@pytest.mark.parametrize("name, value, says", [
    ("QA_BOT_NO_ANSWER_THRESHOLD", "nan", "finite"),
    ("QA_BOT_NO_ANSWER_THRESHOLD", "-inf", "finite"),
    ("QA_BOT_NO_ANSWER_THRESHOLD", "1.5", "from 0"),
    ("QA_BOT_MAX_QUESTION_CHARS", "-5", "from 1"),
    ("QA_BOT_MAX_QUESTION_CHARS", "0", "from 1"),
    ("QA_BOT_TOP_K", "0", "from 1"),
    ("QA_BOT_TOP_K", "abc", "expected int"),
    ("QA_BOT_BATCH_SIZE", "-1", "from 1"),
    ("QA_BOT_CHUNK_STRIDE", "3", "to 2"),
    ("QA_BOT_WEIGHT_DENSE", "-1", "from 0"),
    ("QA_BOT_WEIGHT_LEXICAL", "inf", "finite"),
    ("QA_BOT_WHOLE_TURN_CHARS", "0", "from 1"),
    ("QA_BOT_MAX_FILE_BYTES", "0", "at least 1"),
    ("QA_BOT_BACKEND", "cuda", "one of auto"),
    ("QA_BOT_THREADS", "-2", "from 0"),
    ("QA_BOT_DEVICE", "gpu", "cpu, cuda"),
])
def test_a_bad_setting_is_refused_naming_its_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value) and says in str(caught.value)


def test_flags_are_checked_as_the_environment_is() -> None:
    with pytest.raises(ConfigError, match="QA_BOT_NO_ANSWER_THRESHOLD"):
        Settings.from_env({}, no_answer_threshold=float("nan"))


def test_good_values_at_the_bounds_pass() -> None:
    s = Settings.from_env({"QA_BOT_NO_ANSWER_THRESHOLD": "0", "QA_BOT_TOP_K": "50",
                           "QA_BOT_WEIGHT_DENSE": "0", "QA_BOT_BACKEND": "torch", "QA_BOT_THREADS": "2",
                           "QA_BOT_DEVICE": "cuda:1"})
    assert (s.no_answer_threshold, s.top_k, s.backend, s.threads) == (0.0, 50, "torch", 2)


@pytest.mark.parametrize("command", [["-m", "qa_bot", "ask", "anything"], ["app.py", "--port", "1"]])
def test_cli_and_app_refuse_a_bad_setting_in_one_line(command: list[str], tmp_path) -> None:
    done = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
                               "QA_BOT_NO_ANSWER_THRESHOLD": "nan"}, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "QA_BOT_NO_ANSWER_THRESHOLD" in done.stderr and "finite" in done.stderr


def test_app_on_a_busy_port_is_one_line_not_a_traceback(tmp_path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["app.py", "--port", str(port), "--corpus", str(ROOT / "corpus"),
                "--index", str(tmp_path / "i")]
        done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"--port: cannot serve on 127.0.0.1:{port}" in done.stderr and "QA_BOT_PORT" in done.stderr


def test_a_host_that_is_not_this_machine_is_named_as_the_host(capsys) -> None:
    from qa_bot import serving

    # 192.0.2.1 is TEST-NET-1 (RFC 5737): documentation only, never an address of this machine.
    with pytest.raises(SystemExit) as stop:
        serving.check_port("192.0.2.1", 7860)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--host: cannot serve on 192.0.2.1" in err and "QA_BOT_HOST" in err and "--port" not in err


# --- the upload cap (QA_BOT_MAX_UPLOAD_MB); what it does to an upload is in test_uploads_big.py ---


def test_the_default_cap_is_the_one_bench_uploads_measured():
    import re

    page = (ROOT / "bench" / "UPLOADS.md").read_text(encoding="utf-8")
    measured = re.search(r"\*\*Cap: ([0-9.]+) MB\*\*", page)
    assert measured and Settings().max_upload_mb == float(measured.group(1))


def test_the_cap_is_read_from_its_variable_and_checked(monkeypatch):
    assert Settings.from_env({"QA_BOT_MAX_UPLOAD_MB": "2.5"}).max_upload_mb == 2.5
    assert Settings().max_upload_mb > 0
    for bad in ("0", "-1", "nan", "a lot", "1e9"):
        with pytest.raises(ConfigError, match="QA_BOT_MAX_UPLOAD_MB"):
            Settings.from_env({"QA_BOT_MAX_UPLOAD_MB": bad})
