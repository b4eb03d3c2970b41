"""What the app says while it starts: its line in the terminal, and its status in the page while
the model and the index are prepared (about 20 s on a first run, with an empty model cache), so
that a slow first start never reads as an empty corpus ("0 passages")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from .escaping import esc
from .ui import notice_html

PREPARING = "Preparing the model and the index (first run only)…"
WAITING = ("Waiting for the model to load (first run only)… your question is queued and is "
           "answered as soon as the model is ready.")


def serving_line(local_url: str, share_url: str | None = None) -> str:
    """The terminal's one line once the app serves; it names this app's own flags, not gradio's
    ``launch()`` arguments (gradio's own lines are silenced with ``quiet=True``)."""
    local = local_url.rstrip("/")
    if share_url:
        return f"qa_bot: serving {local} and {share_url.rstrip('/')} (Ctrl+C to stop)"
    return f"qa_bot: serving {local} (Ctrl+C to stop; --share for a public link)"


def loading_html(done: int = 0, total: int = 0, desc: str = "", seconds: float | None = None) -> str:
    """The status line while the bot loads: what is being prepared, how far (once there is a count
    of passages to embed) and for how long."""
    text = PREPARING
    if total:
        text += f" {desc or 'Embedding the transcripts'}: {done:,} of {total:,} passages"
    if seconds is not None:
        text += f" ({seconds:.0f} s)"
    return (f'<div class="qa-loading" role="status"><span class="qa-spinner"></span>'
            f"{esc(text)}</div>")


def waiting_html() -> str:
    """The notice beside a question asked while the bot loads; styled to stay readable under the
    pending answer's overlay (see CSS)."""
    return f'<div class="qa-waiting">{notice_html(WAITING, "ok")}</div>'


def loading_statuses(holder: Any, every: float = 0.5) -> Iterator[str]:
    """``loading_html`` every ``every`` seconds for as long as ``holder`` is loading the bot."""
    while holder.loading:
        done, total, desc = holder.progress
        yield loading_html(done, total, desc, time.monotonic() - holder.started)
        time.sleep(every)


CSS = """
.qa-loading { font-size: 13px; color: var(--body-text-color); }
.qa-spinner { display: inline-block; width: 10px; height: 10px; margin-right: 8px; vertical-align: -1px;
  border: 2px solid currentColor; border-right-color: transparent; border-radius: 50%;
  animation: qa-spin 0.8s linear infinite; }
@keyframes qa-spin { to { transform: rotate(360deg); } }
/* The waiting notice is an output of the pending answer too: gradio would dim it to 20 % and
   cover it; it is the one thing to read meanwhile. */
#qa-notice .pending:has(.qa-waiting) { opacity: 1 !important; }
#qa-notice:has(.qa-waiting) [data-testid="status-tracker"] { display: none; }
"""
