"""``python app.py`` as a user starts it: it serves the ask endpoint on the host and port of
QA_BOT_HOST/QA_BOT_PORT, listens on loopback only by default (read from /proc/net/tcp), prints a
startup line of its own (not gradio's "set `share=True`", which contradicts the --share flag), and
exits cleanly on bad flags."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import ALPHA, CORPUS, QUESTION, ROOT, TALKS, free_port, write_corpus

pytestmark = pytest.mark.e2e


def test_app_py_prints_its_own_startup_line_not_gradios(tmp_path):
    corpus = write_corpus(tmp_path / "c", TALKS)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus), "--index",
                             str(tmp_path / "idx"), "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    serving = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("qa_bot: serving"):
                serving.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        serving.wait(90)
        with socket.socket() as s:  # it says so once it does serve
            assert s.connect_ex(("127.0.0.1", port)) == 0, "\n".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        reader.join(5)
    out = "\n".join(lines)
    expected = f"qa_bot: serving http://127.0.0.1:{port} (Ctrl+C to stop; --share for a public link)"
    assert expected in lines, out
    assert "share=True" not in out and "Running on local URL" not in out, out


def test_served_by_python_app_py(tmp_path):
    """``python app.py --corpus ... --index ...`` with QA_BOT_HOST/QA_BOT_PORT serves the ask endpoint."""
    from gradio_client import Client

    corpus = tmp_path / "c"
    shutil.copytree(CORPUS, corpus)
    port = free_port()
    env = {**os.environ, "QA_BOT_HOST": "127.0.0.1", "QA_BOT_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus),
                             "--index", str(tmp_path / "idx")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        assert proc.poll() is None, proc.communicate()[0]
        got = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, 1, "", "", api_name="/ask")
        assert got["answers"][0]["speaker"] == "Viktor Ivanov"
        assert (tmp_path / "idx" / "manifest.json").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_bad_flags_exit_cleanly(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "--corpus", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "is not a folder" in out.stderr and "Traceback" not in out.stderr


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


def test_python_app_py_listens_on_loopback_only(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"alpha.txt": ALPHA})
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
