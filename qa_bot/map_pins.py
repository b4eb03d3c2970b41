"""Map pins that open their passage: clicking pin N on the transcript map shows quote N's whole
turn in the Source panel, in place of the one shown.

Every passage is rendered into the panel (``passages_html``), all but the shown one ``hidden``;
a click listener that ``gr.HTML`` runs once on load (``JS``, its ``js_on_load``) swaps them. The
listener sits on the component's root, which outlives each new answer's HTML, and reads only
``data-n`` numbers: transcript text never reaches the script.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .answers import Answer
from .parsers.base import Turn, TurnKind

JS = """
const open = (pin) => {
  const n = pin.dataset.n;
  element.querySelectorAll('.qa-passage').forEach((p) => { p.hidden = p.dataset.n !== n; });
  element.querySelectorAll('.qa-passage[hidden] .qa-player').forEach((p) => p.pause());
  element.querySelectorAll('.qa-pin').forEach((p) => {
    p.classList.toggle('qa-pin-open', p === pin);
    p.setAttribute('aria-pressed', String(p === pin));
  });
  const shown = element.querySelector('.qa-passage:not([hidden])');
  if (shown) shown.scrollIntoView({block: 'nearest'});
};
element.addEventListener('click', (event) => {
  const pin = event.target.closest('.qa-pin[data-n]');
  if (pin) open(pin);
});
element.addEventListener('keydown', (event) => {
  const pin = event.target.closest('.qa-pin[data-n]');
  if (pin && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); open(pin); }
});
"""

CSS = """
.qa-pin[data-n] { cursor: pointer; }
.qa-pin[data-n]:hover, .qa-pin[data-n]:focus-visible { outline: 2px solid #1f1f1f; z-index: 3; }
.qa-pin-open { box-shadow: 0 0 0 2px white, 0 0 0 4px #d9480f; z-index: 3; }
.qa-passage-head { font-size: 12px; margin-bottom: 4px; }
"""


def pin_attrs(n: int, shown: bool) -> str:
    """The attributes that make pin ``n`` a button opening passage ``n``."""
    return (f'data-n="{n}" role="button" tabindex="0" aria-pressed="{str(shown).lower()}" '
            f'aria-label="show quote {n} in Source"')


def passages_html(answers: Sequence[Answer], shown: int | None, render: Callable[[Answer], str],
                  head: Callable[[int, Answer], str]) -> str:
    """Every answer's passage, numbered as the pins are; only number ``shown`` (if any) visible."""
    return "".join(
        f'<div class="qa-passage" data-n="{n}"{"" if n == shown else " hidden"}>'
        f'<div class="qa-passage-head qa-dim">{head(n, a)}</div>{render(a)}</div>'
        for n, a in enumerate(answers, 1))


def seg_kinds(turns: Sequence[Turn]) -> list[str]:
    """How the map draws each turn: a turn that is asked (an interviewer's question, or one that
    another speaker's turn replies to) as a question, from the structure rather than a label, so
    that a `Name: text` talk whose host is not found still shows what was asked."""
    asked = {t.reply_to for t in turns if t.reply_to is not None}
    return [TurnKind.QUESTION if t.kind == TurnKind.QUESTION or t.index in asked else t.kind for t in turns]


def legend_html(drawn: str) -> str:
    """The map's key, naming questions only when some are drawn in ``drawn`` (the bars' HTML)."""
    asked = '<span class="qa-key qa-seg-question"></span> questions ' if "qa-seg-question" in drawn else ""
    return (f'<div class="qa-dim qa-legend">Where the matches sit: {asked}<span class="qa-key '
            'qa-seg-speech"></span> answers; numbers are the quotes in rank order.</div>')
