"""Which format a file is, from its extension and, for text, its content; and the parser of each
format (``PARSERS``)."""

from __future__ import annotations

import json
from pathlib import Path

from .base import LINE_BREAK, Parser, load_json
from .json_turns import parse_json, parse_jsonl
from .labelled import parse_labelled
from .lines import block_spans, label_at, line_spans
from .prose import parse_interview, parse_plain, question_end
from .subtitles import parse_srt, parse_vtt

# The extensions of transcript files, and the format each one fixes (None: text, read to tell).
EXTENSIONS = {".txt": None, ".md": None, ".srt": "srt", ".vtt": "vtt", ".json": "json",
              ".jsonl": "jsonl", ".ndjson": "jsonl"}


def looks_like_srt(text: str) -> bool:
    head = [ln for _, _, ln in line_spans(text.lstrip())][:3]
    return len(head) >= 2 and head[0].strip().isdigit() and "-->" in head[1]


def sniff_json(text: str) -> str | None:
    """The format of text that parses as JSON or JSON Lines; None for any other text, so that
    a transcript opening with "[Music]" stays text."""
    if not text.lstrip().startswith(("[", "{")):
        return None
    try:
        data = load_json(text)
    except json.JSONDecodeError:
        pass
    else:  # one object on one line, with no "turns", is a JSON Lines file of one turn
        one_record = isinstance(data, dict) and "turns" not in data
        return "jsonl" if one_record and not LINE_BREAK.search(text.strip()) else "json"
    try:
        records = [load_json(ln) for _, _, ln in line_spans(text) if ln.strip()]
    except json.JSONDecodeError:
        return None
    return "jsonl" if all(isinstance(r, dict) for r in records) else None


def sniff_text(text: str) -> str:
    """Labelled lines, a question-and-answer interview, or plain prose."""
    lines = [(s, e) for s, e, ln in line_spans(text) if ln.strip()]
    if not lines:
        return "plain"
    labelled = sum(1 for s, e in lines if label_at(text, s, e))
    # Stage directions in brackets or parentheses are narration, whatever the share of them.
    directions = sum(1 for s, e in lines if text[s:e].lstrip().startswith(("[", "(")))
    if labelled >= 2 and labelled >= 0.5 * (len(lines) - directions):
        return "labelled"
    paragraphs = list(block_spans(text))
    asked = sum(1 for s, e in paragraphs if question_end(text, s, e) is not None)
    return "interview" if asked >= 1 and asked >= 0.3 * len(paragraphs) else "plain"


PARSERS: dict[str, Parser] = {
    "interview": parse_interview, "labelled": parse_labelled, "plain": parse_plain,
    "srt": parse_srt, "vtt": parse_vtt, "json": parse_json, "jsonl": parse_jsonl,
}


def detect_format(name: str, text: str) -> str:
    """Pick a format from the file's extension and, for plain text, its content."""
    by_ext = EXTENSIONS.get(Path(name).suffix.lower())
    if by_ext:
        return by_ext
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if looks_like_srt(text):
        return "srt"
    # A ".txt" file may open with "[Scene: ...]" or "[Music]": it is JSON only if it parses.
    return sniff_json(text) or sniff_text(text)
