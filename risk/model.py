"""Probabilistic forecasts of monthly deaths per country, for each violence measure.

The method (docs/methodology.md says it for analysts):

1. One model per UCDP violence type (state-based, non-state, one-sided). Its inputs at the
   forecast origin come from the last 12 months only: the type's own deaths (log scale: last
   month, 3-, 6- and 12-month means, the 12-month maximum and minimum, the share of months
   with ≥ 1 and ≥ 25 deaths, the months since the last month with ≥ 25), the other two types'
   3- and 12-month levels, and the neighbours' violence of the type (highest 3- and 12-month
   level among land neighbours, the mean of the UN subregion). Twelve months, because that is
   all some inputs have (the VIEWS challenge gives 12).
2. Every input can only raise the forecast when it rises (more deaths, more serious months,
   more violent neighbours; fewer months since the last serious one): the regressions are
   monotonic in each input, so more recent violence never lowers a forecast. The regression
   learns log(1 + deaths) at horizon h (h is an input) as a change from half the 12-month
   level, trained on every country and origin of the training panel up to the origin.
3. The predictive distribution: the point forecast plus the empirical distribution of its
   errors, measured on held-out rows with similar forecasts and horizons (40 × 3 groups),
   interpolated between groups and made to rise from group to group (isotonic regression), so
   that a higher point forecast never gives a lower quantile.
4. 30% of the draws are the country's own last 12 months of the type (the "conflictology"
   benchmark), which keeps the scale of large wars that no bucket of errors describes well.
5. "All organised violence" is the sum of the three types' draws, draw by draw.

Draws are quantiles, not random samples, so results are deterministic; a seeded Gaussian copula
only decides how draws line up across horizons and types (so "at least one of the next 3
months" is neither the comonotone minimum nor the independent maximum). They are also the same
on every machine: see DECIMALS.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from loaders import countries
from risk import measures

if TYPE_CHECKING:  # scikit-learn (with SciPy) takes a second to import: only when training
    from sklearn.ensemble import HistGradientBoostingRegressor

WINDOW = 12
HORIZONS = tuple(range(1, 16))
N_DRAWS = 1000
THRESHOLD = 25
HISTORY_SHARE = 0.3  # share of draws taken from the country's own last 12 months
ERROR_BUCKETS = 40
WAR_EDGES = (300, 1000, 3000, 10000)  # deaths a month: more groups for large wars …
MIN_GROUP = 200  # … where they hold enough rows
HORIZON_GROUPS = (5, 9)  # horizons 1–5, 6–9, 10+ have their own error distributions
QUIET_KEEP = 0.1  # share of all-quiet training rows kept (weighted back up) to save time
BASELINE_WEIGHT = 0.5  # the regression learns the change from this share of the 12-month level
POINT_CAP = float(np.log(2))  # a point forecast is at most about twice the worst recent month
TREES, LEARNING_RATE = 200, 0.08
FOLDS = 3  # cross-fitted members: each learns from two thirds, is checked on the rest
COPULA_NOISE = 0.5  # per-horizon and per-type noise in the draw ordering
# Features, targets and draws are rounded to this many decimals (a millionth of a log point or
# of a death, far below what the data can say) so that the forecast is the same on every
# machine. Unrounded, their last bit depends on the CPU: numpy computes log1p and expm1 with
# different SIMD kernels on different processors (SVML on AVX-512, libm elsewhere). One such
# bit can move a value across a tree's bin threshold and change a forecast in its second
# digit; after rounding, only a value within one bit of a rounding midpoint can.
DECIMALS = 6
TYPES = tuple(m for m in measures.MEASURES if m != measures.ALL)  # state_based, non_state, …
SB, NS, OS = (measures.COLUMNS[t] for t in TYPES)
OWN = (
    "log_last", "log_mean3", "log_mean6", "log_mean12", "log_max12", "log_min12",
    "share_ge25", "share_ge1", "months_since_ge25",
)  # fmt: skip
OTHER = ("other1_mean3", "other1_mean12", "other2_mean3", "other2_mean12")
CONTEXT = ("neighbour_max3", "neighbour_max12", "subregion_mean3")
FEATURES = (*OWN, *OTHER, *CONTEXT)
# +1: the forecast may only rise with the input; -1: only fall (more months since the last
# serious month is calmer). The horizon (the last column) is free.
MONOTONIC = (*(-1 if name == "months_since_ge25" else 1 for name in FEATURES), 0)


class InsufficientData(ValueError):
    """The panel cannot support a forecast (too short, nothing covered, bad values)."""


@dataclass(frozen=True)
class Arrays:
    """The panel as a months × countries × TYPES array (NaN where no source covers the month)."""

    months: pd.DatetimeIndex
    iso3: list[str]
    counts: np.ndarray


def panel_arrays(panel: pd.DataFrame) -> Arrays:
    """Wide arrays from the long panel (iso3, month, fatalities by violence type)."""
    columns = [SB, NS, OS]
    missing = {"iso3", "month", *columns} - set(panel.columns)
    if missing:
        raise InsufficientData(f"the panel lacks columns: {', '.join(sorted(missing))}")
    if panel.empty:
        raise InsufficientData("the panel is empty")
    values = panel[columns].astype("float64")
    if (values < 0).any().any():
        raise InsufficientData("the panel has negative fatalities")
    wide = (
        panel.assign(**{c: values[c] for c in values})
        .pivot_table(index="month", columns="iso3", values=columns, dropna=False)
        .sort_index()
    )
    months = pd.DatetimeIndex(wide.index)
    wide = wide.reindex(pd.date_range(months.min(), months.max(), freq="MS"))
    iso3 = list(wide[SB].columns)
    counts = np.stack([wide[c].reindex(columns=iso3).to_numpy() for c in columns], axis=2)
    return Arrays(pd.DatetimeIndex(wide.index), iso3, counts)


@dataclass(frozen=True)
class Inputs:
    """What a forecast starts from: each country's last 12 months and its neighbourhood.

    `window` is countries × TYPES × WINDOW deaths, oldest month first; `context` is
    countries × TYPES × CONTEXT (the neighbours' and subregion's levels of each type).
    """

    iso3: np.ndarray
    window: np.ndarray
    context: np.ndarray


def _log1p(counts: np.ndarray) -> np.ndarray:
    """log(1 + counts), rounded to DECIMALS (see there)."""
    return np.log1p(counts).round(DECIMALS)


def own_features(window: np.ndarray) -> np.ndarray:
    """OWN and OTHER features of each type: (…, TYPES, 12 months) → (…, TYPES, OWN + OTHER).

    NaN wherever a month of the window is not covered, for any type.
    """
    log = _log1p(window)
    mean3, mean12 = log[..., -3:].mean(axis=-1), log.mean(axis=-1)
    serious = window >= THRESHOLD
    latest_first = serious[..., ::-1]
    since = np.where(latest_first.any(axis=-1), latest_first.argmax(axis=-1), WINDOW)
    own = [
        log[..., -1], mean3, log[..., -6:].mean(axis=-1), mean12, log.max(axis=-1),
        log.min(axis=-1), serious.mean(axis=-1), (window >= 1).mean(axis=-1), since,
    ]  # fmt: skip
    others = [[j for j in range(len(TYPES)) if j != k] for k in range(len(TYPES))]
    other = [level[..., [o[slot] for o in others]] for slot in (0, 1) for level in (mean3, mean12)]
    out = np.stack([*own, *other], axis=-1).astype("float64")
    covered = ~np.isnan(window).any(axis=(-2, -1))
    return np.where(covered[..., None, None], out, np.nan).round(DECIMALS)


def context_features(own: np.ndarray, iso3: list[str]) -> np.ndarray:
    """CONTEXT of every country: (months, countries, TYPES, OWN…) → (months, countries, TYPES, 3).

    The highest 3- and 12-month level among land neighbours, and the mean 3-month level of the
    other countries of the UN subregion; NaN where the country itself is not covered.
    """
    mean3, mean12 = (own[..., OWN.index(name)] for name in ("log_mean3", "log_mean12"))
    out = np.stack(
        [
            np.stack([f(level[..., k], iso3) for k in range(len(TYPES))], axis=-1)
            for f, level in (
                (_neighbour_max, mean3),
                (_neighbour_max, mean12),
                (_subregion_mean, mean3),
            )
        ],
        axis=-1,
    )
    return out.round(DECIMALS)


def _subregion_mean(values: np.ndarray, iso3: list[str]) -> np.ndarray:
    """Mean over the other countries of the same UN subregion (months × countries)."""
    subregions = countries.reference().set_index("iso3")["un_subregion"]
    groups = pd.Series([subregions.get(c, c) for c in iso3])
    frame = pd.DataFrame(np.nan_to_num(values).T)
    total = frame.groupby(groups.values).transform("sum").to_numpy().T
    count = groups.map(groups.value_counts()).to_numpy()
    out = (total - np.nan_to_num(values)) / np.maximum(count - 1, 1)
    return np.where(np.isnan(values), np.nan, out)


def _neighbour_max(values: np.ndarray, iso3: list[str]) -> np.ndarray:
    """The highest value among each country's land neighbours (0 when it has none)."""
    borders = countries.neighbours()
    index = {c: i for i, c in enumerate(iso3)}
    filled = np.nan_to_num(values)
    out = np.zeros_like(filled)
    for i, country in enumerate(iso3):
        others = [index[n] for n in borders.get(country, ()) if n in index]
        if others:
            out[:, i] = filled[:, others].max(axis=1)
    return np.where(np.isnan(values), np.nan, out)


