"""Transcript text is data, never markup: the escaping every string from a transcript or from the
user goes through before it reaches the page, as HTML (``esc``) or Markdown (``md_escape``)."""

from __future__ import annotations

import html
import re

_TEMPLATE_CHARS = {"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"}
# Markdown that could turn text into markup: inline syntax anywhere, block syntax at a line's start,
# entities, and bare URLs (autolinks). Escaped with backslashes, so copied text stays readable.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~#])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_AUTOLINK = re.compile(r"(?i)(?<=\w)(:)(?=//)|\b(www)(\.)")
_MD_LINE_START = re.compile(r"(?m)^(\s*)([-+=]|\d+(?=[.)]))")


def esc(text: object) -> str:
    """HTML-escape ``text``, and template characters too, so that it can only ever show as text."""
    out = html.escape(str(text), quote=True)
    for char, entity in _TEMPLATE_CHARS.items():
        out = out.replace(char, entity)
    return out


def md_escape(text: object) -> str:
    """Escape ``text`` for Markdown: no emphasis, link, list, heading or raw HTML can come of it."""
    out = _MD_INLINE.sub(r"\\\1", str(text))
    out = _MD_ENTITY.sub(r"\\&", out)
    out = _MD_AUTOLINK.sub(lambda m: "\\:" if m.group(1) else f"{m.group(2)}\\.", out)
    out = _MD_LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit()
                                                     else m.group(2) + "\\"), out)
    return out


def one_line(text: str) -> str:
    return " ".join(text.split())
