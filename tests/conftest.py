"""Shared fixtures: a tiny deterministic fake embedder, the real bundled model, and isolation.

Every test runs in its own ``tmp_path`` (autouse), so nothing a test writes lands in the project.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
if os.environ.get("QABOT_SCREENSHOTS"):  # tests run in tmp_path: a relative folder would land there
    os.environ["QABOT_SCREENSHOTS"] = str(Path(os.environ["QABOT_SCREENSHOTS"]).resolve())
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
INTERVIEW = CORPUS / "viktor-ivanov-interview.txt"


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


def named_files(manifest: dict) -> set[str]:
    """The data files an index's manifest lists: vectors and records, and the BM25 indexes."""
    lexical = manifest.get("lexical", {})
    return {e["name"] for e in manifest["files"].values()} | {
        e["name"] for field in ("chunk", "context") if field in lexical
        for e in lexical[field]["files"].values()}


# Two small talks, one labelled by name and one by Q/A, for the API and CLI tests.
TALKS = {
    "alpha.txt": ("Host: What is your favourite fruit?\n"
                  "Alice: I love mangoes. They are sweet and juicy.\n"
                  "Host: Where do you live?\n"
                  "Alice: I live in Lisbon near the river.\n"),
    "beta.txt": ("Q: Why did you start the bakery?\n"
                 "A: My grandmother baked rye bread every Sunday. I kept her recipe.\n"),
}


def write_corpus(folder: Path, files: dict[str, str] | dict[str, bytes] | dict[str, str | bytes]) -> Path:
    """A corpus folder holding ``files`` (name -> text or bytes; bytes keep CRLF as written)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("QA_BOT_"):
            monkeypatch.delenv(key)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from qa_bot.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def interview_bot(real_embedder, tmp_path_factory):
    """The default corpus with the real model, its index in a temporary folder."""
    import qa_bot

    return qa_bot.load(CORPUS, tmp_path_factory.mktemp("embeddings"), embedder=real_embedder)