def features(arrays: Arrays) -> np.ndarray:
    """Every feature at every origin: months × countries × TYPES × FEATURES (NaN: not computable).

    Row t describes the 12 months ending at month t; the first 11 months have none.
    """
    windows = np.lib.stride_tricks.sliding_window_view(arrays.counts, WINDOW, axis=0)
    own = own_features(windows)
    feats = np.concatenate([own, context_features(own, arrays.iso3)], axis=-1)
    lead = np.full((WINDOW - 1, *feats.shape[1:]), np.nan)
    return np.concatenate([lead, feats])


def origin_inputs(arrays: Arrays, origin: int) -> Inputs:
    """The inputs at month index `origin` of every country with 12 covered months up to it."""
    window = np.moveaxis(arrays.counts[max(origin - WINDOW + 1, 0) : origin + 1], 0, -1)
    if window.shape[-1] < WINDOW:
        raise InsufficientData(f"no country has {WINDOW} covered months up to the origin")
    own = own_features(window)
    context = context_features(own[None], arrays.iso3)[0]
    usable = ~np.isnan(own).any(axis=(1, 2))
    if not usable.any():
        raise InsufficientData(f"no country has {WINDOW} covered months up to the origin")
    return Inputs(np.array(arrays.iso3)[usable], window[usable], context[usable])


