"""Forecast skill metrics as scored in the 2023/24 VIEWS prediction challenge.

Distribution metrics share one signature, `(draws[cells, n], observed[cells]) -> score[cells]`,
so a table is one loop over them; lower is better for all three. Probability metrics score the
forecast probability of an event, `(prob[cells], event[cells]) -> float`. Inputs are checked at
the door: a wrong shape, a NaN or an infinity raises `ValueError` naming the argument, because a
NaN averaged into a skill score silently is worse than no score.

The challenge's own definitions (prio-data/prediction_competition_2023, `evaluate_submissions.py`)
are followed: the standard ensemble CRPS, the ignorance score over fixed fatality bins with one
pseudo-count per bin, and the interval score of the central 90% interval with numpy's linear
quantiles.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

# Ignorance-score bin edges: bin k is [EDGES[k], EDGES[k+1]), the last bin is [1000.5, inf).
IGNORANCE_EDGES = np.array([0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5])


def _check_draws(draws: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    if draws.ndim != 2:
        raise ValueError(f"draws must be 2-D (cells, draws), got shape {draws.shape}")
    if observed.ndim != 1:
        raise ValueError(f"observed must be 1-D (cells), got shape {observed.shape}")
    if draws.shape[0] != observed.shape[0]:
        raise ValueError(
            f"draws have {draws.shape[0]} cells but observed has {observed.shape[0]} values"
        )
    if draws.shape[0] == 0 or draws.shape[1] == 0:
        raise ValueError(f"nothing to score: draws have shape {draws.shape}")
    _check_finite(draws, "draws")
    _check_finite(observed, "observed")
    return draws, observed


def _check_finite(values: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        kind = "NaN" if np.isnan(values).any() else "infinite"
        raise ValueError(f"{name} contain {int(bad.sum())} {kind} value(s)")


def crps(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score, standard ensemble estimator, per cell.

    CRPS = mean|X − y| − ½·mean|X − X′| over all n² pairs of draws; computed from sorted draws
    as Σᵢ(2i − n − 1)·x₍ᵢ₎ = ½·Σᵢⱼ|xᵢ − xⱼ|, so scoring costs a sort, not n² differences.

    Hand computation, draws [0, 0, 0, 4], y = 4:
    mean|X − y| = (4 + 4 + 4 + 0)/4 = 3; of the 16 pairs, 6 differ by 4, mean|X − X′| = 24/16
    = 1.5; CRPS = 3 − 0.75 = 2.25. Draws [0, 2], y = 1: 1 − ½·(0 + 2 + 2 + 0)/4 = 0.5.
    """
    draws, observed = _check_draws(draws, observed)
    n = draws.shape[1]
    ordered = np.sort(draws, axis=1)
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    # numpy's own sum, not `ordered @ weights`: BLAS picks its kernel and splits the work by
    # CPU and thread count, and the last bits of the score followed.
    spread = (ordered * weights).sum(axis=1) / n**2
    return np.abs(draws - observed[:, None]).mean(axis=1) - spread


def ignorance(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Ignorance score (log base 2) over the challenge's 11 fatality bins, per cell.

    The draws are counted into the bins, each bin gets one pseudo-count (so no outcome has
    probability zero), and the score is −log2 of the share in the observed value's bin.

    Hand computation, draws [0, 0, 1, 30] (n = 4): bin counts are 2 in [0, 0.5), 1 in
    [0.5, 2.5), 1 in [25.5, 50.5). For y = 0: p = (2 + 1)/(4 + 11) = 0.2, score
    −log2 0.2 = 2.321928. For y = 2000 (bin [1000.5, ∞), no draws): p = 1/15, score
    log2 15 = 3.906891.
    """
    draws, observed = _check_draws(draws, observed)
    for name, values in (("draws", draws), ("observed", observed)):
        if (values < 0).any():
            raise ValueError(f"{name} must be non-negative for the ignorance score")
    n_bins = len(IGNORANCE_EDGES)
    cells, n = draws.shape
    draw_bins = np.searchsorted(IGNORANCE_EDGES, draws, side="right") - 1
    flat = (draw_bins + n_bins * np.arange(cells)[:, None]).ravel()
    counts = np.bincount(flat, minlength=cells * n_bins).reshape(cells, n_bins)
    observed_bins = np.searchsorted(IGNORANCE_EDGES, observed, side="right") - 1
    hits = counts[np.arange(cells), observed_bins]
    return -np.log2((hits + 1) / (n + n_bins))


def interval_score(draws: np.ndarray, observed: np.ndarray, *, alpha: float = 0.1) -> np.ndarray:
    """Interval score of the central (1 − alpha) interval, per cell; its mean is the MIS.

    l and u are the draws' alpha/2 and 1 − alpha/2 quantiles (numpy's linear interpolation, as
    the challenge computes them); the score is (u − l) + (2/α)(l − y)·1[y < l]
    + (2/α)(y − u)·1[y > u]: the width, plus a penalty for missing that grows with the miss.

    Hand computation, draws 0, 1, …, 100 and α = 0.1: l = 5, u = 95. For y = 50 the score is
    the width, 90; for y = 100 it is 90 + 20·(100 − 95) = 190; for y = 0, 90 + 20·5 = 190.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    draws, observed = _check_draws(draws, observed)
    lower, upper = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=1)
    below = (2 / alpha) * (lower - observed) * (observed < lower)
    above = (2 / alpha) * (observed - upper) * (observed > upper)
    return (upper - lower) + below + above


