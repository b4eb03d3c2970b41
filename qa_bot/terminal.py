"""What the command lines (``qa-bot``, ``python -m qa_bot.training``) write to a terminal: text
made safe to print, and a progress bar on stderr."""

from __future__ import annotations

import re
import sys
from typing import Any

# C0 and C1 controls (ESC starts the terminal's own commands: retitle, clear, move the cursor) and
# the bidirectional overrides that reorder what a reader sees; line breaks and tabs stay.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character shown escaped (``\\x1b``), so that a transcript
    or a file name can never command the terminal it is printed to."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def progress_bar() -> Any:
    """A ``progress(done, total, description)`` callback that draws a tqdm bar on stderr."""
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def progress(done: int, total: int, desc: str) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit="text", file=sys.stderr)
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar.pop("bar").close()

    return progress


__all__ = ["progress_bar", "terminal_safe"]
