"""The command line in process, with FakeEmbedder (fast): index, ask (human, JSON, JSON Lines),
the errors a user gets, and terminal escapes shown escaped. ``python -m qa_bot`` end to end, with
the real model, is e2e/test_cli_process.py."""

from __future__ import annotations

import io
import json
import re

import pytest
from helpers import BROKEN_JSONL, check_shape, write_corpus

from qa_bot import cli


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


def test_cli_unknown_speaker_prints_one_line_and_exits_2(corpus, tmp_path, fake_model, capsys):
    common = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert cli.main(["index", *common], stdout=io.StringIO()) == 0
    capsys.readouterr()
    out = io.StringIO()
    code = cli.main(["ask", "--speaker", "Bob", "mangoes", *common], stdout=out)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and out.getvalue() == ""
    assert len(lines) == 1 and lines[0].startswith("qa-bot: error: speaker: no speaker named 'Bob'")
    assert "Alice" in lines[0]
