"""The ranker: a passage's signals to one calibrated relevance, learned or hand-set.

Every signal a passage gets (see ``retrieval.py``) is about 0 to 1 and depends only on the
question, the passage and the passage's own transcript. The ranker weighs them linearly and maps
the sum through a logistic curve fitted to how often the top answer was right at that sum, so
its output reads as a probability that the answer is right: it is what answers are ranked by,
what users see as the score, and what ``no_answer`` is decided on. One number, which another
transcript in the corpus cannot change.

The weights are learned by ``make train`` (``qa_bot/training.py``) into
``qa_bot/models/ranker.json``, whose SHA-256 is pinned below; ``qa_bot/models/README.md`` is its
model card. A missing or altered file
falls back, with a warning, to ``FALLBACK``: hand-set weights of the same shape.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# The signals, in the order of a feature matrix's columns (retrieval.py fills them).
FEATURES = ("dense", "context", "neighbours", "question", "has_question", "lexical",
            "lexical_context", "brevity", "narration", "asks")
MODEL_FILE = Path(__file__).resolve().parent / "models" / "ranker.json"
MODEL_SHA256 = "b7a9275500974513ae91ed936dc2f8855f2d39ecc1988898352170e1ddebc85e"


@dataclass(frozen=True)
class Ranker:
    """Linear weights over ``FEATURES`` and the logistic calibration of their sum."""

    weights: Mapping[str, float]
    bias: float = 0.0
    scale: float = 1.0  # relevance = sigmoid(scale * (bias + w . x) + shift)
    shift: float = 0.0
    name: str = "fallback"
    info: Mapping[str, Any] = field(default_factory=dict)

    def vector(self) -> np.ndarray:
        return np.array([float(self.weights.get(f, 0.0)) for f in FEATURES], dtype=np.float64)

    def linear(self, features: np.ndarray) -> np.ndarray:
        """The uncalibrated sum of each row of a (n, len(FEATURES)) matrix."""
        return self.bias + np.asarray(features, np.float64) @ self.vector()

    def relevance(self, features: np.ndarray) -> np.ndarray:
        """The calibrated relevance (0 to 1) of each row."""
        z = self.scale * self.linear(features) + self.shift
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def scaled(self, factors: Mapping[str, float]) -> Ranker:
        """This ranker with some weights multiplied (0 switches a signal off)."""
        weights = {f: w * float(factors.get(f, 1.0)) for f, w in self.weights.items()}
        return replace(self, weights=weights)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "features": list(FEATURES),
                "weights": {f: round(float(self.weights.get(f, 0.0)), 6) for f in FEATURES},
                "bias": round(self.bias, 6), "scale": round(self.scale, 6),
                "shift": round(self.shift, 6), "info": dict(self.info)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Ranker:
        weights = raw["weights"]
        if not isinstance(weights, Mapping) or set(weights) - set(FEATURES):
            raise ValueError(f"weights must name only the features {', '.join(FEATURES)}")
        values = [float(v) for v in weights.values()]
        bias, scale, shift = (float(raw.get(k, d)) for k, d in (("bias", 0.0), ("scale", 1.0),
                                                                 ("shift", 0.0)))
        if not all(math.isfinite(v) for v in [*values, bias, scale, shift]):
            raise ValueError("weights must be finite numbers")
        return cls(dict(zip(weights, values, strict=True)), bias, scale, shift,
                   name=str(raw.get("name", "")), info=dict(raw.get("info") or {}))


# Hand-set, of the same shape as a trained ranker: the old weighted fusion (dense 1, question
# 0.6, lexical and context 0.15, brevity 0.2), with narration and the interviewer's question
# kept below speech.
FALLBACK = Ranker({"dense": 1.0, "context": 0.3, "question": 0.6, "lexical": 0.15,
                   "lexical_context": 0.15, "brevity": 0.2, "narration": -0.15,
                   "asks": -0.2},
                  bias=-0.45, scale=8.0, name="fallback")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def load(path: str | None = None, sha256: str | None = None) -> Ranker:
    """The ranker of ``path`` (default: the trained one shipped in ``models/``) when its SHA-256
    is the pinned one (or ``sha256``); otherwise, with a warning, ``FALLBACK``.

    ``path="fallback"`` asks for the hand-set ranker itself.
    """
    if path == "fallback":
        return FALLBACK
    file = Path(path) if path else MODEL_FILE
    expected = sha256 if sha256 is not None else (MODEL_SHA256 if path is None else None)
    try:
        if expected and file_sha256(file) != expected:
            raise ValueError("its SHA-256 is not the pinned one")
        return Ranker.from_dict(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ranker %s not used (%s); using the hand-set weights", file, exc)
        return FALLBACK
