"""What the page shows, as Markdown and HTML strings built from a Result (ui.py): the chat's reply
(a block quote, then who said it in reply to what), the no-answer reply, the highlight, the
transcript map's question turns (drawn from what replies to what, whatever the format), and
transcript text that can only ever show as text: markup in speaker names, titles, notices and
before, inside and after the quoted words of long answers is escaped in every panel (the same in
a real browser: e2e/test_browser_escaping.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from helpers import NAMED, FakeEmbedder
from payloads import BROTHER, KEEPER, LANTERN, PAYLOADS, write_lantern

from qa_bot import ui
from qa_bot.answers import Answer, Result
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.parsers.corpus import parse


def segments(html: str) -> list[str]:
    return re.findall(r'class="qa-seg qa-seg-(\w+)"', html)


def result_for(transcript, turn) -> Result:
    answer = Answer(quote=turn.text, transcript=transcript.name, title=transcript.title,
                    speaker=turn.speaker, in_reply_to=None, start=turn.start, end=turn.end,
                    line=turn.line, timestamp=None, score=0.5, context=turn.text,
                    context_start=turn.start)
    return Result("Why rye?", False, (answer,))


def test_a_turn_that_is_replied_to_is_drawn_as_a_question():
    t = parse("bakery-chat.txt", NAMED.encode())
    asked = {turn.reply_to for turn in t.turns if turn.reply_to is not None}
    assert asked, "the parser links the reply to its question"
    html = ui.map_html(result_for(t, t.turns[-1]), {t.name: t})
    kinds = segments(html)
    assert len(kinds) == len(t.turns)
    for turn, kind in zip(t.turns, kinds, strict=True):
        assert (kind == "question") == (turn.index in asked or turn.kind == "question"), (turn, kind)
    assert "qa-seg-question" in html.split("qa-legend", 1)[1]  # the legend keys what is drawn


def test_a_map_with_no_question_does_not_promise_one():
    t = parse("monologue.txt", b"Jonas Weber: We opened eleven years ago in the old shoe shop.\n")
    html = ui.map_html(result_for(t, t.turns[-1]), {t.name: t})
    assert "question" not in segments(html) and "questions" not in html


MARKUP = '<script>alert(1)</script> and <img src=x onerror="alert(2)"> ${x} {{value}} **bold** [a](http://e.x)'


def answer(**kw) -> Answer:
    base = dict(quote="Yes.", transcript="t.txt", title="T", speaker="Ann", in_reply_to="Q?", start=10,
                end=14, line=3, timestamp=None, score=0.7, context="Well. Yes.", context_start=4,
                role=None)
    base.update(kw)
    return Answer(**base)


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


def test_status_and_notices_escape_names_errors_and_warnings():
    markup = " ".join(PAYLOADS)
    html = ui.status_html({"a": None}, 3, [markup], markup, [markup])
    html += ui.notice_html(markup)
    for payload in PAYLOADS:
        assert payload not in html or not set(payload) & set("<>\"'")
    assert "<img" not in html and "<svg" not in html and "<script" not in html and "<iframe" not in html


# What a payload that escaped its escaping would make: its elements, or handlers on the app's own.
INJECTED_TAGS = {"img", "svg", "script", "iframe", "u", "a"}


class Parsed(HTMLParser):
    """An HTML string as a browser's parser reads it: elements with their attributes, and text."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def injected(self) -> list[str]:
        return [f"<{tag} {' '.join(attrs)}>" for tag, attrs in self.elements
                if tag in INJECTED_TAGS or any(a.startswith("on") or a == "data-pwned" for a in attrs)]

    def titles(self, css_class: str) -> list[str]:
        return [attrs.get("title") or "" for _, attrs in self.elements
                if css_class in (attrs.get("class") or "").split()]


def test_markup_before_in_and_after_long_supporting_quotes_is_text_in_every_panel(tmp_path):
    """The HTML of Source (the answer's turn, and the supporting one a pin opens), More quotes and
    the map's labels, the chat's Markdown and the citation: the payloads are there as text, never
    as an element or an attribute, before, inside and after the highlighted quote."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_lantern(corpus)
    bot = QaBot.open(corpus, tmp_path / "index", Settings(), FakeEmbedder())
    result = bot.ask(LANTERN)
    assert not result.no_answer and len(result.answers) == 2
    top, support = result.answers
    assert (top.speaker, support.speaker) == (KEEPER, BROTHER)  # the brother's is a supporting quote
    for a in (top, support):  # long turns quoted by a window, with markup before, in and after it
        before, after = a.context[:a.start - a.context_start], a.context[a.end - a.context_start:]
        assert len(a.context) > 300 and all("<" in part for part in (before, a.quote, after)), a.quote

    source = Parsed(ui.source_html(result, bot.transcripts))
    more = Parsed(ui.more_html(result))
    for panel in (source, more):
        assert panel.injected() == []
    shown = {"source": "".join(source.text), "more": "".join(more.text)}
    for a in (top, support):  # Source holds both turns (a pin shows the second) whole, as text
        assert a.context in shown["source"] and ui.one_line(a.in_reply_to) in shown["source"]
    assert support.context in shown["more"] and ui.one_line(support.quote) in shown["more"]
    assert top.context not in shown["more"]  # More quotes lists the supporting quote, not the answer
    assert "<script>window.__pwned=20</script><u data-pwned>The keeper</u>" in shown["source"]  # title
    # The map's labels: every turn's speaker, and each pin's, in title attributes, as written.
    assert any(KEEPER in title for title in source.titles("qa-seg"))
    assert [t.split(",")[0] for t in source.titles("qa-pin")] == [f"1: {KEEPER}", f"2: {BROTHER}"]

    chat = ui.chat_reply(result)
    body = re.sub(r"(?m)^>", "", chat)  # the block quote's own marks
    assert not re.search(r"(?<!\\)[<>\[\]]", body), chat  # Markdown: every other <, >, [ and ] escaped
    assert ui.md_escape(top.quote.splitlines()[0]) in chat and ui.md_escape(KEEPER) in chat
    assert ui.citation(result).startswith(f"“{top.quote}” — {KEEPER}, <u data-pwned>keeper</u>")
