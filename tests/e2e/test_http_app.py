"""The browser app, driven the way a client drives it: ``gradio_client`` against the launched app.

One app is launched for the module over a temporary copy of the corpus (index in a temporary
folder, the real model: e2e/conftest.py's ``corpus_app``); the tests share it, so later tests also
see the uploaded transcripts. The page's strings (ui.py) are tested in unit/test_ui.py, ``python
app.py`` in e2e/test_app_process.py.
"""

from __future__ import annotations

import json

import pytest
from helpers import MARKET, QUESTION, REPLY_TO

from qa_bot import page_state, upload_handlers

pytestmark = pytest.mark.e2e


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
    assert (served.index / "uploads" / "cranes.jsonl").read_bytes() == path.read_bytes()
    assert not (served.corpus / "cranes.jsonl").exists()  # uploads stay out of the corpus folder
    got = client.predict("Where do cranes spend the winter?", 3, "cranes", "", api_name="/ask")
    top = got["answers"][0]
    assert top["speaker"] == "Alice Moreau" and "southern Spain" in top["quote"]
    assert top["in_reply_to"] == lines[0]["text"] and top["timestamp"] == "00:00:04.500"


def test_bad_upload_shows_the_parser_error_and_changes_nothing(client, served, tmp_path):
    before = sorted(p.name for p in served.corpus.iterdir())
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
    assert sorted(p.name for p in served.corpus.iterdir()) == before
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


def test_a_narrowed_no_answer_says_its_scope_once(served) -> None:
    """The chip under the reply names the scope; the reply does not say it a second time."""
    import app

    history, *_ = app.respond("What is the boiling point of mercury in kelvin?", [],
                              "viktor-ivanov-interview.txt", app.ALL)
    reply = history[-1]["content"]
    assert "No answer found" in reply
    assert reply.lower().count("searched only") == 1
