"""Markup in transcripts that must only ever show as text: payloads in speaker names and titles,
and a transcript (LANTERN) with markup before, inside and after the quoted words of its long
answer turns. Used by unit/test_ui.py (the page's HTML and Markdown strings) and
e2e/test_browser_escaping.py (the same in Chromium)."""

from __future__ import annotations

import json
from pathlib import Path

PAYLOADS = ['<img src=x onerror="window.__pwned=1">', "<svg onload=window.__pwned=2>",
            "<script>window.__pwned=3</script>", '" onmouseover="window.__pwned=4',
            "[x](javascript:window.__pwned=5)", "<iframe srcdoc='<script>parent.__pwned=6</script>'>"]


# A transcript whose long answer turns (quoted by a window of two sentences, text either side)
# carry markup in every sentence, in the speakers' names, the role and the title. Asked LANTERN,
# the keeper's turn is the answer and her brother's a supporting quote (More quotes, pin 2): every
# panel then holds markup before, inside and after a <mark>. Each payload element is marked
# data-pwned. Quotes are cut from the file's text, where JSON escapes '"' but not "'" or "<": the
# turns' markup quotes with "'", the names' (read from the JSON) with '"', to break out of attributes.
KEEPER = 'Mara "the Keeper" <img src=x data-pwned onerror="window.__pwned=11">'
BROTHER = "Tom <u data-pwned>Keeper</u>"
LANTERN = "Where did you hide the brass lantern and the logbook?"
LANTERN_TURNS = [
    {"speaker": "Interviewer", "text": "What did you <u data-pwned>hide</u> in the tower?"},
    {"speaker": KEEPER, "text": (
        "The fog rolled in at <u data-pwned>six</u> that evening, thick as wool. "
        "Someone had painted [a door](javascript:window.__pwned=12) on the wall of the tower. "
        "I hid the brass lantern <img src=x data-pwned onerror='window.__pwned=13'> under the stairs. "
        "Then I hid the logbook <script>window.__pwned=14</script> behind the oil drums. "
        "After that <svg data-pwned onload=window.__pwned=15></svg> the gulls came back to the rocks. "
        "The ferry ran again on <iframe data-pwned srcdoc='<script>parent.__pwned=16</script>'></iframe> "
        "Monday.")},
    {"speaker": "Interviewer", "text": "And your brother?"},
    {"speaker": BROTHER, "text": (
        "My sister kept the <u data-pwned>accounts</u> of the tower for years. "
        "Every autumn she counted the candles <img src=x data-pwned onerror='window.__pwned=17'> twice. "
        "The brass lantern was our father's, and he hid it <script>window.__pwned=18</script> once too. "
        "Nobody <svg data-pwned onload=window.__pwned=19></svg> found it until spring came. "
        "We sold the boat <iframe data-pwned></iframe> to a fisherman from the south. "
        "The sea took it in the end, as the sea takes most things here.")},
]
LANTERN_META = {"title": "<script>window.__pwned=20</script><u data-pwned>The keeper</u>",
                "interviewee": {"name": KEEPER, "role": "<u data-pwned>keeper</u> of the light"}}


def write_lantern(corpus: Path) -> None:
    (corpus / "keeper.jsonl").write_text("".join(json.dumps(t) + "\n" for t in LANTERN_TURNS), "utf-8")
    (corpus / "keeper.jsonl.meta.json").write_text(json.dumps(LANTERN_META), "utf-8")
