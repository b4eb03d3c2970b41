"""make train's two fits on synthetic data: listwise weights and the logistic calibration."""

from __future__ import annotations

import numpy as np
import pytest

from qa_bot import training
from qa_bot.ranker import FEATURES

COL = {f: i for i, f in enumerate(FEATURES)}
INFORMATIVE = {"dense": 2.5, "lexical": 1.5}  # how much higher a right row's value is
FIXED = {"question": 0.6, "narration": -0.15}  # held at these, as training.PRIORS are


def synthetic_groups(seed: int, n_groups: int = 150, rows: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """Groups of noise rows in which the right rows (one or two) stand out in the informative
    features, not so far that the groups separate (the weights would then grow without bound)."""
    rng = np.random.default_rng(seed)
    groups = []
    for _ in range(n_groups):
        x = rng.standard_normal((rows, len(FEATURES)))
        right = np.zeros(rows, dtype=bool)
        right[rng.choice(rows, size=int(rng.integers(1, 3)), replace=False)] = True
        for feature, shift in INFORMATIVE.items():
            x[right, COL[feature]] += shift
        groups.append((x, right))
    return groups


def fit(groups):
    free = [i for f, i in COL.items() if f not in FIXED]
    fixed = np.zeros(len(FEATURES))
    for feature, value in FIXED.items():
        fixed[COL[feature]] = value
    return training.fit_weights(groups, free, fixed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_weights_finds_the_informative_features(seed):
    groups = synthetic_groups(seed)
    w = fit(groups)
    noise = [abs(w[i]) for f, i in COL.items() if f not in INFORMATIVE and f not in FIXED]
    for feature in INFORMATIVE:
        assert w[COL[feature]] > 2 * max(noise), (feature, w)
    # The one that stands out more weighs more.
    assert w[COL["dense"]] > w[COL["lexical"]]
    # Ranked on held-out groups from the same distribution, the right row is mostly first
    # (chance is 1 or 2 in 30).
    held_out = synthetic_groups(seed + 100)
    top1 = np.mean([right[np.argmax(x @ w)] for x, right in held_out])
    assert top1 >= 0.7, top1


def test_fixed_columns_keep_their_value_and_the_fit_is_deterministic():
    groups = synthetic_groups(5)
    w = fit(groups)
    for feature, value in FIXED.items():
        assert w[COL[feature]] == value
    np.testing.assert_array_equal(w, fit(groups))


def test_an_uninformative_feature_gets_no_weight_worth_the_name():
    # Control for the test above: with no informative feature, nothing stands out.
    groups = [(x - np.where(right[:, None], [INFORMATIVE.get(f, 0.0) for f in FEATURES], 0.0), right)
              for x, right in synthetic_groups(7)]
    w = fit(groups)
    assert max(abs(w[i]) for f, i in COL.items() if f not in FIXED) < 0.5, w


def calibration_data(seed: int, scale: float, shift: float, n: int = 2000):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(-2, 2, n)
    right = rng.random(n) < 1 / (1 + np.exp(-(scale * scores + shift)))
    return scores, right


@pytest.mark.parametrize(("scale", "shift"), [(2.0, 0.5), (0.7, -1.0), (5.0, 0.0)])
def test_fit_calibration_recovers_a_rising_curve(scale, shift):
    scores, right = calibration_data(11, scale, shift)
    fitted_scale, fitted_shift = training.fit_calibration(scores, right)
    assert fitted_scale > 0
    assert fitted_scale == pytest.approx(scale, rel=0.3)
    assert fitted_shift == pytest.approx(shift, abs=0.3)
    assert training.fit_calibration(scores, right) == (fitted_scale, fitted_shift)  # deterministic


def test_fit_calibration_of_a_falling_curve_has_a_negative_scale():
    scores, right = calibration_data(12, -2.0, 0.0)
    assert training.fit_calibration(scores, right)[0] < 0
