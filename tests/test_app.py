"""The browser app, driven the way a client drives it: ``gradio_client`` against the launched app.

One app is launched for the module over a temporary copy of the corpus (index in a temporary
folder, the real model); the tests share it, so later tests also see the uploaded transcripts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa_bot import page_state, ui, upload_handlers
from qa_bot.answers import Answer, Result

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTION = "Does Ivanov regret the fall of the USSR?"
REPLY_TO = "Do you regret that the USSR fell apart?"
MARKUP = '<script>alert(1)</script> and <img src=x onerror="alert(2)"> ${x} {{value}} **bold** [a](http://e.x)'

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory, real_embedder):
    """The app launched in this process over a copy of corpus/; yields (url, corpus folder)."""
    import app

    base = tmp_path_factory.mktemp("app")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    app.configure(corpus, base / "index", embedder=real_embedder)
    port = free_port()
    app.serve(app.demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", corpus
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[0], verbose=False)


def answer(**kw) -> Answer:
    base = dict(quote="Yes.", transcript="t.txt", title="T", speaker="Ann", in_reply_to="Q?", start=10,
                end=14, line=3, timestamp=None, score=0.7, context="Well. Yes.", context_start=4,
                role=None)
    base.update(kw)
    return Answer(**base)


# ---------------------------------------------------------------------------------------- ui.py
def test_markdown_escape_leaves_no_markup():
    out = ui.md_escape(MARKUP)
    assert not re.search(r"(?<!\\)[<>*\[\]]", out)
    assert "\\<script\\>" in out and "\\*\\*bold\\*\\*" in out and "http\\://" in out
    blocks = "1. one\n- two\n# three\nA &amp; B & C"
    assert ui.md_escape(blocks) == "1\\. one\n\\- two\n\\# three\nA \\&amp; B & C"
    assert ui.md_escape("It cost $20, not 1980. Fine!") == "It cost $20, not 1980. Fine!"


def test_html_escape_leaves_no_markup_or_template():
    out = ui.esc(MARKUP)
    assert not any(c in out for c in "<>{}$`\"")
    assert "&lt;script&gt;" in out


def test_chat_reply_is_a_block_quote_then_attribution():
    a = answer(quote=MARKUP, context=MARKUP, start=4, end=4 + len(MARKUP), role="mayor")
    text = ui.chat_reply(Result("q", False, (a,)))
    first = text.splitlines()[0]
    assert first.startswith("> \\<script\\>") and not re.search(r"(?<!\\)<", text)
    assert "**Ann**, mayor" in text and "in reply to: *“Q?”*" in text and "line 3" in text
    source = ui.source_html(Result("q", False, (a,)), {})
    assert "<mark>&lt;script&gt;" in source and "<script>" not in source


def test_no_answer_reply_offers_examples_not_a_weak_match():
    weak = answer(score=0.1)
    text = ui.chat_reply(Result("q", True, (weak,)), threshold=0.4)
    assert text.startswith("**No answer found.**") and "relevance 0.10, below the 0.40" in text
    assert all(ui.md_escape(q) in text for q in ui.EXAMPLES)
    assert "Yes." not in text and ui.citation(Result("q", True, (weak,))) == ""
    assert "Closest passages" in ui.more_html(Result("q", True, (weak,)))
    # The threshold as precise as it is set, so that the best match never reads as reaching it.
    assert "relevance 0.27, below the 0.272 needed" in ui.chat_reply(
        Result("q", True, (answer(score=0.2675),)), threshold=0.272)
    assert "relevance 0.2996, below the 0.30 needed" in ui.chat_reply(
        Result("q", True, (answer(score=0.2996),)), threshold=0.3)


def test_highlight_marks_only_the_quote():
    assert ui.highlight("ab <c> de", 100, [(103, 106)]) == "ab <mark>&lt;c&gt;</mark> de"


def test_importing_the_app_is_cheap():
    heavy = "('torch', 'sentence_transformers', 'faiss', 'qa_bot.bot')"
    code = (f"import sys, app; from qa_bot import page_state; assert page_state.holder()._bot is None; "
            f"print([m for m in {heavy} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ the launched app
def test_ask_endpoint_returns_the_cli_json(client):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/ask"]
    assert [p["parameter_name"] for p in info["parameters"]] == ["question", "top_k", "transcript", "speaker"]
    got = client.predict(QUESTION, 3, "", "", api_name="/ask")
    expected = page_state.holder().get().ask(QUESTION, 3).to_dict()
    assert got == json.loads(json.dumps(expected))
    assert not got["no_answer"] and got["answers"][0]["speaker"] == "Viktor Ivanov"
    assert REPLY_TO in got["answers"][0]["in_reply_to"]


def test_ask_endpoint_filters_and_errors(client):
    from gradio_client.exceptions import AppError

    got = client.predict(question=QUESTION, top_k=2, transcript="viktor-ivanov-interview",
                         speaker="Viktor Ivanov", api_name="/ask")
    assert len(got["answers"]) == 2 and {a["speaker"] for a in got["answers"]} == {"Viktor Ivanov"}
    with pytest.raises(AppError, match="question: it is empty"):
        client.predict("   ", 3, "", "", api_name="/ask")
    with pytest.raises(AppError, match="no transcript named"):
        client.predict(QUESTION, 3, "nope", "", api_name="/ask")
    assert client.predict(QUESTION, 1, "", "", api_name="/ask")["answers"]  # still up


@pytest.mark.parametrize("args, field", [
    ((QUESTION, 3, ["viktor-ivanov-interview"], ""), "transcript"),
    ((QUESTION, 3, "", 5), "speaker"),
    ((QUESTION, "abc", "", ""), "top_k"),
    ((QUESTION, 2.5, "", ""), "top_k"),
    ((QUESTION, True, "", ""), "top_k"),
])
def test_api_wrong_types_are_one_clear_error_naming_the_field(client, args, field):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name="/ask")
    assert str(caught.value).startswith(f"{field}: ")


def test_upload_is_indexed_and_searchable_at_once(client, served, tmp_path):
    from gradio_client import handle_file

    lines = [{"speaker": "Interviewer", "text": "Where do the cranes spend the winter?", "start": 1.0},
             {"speaker": "Alice Moreau", "text": "The cranes winter in the marshes of southern Spain, "
              "near the lagoons.", "start": 4.5}]
    path = tmp_path / "cranes.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    added = client.predict(handle_file(path), api_name="/add_transcript")
    assert added["transcript"] == "cranes.jsonl" and added["turns"] == 2
    assert "Alice Moreau" in added["speakers"] and added["passages"] >= 1
    assert (served[1].parent / "index" / "uploads" / "cranes.jsonl").read_bytes() == path.read_bytes()
    assert not (served[1] / "cranes.jsonl").exists()  # uploads stay out of the corpus folder
    got = client.predict("Where do cranes spend the winter?", 3, "cranes", "", api_name="/ask")
    top = got["answers"][0]
    assert top["speaker"] == "Alice Moreau" and "southern Spain" in top["quote"]
    assert top["in_reply_to"] == lines[0]["text"] and top["timestamp"] == "00:00:04.500"


def test_bad_upload_shows_the_parser_error_and_changes_nothing(client, served, tmp_path):
    before = sorted(p.name for p in served[1].iterdir())
    names = set(page_state.holder().get().transcripts)
    from gradio_client import handle_file

    bad = tmp_path / "broken.json"
    bad.write_text('{"turns": [', encoding="utf-8")
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(handle_file(bad), api_name="/add_transcript")
    assert "Could not add broken.json; nothing was changed" in str(caught.value)
    assert "broken.json:1: invalid JSON" in str(caught.value)
    notice, *_ = upload_handlers.add_transcript(str(bad))  # the page's upload box says the same in a notice
    assert "broken.json:1: invalid JSON" in notice and 'qa-notice-error' in notice
    assert sorted(p.name for p in served[1].iterdir()) == before
    assert set(page_state.holder().get().transcripts) == names
    assert client.predict(QUESTION, 1, "", "", api_name="/ask")["answers"]  # still up


def test_chat_turns_keep_history_and_fill_the_panels(served):
    import app

    history, box, source, more, cite, notice = app.respond(QUESTION, [], app.ALL, app.ALL, 3)
    assert box == "" and notice == "" and len(history) == 2
    reply = history[1]["content"]
    top = page_state.holder().get().ask(QUESTION).top  # what the page must show, whichever sentences
    assert top is not None and top.line == 9 and top.speaker == "Viktor Ivanov"
    start = top.quote[:30]
    assert reply.startswith(f"> {start}") and "**Viktor Ivanov**" in reply
    assert "in reply to:" in reply and "Do you regret that the USSR fell apart?" in reply
    assert f"<mark>{start}" in source and 'class="qa-pin qa-pin-top"' in source
    assert "<details" in more and "relevance" in more
    assert cite.startswith(f"“{start}") and "— Viktor Ivanov" in cite
    history2, *_ = app.respond("Why help Kyrgyzstan?", history, app.ALL, app.ALL, 3)
    assert history2[:2] == history and len(history2) == 4


def test_chat_no_answer_and_empty_question(served):
    import app

    history, _, source, _, cite, _ = app.respond("What is the recipe for chocolate cake?", [],
                                                 app.ALL, app.ALL, 3)
    assert history[1]["content"].startswith("**No answer found.**") and cite == ""
    assert "No answer to show" in source
    history, _, *_, notice = app.respond("  ", [{"role": "user", "content": "x"}], app.ALL, app.ALL, 3)
    assert len(history) == 1 and "Type a question first" in notice


# A second transcript that also speaks of the Soviet Union's fall, less closely than Ivanov does:
# over everything QUESTION is his, narrowed to her transcript or to her it is hers.
MARKET = ("Interviewer: Do you miss the Soviet Union?\n"
          "Aigul Sadykova: No, I do not miss the Soviet Union. Its fall gave Kyrgyzstan a voice of its "
          "own, and my stall in the Osh bazaar is mine.\n"
          "Interviewer: What do you sell?\n"
          "Aigul Sadykova: Dried apricots, walnuts and honey from the Issyk-Kul valley.\n")


def text_of(message: dict) -> str:
    """A chat message's text, as the page holds it (a string) or as the API sends it (parts)."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part["text"] for part in content)


