"""The skill metrics against answers worked out by hand (the working is in each docstring)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from risk.metrics import (
    auroc,
    average_precision,
    brier,
    crps,
    exceedance_probability,
    ignorance,
    interval_score,
)

PROB = np.array([0.1, 0.4, 0.35, 0.8])
EVENT = np.array([0, 0, 1, 1])


def test_crps_hand_computed() -> None:
    """[0, 0, 0, 4] vs 4: 3 − ½·1.5 = 2.25; [0, 2] vs 1: 1 − ½·1 = 0.5; one draw 3 vs 5: |3 − 5|."""
    assert crps(np.array([[0, 0, 0, 4]]), np.array([4])) == pytest.approx([2.25])
    assert crps(np.array([[0, 2]]), np.array([1])) == pytest.approx([0.5])
    assert crps(np.array([[3]]), np.array([5])) == pytest.approx([2.0])


def test_crps_equals_the_all_pairs_definition() -> None:
    """The sorted-sample formula against mean|X − y| − ½·mean|X − X′| written out in full."""
    rng = np.random.default_rng(1)
    draws = rng.poisson(3, size=(20, 37)).astype(float) * rng.integers(0, 2, size=(20, 1))
    observed = rng.poisson(3, size=20).astype(float)
    pairs = np.abs(draws[:, :, None] - draws[:, None, :]).mean(axis=(1, 2))
    expected = np.abs(draws - observed[:, None]).mean(axis=1) - 0.5 * pairs
    np.testing.assert_allclose(crps(draws, observed), expected, rtol=1e-12, atol=1e-12)


def test_ignorance_hand_computed() -> None:
    """[0, 0, 1, 30]: y = 0 → −log2(3/15) = 2.321928; y = 2000 → log2 15 = 3.906891;
    y = 0.5 sits on an edge and belongs to [0.5, 2.5) → −log2(2/15) = 2.906891."""
    draws = np.array([[0, 0, 1, 30]] * 3)
    scores = ignorance(draws, np.array([0, 2000, 0.5]))
    assert scores == pytest.approx([2.321928, 3.906891, 2.906891], abs=1e-6)


def test_ignorance_of_a_certain_forecast_is_the_pseudo_count_floor() -> None:
    """1,000 zeros and y = 0: p = 1001/1011, score −log2(1001/1011) = 0.014341."""
    assert ignorance(np.zeros((1, 1000)), np.array([0.0])) == pytest.approx([0.014341], abs=1e-6)


def test_interval_score_hand_computed() -> None:
    """Draws 0 … 100: l = 5, u = 95; y = 50 → 90, y = 100 → 90 + 20·5 = 190, y = 0 → 190."""
    draws = np.tile(np.arange(101.0), (3, 1))
    assert interval_score(draws, np.array([50, 100, 0])) == pytest.approx([90, 190, 190])


def test_interval_score_interpolates_quantiles_like_numpy() -> None:
    """Draws [0, 10]: l = 0.5, u = 9.5 (linear), y = 10 → 9 + 20·0.5 = 19."""
    assert interval_score(np.array([[0, 10]]), np.array([10])) == pytest.approx([19.0])


def test_exceedance_probability_counts_the_threshold_itself() -> None:
    """[0, 10, 25, 40] at 25: 2 of 4 draws."""
    assert exceedance_probability(np.array([[0, 10, 25, 40]])) == pytest.approx([0.5])


def test_probability_metrics_hand_computed() -> None:
    """AUROC 3/4; AP ½·1 + ½·⅔ = 0.833333; Brier (0.01 + 0.16 + 0.4225 + 0.04)/4 = 0.158125."""
    assert auroc(PROB, EVENT) == pytest.approx(0.75)
    assert average_precision(PROB, EVENT) == pytest.approx(5 / 6)
    assert brier(PROB, EVENT) == pytest.approx(0.158125)
    assert brier(PROB, EVENT.astype(bool)) == pytest.approx(0.158125)


def test_ties_count_half_in_auroc_and_form_one_threshold_in_ap() -> None:
    """prob [0.5, 0.5, 0.2], event [1, 0, 0]: AUROC (½ + 1)/2 = 0.75; AP: one threshold at 0.5
    with precision ½ and recall 1, so AP = 0.5."""
    prob, event = np.array([0.5, 0.5, 0.2]), np.array([1, 0, 0])
    assert auroc(prob, event) == pytest.approx(0.75)
    assert average_precision(prob, event) == pytest.approx(0.5)


@pytest.mark.parametrize("metric", [crps, ignorance, interval_score])
def test_distribution_metrics_refuse_bad_input(metric) -> None:
    good = np.zeros((2, 3))
    with pytest.raises(ValueError, match="draws contain 1 NaN"):
        metric(np.array([[0, np.nan, 1], [0, 0, 0]]), np.zeros(2))
    with pytest.raises(ValueError, match="observed contain 1 NaN"):
        metric(good, np.array([0, np.nan]))
    with pytest.raises(ValueError, match="draws have 2 cells but observed has 3"):
        metric(good, np.zeros(3))
    with pytest.raises(ValueError, match="must be 2-D"):
        metric(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="infinite"):
        metric(np.array([[0, np.inf, 0], [0, 0, 0]]), np.zeros(2))


def test_ignorance_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        ignorance(np.array([[-1.0, 0.0]]), np.array([0.0]))


def test_probability_metrics_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="both events and non-events"):
        auroc(PROB, np.zeros(4))
    with pytest.raises(ValueError, match="both events and non-events"):
        average_precision(PROB, np.ones(4))
    assert brier(np.zeros(4), np.zeros(4)) == 0.0  # one class is fine for Brier
    with pytest.raises(ValueError, match="prob contain 1 NaN"):
        brier(np.array([0.1, math.nan, 0.2, 0.3]), EVENT)
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        brier(PROB * 2, EVENT)
    with pytest.raises(ValueError, match="boolean or 0/1"):
        brier(PROB, np.array([0, 2, 1, 1]))
    with pytest.raises(ValueError, match="prob has 4 values but event has 3"):
        brier(PROB, EVENT[:3])
