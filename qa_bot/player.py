"""Hearing a quote said: the recording's player and a "▶ play" button on each timed answer.

The markup holds no transcript text: only the media URL (percent-encoded by ``media_url``, then
HTML-escaped) and the answer's start in seconds. Gradio runs no ``<script>`` in an HTML component,
so the buttons work through ``PLAY_JS``, the components' ``js_on_load``.
"""

from __future__ import annotations

import html

from .answers import Answer
from .media import Media, parse_timestamp
from .media_route import media_url

# Run by gradio with ``element`` (the component's root) and ``trigger``. One listener on the root
# serves every button the panel will ever show, as the panel's HTML is replaced on each answer.
# A button in a More-quotes <summary> would also open or close its item: the click is taken.
PLAY_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('.qa-play');
  if (!button || !element.contains(button)) { trigger('click'); return; }
  event.preventDefault();
  const item = button.closest('details');
  // Source holds every passage (map pins switch them), each with its own player.
  const player = (button.closest('details, .qa-passage') || element).querySelector('.qa-player');
  if (!player) return;
  if (item) item.open = true;
  const start = Number(button.dataset.start) || 0;
  document.querySelectorAll('.qa-player').forEach((other) => { if (other !== player) other.pause(); });
  const seek = () => { player.currentTime = start; player.play().catch(() => {}); };
  if (player.readyState >= 1) { seek(); return; }
  player.addEventListener('loadedmetadata', seek, { once: true });
  if (player.preload === 'none') { player.preload = 'metadata'; player.load(); }
});
"""

CSS = """
.qa-media { margin-top: 10px; display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.qa-player { width: 100%; max-height: 260px; }
.qa-play { font-size: 12px; padding: 1px 8px; border-radius: 10px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
"""


def start_of(answer: Answer, media: Media | None) -> float | None:
    """Where the answer starts in its recording, in seconds; None when it cannot be played."""
    return parse_timestamp(answer.timestamp) if media is not None else None


def play_button(answer: Answer, media: Media | None) -> str:
    """``▶ play`` for an answer with a recording and a timestamp; "" otherwise."""
    start = start_of(answer, media)
    if start is None:
        return ""
    return (f'<button type="button" class="qa-play" data-start="{start:.3f}" '
            f'title="Play the recording from {html.escape(str(answer.timestamp))}">▶ play</button>')


def player_html(answer: Answer, media: Media | None, preload: str = "metadata") -> str:
    """The recording's player, opened at the answer's start (``#t=``), or "" when not playable.

    Args:
        answer: the answer whose recording it is.
        media: its transcript's recording, or None.
        preload: "metadata" for the answer in Source; "none" where many players may be listed.
    """
    start = start_of(answer, media)
    if start is None or media is None:
        return ""
    url = html.escape(f"{media_url(answer.transcript)}#t={start:.3f}", quote=True)
    return (f'<{media.element} class="qa-player" controls preload="{preload}" src="{url}">'
            f"</{media.element}>")
