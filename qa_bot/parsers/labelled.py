"""``Name: words`` lines (``Q:``/``A:``, ``INTERVIEWER:``, ``Dr. van Dijk:``), one turn a line."""

from __future__ import annotations

from pathlib import Path

from .base import Metadata, Turn, TurnKind
from .lines import label_at, line_spans, make_turn, speaker_for, speaker_labels


def parse_labelled(text: str, path: Path, meta: Metadata) -> list[Turn]:
    """``Name: words`` lines; a line with no label, or whose label names no speaker
    (``speaker_labels``), is narration."""
    lines = [(start, end) for start, end, line in line_spans(text) if line.strip()]
    labels = speaker_labels(label_at(text, start, end) for start, end in lines)
    turns = []
    for (start, end), match in zip(lines, labels, strict=True):
        if match:
            speaker, kind = speaker_for(match.group("label"), meta)
            turns.append(make_turn(text, kind, speaker, match.end(), end))
        else:
            turns.append(make_turn(text, TurnKind.NARRATION, None, start, end))
    return turns
