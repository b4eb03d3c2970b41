"""Removing an upload (issue 11): only uploads can go; the file goes and its passages leave the
vectors, the chunk records and BM25, nothing else is re-embedded, and the saved index stays valid.

With FakeEmbedder, then once with the real model.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ZEPPELINS, FakeEmbedder, open_bot, tree

from qa_bot import index as index_mod
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.errors import TranscriptError
from qa_bot.stores.base import Scope

CRANES = "Interviewer: Where do cranes winter?\nMara: In the marshes of southern Spain, by the lagoons.\n"


def vectors_of(bot: QaBot, name: str) -> tuple[list, np.ndarray, list, np.ndarray]:
    """A transcript's chunk records and vectors, turn keys and turn vectors in the loaded index."""
    index = bot.index
    (c0, c1), (u0, u1) = index.ranges(name)
    return (index.chunks[c0:c1], index.chunk_vectors.reconstruct_n(c0, c1 - c0),
            index.turn_keys[u0:u1], index.turn_vectors[u0:u1])


@pytest.fixture
def uploaded(corpus, tmp_path) -> tuple[QaBot, FakeEmbedder]:
    embedder = FakeEmbedder()
    bot = open_bot(corpus, tmp_path / "index", embedder)
    bot.add_transcript("zeppelins.txt", ZEPPELINS.encode())
    bot.add_transcript("cranes.txt", CRANES.encode())
    assert bot.ask("How do zeppelins fly?").top.transcript == "zeppelins.txt"
    return bot, embedder


def test_removing_an_upload_deletes_its_file_and_its_passages_and_embeds_nothing(uploaded, corpus):
    bot, embedder = uploaded
    kept = {name: vectors_of(bot, name) for name in ("alpha.txt", "beta.txt", "cranes.txt")}
    corpus_before = tree(corpus)
    embedder.calls = 0
    removed = bot.remove_transcript("zeppelins.txt")
    assert removed.name == "zeppelins.txt" and removed.text == ZEPPELINS
    assert embedder.calls == 0 and bot.report.embedded == 0
    assert bot.report.removed == ["zeppelins.txt"] and bot.report.saved
    assert not (bot.uploads / "zeppelins.txt").exists()
    assert sorted(p.name for p in bot.uploads.iterdir()) == ["cranes.txt"]  # nothing hidden left
    assert tree(corpus) == corpus_before
    assert bot.uploaded == ("cranes.txt",)
    assert sorted(bot.transcripts) == ["alpha.txt", "beta.txt", "cranes.txt"]
    index = bot.index
    assert "zeppelins.txt" not in index.manifest.transcripts
    assert not [c for c in index.chunks if c.transcript == "zeppelins.txt"]
    assert not [k for k in index.turn_keys if k.transcript == "zeppelins.txt"]
    assert index.chunk_vectors.ntotal == len(index.chunks) and len(index.turn_vectors) == len(index.turn_keys)
    for name, (chunks, cv, keys, tv) in kept.items():  # the others' records and vectors, untouched
        now = vectors_of(bot, name)
        assert now[0] == chunks and now[2] == keys
        np.testing.assert_array_equal(now[1], cv)
        np.testing.assert_array_equal(now[3], tv)
    # BM25 has forgotten its words, and no question finds it
    assert not bot.retriever().store.lexical("zeppelins hydrogen engines Otto", 10, Scope())
    result = bot.ask("How do zeppelins fly? Hydrogen lifts them.", top_k=10)
    assert "zeppelins.txt" not in {a.transcript for a in result.answers}
    assert bot.ask("Where do cranes winter?").top.transcript == "cranes.txt"
    assert "zeppelins.txt" not in bot.speakers() and "Otto" not in bot.speakers()


def test_the_saved_index_after_a_removal_loads_as_is_and_matches_a_fresh_build(uploaded, corpus, tmp_path):
    bot, _ = uploaded
    bot.remove_transcript("zeppelins.txt")
    embedder = FakeEmbedder()
    again = open_bot(corpus, tmp_path / "index", embedder)
    assert embedder.calls == 0 and again.report.embedded == 0 and not again.report.warnings
    assert sorted(again.report.reused) == ["alpha.txt", "beta.txt", "cranes.txt"]
    assert again.uploaded == ("cranes.txt",)
    loaded = index_mod.load(tmp_path / "index")
    assert loaded is not None
    assert set(loaded.manifest.transcripts) == {"alpha.txt", "beta.txt", "cranes.txt"}
    fresh = open_bot(corpus, tmp_path / "fresh", FakeEmbedder())
    fresh.add_transcript("cranes.txt", CRANES.encode())
    assert [c.to_dict() for c in fresh.index.chunks] == [c.to_dict() for c in again.index.chunks]
    assert fresh.index.turn_keys == again.index.turn_keys
    q = "Where do the cranes spend the winter?"
    assert fresh.ask(q).to_dict() == again.ask(q).to_dict()