def exceedance_probability(draws: np.ndarray, threshold: float = 25) -> np.ndarray:
    """P(outcome ≥ threshold) per cell, as the share of draws at or above it.

    Draws [0, 10, 25, 40] with threshold 25: 2 of 4 draws, P = 0.5.
    """
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2 or draws.shape[1] == 0:
        raise ValueError(f"draws must be 2-D (cells, draws), got shape {draws.shape}")
    _check_finite(draws, "draws")
    return (draws >= threshold).mean(axis=1)


def _check_probability(
    prob: np.ndarray, event: np.ndarray, *, both_classes: bool
) -> tuple[np.ndarray, np.ndarray]:
    prob = np.asarray(prob, dtype=float)
    event = np.asarray(event)
    if prob.ndim != 1 or event.ndim != 1:
        raise ValueError(f"prob and event must be 1-D, got shapes {prob.shape} and {event.shape}")
    if prob.shape != event.shape:
        raise ValueError(f"prob has {prob.size} values but event has {event.size}")
    if prob.size == 0:
        raise ValueError("nothing to score: prob and event are empty")
    _check_finite(prob, "prob")
    if ((prob < 0) | (prob > 1)).any():
        raise ValueError("prob must lie in [0, 1]")
    if event.dtype != bool:
        if not np.isin(event, [0, 1]).all():
            raise ValueError("event must be boolean or 0/1")
        event = event.astype(bool)
    if both_classes and (event.all() or not event.any()):
        raise ValueError("event must contain both events and non-events for this metric")
    return prob, event


def auroc(prob: np.ndarray, event: np.ndarray) -> float:
    """Area under the ROC curve: the chance that an event outranks a non-event (ties count ½).

    Hand computation, prob [0.1, 0.4, 0.35, 0.8], event [0, 0, 1, 1]: of the 4 (event,
    non-event) pairs, 0.35 beats 0.1 but not 0.4 and 0.8 beats both, so AUROC = 3/4 = 0.75.
    """
    prob, event = _check_probability(prob, event, both_classes=True)
    return float(roc_auc_score(event, prob))


def average_precision(prob: np.ndarray, event: np.ndarray) -> float:
    """Average precision, Σₖ (Rₖ − Rₖ₋₁)·Pₖ over descending thresholds, without interpolation.

    This is scikit-learn's step-wise definition (tied probabilities form one threshold); it
    reproduces the challenge's published figures for the conflictology benchmark.

    Hand computation, prob [0.1, 0.4, 0.35, 0.8], event [0, 0, 1, 1]: at 0.8, precision 1 and
    recall ½; at 0.4, no new recall; at 0.35, precision 2/3 and recall 1. AP = ½·1 + ½·⅔
    = 0.833333.
    """
    prob, event = _check_probability(prob, event, both_classes=True)
    return float(average_precision_score(event, prob))


def brier(prob: np.ndarray, event: np.ndarray) -> float:
    """Brier score, the mean squared difference between probability and outcome (0 or 1).

    Hand computation, prob [0.1, 0.4, 0.35, 0.8], event [0, 0, 1, 1]:
    (0.01 + 0.16 + 0.4225 + 0.04)/4 = 0.158125.
    """
    prob, event = _check_probability(prob, event, both_classes=False)
    return float(np.mean((prob - event) ** 2))
