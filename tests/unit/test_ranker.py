"""The ranker: the pinned trained file or the hand-set fallback, and its calibrated relevance."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from qa_bot import ranker as ranker_mod
from qa_bot.ranker import FALLBACK, FEATURES, MODEL_FILE, MODEL_SHA256, Ranker


@pytest.fixture(autouse=True)
def _fresh_cache():
    # load() is cached by its arguments: a result from another test must not answer this one.
    ranker_mod.load.cache_clear()
    yield
    ranker_mod.load.cache_clear()


def test_the_shipped_trained_ranker_loads_when_its_hash_is_the_pinned_one():
    assert ranker_mod.file_sha256(MODEL_FILE) == MODEL_SHA256
    loaded = ranker_mod.load()
    assert loaded is not FALLBACK
    assert loaded == Ranker.from_dict(json.loads(MODEL_FILE.read_text("utf-8")))
    assert set(loaded.weights) == set(FEATURES)


def test_an_altered_copy_falls_back_with_a_warning(tmp_path, caplog):
    raw = json.loads(MODEL_FILE.read_text("utf-8"))
    same = tmp_path / "same.json"
    same.write_bytes(MODEL_FILE.read_bytes())
    # Control: the unaltered copy under the same pinned hash is the trained ranker.
    assert ranker_mod.load(path=str(same), sha256=MODEL_SHA256).name == raw["name"]

    raw["weights"]["dense"] += 1.0  # still valid, plausible weights: only the hash tells
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="qa_bot.ranker"):
        assert ranker_mod.load(path=str(altered), sha256=MODEL_SHA256) is FALLBACK
    assert any("altered.json" in r.getMessage() and "SHA-256" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)


def test_fallback_by_name_and_a_missing_file():
    assert ranker_mod.load("fallback") is FALLBACK
    assert ranker_mod.load("/nonexistent/ranker.json") is FALLBACK


@pytest.mark.parametrize("raw", [
    {"weights": {"dense": 1.0, "bogus": 0.5}},
    {"weights": {"Dense": 1.0}},  # names are exact
    {"weights": {"dense": math.nan}},
    {"weights": {"dense": 1.0}, "bias": math.inf},
    {"weights": {"dense": 1.0}, "scale": "nan"},
    {"weights": {"dense": 1.0}, "shift": -math.inf},
])
def test_from_dict_rejects_unknown_features_and_non_finite_numbers(raw):
    with pytest.raises(ValueError):
        Ranker.from_dict(raw)


def some_ranker() -> Ranker:
    rng = np.random.default_rng(3)
    weights = {f: round(float(w), 6) for f, w in zip(FEATURES, rng.normal(size=len(FEATURES)), strict=True)}
    return Ranker(weights, bias=-0.3, scale=4.5, shift=0.7, name="test", info={"seed": 3})


def test_relevance_is_the_sigmoid_of_the_scaled_linear_sum():
    r = some_ranker()
    x = np.random.default_rng(4).uniform(-1, 1, size=(200, len(FEATURES)))
    z = np.array([r.bias + sum(r.weights[f] * row[i] for i, f in enumerate(FEATURES)) for row in x])
    np.testing.assert_allclose(r.linear(x), z, rtol=1e-12)
    np.testing.assert_allclose(r.relevance(x), 1 / (1 + np.exp(-(r.scale * z + r.shift))), rtol=1e-12)
    # Ranking by relevance is ranking by the linear sum.
    order = np.argsort(z)
    assert np.all(np.diff(r.relevance(x)[order]) > 0)


@pytest.mark.parametrize("r", [FALLBACK, some_ranker()], ids=["fallback", "random"])
def test_scaled_zeroes_only_the_named_weight(r):
    off = r.scaled({"dense": 0})
    assert off.weights["dense"] == 0 and r.weights["dense"] != 0  # the original is untouched
    assert {f: w for f, w in off.weights.items() if f != "dense"} == \
        {f: w for f, w in r.weights.items() if f != "dense"}
    assert (off.bias, off.scale, off.shift, off.name) == (r.bias, r.scale, r.shift, r.name)


@pytest.mark.parametrize("r", [FALLBACK, some_ranker()], ids=["fallback", "random"])
def test_to_dict_from_dict_round_trip(r):
    raw = json.loads(json.dumps(r.to_dict()))  # through JSON, as ranker.json is written
    back = Ranker.from_dict(raw)
    np.testing.assert_array_equal(back.vector(), r.vector())
    assert (back.bias, back.scale, back.shift, back.name, dict(back.info)) == \
        (r.bias, r.scale, r.shift, r.name, dict(r.info))
    assert back.to_dict() == r.to_dict()
