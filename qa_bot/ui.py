"""What the browser app shows, as Markdown and HTML strings built from a ``Result``.

Transcript text is data, never markup: every string that comes from a transcript or from the
user goes through ``esc`` (HTML) or ``md_escape`` (Markdown), in ``escaping.py``, before it
reaches the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import map_pins, player
from .answers import Answer, Result
from .escaping import esc, md_escape, one_line
from .media import Media

NO_REPLY = "not said in reply to a question"
# Questions about the default interview; one click each in the app.
EXAMPLES = (
    "Does Ivanov regret the fall of the USSR?",
    "Why should Russia help Kyrgyzstan?",
    "Is there radical recruiting in Central Asia?",
    "Why spend money abroad when Russia has its own problems?",
    "Does the U.S. help fight drug production in Afghanistan?",
)

def who(answer: Answer) -> str:
    return answer.speaker or "Narration"


def where(answer: Answer) -> str:
    """``line 9`` or ``at 00:01:02.500`` (with the line too when timed)."""
    place = f"line {answer.line}"
    return f"at {answer.timestamp}, {place}" if answer.timestamp else place


def relevance(answer: Answer) -> str:
    """``relevance 0.41``: the answer's score as every panel words it, so the numbers compare."""
    return f"relevance {answer.score:.2f}"


def _decimals(number: float) -> str:
    """``number`` with as many decimals as it has, from 2 to 4: the threshold 0.272 is not 0.27."""
    text = f"{number:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.partition(".")[2]))


# ----------------------------------------------------------------------------------------- chat
def chat_reply(result: Result, transcript: str | None = None, speaker: str | None = None,
               threshold: float | None = None, examples: Sequence[str] = EXAMPLES) -> str:
    """The assistant's message: the quote as a block quote, then who said it, replying to what, where;
    with no answer, ``examples`` (questions that do answer in this scope) to try instead."""
    top = result.top
    if result.no_answer or top is None:
        best = f" (best match: {relevance(top)}" if top else ""
        if top and threshold is not None:
            needed = _decimals(threshold)
            if float(f"{top.score:.2f}") >= float(needed):  # "0.27, below the 0.27 needed" misleads
                best = f" (best match: relevance {_decimals(top.score)}"
            best += f", below the {needed} needed"
        best += ")" if top else ""
        lines = [f"**No answer found.** Nothing in the transcripts answers this closely enough{best}, "
                 "so no weak match is shown as an answer."]
        if examples:
            lines.append("\nTry one of these:")
            lines += [f"- {md_escape(q)}" for q in examples]
        if result.answers:
            lines.append("\nThe closest passages are under *More quotes*, for you to judge.")
        return "\n".join(lines)
    quote = "\n".join(f"> {md_escape(line)}" if line.strip() else ">" for line in top.quote.splitlines())
    speaker_line = f"**{md_escape(who(top))}**"
    if top.role:
        speaker_line += f", {md_escape(top.role)}"
    lines = [quote, "", "— " + speaker_line + "  "]
    if top.in_reply_to:
        lines.append(f"in reply to: *“{md_escape(one_line(top.in_reply_to))}”*  ")
    else:
        lines.append(f"*{NO_REPLY}*  ")
    lines.append(f"{md_escape(top.title)} · {md_escape(top.transcript)}, {md_escape(where(top))}")
    more = len(result.answers) - 1
    if more:
        lines.append(f"\n{more} more supporting quote{'s' if more > 1 else ''} under *More quotes*.")
    return "\n".join(lines)


def user_message(question: str) -> str:
    return md_escape(question)


# -------------------------------------------------------------------------------------- panels
def highlight(context: str, context_start: int, spans: Sequence[tuple[int, int]]) -> str:
    """``context`` as escaped HTML with the character spans (absolute offsets) in ``<mark>``."""
    out, pos = [], 0
    for start, end in sorted(spans):
        a, b = max(start - context_start, pos), min(end - context_start, len(context))
        if a >= b:
            continue
        out += [esc(context[pos:a]), f"<mark>{esc(context[a:b])}</mark>"]
        pos = b
    out.append(esc(context[pos:]))
    return "".join(out)


def _attribution_html(a: Answer) -> str:
    role = f", {esc(a.role)}" if a.role else ""
    return (f'<div class="qa-where"><b>{esc(who(a))}</b>{role} · {esc(a.title)} · '
            f"{esc(a.transcript)}, {esc(where(a))} · chars {a.start}–{a.end}</div>")


def reply_html(a: Answer) -> str:
    """The question a quote replies to, shown beside every quote: a reply read without its
    question misleads ("Of course we should." reads as "yes" to any question)."""
    if not a.in_reply_to:
        return f'<div class="qa-reply qa-dim">{NO_REPLY}</div>'
    return (f'<div class="qa-reply"><span class="qa-label">In reply to:</span> '
            f"“{esc(one_line(a.in_reply_to))}”</div>")


