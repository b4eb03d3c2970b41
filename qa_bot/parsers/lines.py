"""What every format's parser shares: lines and blocks with their offsets, ``Name:`` labels and
the speakers they name, and turns cut from spans of the decoded text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from .base import LINE_BREAK, Metadata, Turn, TurnKind, line_index

# "Name: words" — a name of at most five words (Q and A among them) starting with a letter that
# ``label_at`` checks is a capital or of a script without case ("Émile", "李明"). No "^": ``match``
# anchors at its ``pos``, where a "^" would only match at the start of the text, never in a cue.
LABEL = re.compile(r"[ \t]*(?P<label>[^\W\d_][\w.'’&-]*(?:[ \t]+[\w.'’&-]+){0,4})[ \t]*:[ \t]+(?=\S)")
INTERVIEWER_LABELS = {"q", "interviewer", "question", "host", "moderator"}
INTERVIEWEE_LABELS = {"a", "answer", "interviewee", "guest"}


def make_turn(text: str, kind: TurnKind, speaker: str | None, start: int, end: int, **extra: object) -> Turn:
    # Trim white space so that a turn's text is exactly its words, still a slice of the source.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Turn(index=-1, kind=kind, speaker=speaker, text=text[start:end], start=start, end=end,
                line=line_index(text).line_of(start), **extra)  # type: ignore[arg-type]


def line_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, text) of each line of ``text[start:end]``, the line break left out.

    Lines break where ``LineIndex`` counts them (CRLF, LF, lone CR), not at every character
    ``str.splitlines`` breaks at (U+2028, form feed...), so that line numbers agree.
    """
    end = len(text) if end is None else end
    for match in LINE_BREAK.finditer(text, start, end):
        yield start, match.start(), text[start:match.start()]
        start = match.end()
    if start < end:
        yield start, end, text[start:end]


def block_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of blank-line-separated blocks (paragraphs, cues)."""
    block_start: int | None = None
    block_end = 0
    for start, end, line in line_spans(text):
        if line.strip():
            if block_start is None:
                block_start = start
            block_end = end
        elif block_start is not None:
            yield block_start, block_end
            block_start = None
    if block_start is not None:
        yield block_start, block_end


def label_at(text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
    """The ``Name:`` label opening ``text[pos:endpos]``, if any; a lower-case word is no name."""
    match = LABEL.match(text, pos, len(text) if endpos is None else endpos)
    return match if match and not match.group("label")[0].islower() else None


# Lower-case words that may stand inside a name ("Voice of God", "Ludwig van Beethoven").
PARTICLES = {"and", "&", "of", "the", "de", "da", "del", "der", "den", "di", "du", "la", "le",
             "van", "von", "y", "bin", "al", "el", "ibn", "dos", "das", "do", "zu", "ten", "ter"}


def name_like(label: str) -> bool:
    """Whether a label reads as a name: no lower-case word but the particles of names."""
    return all(not word[0].islower() or word in PARTICLES for word in label.split())


def speaker_labels(matches: Iterable[re.Match[str] | None]) -> list[re.Match[str] | None]:
    """The labels of a file's lines (``label_at`` of each, in order) that name speakers.

    A label that does not read as a name ("The reason is simple: money.") is a sentence with a
    colon, so it is dropped, unless the same label opens other lines too ("Woman on phone:"):
    a quote is never put in the mouth of a speaker who is not one.
    """
    found = list(matches)
    uses = Counter(m.group("label") for m in found if m)
    return [m if m and (name_like(m.group("label")) or uses[m.group("label")] > 1) else None
            for m in found]


def speaker_for(label: str, meta: Metadata) -> tuple[str, TurnKind]:
    """Map a label to (speaker name, kind): interviewer labels ask, everyone else speaks."""
    low = label.lower()
    if low in INTERVIEWER_LABELS or (meta.interviewer and low == meta.interviewer.lower()):
        return (meta.interviewer or "Interviewer"), TurnKind.QUESTION
    if low in INTERVIEWEE_LABELS:
        return (meta.interviewee or "Interviewee"), TurnKind.SPEECH
    # "Ivanov:" and "VIKTOR IVANOV:" are the interviewee named in metadata: one speaker, one name.
    if meta.interviewee and low in {meta.interviewee.lower(), *(a.lower() for a in meta.aliases)}:
        return meta.interviewee, TurnKind.SPEECH
    return label, TurnKind.SPEECH
