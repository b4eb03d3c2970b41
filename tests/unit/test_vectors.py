"""The chunk vector store (exact below EXACT_LIMIT, IVF-SQfp16 beyond): small and fast; timings live
in bench/, never here. The encoder backends are tested in test_embedding.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import FakeEmbedder

from qa_bot import index as index_mod
from qa_bot import vectors
from qa_bot.bot import QaBot
from qa_bot.config import Settings


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(4, n // 100), dim))
    x = centres[rng.integers(len(centres), size=n)] + 0.3 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


KEEP: list = []  # FAISS parameters do not keep their selector alive: the caller must


def selector_params(rows: np.ndarray):
    import faiss

    selector = faiss.IDSelectorBatch(rows.astype(np.int64))
    KEEP.append(selector)
    return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]


def test_flat_store_searches_exactly_with_and_without_a_selector():
    x = clustered(500)
    store = index_mod.chunk_index(x, 32)
    assert store.kind == "flat" and store.ntotal == 500 and store.d == 32
    scores, ids = store.search(x[7], 5)
    expected = np.argsort(-(x @ x[7]))[:5]
    assert ids[0].tolist() == expected.tolist()
    np.testing.assert_allclose(scores[0], (x @ x[7])[expected], rtol=1e-5)
    rows = np.arange(100, 150)
    _, ids = store.search(x[7], 5, params=selector_params(rows))
    assert set(ids[0].tolist()) <= set(rows.tolist())
    assert ids[0].tolist() == (100 + np.argsort(-(x[100:150] @ x[7]))[:5]).tolist()
    np.testing.assert_array_equal(store.reconstruct_batch(np.array([3, 9])), x[[3, 9]])
    np.testing.assert_array_equal(store.reconstruct_n(10, 4), x[10:14])
    assert store.reconstruct_n(0, 0).shape == (0, 32)


def test_ivf_store_finds_the_exact_neighbours_and_keeps_the_retrievers_calls_working():
    x = clustered(6000)
    store = index_mod.chunk_index(x, 32, exact_limit=1000)
    assert store.kind.startswith("IVF") and store.ntotal == 6000
    queries = clustered(50, seed=1)
    hits = 0
    for q in queries:
        _, ids = store.search(q, 10)
        hits += len(set(ids[0].tolist()) & set(np.argsort(-(x @ q))[:10].tolist()))
    assert hits / (10 * len(queries)) >= 0.9
    # A scoped search scores every selected row: exact within the scope, however small.
    rows = np.arange(4321, 4330)
    for q in queries[:10]:
        _, ids = store.search(q, 5, params=selector_params(rows))
        assert ids[0].tolist() == (4321 + np.argsort(-(x[4321:4330] @ q))[:5]).tolist()
    # Float16 storage: reconstructions within float16 rounding of the vectors.
    np.testing.assert_allclose(store.reconstruct_batch(np.array([0, 5999, 17])), x[[0, 5999, 17]], atol=2e-3)
    np.testing.assert_allclose(store.reconstruct_n(100, 50), x[100:150], atol=2e-3)


def test_ivf_store_reuses_its_trained_lists_when_rebuilt():
    x = clustered(6000)
    first = index_mod.chunk_index(x, 32, exact_limit=1000)
    again = index_mod.chunk_index(x[:5900], 32, first, exact_limit=1000)
    assert again.ivf.nlist == first.ivf.nlist
    np.testing.assert_array_equal(index_mod.ChunkVectors(again.ivf.quantizer).reconstruct_n(0, 3),
                                  index_mod.ChunkVectors(first.ivf.quantizer).reconstruct_n(0, 3))
    np.testing.assert_allclose(again.reconstruct_n(0, 5900), x[:5900], atol=2e-3)


def test_ivf_lists_and_probes_grow_with_the_corpus():
    assert index_mod.ivf_lists(120_000) == 512 and index_mod.ivf_lists(1_000_000) == 2048
    assert index_mod.ivf_lists(10**9) == 4096
    assert index_mod.ivf_probes(2048) == 384 and 0 < index_mod.ivf_probes(7) <= 7


CORPUS = {
    "alpha.txt": "Host: What is your favourite fruit?\nAlice: I love mangoes. They are sweet.\n"
                 "Host: Where do you live?\nAlice: I live in Lisbon near the river. Ferries wake me.\n",
    "beta.txt": "Q: Why did you start the bakery?\nA: My grandmother baked rye bread every Sunday.\n"
                "Q: What was the hardest part?\nA: Getting up at three. The ovens need four hours.\n",
}


def test_an_approximate_index_is_saved_loaded_and_answers_like_the_exact_one(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    exact = QaBot.open(corpus, tmp_path / "exact", Settings(), FakeEmbedder())
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 0)  # every index approximate, however small
    approx = QaBot.open(corpus, tmp_path / "approx", Settings(), FakeEmbedder())
    assert approx.index.chunk_vectors.kind.startswith("IVF")
    reopened = QaBot.open(corpus, tmp_path / "approx", Settings(), FakeEmbedder())
    assert reopened.report.embedded == 0 and reopened.index.chunk_vectors.kind.startswith("IVF")
    files = json.loads((tmp_path / "approx" / "manifest.json").read_text())["files"]
    assert {Path(f["name"]).suffix for f in files.values()} == {".faiss", ".jsonl"}
    for question, scope in (("What fruit does Alice love?", None), ("Why a bakery?", "beta.txt"),
                            ("Where does she live?", "alpha.txt")):
        want = exact.ask(question, transcript=scope)
        for bot in (approx, reopened):
            got = bot.ask(question, transcript=scope)
            assert [a.quote for a in got.answers] == [a.quote for a in want.answers]
            assert [a.score for a in got.answers] == pytest.approx([a.score for a in want.answers], abs=2e-3)
    (corpus / "gamma.txt").write_text("Host: Any news?\nCy: The ice closed behind the ship.\n")
    assert reopened.refresh().added == ["gamma.txt"]
    assert "ice" in reopened.ask("What closed behind the ship?").answers[0].quote