def _horizon_group(horizons: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(HORIZON_GROUPS), horizons, side="left")


def _with_horizons(rows: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """Rows × FEATURES → (horizons · rows) × (FEATURES + horizon), horizon-major."""
    return np.concatenate([np.c_[rows, np.full(len(rows), h)] for h in horizons])


def _baseline(x: np.ndarray) -> np.ndarray:
    """The share of the 12-month level (log scale) the regression starts from.

    Learning a change from the country's own level, not the level itself, lets the trees carry
    a war larger than any in the training data (trees cannot extrapolate levels). Half the
    level, not all of it, leaves the trees room for the pull back towards calm that large
    levels show, while every input still only raises the forecast (MONOTONIC).
    """
    return BASELINE_WEIGHT * x[:, FEATURES.index("log_mean12")]


def _point(x: np.ndarray, change: np.ndarray) -> np.ndarray:
    """The point forecast: the baseline plus the trees' change, at most POINT_CAP above the
    worst month of the past 12 (log scale).

    Monotonic trees carry their highest leaves to every row above them in any input: a few
    extreme months (Rwanda, April 1994) would otherwise lift every large war's forecast far
    above anything it has seen (Syria from Dec 2012: 80,000 a month after 4,130). The cap is
    monotone too, and the spread of errors around the capped point still reaches far beyond it.
    """
    return np.minimum(_baseline(x) + change, x[:, FEATURES.index("log_max12")] + POINT_CAP)


@dataclass
class TypeModel:
    """One violence type's cross-fitted regressions and out-of-fold error distributions."""

    members: list[HistGradientBoostingRegressor]
    centres: np.ndarray  # the median point forecast of each bucket, increasing
    quantiles: np.ndarray  # (buckets, horizon groups, N_DRAWS) outcome quantiles at the centres

    def points(self, rows: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
        """Expected log(1 + deaths), rows × horizons: the mean of the members.

        One prediction call for all horizons: each call has a fixed cost that dominates
        for a few hundred countries.
        """
        x = _with_horizons(rows, horizons)
        # A few thousand rows: OpenMP threads cost more than they save, most on a busy server.
        with threadpool_limits(1):
            mean = np.mean([member.predict(x) for member in self.members], axis=0)
        return _point(x, mean).reshape(len(horizons), len(rows)).T

    def outcomes(self, point: np.ndarray, horizon: int) -> np.ndarray:
        """Quantiles of log(1 + deaths) for each point forecast (rows × N_DRAWS).

        Interpolated between the two nearest bucket centres, and the point plus the end
        bucket's errors beyond them: continuous and, as the centres' quantiles rise from
        bucket to bucket, never lower for a higher point.
        """
        table = self.quantiles[:, _horizon_group(np.array([horizon]))[0]]
        c = self.centres
        if len(c) == 1:
            return table[0] + (point - c[0])[:, None]
        high = np.clip(np.searchsorted(c, point), 1, len(c) - 1)
        low = high - 1
        share = np.clip((point - c[low]) / (c[high] - c[low]), 0, 1)[:, None]
        beyond = np.minimum(point - c[0], 0) + np.maximum(point - c[-1], 0)
        return table[low] + share * (table[high] - table[low]) + beyond[:, None]


def _isotonic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted least-squares non-decreasing fit along axis 0 of `values` (B × …).

    The max–min formula: fit_b = max over i ≤ b of min over j ≥ b of the weighted mean of
    values[i..j]. B is about 20, so all B² means are cheap.
    """
    n = len(values)
    w = weights.reshape(-1, *([1] * (values.ndim - 1)))
    total = np.concatenate([np.zeros_like(values[:1]), np.cumsum(values * w, axis=0)])
    mass = np.concatenate([np.zeros_like(w[:1]), np.cumsum(w, axis=0)])
    fit = np.empty_like(values)
    for b in range(n):
        best = None
        for i in range(b + 1):
            means = (total[b + 1 :] - total[i]) / (mass[b + 1 :] - mass[i])
            low = means.min(axis=0)
            best = low if best is None else np.maximum(best, low)
        fit[b] = best
    return fit


@dataclass
class Model:
    """A fitted forecaster: one TypeModel per violence type."""

    types: dict[str, TypeModel]
    trained_to: pd.Timestamp
    training_rows: int
    horizons: tuple[int, ...] = field(default=HORIZONS)


def _training_set(
    arrays: Arrays, feats: np.ndarray, k: int, last: int, horizons: tuple[int, ...], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    needed = WINDOW + max(horizons)
    if last + 1 < needed:
        raise InsufficientData(
            f"not enough history to train: need {needed} covered months, have {last + 1}"
        )
    rng = np.random.default_rng([seed, k])
    rows, targets = [], []
    for h in horizons:
        x = feats[WINDOW - 1 : last - h + 1, :, k].reshape(-1, len(FEATURES))
        y = arrays.counts[WINDOW - 1 + h : last + 1, :, k].reshape(-1)
        ok = ~np.isnan(x).any(axis=1) & ~np.isnan(y)
        rows.append(np.c_[x[ok], np.full(ok.sum(), h)])
        targets.append(y[ok])
    if not sum(len(t) for t in targets):
        raise InsufficientData(f"not enough history to train: need {needed} covered months")
    x, y = np.concatenate(rows), np.concatenate(targets)
    # Countries quiet all year that stay quiet are most rows and teach little: keep a sample.
    quiet = (x[:, FEATURES.index("log_max12")] == 0) & (y == 0)
    keep = ~quiet | (rng.random(len(y)) < QUIET_KEEP)
    weight = np.where(quiet, 1 / QUIET_KEEP, 1.0)
    return x[keep], _log1p(y[keep]), weight[keep]


def _regressor(seed: int) -> HistGradientBoostingRegressor:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=int(TREES),
        learning_rate=LEARNING_RATE,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        monotonic_cst=list(MONOTONIC),
        random_state=seed,
    )


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")  # ties in a fixed order on every CPU
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return values[order][np.minimum(np.searchsorted(cumulative, q), len(values) - 1)]


def _fit_type(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int) -> TypeModel:
    """Cross-fitting: the rows are split in FOLDS; each member learns from all folds but one and
    measures its errors on the fold it did not see. Forecasts average the members, and the
    error distributions come only from rows a member had not seen."""
    base = _baseline(x)
    fold = np.random.default_rng(seed + 1).integers(0, FOLDS, len(y))
    members, point = [], np.empty(len(y))
    for k in range(FOLDS):
        train = fold != k
        member = _regressor(seed + k).fit(x[train], (y - base)[train], sample_weight=w[train])
        point[~train] = _point(x[~train], member.predict(x[~train]))
        members.append(member)
    # Equal-count groups, and above them groups of large wars (a few hundred rows each), whose
    # errors are narrower on the log scale than those of a country at 100 deaths a month.
    edges = np.unique(np.r_[np.quantile(point, np.linspace(0, 1, ERROR_BUCKETS + 1)[1:-1]),
                            np.log1p(WAR_EDGES)])  # fmt: skip
    while len(edges) and (point > edges[-1]).sum() < MIN_GROUP:
        edges = edges[:-1]
    bucket = np.searchsorted(edges, point)
    buckets = [b for b in range(len(edges) + 1) if (bucket == b).any()]
    group = _horizon_group(x[:, -1])
    q = (np.arange(N_DRAWS) + 0.5) / N_DRAWS
    centres = np.array([np.median(point[bucket == b]) for b in buckets])
    table = np.zeros((len(buckets), len(HORIZON_GROUPS) + 1, N_DRAWS))
    for n, b in enumerate(buckets):
        in_bucket = bucket == b
        for g in range(len(HORIZON_GROUPS) + 1):
            chosen = in_bucket & (group == g)
            if chosen.sum() < 30:  # too few to describe a distribution: pool the horizons
                chosen = in_bucket
            table[n, g] = centres[n] + _weighted_quantiles((y - point)[chosen], w[chosen], q)
    # Outcome quantiles that rise with the point forecast: a higher forecast never has a lower
    # quantile (buckets are noisy, and one with narrower errors could otherwise undercut the
    # bucket below it).
    mass = np.array([w[bucket == b].sum() for b in buckets])
    return TypeModel(members, centres, _isotonic(table, mass).round(DECIMALS))


def fit(panel: pd.DataFrame, as_of: str | pd.Timestamp, *, seed: int = 0) -> Model:
    """Train each type's model on every country-month of `panel` up to `as_of` (inclusive)."""
    arrays = panel_arrays(panel)
    origin = _origin_index(arrays, as_of)
    feats = features(arrays)
    fitted, rows = {}, 0
    for k, name in enumerate(TYPES):
        x, y, w = _training_set(arrays, feats, k, origin, HORIZONS, seed)
        fitted[name] = _fit_type(x, y, w, seed)
        rows += len(y)
    return Model(fitted, arrays.months[origin], rows)


def _origin_index(arrays: Arrays, as_of: str | pd.Timestamp) -> int:
    origin = pd.Timestamp(as_of).to_period("M").start_time
    if origin < arrays.months[0] or origin > arrays.months[-1]:
        raise InsufficientData(
            f"as-of month {origin:%Y-%m} is outside the panel "
            f"({arrays.months[0]:%Y-%m} … {arrays.months[-1]:%Y-%m})"
        )
    return int(arrays.months.get_loc(origin))


@dataclass(frozen=True)
class Draws:
    """Forecast draws as an array: countries × horizons × N_DRAWS."""

    iso3: np.ndarray
    origin: pd.Timestamp
    horizons: tuple[int, ...]
    values: np.ndarray

    @property
    def months(self) -> list[pd.Timestamp]:
        return [self.origin + pd.DateOffset(months=h) for h in self.horizons]

    def long(self) -> pd.DataFrame:
        """Columns iso3, month, horizon, draw, outcome (the harness' format)."""
        countries_n, horizons_n, draws_n = self.values.shape
        return pd.DataFrame(
            {
                "iso3": np.repeat(self.iso3, horizons_n * draws_n),
                "month": np.tile(np.repeat(self.months, draws_n), countries_n),
                "horizon": np.tile(np.repeat(self.horizons, draws_n), countries_n),
                "draw": np.tile(np.arange(draws_n), countries_n * horizons_n),
                "outcome": self.values.ravel(),
            }
        )


def type_points(model: Model, inputs: Inputs, horizons: tuple[int, ...]) -> np.ndarray:
    """Point forecasts (log scale) of each type: countries × TYPES × horizons."""
    feats = np.concatenate([own_features(inputs.window), inputs.context], axis=-1)
    return np.stack(
        [model.types[name].points(feats[:, k], horizons) for k, name in enumerate(TYPES)], axis=1
    )


def type_draws(
    model: Model,
    inputs: Inputs,
    horizons: tuple[int, ...],
    ranks: np.ndarray,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """Draws of each type from `inputs`: countries × TYPES × horizons × N_DRAWS.

    `ranks` (from `copula_ranks`, countries × TYPES × horizons × N_DRAWS) place the sorted
    draws; with the same ranks, more violence in the inputs never lowers any draw. `points`
    are `type_points` of the same inputs when the caller already has them.
    """
    points = type_points(model, inputs, horizons) if points is None else points
    n_history = round(HISTORY_SHARE * N_DRAWS)
    # The country's own months, cycled oldest first (as the challenge's conflictology does).
    own = np.tile(inputs.window, -(-n_history // WINDOW))[..., :n_history]
    own.sort(axis=-1)
    pick = np.linspace(0, N_DRAWS - 1, N_DRAWS - n_history).astype(int)
    values = np.empty((len(inputs.iso3), len(TYPES), len(horizons), N_DRAWS))
    rows = np.arange(len(inputs.iso3))[:, None] * N_DRAWS  # flat positions: faster than
    for k, name in enumerate(TYPES):  # take_along_axis, which rebuilds its index every call
        fitted = model.types[name]
        for j, h in enumerate(horizons):
            log = fitted.outcomes(points[:, k, j], h)[:, pick]
            modelled = np.maximum(np.expm1(log), 0).round(DECIMALS)
            # Two sorted runs: a stable sort merges them in linear time.
            merged = np.concatenate([modelled, own[:, k]], axis=1)
            ranked = np.sort(merged, axis=1, kind="stable")
            values[:, k, j] = ranked.ravel()[rows + ranks[:, k, j]]
    return values


def any_month_at_least(values: np.ndarray, months: int) -> np.ndarray:
    """P(≥ THRESHOLD deaths in at least one of the first `months` horizons), per country, from
    joint draws (countries × horizons × draws): the share of draws, not a sum of monthly odds."""
    return (values[:, :months] >= THRESHOLD).any(axis=1).mean(axis=1)


def measure_draws(values: np.ndarray) -> dict[str, np.ndarray]:
    """Each measure's draws (countries × horizons × N_DRAWS) from `type_draws`' output."""
    out = {name: values[:, k] for k, name in enumerate(TYPES)}
    out[measures.ALL] = values.sum(axis=1).round(DECIMALS)
    return out


def copula_ranks(iso3: np.ndarray, horizons: tuple[int, ...], seed: int) -> np.ndarray:
    """Rank of each draw per type and horizon: countries × TYPES × horizons × N_DRAWS.

    A factor shared by the country's types and horizons, plus noise per type and horizon, so
    that a violent scenario is violent in most months and types, but not in lockstep. Each
    country's ranks come from its own seeded stream, and the noise of horizon h is the same
    whichever horizons are asked for: a country's forecast does not depend on which other
    countries are forecast with it, and months 1–3 of a 15-month forecast line up as in a
    3-month one.
    """
    span = max(max(HORIZONS), max(horizons))
    chosen = [h - 1 for h in horizons]
    out = np.empty((len(iso3), len(TYPES), len(horizons), N_DRAWS), dtype=np.int64)
    for i, country in enumerate(iso3):
        rng = np.random.default_rng([seed, zlib.crc32(str(country).encode())])
        shared = rng.standard_normal(N_DRAWS)
        noise = rng.standard_normal((len(TYPES), span, N_DRAWS))[:, chosen]
        out[i] = np.argsort(np.argsort(shared + COPULA_NOISE * noise, axis=-1), axis=-1)
    return out


def forecast_measures(
    panel: pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizons: tuple[int, ...] | range = HORIZONS,
    *,
    seed: int = 0,
    model: Model | None = None,
    training: pd.DataFrame | None = None,
) -> dict[str, Draws]:
    """Draws of every measure (risk.measures.MEASURES) for every country with 12 covered
    months up to `as_of`; the model is trained on `training` (default: `panel`) unless given."""
    horizons = tuple(horizons)
    model = model or fit(training if training is not None else panel, as_of, seed=seed)
    arrays = panel_arrays(panel)
    origin = _origin_index(arrays, as_of)
    inputs = origin_inputs(arrays, origin)
    ranks = copula_ranks(inputs.iso3, horizons, seed)
    values = measure_draws(type_draws(model, inputs, horizons, ranks))
    return {
        name: Draws(inputs.iso3, arrays.months[origin], horizons, values[name])
        for name in measures.MEASURES
    }


def forecast(
    panel: pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizons: tuple[int, ...] | range = HORIZONS,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    *,
    model: Model | None = None,
    training: pd.DataFrame | None = None,
    measure: str = "state_based",
) -> pd.DataFrame:
    """Draws of one measure's monthly deaths for every country with 12 covered months.

    The harness' signature (risk.views.Forecaster): columns iso3, month, horizon, draw,
    outcome. Countries without 12 covered months up to `as_of` are left out:
    `insufficient_countries` names them.
    """
    if n_draws != N_DRAWS:
        raise ValueError(f"the model makes {N_DRAWS} draws")
    measures.check(measure)
    draws = forecast_measures(panel, as_of, horizons, seed=seed, model=model, training=training)
    return draws[measure].long()


def insufficient_countries(panel: pd.DataFrame, as_of: str | pd.Timestamp) -> list[str]:
    """Countries of the panel without 12 covered months up to `as_of` (no forecast for them)."""
    arrays = panel_arrays(panel)
    origin = _origin_index(arrays, as_of)
    start = origin - WINDOW + 1
    if start < 0:
        return list(arrays.iso3)
    window = arrays.counts[start : origin + 1]
    covered = ~np.isnan(window).any(axis=(0, 2))
    return [c for c, ok in zip(arrays.iso3, covered, strict=True) if not ok]
