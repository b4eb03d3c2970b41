"""The chunk vector store (exact below EXACT_LIMIT, IVF-SQfp16 beyond) and the encoder backends:
small and fast; timings live in bench/, never here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder

from qa_bot import index as index_mod
from qa_bot import vectors
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.errors import ModelError


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


# --- encoder backends -----------------------------------------------------------------------


def test_encode_query_falls_back_to_encode():
    from qa_bot.embedding import encode_query

    fake = FakeEmbedder()
    np.testing.assert_array_equal(encode_query(fake, ["a question"]), fake.encode(["a question"]))


def test_auto_falls_back_to_torch_without_onnx_runtime(monkeypatch):
    from qa_bot import embedding

    monkeypatch.setattr(embedding, "_runtime_missing", lambda: "onnxruntime is not installed")
    auto = embedding.SentenceTransformerEmbedder(backend="auto")
    assert auto.backend == auto.query_backend == "torch" and auto.name == "all-MiniLM-L6-v2"
    assert auto._model is None  # deciding loads nothing
    with pytest.raises(ModelError, match="onnxruntime is not installed"):
        embedding.SentenceTransformerEmbedder(backend="onnx").backend  # noqa: B018


def test_backend_names_are_checked(monkeypatch):
    from qa_bot import embedding

    with pytest.raises(ModelError, match="backend 'cuda'"):
        embedding.SentenceTransformerEmbedder(backend="cuda")
    monkeypatch.setenv("QA_BOT_BACKEND", "torch")  # read into Settings, handed to the embedder
    assert embedding.SentenceTransformerEmbedder(backend=Settings.from_env().backend).backend == "torch"


def test_models_onnx_cannot_run_are_named(tmp_path):
    from qa_bot.embedding import onnx_unsupported, resolve_model

    assert onnx_unsupported(resolve_model("bundled")) is None
    folder = tmp_path / "cls-model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert "not mean pooling" in onnx_unsupported(folder)
    assert "unreadable" in onnx_unsupported(tmp_path)


@pytest.mark.integration
def test_onnx_encoders_agree_with_sentence_transformers():
    from qa_bot.embedding import SentenceTransformerEmbedder

    texts = ["Does Ivanov regret the fall of the USSR?", "hi",
             "Joey: How you doin'? I haven't seen you since the funding meeting last Tuesday. " * 4]
    torch_vectors = SentenceTransformerEmbedder(backend="torch").encode(texts)
    auto = SentenceTransformerEmbedder(backend="auto")
    if auto.backend == "torch":
        pytest.skip("ONNX Runtime is not installed")
    assert auto.name == "all-MiniLM-L6-v2"  # float32 passages: an index any backend can serve
    np.testing.assert_allclose(auto.encode(texts), torch_vectors, atol=1e-5)
    np.testing.assert_allclose(np.vstack([auto.encode(texts[:1]), auto.encode(texts[1:])]),
                               torch_vectors, atol=1e-5)  # batched or alone, padded or not
    questions = auto.encode_query(texts)
    assert auto.query_backend == "onnx-int8"
    assert np.all((questions * torch_vectors).sum(axis=1) > 0.95)
    np.testing.assert_allclose(np.linalg.norm(questions, axis=1), 1.0, rtol=1e-5)
