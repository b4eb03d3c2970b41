"""Deep links to an answer, and the scope an answer was searched in, for the browser app.

``/?q=…&transcript=…&speaker=…`` opens the app with that question asked in that scope; every
answer ends with a line holding its own such link ("link to this answer", copied on a click) and,
when a filter narrowed the search, a chip saying so with a one-click "search all".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from .escaping import esc

# Markdown that could still act inside the HTML we put in a chat message: the text between our
# tags is read as Markdown, so a transcript named "my_best_talk.txt" would turn italic.
_MD_SPECIAL = re.compile(r"([\\*_\[\]~|])")


@dataclass(frozen=True)
class Link:
    """A question and the scope it is asked in; "" means no question, or no filter."""

    question: str = ""
    transcript: str = ""
    speaker: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Link:
        """The link in a page's query string (``request.query_params``); unknown keys are ignored."""
        return cls(*(" ".join(str(params.get(key) or "").split()) for key in ("q", "transcript", "speaker")))

    def href(self) -> str:
        """The link relative to the page (``?q=…&transcript=…``): the browser makes it whole, so it
        holds whatever host and port the reader opened the app at."""
        fields = {"q": self.question, "transcript": self.transcript, "speaker": self.speaker}
        return "?" + urlencode({k: v for k, v in fields.items() if v}, quote_via=quote)

    def widened(self) -> Link:
        return Link(self.question)


def _text(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", esc(value))


def scope_words(transcript: str, speaker: str) -> str:
    """``bakery-chat.txt``, ``Jonas Weber's words`` or ``Jonas Weber's words in bakery-chat.txt``."""
    who = f"{speaker}’s words" if speaker else ""
    if who and transcript:
        return f"{who} in {transcript}"
    return who or transcript


def footer(link: Link) -> str:
    """The line that ends an answer in the chat: the scope chip when a filter was set, and the
    link to the answer. HTML inside the Markdown message; every value in it is escaped."""
    parts = []
    if link.transcript or link.speaker:
        scope = _text(scope_words(link.transcript, link.speaker))
        parts.append(f'<span class="qa-scope">searched only {scope}'
                     f' · <a class="qa-search-all" href="{esc(link.widened().href())}" '
                     f'title="Ask again over every transcript and speaker">search all</a></span>')
    parts.append(f'<a class="qa-link" href="{esc(link.href())}" title="Copy a link that opens the app '
                 f'with this question asked">link to this answer</a>')
    return "\n\n" + " · ".join(parts)


# Run once on page load. A click on "link to this answer" copies the link (made whole by the
# browser) instead of opening it; the clipboard API needs a secure context (https or loopback),
# so elsewhere the old copy command, and failing that a prompt the reader can copy from. A click on
# "search all" puts the question back in the box and presses the hidden button that clears the
# filters and asks again, in the page, keeping the chat. Without script both links still open
# the app with the question asked.
JS = """
() => {
  if (window.__qaLinks) return;
  window.__qaLinks = true;
  const copy = async (text) => {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* insecure context */ }
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    let done = false;
    try { done = document.execCommand('copy'); } catch (e) { done = false; }
    area.remove();
    return done;
  };
  document.addEventListener('click', async (event) => {
    const link = event.target.closest && event.target.closest('a.qa-link, a.qa-search-all');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    if (link.classList.contains('qa-link')) {
      if (await copy(link.href)) {
        link.classList.add('qa-copied');
        setTimeout(() => link.classList.remove('qa-copied'), 2000);
      } else {
        window.prompt('Copy this link to the answer:', link.href);
      }
      return;
    }
    const question = new URL(link.href).searchParams.get('q') || '';
    const box = document.querySelector('#qa-question textarea');
    box.value = question;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    document.querySelector('#qa-search-all').click();
  }, true);
}
"""

CSS = """
.qa-scope { display: inline-block; font-size: 13px; padding: 1px 8px; border-radius: 10px;
  background: #fff4e0; color: #6b4400; border: 1px solid #f0c98a; }
a.qa-link, a.qa-search-all { font-size: 13px; cursor: pointer; }
a.qa-copied::after { content: " ✓ copied"; color: #1e5631; }
"""
