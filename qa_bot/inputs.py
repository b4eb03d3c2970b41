"""The arguments of a question, checked by type and range before anything is searched.

Every entry point (``QaBot.ask``, the CLI, the app's chat and HTTP API) passes through here, so
a wrong type is one ``QuestionError`` naming its field, never a raw ``TypeError`` from deep
inside, nor silently turned into something else (``True`` is not 1, ``3.7`` is not 3, and
``b"USSR?"`` is not the text ``"b'USSR?'"``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from .errors import QuestionError

MAX_TOP_K = 50
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")  # ANSI terminal escapes


def _type_name(value: Any) -> str:
    return type(value).__name__


def question_text(value: Any) -> str:
    """The question with its white space collapsed; QuestionError unless it is text."""
    if value is None:
        raise QuestionError("question: it is empty")
    if not isinstance(value, str):
        raise QuestionError(f"question: must be text, got {_type_name(value)}")
    return " ".join(value.split())


def question(value: Any, max_chars: int) -> str:
    """The question to search for: text of at most ``max_chars`` characters, with terminal escapes
    and control or format characters (NUL, zero-width spaces, direction marks) taken out as noise
    pasted in with it, and its white space collapsed; QuestionError when nothing is left to search."""
    text = question_text(value)
    if not text:
        raise QuestionError("question: it is empty")
    if len(text) > max_chars:
        raise QuestionError(f"question: longer than {max_chars:,} characters; "
                            f"shorten it to {max_chars:,} characters")
    text = _ESCAPE.sub(" ", text)
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf", "Cs"} or c.isspace())
    text = " ".join(text.split())
    if not any(c.isalnum() for c in text):
        raise QuestionError("question: it has no words to search for")
    return text


def top_k(value: Any, default: int) -> int:
    """How many answers: a whole number from 1 to ``MAX_TOP_K``; None means ``default``.

    A float that is whole (3.0, as JSON and sliders send) counts; a bool, a fraction, nan or a
    string does not.
    """
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QuestionError(f"top_k: must be a whole number, got {_type_name(value)}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise QuestionError(f"top_k: must be a whole number, got {value!r}")
    if not 1 <= value <= MAX_TOP_K:
        raise QuestionError(f"top_k: must be between 1 and {MAX_TOP_K}, got {value:g}")
    return int(value)


def scope(field: str, value: Any) -> str | None:
    """A transcript or speaker name, or None (also for ""): QuestionError for any other type."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise QuestionError(f"{field}: must be a name (text), got {_type_name(value)}")
    return value
