"""Bad input that every way in must refuse the same way, with one clear error and nothing changed:
transcript files (non-UTF-8, UTF-16, binary, empty, no text, over the size limit, malformed
SRT/VTT/JSON/JSONL) and file names (path traversal, hidden, control characters, wrong types,
names already taken), and the small corpus they are tried against (alpha.txt and beta.srt).

Used by the Python API's tests (unit/test_bot_bad_input.py), the page's
(unit/test_app.py) and the launched app's (e2e/test_http_hardening.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import ALPHA, open_bot

BETA = ("1\n00:00:01,000 --> 00:00:04,000\nQ: Why did you start the bakery?\n\n"
        "2\n00:00:05,000 --> 00:00:09,500\nA: My grandmother baked rye bread every Sunday.\n")
QUESTIONS = ["What fruit does Alice love?", "Why start a bakery?", "When do the ferries wake her?"]
LIMIT = 4_000  # bytes: the size limit of the bots and the app below

# (file name, content, what the error must say). Every one must be refused and change nothing.
BAD_FILES = [
    ("latin1.txt", "Host: Café?\nAlice: Oui.\n".encode("latin-1"), "latin1.txt:1: not valid UTF-8"),
    ("late-latin1.txt", b"Host: Hi?\nAlice: Yes.\nAlice: Caf\xe9.\n", "late-latin1.txt:3: not valid UTF-8"),
    ("utf16.txt", "Host: Hi?\nAlice: Yes.\n".encode("utf-16"), "is UTF-16; save it as UTF-8"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "looks like a binary file"),
    ("random.srt", bytes((i * 37 + 11) % 256 for i in range(600)), "looks like a binary file"),
    ("empty.txt", b"", "empty.txt: the file is empty"),
    ("blank.srt", b" \r\n\n\t \n", "blank.srt: the file is empty"),
    ("bom-only.txt", b"\xef\xbb\xbf\n", "bom-only.txt: the file is empty"),
    ("no-turns.json", b"[]", "no-turns.json: no text to search"),
    ("header-only.vtt", b"WEBVTT\n\nNOTE nothing here\n", "header-only.vtt: no text to search"),
    ("only-questions.txt", b"Q: Where were you?\nQ: And after that?\n",
     "only-questions.txt: no text to search"),
    ("too-big.txt", ("Alice: " + "words " * 700 + "\n").encode(), "larger than the 4,000-byte limit"),
    ("bad-timing.srt", b"1\n00:00:01,000 -> 00:00:02,000\nHi.\n",
     "bad-timing.srt:2: bad or missing timing"),
    ("backwards.srt", b"1\n00:00:05,000 --> 00:00:02,000\nHi.\n",
     "backwards.srt:2: cue ends before it starts"),
    ("no-header.vtt", b"00:01.000 --> 00:02.000\nHi.\n",
     "no-header.vtt:1: a WebVTT file must start with 'WEBVTT'"),
    ("bad-cue.vtt", b"WEBVTT\n\n00:01.000 --> 00:02.000\nHi.\n\nHello there\n",
     "bad-cue.vtt:6: bad or missing timing"),
    ("truncated.json", b'{"turns": [{"speaker": "A", "text": "Hi', "truncated.json:1: invalid JSON"),
    ("wrong-shape.json", b'{"speaker": "A"}', "expected a list of turns"),
    ("no-text.json", b'[{"speaker": "A", "text": ""}]', "field 'text' must be a non-empty string"),
    ("bad-line.jsonl", b'{"speaker": "A", "text": "Hi."}\n{"speaker": "B", "text": \n',
     "bad-line.jsonl:2: invalid JSON"),
    ("bad-time.jsonl", b'{"speaker": "A", "text": "Hi.", "start": "soon"}\n',
     "field 'start' must be a number"),
]


# Names that must never become a file, wherever they point: (name, what the error must say).
BAD_NAMES = [
    ("../evil.txt", "not an acceptable file name"),
    ("../../../../tmp/evil.txt", "not an acceptable file name"),
    ("/etc/cron.d/evil.txt", "not an acceptable file name"),
    ("sub/evil.txt", "not an acceptable file name"),
    ("..\\..\\evil.txt", "not an acceptable file name"),
    ("sub\\evil.txt", "not an acceptable file name"),
    ("..", "not an acceptable file name"),
    ("", "not an acceptable file name"),
    (".hidden.txt", "not an acceptable file name"),
    ("ev\0il.txt", "not an acceptable file name"),
    ("bell\x07.txt", "not an acceptable file name"),
    ("new\nline.txt", "not an acceptable file name"),
    ("a" * 250 + ".txt", "not an acceptable file name"),
    ("notes.txt.meta.json", "not an acceptable file name"),
    ("script.py", "not a transcript file"),
    ("page.html", "not a transcript file"),
    ("no-extension", "not a transcript file"),
    ("alpha.txt", "already in the corpus"),
    ("ALPHA.TXT", "already in the corpus"),
    ("alpha.srt", "already in the corpus"),
]


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.txt").write_text(ALPHA, encoding="utf-8")
    (folder / "beta.srt").write_text(BETA, encoding="utf-8")
    return folder


def limited_bot(tmp_path: Path, embedder: Any = None) -> Any:
    """A bot over ``make_corpus(tmp_path / "corpus")`` that takes files of up to LIMIT bytes."""
    from qa_bot.config import Settings

    return open_bot(make_corpus(tmp_path / "corpus"), tmp_path / "index", embedder,
                    Settings(max_file_bytes=LIMIT))