def test_a_removed_name_can_be_uploaded_again(uploaded):
    bot, _ = uploaded
    bot.remove_transcript("zeppelins.txt")
    bot.add_transcript("zeppelins.txt", ZEPPELINS.replace("Otto", "Hugo").encode())
    assert bot.ask("How do zeppelins fly?").top.speaker == "Hugo"


def test_an_upload_can_be_named_by_its_stem(uploaded):
    bot, _ = uploaded
    assert bot.remove_transcript("cranes").name == "cranes.txt"
    assert bot.uploaded == ("zeppelins.txt",)


@pytest.mark.parametrize("name", ["alpha.txt", "beta"])
def test_a_corpus_file_cannot_be_removed_and_nothing_changes(uploaded, corpus, tmp_path, name):
    bot, _ = uploaded
    before = tree(corpus), tree(tmp_path / "index"), sorted(bot.transcripts), len(bot.index.chunks)
    with pytest.raises(TranscriptError) as caught:
        bot.remove_transcript(name)
    message = str(caught.value)
    assert f"part of the corpus folder {corpus}/" in message and "only uploaded transcripts" in message
    assert (tree(corpus), tree(tmp_path / "index"), sorted(bot.transcripts), len(bot.index.chunks)) == before


@pytest.mark.parametrize("name", ["gamma.txt", "", "../talks/alpha.txt", "uploads/cranes.txt"])
def test_an_unknown_name_is_an_error_listing_the_uploads(uploaded, corpus, tmp_path, name):
    bot, _ = uploaded
    before = tree(corpus), tree(tmp_path / "index")
    with pytest.raises(TranscriptError, match=r"no transcript of that name to remove "
                                              r"\(uploaded: cranes.txt, zeppelins.txt\)"):
        bot.remove_transcript(name)
    assert (tree(corpus), tree(tmp_path / "index")) == before


def test_a_failed_removal_puts_the_file_back_and_changes_nothing(uploaded, corpus, tmp_path, monkeypatch):
    bot, _ = uploaded
    before = tree(corpus), tree(tmp_path / "index"), sorted(bot.transcripts)

    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(index_mod, "sync", broken)
    with pytest.raises(OSError):
        bot.remove_transcript("zeppelins.txt")
    monkeypatch.undo()
    assert (tree(corpus), tree(tmp_path / "index"), sorted(bot.transcripts)) == before
    assert bot.ask("How do zeppelins fly?").top.transcript == "zeppelins.txt"
    bot.remove_transcript("zeppelins.txt")  # and it can be tried again
    assert "zeppelins.txt" not in bot.transcripts


def test_an_upload_deleted_by_hand_can_still_be_removed_from_the_index(uploaded):
    bot, _ = uploaded
    (bot.uploads / "zeppelins.txt").unlink()
    bot.remove_transcript("zeppelins.txt")
    assert "zeppelins.txt" not in bot.index.manifest.transcripts


def test_the_uploads_sidecar_goes_with_it(uploaded):
    bot, _ = uploaded
    (bot.uploads / "cranes.txt.meta.json").write_text('{"title": "Cranes"}', "utf-8")
    bot.refresh()
    assert bot.transcripts["cranes.txt"].title == "Cranes"
    bot.remove_transcript("cranes.txt")
    assert sorted(p.name for p in bot.uploads.iterdir()) == ["zeppelins.txt"]


def test_with_the_real_model_a_removed_upload_is_no_longer_an_answer(real_embedder, corpus, tmp_path):
    class Counting:
        """The real model, counting what it is asked to embed."""

        def __init__(self) -> None:
            self.name, self.weights_sha256 = real_embedder.name, real_embedder.weights_sha256
            self.dimension, self.texts = real_embedder.dimension, 0

        def encode(self, texts):
            self.texts += len(texts)
            return real_embedder.encode(texts)

    embedder = Counting()
    bot = QaBot.open(corpus, tmp_path / "index", Settings(), embedder)
    bot.add_transcript("cranes.txt", CRANES.encode())
    question = "Where do the cranes spend the winter?"
    top = bot.ask(question).top
    assert top is not None and not bot.ask(question).no_answer
    assert top.transcript == "cranes.txt" and "southern Spain" in top.quote
    embedder.texts = 0
    bot.remove_transcript("cranes.txt")
    assert embedder.texts == 0  # nothing re-embedded
    after = bot.ask(question, top_k=10)
    assert "cranes.txt" not in {a.transcript for a in after.answers} and after.no_answer
    assert bot.ask("What fruit does Alice love?").top.quote.startswith("I love mangoes")
    embedder.texts = 0
    again = QaBot.open(corpus, tmp_path / "index", Settings(), embedder)
    assert embedder.texts == 0 and sorted(again.transcripts) == ["alpha.txt", "beta.txt"]
