"""What the app says while it starts: its line in the terminal, and its status in the page while
the model and the index are prepared (about 20 s on a first run, with an empty model cache)."""

from __future__ import annotations


def serving_line(local_url: str, share_url: str | None = None) -> str:
    """The terminal's one line once the app serves; it names this app's own flags, not gradio's
    ``launch()`` arguments (gradio's own lines are silenced with ``quiet=True``)."""
    local = local_url.rstrip("/")
    if share_url:
        return f"qa_bot: serving {local} and {share_url.rstrip('/')} (Ctrl+C to stop)"
    return f"qa_bot: serving {local} (Ctrl+C to stop; --share for a public link)"
