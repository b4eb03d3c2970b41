"""Sentences by pysbd, as exact spans of the source: the interview parser reads them to find the
interviewer's question, the chunker groups them into windows.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# The longest span returned: a longer sentence (unpunctuated speech) is cut at word breaks, so
# that a quote stays short (``chunking.MAX_CHUNK_CHARS`` is this same number).
MAX_SENTENCE_CHARS = 400
_WORD_BREAK = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def sentence_spans(text: str, start: int = 0, end: int | None = None,
                   max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]``, white space trimmed, in order.

    pysbd finds the boundaries; each sentence is then located in the source right after the
    previous one, so the spans are exact even where pysbd's own character spans drift, and no
    text is ever skipped: should pysbd alter a sentence, the rest of the region is taken as one
    (then cut to ``max_chars``). A sentence longer than
    ``max_chars`` (unpunctuated speech) is cut at word breaks so that a quote stays short.

    Args:
        text: the whole source text.
        start: where the region starts.
        end: where it ends (default: the end of the text).
        max_chars: longest span returned.

    Returns:
        (start, end) offsets into ``text``, sorted, non-overlapping, never empty.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    end = len(text) if end is None else end
    region = text[start:end]
    if not region.strip():
        return []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segment(region):
        stripped = piece.strip()
        if not stripped:
            continue
        at = cursor
        while at < len(region) and region[at].isspace():
            at += 1
        if not region.startswith(stripped, at):
            break  # pysbd altered the text: the tail below takes the rest
        spans.extend(_cap(start + at, start + at + len(stripped), text, max_chars))
        cursor = at + len(stripped)
    tail = region[cursor:].strip()
    if tail:
        at = region.find(tail, cursor)
        spans.extend(_cap(start + at, start + at + len(tail), text, max_chars))
    return spans


def _segment(region: str) -> list[str]:
    try:
        return list(_segmenter().segment(region))
    except Exception:  # pysbd has crashed on odd input; then the whole region is one sentence
        return [region]


def _cap(start: int, end: int, text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut a too-long sentence into pieces of at most ``max_chars`` at white space."""
    pieces = []
    while end - start > max_chars:
        cut = start + max_chars
        breaks = [m.start() for m in _WORD_BREAK.finditer(text, start + max_chars // 2, cut)]
        if breaks:
            cut = breaks[-1]
        # The run of white space may have begun before the search did: end on a word. ``start``
        # is never white space, so the cut stays past it and the loop moves on.
        while text[cut - 1].isspace():
            cut -= 1
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces
