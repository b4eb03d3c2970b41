"""The command line: in-process with FakeEmbedder (fast), then end to end with the real model."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CORPUS, INTERVIEW, ROOT, check_shape, write_corpus

from qa_bot import cli

# Line 3 is not JSON.
BROKEN_JSONL = '{"speaker": "Ann", "text": "Fine words."}\n{"speaker": "Ann", "text": "More."}\n{oops\n'


# --- in process, with the fake embedder ------------------------------------------------------


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run(capsys, corpus, tmp_path, fake_model):
    def run(*args: str, stdin: str = "") -> Run:
        out = io.StringIO()
        code = cli.main([*args, "--corpus", str(corpus), "--index", str(tmp_path / "index")],
                        stdin=io.StringIO(stdin), stdout=out)
        return Run(code, out.getvalue(), capsys.readouterr().err)

    return run


def test_index_prints_counts_and_a_second_run_embeds_nothing(run, fake_model, tmp_path):
    first = run("index")
    assert first.code == 0, first.err
    embedded = fake_model[-1].calls
    assert embedded > 0
    assert first.out.startswith("2 transcripts, ")
    assert f"embedded {embedded} texts" in first.out
    assert "added 2" in first.out and "reused 0" in first.out
    assert str(tmp_path / "index") in first.out

    second = run("index")
    assert second.code == 0
    assert fake_model[-1].calls == 0
    assert "embedded 0 texts" in second.out and "reused 2" in second.out


def test_ask_json_has_the_documented_shape(run, corpus):
    done = run("ask", "--json", "What fruit does Alice love?")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    check_shape(data)
    assert data["question"] == "What fruit does Alice love?"
    assert 1 <= len(data["answers"]) <= 3
    top = data["answers"][0]
    assert top["quote"] == "I love mangoes. They are sweet and juicy."
    assert top["speaker"] == "Alice" and top["in_reply_to"] == "What is your favourite fruit?"
    text = (corpus / top["transcript"]).read_text(encoding="utf-8")
    assert text[top["start"]:top["end"]] == top["quote"]


def test_ask_top_k_and_transcript(run):
    one = json.loads(run("ask", "--json", "--top-k", "1", "river bread mangoes").out)
    assert len(one["answers"]) == 1
    scoped = json.loads(run("ask", "--json", "--transcript", "beta", "mangoes").out)
    assert scoped["answers"] and {a["transcript"] for a in scoped["answers"]} == {"beta.txt"}


def test_ask_human_output_shows_quote_speaker_and_question(run):
    done = run("ask", "What", "fruit", "does", "Alice", "love?")  # words joined into one question
    assert done.code == 0, done.err
    assert "“I love mangoes. They are sweet and juicy.”" in done.out
    assert "— Alice" in done.out
    assert "in reply to: “What is your favourite fruit?”" in done.out
    assert "alpha.txt, line 2" in done.out
    # Each quote shows its one score, worded as the app words it.
    data = json.loads(run("ask", "--json", "What fruit does Alice love?").out)
    shown = re.findall(r"relevance \d\.\d\d", done.out)
    assert shown == [f"relevance {a['score']:.2f}" for a in data["answers"]]
    assert "score" not in done.out


def test_jsonl_batch_answers_each_line_in_order_with_errors_per_line(run):
    lines = [
        {"question": "What fruit does Alice love?"},
        "{not json",
        {"question": "rye bread", "transcript": "beta.txt", "top_k": 1},
        ["a list, not an object"],
        {"question": "   "},
        {"question": "river", "transcript": "nowhere.txt"},
        {"transcript": "alpha.txt"},
        {"question": "river", "top_k": "two"},
        {"question": "river", "top_k": 0},
        {"question": "river", "speaker": ["Alice"]},
        {"question": "Where does Alice live?", "top_k": 2},
        "[" * 100_000 + "]" * 100_000,
        '{"question": "river", "top_k": ' + "9" * 5000 + "}",
        {"question": "mangoes"},
    ]
    stdin = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    stdin = stdin.replace("\n{not json", "\n\n{not json")  # a blank line is skipped, not an error
    done = run("ask", "--jsonl", stdin=stdin)
    assert "Traceback" not in done.err
    out = [json.loads(line) for line in done.out.splitlines()]
    assert len(out) == len(lines)
    good = {0, 2, 10, 13}
    for n, (request, result) in enumerate(zip(lines, out, strict=True)):
        if n in good:
            check_shape(result)
            assert result["question"] == request["question"]
        else:
            assert set(result) == {"error", "line"}, (n, result)
            assert result["error"].startswith(f"stdin:{result['line']}: ")
    assert out[0]["answers"][0]["speaker"] == "Alice"
    assert len(out[2]["answers"]) == 1 and out[2]["answers"][0]["transcript"] == "beta.txt"
    assert len(out[10]["answers"]) == 2
    assert [r["line"] for r in out if "error" in r] == [3, 5, 6, 7, 8, 9, 10, 11, 13, 14]
    assert "nested too deeply" in out[11]["error"] and "digits" in out[12]["error"]
    assert "nowhere.txt" in out[5]["error"]
    assert "empty" in out[4]["error"]
    assert "top_k" in out[7]["error"] and "top_k" in out[8]["error"]
    assert done.code == 1  # some lines failed


def test_jsonl_all_good_exits_0(run):
    done = run("ask", "--jsonl", stdin='{"question": "mangoes"}\n{"question": "river"}\n')
    assert done.code == 0
    assert [json.loads(x)["question"] for x in done.out.splitlines()] == ["mangoes", "river"]


def test_malformed_transcript_warns_once_with_file_and_line(run, corpus):
    (corpus / "broken.jsonl").write_text(BROKEN_JSONL, encoding="utf-8")
    done = run("index")
    assert done.out.startswith("2 transcripts, ")  # the others still load
    warnings = [line for line in done.err.splitlines() if "broken.jsonl" in line]
    assert len(warnings) == 1, done.err
    assert warnings[0].startswith("warning: ") and "broken.jsonl:3:" in warnings[0]
    asked = run("ask", "--json", "mangoes")
    assert asked.code == 0 and json.loads(asked.out)["answers"]
    assert "broken.jsonl:3:" in asked.err


@pytest.mark.parametrize(("args", "message"), [
    (["ask", "--transcript", "nowhere.txt", "mangoes"], "nowhere.txt"),
    (["ask", ""], "give a question"),
    (["ask", "  "], "give a question"),
    (["ask"], "give a question"),
    (["ask", "--top-k", "0", "mangoes"], "top_k"),
])
def test_user_errors_print_one_line_and_exit_2(run, args, message):
    assert run("index").code == 0  # built beforehand: no progress bar on stderr
    done = run(*args)
    assert done.code == 2
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith("qa-bot: error: ") and message in lines[0]
    assert done.out == ""


def test_missing_corpus_folder_is_a_user_error(capsys, tmp_path, fake_model):
    code = cli.main(["index", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "i")],
                    stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [f"qa-bot: error: {tmp_path / 'nowhere'}: corpus folder not found"]


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "ask" in out and "index" in out


# --- end to end: python -m qa_bot with the real model ----------------------------------------


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


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"


def test_terminal_escapes_in_transcripts_and_file_names_are_shown_escaped(capsys, tmp_path, fake_model):
    corpus = write_corpus(tmp_path / "evil", {
        f"talk{ESCAPES}.txt": "Ann: Where is the mango orchard?\n"
                              f"Bob: The mango orchard{ESCAPES} is by the river.\n",
        f"bad{ESCAPES}.srt": "1\n00:00:01,000 -> 00:00:02,000\nHi\n",
    })
    out = io.StringIO()
    code = cli.main(["ask", "mango orchard", "--corpus", str(corpus), "--index", str(tmp_path / "i")],
                    stdout=out)
    err = capsys.readouterr().err
    assert code == 0
    for text in (out.getvalue(), err):
        assert not any(c in text for c in "\x1b\x07\u202e"), repr(text)
    assert "orchard\\x1b]0;pwned\\x07\\x1b[2J\\u202e is by" in out.getvalue()
    assert "bad\\x1b]0;pwned" in err
    json_out = io.StringIO()
    cli.main(["ask", "--json", "mango orchard", "--corpus", str(corpus), "--index", str(tmp_path / "i")],
             stdout=json_out)
    quote = json.loads(json_out.getvalue())["answers"][0]["quote"]
    assert quote.endswith(f"orchard{ESCAPES} is by the river.")
