"""Shared fixtures: isolation, the fake and the real embedder, and a few corpora and bots.

Every test runs in its own ``tmp_path`` (autouse), so nothing a test writes lands in the project.
Plain helpers (FakeEmbedder, write_corpus, the talks, ...) are in helpers.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import CORPUS, INTERVIEW, TALKS, FakeEmbedder, configured, write_corpus

os.environ.setdefault("HF_HUB_OFFLINE", "1")
if os.environ.get("QABOT_SCREENSHOTS"):  # tests run in tmp_path: a relative folder would land there
    os.environ["QABOT_SCREENSHOTS"] = str(Path(os.environ["QABOT_SCREENSHOTS"]).resolve())
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("QA_BOT_"):
            monkeypatch.delenv(key)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_model(monkeypatch) -> list[FakeEmbedder]:
    """Every embedder the bot makes (the CLI's, the app's) is a FakeEmbedder; the list holds them,
    newest last."""
    from qa_bot import bot as bot_mod

    made: list[FakeEmbedder] = []

    def make(*args, **kwargs):
        made.append(FakeEmbedder())
        return made[-1]

    monkeypatch.setattr(bot_mod, "SentenceTransformerEmbedder", make)
    return made


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The two TALKS in ``tmp_path / "talks"`` (a module with other files overrides this)."""
    return write_corpus(tmp_path / "talks", TALKS)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def app_settings():
    """The settings ``holder`` points the app with (a module may override this)."""
    from qa_bot.config import Settings

    return Settings()


@pytest.fixture
def holder(corpus, index_dir, app_settings):
    """The app pointed at ``corpus`` (FakeEmbedder, ``app_settings``) and loaded; the holder
    before is put back after."""
    with configured(corpus, index_dir, app_settings, FakeEmbedder()) as holder:
        holder.get()
        yield holder


@pytest.fixture(scope="session")
def real_embedder():
    from qa_bot.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def interview_bot(real_embedder, tmp_path_factory):
    """The default corpus with the real model, its index in a temporary folder."""
    import qa_bot

    return qa_bot.load(CORPUS, tmp_path_factory.mktemp("embeddings"), embedder=real_embedder)


@pytest.fixture(scope="session")
def interview():
    """The default interview, parsed (the corpus loads without an error)."""
    from qa_bot.parsers.corpus import load_corpus

    loaded, errors = load_corpus(CORPUS)
    assert errors == []
    (transcript,) = [t for t in loaded if t.name == INTERVIEW.name]
    return transcript