def _turn_html(a: Answer) -> str:
    body = highlight(a.context, a.context_start, [(a.start, a.end)])
    return (f'{reply_html(a)}<div class="qa-turn"><span class="qa-label">{esc(who(a))}:</span> '
            f'<span class="qa-text">{body}</span></div>{_attribution_html(a)}')


def source_html(result: Result | None, transcripts: Mapping[str, Any],
                media: Mapping[str, Media] | None = None) -> str:
    """The whole answer turn with the quote highlighted, then the map of where the matches sit;
    with the recording's player when ``media`` (transcript name -> recording) has the answer's."""
    if result is None:
        return ('<div class="qa-panel qa-empty">Ask a question: the answer\'s whole turn shows here, '
                "with the quoted sentences highlighted.</div>")
    # Every passage is there, the answer's shown: a pin on the map shows its own (map_pins).
    shown = None if result.no_answer else 1
    recordings = media or {}

    def passage(a: Answer) -> str:  # the top answer's player loads at once; the others on play
        preload = "metadata" if a is result.top and not result.no_answer else "none"
        recording = recordings.get(a.transcript)
        playing = player.player_html(a, recording, preload)
        if playing:
            playing = f'<div class="qa-media">{playing}{player.play_button(a, recording)}</div>'
        return _turn_html(a) + playing

    passages = map_pins.passages_html(result.answers, shown, passage,
                                      lambda n, a: f"{n} · {relevance(a)}")
    if result.no_answer or result.top is None:
        return ('<div class="qa-panel qa-empty">No answer to show. The closest passages are under '
                "<i>More quotes</i>, or click a number on the map.</div>"
                f'<div class="qa-panel qa-source">{passages}</div>{map_html(result, transcripts)}')
    return f'<div class="qa-panel qa-source">{passages}</div>{map_html(result, transcripts)}'


def map_html(result: Result, transcripts: Mapping[str, Any]) -> str:
    """A bar per transcript: its turns (questions darker), and numbered pins where the matches sit."""
    names: list[str] = []
    for a in result.answers:
        if a.transcript not in names and a.transcript in transcripts:
            names.append(a.transcript)
    blocks = []
    for name in names:
        t = transcripts[name]
        total = max(len(t.text), 1)
        segs = []
        for turn, kind in zip(t.turns, map_pins.seg_kinds(t.turns), strict=True):
            left, width = 100 * turn.start / total, max(100 * (turn.end - turn.start) / total, 0.4)
            label = f"line {turn.line} · {turn.speaker or turn.kind}"
            segs.append(f'<span class="qa-seg qa-seg-{esc(kind)}" style="left:{left:.2f}%;'
                        f'width:{width:.2f}%" title="{esc(label)}"></span>')
        pins = []
        for n, a in enumerate(result.answers, 1):
            if a.transcript != name:
                continue
            left = 100 * (a.start + a.end) / 2 / total
            kind = "qa-pin-top" if n == 1 and not result.no_answer else ""
            attrs = map_pins.pin_attrs(n, n == 1 and not result.no_answer)
            pins.append(f'<span class="qa-pin {kind}" {attrs} style="left:{left:.2f}%" '
                        f'title="{n}: {esc(who(a))}, {esc(where(a))}, {relevance(a)}">{n}</span>')
        lines = t.text.count("\n") + 1
        blocks.append(f'<div class="qa-map" title="{esc(name)}"><div class="qa-map-head">{esc(t.title)} '
                      f'<span class="qa-dim">· {lines} lines · {len(t.turns)} turns</span></div>'
                      f'<div class="qa-map-bar">{"".join(segs)}{"".join(pins)}</div></div>')
    if not blocks:
        return ""
    legend = map_pins.legend_html("".join(blocks))
    return f'<div class="qa-panel">{"".join(blocks)}{legend}</div>'


def more_html(result: Result | None, media: Mapping[str, Media] | None = None) -> str:
    """The supporting passages (or, with no answer, the closest ones), each opening onto its context;
    a passage with a recording in ``media`` has a play button and its player."""
    if result is None:
        return '<div class="qa-panel qa-empty">Supporting passages show here after a question.</div>'
    rest = list(enumerate(result.answers, 1))
    if not result.no_answer:
        rest = rest[1:]
    if not rest:
        return '<div class="qa-panel qa-empty">No more quotes for this question.</div>'
    head = ("Closest passages (none is close enough to be an answer):" if result.no_answer
            else "More quotes supporting the answer:")
    items = []
    for n, a in rest:
        recording = (media or {}).get(a.transcript)
        items.append(
            f'<details class="qa-more"><summary><span class="qa-score">{n} · {relevance(a)}</span> '
            f"<b>{esc(who(a))}</b> <span class=\"qa-dim\">({esc(where(a))})</span> "
            f"{player.play_button(a, recording)}<br>"
            f'<span class="qa-quote">“{esc(one_line(a.quote))}”</span>{reply_html(a)}</summary>'
            # Opened, the item shows the quote once: highlighted in its turn, under its question
            # (CSS hides the summary's copy; the citation is in the Citation box for the answer).
            f'<div class="qa-ctx">{_turn_html(a)}'
            f"{player.player_html(a, recording, preload='none')}</div></details>")
    return f'<div class="qa-panel"><div class="qa-dim">{esc(head)}</div>{"".join(items)}</div>'