def test_the_chat_and_the_api_search_only_the_chosen_transcript_and_speaker(client, tmp_path):
    """With two transcripts the filters change the answer: the chat (``respond``) and ``/ask``
    quote only the chosen transcript or speaker. (Over the wire ``/respond`` takes only "all":
    its filters are dropdowns whose choices a page fills on load; the browser tests drive them.)"""
    from gradio_client import handle_file

    import app

    path = tmp_path / "bishkek-market.txt"
    path.write_text(MARKET, encoding="utf-8")
    client.predict(handle_file(path), api_name="/add_transcript")
    try:
        for history, *_ in (app.respond(QUESTION, [], app.ALL, app.ALL, 3),
                            client.predict(QUESTION, [], app.ALL, app.ALL, 3, api_name="/respond")):
            assert "**Viktor Ivanov**" in text_of(history[-1])  # unfiltered, the answer is his
        top = client.predict(QUESTION, 3, "", "", api_name="/ask")["answers"][0]
        assert top["speaker"] == "Viktor Ivanov"
        # The page's filters ("*" is all) and the API's ("" is all), as each is written.
        for transcript, speaker, scope in [("bishkek-market.txt", app.ALL, ("bishkek-market", "")),
                                           (app.ALL, "Aigul Sadykova", ("", "aigul sadykova")),
                                           ("bishkek-market.txt", "Aigul Sadykova",
                                            ("bishkek-market.txt", "Aigul Sadykova"))]:
            history, _, source, more, cite, notice = app.respond(QUESTION, [], transcript, speaker, 3)
            reply = text_of(history[-1])
            assert reply.startswith("> No, I do not miss the Soviet Union"), reply
            assert "**Aigul Sadykova**" in reply and "Viktor Ivanov" not in reply + source + more
            assert "Aigul Sadykova" in more and cite.endswith("(bishkek-market.txt, line 2)")
            assert notice == ""
            got = client.predict(QUESTION, 3, *scope, api_name="/ask")
            assert {(a["transcript"], a["speaker"]) for a in got["answers"]} == \
                {("bishkek-market.txt", "Aigul Sadykova")}
    finally:
        client.predict("bishkek-market.txt", api_name="/remove_transcript")
    assert "bishkek-market.txt" not in page_state.holder().get().transcripts


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


def test_a_narrowed_no_answer_says_its_scope_once(served) -> None:
    """The chip under the reply names the scope; the reply does not say it a second time."""
    import app

    history, *_ = app.respond("What is the boiling point of mercury in kelvin?", [],
                              "viktor-ivanov-interview.txt", app.ALL)
    reply = history[-1]["content"]
    assert "No answer found" in reply
    assert reply.lower().count("searched only") == 1
