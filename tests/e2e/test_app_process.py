"""What the app says while it starts: one line of its own in the terminal (not gradio's "set
`share=True`", which contradicts the --share flag), and a page that says the model is being
prepared rather than "0 passages"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest
from helpers import ROOT, TALKS, free_port, write_corpus


def test_the_startup_line_names_the_address_and_how_to_stop_and_share():
    from qa_bot import startup

    line = startup.serving_line("http://127.0.0.1:7860/", None)
    assert line == "qa_bot: serving http://127.0.0.1:7860 (Ctrl+C to stop; --share for a public link)"
    shared = startup.serving_line("http://127.0.0.1:7860/", "https://abc.gradio.live")
    assert "https://abc.gradio.live" in shared and "--share for" not in shared and "Ctrl+C" in shared


@pytest.mark.e2e
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