def citation(result: Result | None) -> str:
    """The answer's quote and attribution on one line, or "" when there is no answer."""
    if result is None or result.no_answer or result.top is None:
        return ""
    return result.top.citation()


def notice_html(message: str = "", kind: str = "error") -> str:
    """A message in the page (an error, or what just happened); "" shows nothing."""
    if not message:
        return ""
    return f'<div class="qa-notice qa-notice-{esc(kind)}" role="status">{esc(message)}</div>'


def status_html(transcripts: Mapping[str, Any], chunks: int, errors: Sequence[object],
                corpus: str, warnings: Sequence[str] = ()) -> str:
    """One line on what is loaded, plus the files that could not be parsed and what went wrong
    with the saved index (rebuilt, or served from memory because it could not be saved)."""
    text = (f"{len(transcripts)} transcript{'s' if len(transcripts) != 1 else ''}, {chunks} passages "
            f"indexed from <code>{esc(corpus)}</code>")
    skipped = "".join(f"<li>{esc(e)}</li>" for e in errors)
    if skipped:
        text += f'<div class="qa-notice qa-notice-error">Skipped:<ul>{skipped}</ul></div>'
    noted = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    if noted:
        text += f'<div class="qa-notice qa-notice-warning">Index:<ul>{noted}</ul></div>'
    return f'<div class="qa-status">{text}</div>'


CSS = """
.qa-panel { font-size: 15px; line-height: 1.5; padding: 4px 2px; }
.qa-empty, .qa-dim { color: var(--body-text-color-subdued); }
.qa-label { font-weight: 600; }
.qa-reply { margin-bottom: 6px; font-style: italic; }
.qa-turn { white-space: pre-wrap; }
.qa-turn mark, .qa-ctx mark { background: #ffe58a; color: #1f1f1f; padding: 0 1px; border-radius: 2px; }
.qa-where { margin-top: 6px; font-size: 13px; color: var(--body-text-color-subdued); }
.qa-map { margin-top: 14px; }
.qa-map-head { font-size: 13px; margin-bottom: 4px; }
.qa-map-bar { position: relative; height: 16px; margin: 14px 0 4px; border-radius: 3px;
  background: var(--background-fill-secondary); }
.qa-seg { position: absolute; top: 3px; height: 10px; border-radius: 2px; background: #c9d3e6; }
.qa-seg-question { background: #6f86b8; }
.qa-seg-title, .qa-seg-narration { background: #e4e4e4; }
.qa-pin { position: absolute; top: -13px; transform: translateX(-50%); min-width: 18px; height: 18px;
  border-radius: 9px; background: #8a8a8a; color: white; font-size: 11px; font-weight: 700;
  text-align: center; line-height: 18px; }
.qa-pin-top { background: #d9480f; z-index: 2; }
.qa-legend { font-size: 12px; margin-top: 8px; }
.qa-key { display: inline-block; width: 12px; height: 8px; border-radius: 2px; margin-left: 6px; }
.qa-key.qa-seg-speech { background: #c9d3e6; }
.qa-more { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px;
  margin: 8px 0; }
.qa-more summary { cursor: pointer; }
.qa-score { font-size: 12px; color: var(--body-text-color-subdued); }
.qa-ctx { margin-top: 8px; }
.qa-more summary .qa-reply { margin: 2px 0 0; font-size: 13px; }
.qa-more[open] summary .qa-quote, .qa-more[open] summary .qa-reply { display: none; }
.qa-notice { padding: 8px 12px; border-radius: 6px; margin: 4px 0; white-space: pre-wrap; }
.qa-notice-error { background: #fde8e8; color: #8a1c1c; border: 1px solid #f5b5b5; }
.qa-notice-ok { background: #e6f4ea; color: #1e5631; border: 1px solid #a8d5b5; }
.qa-notice-warning { background: #fff4e0; color: #6b4400; border: 1px solid #f0c98a; }
.qa-status { font-size: 13px; color: var(--body-text-color-subdued); }
/* The chat's "Answers" label floats over the log by default, so scrolled text passes under it:
   put it in the flow above the log, and let the log take the rest of the chat's height. */
#qa-chat [data-testid="block-label"] { position: static; align-self: flex-start; margin: 0 0 4px; }
#qa-chat [role="log"] { flex: 1 1 0; min-height: 0; height: auto; }
""" + map_pins.CSS + player.CSS  # each look kept beside its markup
