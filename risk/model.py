"""Probabilistic forecasts of monthly state-based fatalities per country.

The method (docs/methodology.md says it for analysts):

1. Features at the forecast origin, from the last 12 months of the country-month panel only:
   the level of state-based fatalities (log scale: last month, 3-, 6- and 12-month means, the
   12-month maximum, minimum and spread), the share of months with ≥ 1 and ≥ 25 deaths, the
   months since the last month with ≥ 25 (12 if none), the trend (3- against 12-month level),
   non-state and one-sided violence, and the neighbours' violence (highest 3- and 12-month level
   among land neighbours, and the mean of the UN subregion). Twelve months, because that is all
   some inputs have (the VIEWS challenge gives 12); the model is the same everywhere.
2. One gradient-boosted regression of log(1 + fatalities) at horizon h (h is a feature), trained
   on every country and origin of the training panel up to the origin.
3. The predictive distribution: the model's point forecast plus the empirical distribution of
   its errors, measured on held-out rows with similar forecasts and horizons (20 × 3 groups).
4. 30% of the draws are the country's own last 12 months (the "conflictology" benchmark), which
   keeps the scale of large wars that no bucket of errors describes well.

Draws are quantiles, not random samples, so results are deterministic; a seeded Gaussian copula
only decides how draws line up across horizons (so "at least one of the next 3 months" is
neither the comonotone minimum nor the independent maximum). They are also the same on every
machine: see DECIMALS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from loaders import countries

if TYPE_CHECKING:  # scikit-learn (with SciPy) takes a second to import: only when training
    from sklearn.ensemble import HistGradientBoostingRegressor

WINDOW = 12
HORIZONS = tuple(range(1, 16))
N_DRAWS = 1000
THRESHOLD = 25
HISTORY_SHARE = 0.3  # share of draws taken from the country's own last 12 months
ERROR_BUCKETS = 20
HORIZON_GROUPS = (5, 9)  # horizons 1–5, 6–9, 10+ have their own error distributions
QUIET_KEEP = 0.1  # share of all-quiet training rows kept (weighted back up) to save time
BASELINE_WEIGHT = 1.0
FOLDS = 3  # cross-fitted members: each learns from two thirds, is checked on the rest
COPULA_NOISE = 0.5  # per-horizon noise in the draw ordering: rank correlation ≈ 0.8
# Features, targets and draws are rounded to this many decimals (a millionth of a log point or
# of a death, far below what the data can say) so that the forecast is the same on every
# machine. Unrounded, their last bit depends on the CPU: numpy computes log1p and expm1 with
# different SIMD kernels on different processors (SVML on AVX-512, libm elsewhere), and
# pandas' rolling means are running sums whose last bit depends on the months before the
# window. One such bit can move a value across a tree's bin threshold and change a forecast
# in its second digit; after rounding, only a value within one bit of a rounding midpoint can.
DECIMALS = 6
SB, NS, OS = "fatalities_state_based", "fatalities_non_state", "fatalities_one_sided"
FEATURES = (
    "log_last", "log_mean3", "log_mean6", "log_mean12", "log_max12", "log_min12", "log_sd12",
    "share_ge25", "share_ge1", "trend", "months_since_ge25", "log_nonstate12", "log_onesided12",
    "log_onesided3", "subregion_mean3", "neighbour_max3", "neighbour_max12",
)  # fmt: skip


class InsufficientData(ValueError):
    """The panel cannot support a forecast (too short, nothing covered, bad values)."""


@dataclass(frozen=True)
class Arrays:
    """The panel as months × countries arrays (NaN where no source covers the month)."""

    months: pd.DatetimeIndex
    iso3: list[str]
    sb: np.ndarray
    ns: np.ndarray
    os: np.ndarray


def panel_arrays(panel: pd.DataFrame) -> Arrays:
    """Wide arrays from the long panel (iso3, month, fatalities by violence type)."""
    missing = {"iso3", "month", SB, NS, OS} - set(panel.columns)
    if missing:
        raise InsufficientData(f"the panel lacks columns: {', '.join(sorted(missing))}")
    if panel.empty:
        raise InsufficientData("the panel is empty")
    values = panel[[SB, NS, OS]].astype("float64")
    if (values < 0).any().any():
        raise InsufficientData("the panel has negative fatalities")
    wide = (
        panel.assign(**{c: values[c] for c in values})
        .pivot_table(index="month", columns="iso3", values=[SB, NS, OS], dropna=False)
        .sort_index()
    )
    months = pd.DatetimeIndex(wide.index)
    full = pd.date_range(months.min(), months.max(), freq="MS")
    wide = wide.reindex(full)
    return Arrays(
        full,
        list(wide[SB].columns),
        wide[SB].to_numpy(),
        wide[NS].reindex(columns=wide[SB].columns).to_numpy(),
        wide[OS].reindex(columns=wide[SB].columns).to_numpy(),
    )


def _rolling(values: np.ndarray, window: int, how: str) -> np.ndarray:
    """Trailing-window statistic along months; NaN until a full, fully covered window."""
    rolling = pd.DataFrame(values).rolling(window, min_periods=window)
    result = rolling.std(ddof=0) if how == "std" else getattr(rolling, how)()
    return result.to_numpy()


def features(arrays: Arrays) -> dict[str, np.ndarray]:
    """Every feature of FEATURES, as months × countries arrays (NaN = not computable)."""
    log_sb, log_ns, log_os = _log1p(arrays.sb), _log1p(arrays.ns), _log1p(arrays.os)
    ge25 = np.where(np.isnan(arrays.sb), np.nan, arrays.sb >= THRESHOLD)
    ge1 = np.where(np.isnan(arrays.sb), np.nan, arrays.sb >= 1)
    out = {
        "log_last": log_sb,
        "log_mean3": _rolling(log_sb, 3, "mean"),
        "log_mean6": _rolling(log_sb, 6, "mean"),
        "log_mean12": _rolling(log_sb, WINDOW, "mean"),
        "log_max12": _rolling(log_sb, WINDOW, "max"),
        "log_min12": _rolling(log_sb, WINDOW, "min"),
        "log_sd12": _rolling(log_sb, WINDOW, "std"),
        "share_ge25": _rolling(ge25, WINDOW, "mean"),
        "share_ge1": _rolling(ge1, WINDOW, "mean"),
        "log_nonstate12": _rolling(log_ns, WINDOW, "mean"),
        "log_onesided12": _rolling(log_os, WINDOW, "mean"),
        "log_onesided3": _rolling(log_os, 3, "mean"),
    }
    out["trend"] = out["log_mean3"] - out["log_mean12"]
    out["months_since_ge25"] = _months_since(ge25)
    out["subregion_mean3"] = _subregion_mean(out["log_mean3"], arrays.iso3)
    out["neighbour_max3"] = _neighbour_max(out["log_mean3"], arrays.iso3)
    out["neighbour_max12"] = _neighbour_max(out["log_mean12"], arrays.iso3)
    return {name: values.round(DECIMALS) for name, values in out.items()}


def _log1p(counts: np.ndarray) -> np.ndarray:
    """log(1 + counts), rounded to DECIMALS (see there)."""
    return np.log1p(counts).round(DECIMALS)


def _months_since(flags: np.ndarray) -> np.ndarray:
    """Months since the last flagged month within the window (WINDOW when none)."""
    out = np.full(flags.shape, np.nan)
    last = np.full(flags.shape[1], -np.inf)
    for t in range(flags.shape[0]):
        last = np.where(flags[t] == 1, t, last)
        out[t] = np.minimum(t - last, WINDOW)
    return np.where(np.isnan(_rolling(flags, WINDOW, "mean")), np.nan, out)


def _subregion_mean(values: np.ndarray, iso3: list[str]) -> np.ndarray:
    """Mean over the other countries of the same UN subregion."""
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


def _baseline(rows: np.ndarray) -> np.ndarray:
    """The persistence level the regression corrects: the 12-month mean on the log scale.

    Learning the change from the country's own level, not the level itself, lets the trees
    carry a war larger than any in the training data (trees cannot extrapolate levels).
    """
    return BASELINE_WEIGHT * rows[:, FEATURES.index("log_mean12")]


def _origin_rows(feats: dict[str, np.ndarray], t: int) -> np.ndarray:
    return np.stack([feats[name][t] for name in FEATURES], axis=1)


def _horizon_group(horizons: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(HORIZON_GROUPS), horizons, side="left")


@dataclass
class Model:
    """A fitted forecaster: cross-fitted regressions and their out-of-fold error distributions."""

    members: list[HistGradientBoostingRegressor]
    bucket_edges: np.ndarray
    error_quantiles: np.ndarray  # (buckets, horizon groups, N_DRAWS)
    trained_to: pd.Timestamp
    training_rows: int
    horizons: tuple[int, ...] = field(default=HORIZONS)

    def points(self, rows: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
        """Expected log(1 + fatalities), rows × horizons: the mean of the members.

        One prediction call for all horizons: each call has a fixed cost that dominates
        for a few hundred countries.
        """
        x = np.concatenate([np.c_[rows, np.full(len(rows), h)] for h in horizons])
        # A few thousand rows: OpenMP threads cost more than they save, most on a busy server.
        with threadpool_limits(1):
            mean = np.mean([member.predict(x) for member in self.members], axis=0)
        return (_baseline(x) + mean).reshape(len(horizons), len(rows)).T

    def errors(self, point: np.ndarray, horizon: int) -> np.ndarray:
        """Quantiles of the error distribution for each point forecast (rows × N_DRAWS)."""
        bucket = np.searchsorted(self.bucket_edges, point)
        return self.error_quantiles[bucket, _horizon_group(np.array([horizon]))[0]]


def _training_set(
    arrays: Arrays, feats: dict[str, np.ndarray], last: int, horizons: tuple[int, ...], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    needed = WINDOW + max(horizons)
    if last + 1 < needed:
        raise InsufficientData(
            f"not enough history to train: need {needed} covered months, have {last + 1}"
        )
    rng = np.random.default_rng(seed)
    rows, targets = [], []
    for h in horizons:
        for t in range(WINDOW - 1, last - h + 1):
            x = _origin_rows(feats, t)
            y = arrays.sb[t + h]
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
        max_iter=200, learning_rate=0.08, max_leaf_nodes=31, min_samples_leaf=40, random_state=seed
    )


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")  # ties in a fixed order on every CPU
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return values[order][np.minimum(np.searchsorted(cumulative, q), len(values) - 1)]


def fit(panel: pd.DataFrame, as_of: str | pd.Timestamp, *, seed: int = 0) -> Model:
    """Train on every country-month of `panel` up to the origin `as_of` (inclusive).

    Cross-fitting: the rows are split in FOLDS; each member learns from all folds but one and
    measures its errors on the fold it did not see. Forecasts average the members, and the
    error distributions come only from rows a member had not seen.
    """
    arrays = panel_arrays(panel)
    origin = _origin_index(arrays, as_of)
    x, y, w = _training_set(arrays, features(arrays), origin, HORIZONS, seed)
    base = _baseline(x)
    fold = np.random.default_rng(seed + 1).integers(0, FOLDS, len(y))
    members, point, error = [], np.empty(len(y)), np.empty(len(y))
    for k in range(FOLDS):
        train = fold != k
        member = _regressor(seed + k).fit(x[train], (y - base)[train], sample_weight=w[train])
        point[~train] = base[~train] + member.predict(x[~train])
        members.append(member)
    error = y - point
    edges = np.unique(np.quantile(point, np.linspace(0, 1, ERROR_BUCKETS + 1)[1:-1]))
    bucket = np.searchsorted(edges, point)
    group = _horizon_group(x[:, -1])
    q = (np.arange(N_DRAWS) + 0.5) / N_DRAWS
    table = np.zeros((len(edges) + 1, len(HORIZON_GROUPS) + 1, N_DRAWS))
    for b in range(len(edges) + 1):
        in_bucket = bucket == b
        for g in range(len(HORIZON_GROUPS) + 1):
            chosen = in_bucket & (group == g)
            if chosen.sum() < 30:  # too few to describe a distribution: pool the horizons
                chosen = in_bucket
            table[b, g] = _weighted_quantiles(error[chosen], w[chosen], q)
    return Model(members, edges, table, arrays.months[origin], len(y))


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


def simulate(
    panel: pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizons: tuple[int, ...] | range = HORIZONS,
    *,
    model: Model,
    seed: int = 0,
) -> Draws:
    """Draws for every country with 12 covered months up to `as_of` (see `forecast`)."""
    horizons = tuple(horizons)
    arrays = panel_arrays(panel)
    origin = _origin_index(arrays, as_of)
    rows = _origin_rows(features(arrays), origin)
    usable = ~np.isnan(rows).any(axis=1)
    if not usable.any():
        raise InsufficientData(f"no country has {WINDOW} covered months up to {as_of}")
    rows = rows[usable]
    history = arrays.sb[origin - WINDOW + 1 : origin + 1, usable].T
    n_history = round(HISTORY_SHARE * N_DRAWS)
    # The country's own months, cycled oldest first (as the challenge's conflictology does).
    own = np.tile(history, (1, -(-n_history // WINDOW)))[:, :n_history]
    pick = np.linspace(0, N_DRAWS - 1, N_DRAWS - n_history).astype(int)
    order = _copula_ranks(len(rows), len(horizons), seed)
    values = np.empty((len(rows), len(horizons), N_DRAWS))
    points = model.points(rows, horizons)
    for k, h in enumerate(horizons):
        point = points[:, k]
        modelled = np.maximum(np.expm1(point[:, None] + model.errors(point, h)[:, pick]), 0)
        modelled = modelled.round(DECIMALS)
        ranked = np.sort(np.concatenate([modelled, own], axis=1), axis=1)
        values[:, k, :] = np.take_along_axis(ranked, order[:, k, :], axis=1)
    return Draws(np.array(arrays.iso3)[usable], arrays.months[origin], horizons, values)


def forecast(
    panel: pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizons: tuple[int, ...] | range = HORIZONS,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    *,
    model: Model | None = None,
    training: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Draws of monthly state-based fatalities for every country with 12 covered months.

    `panel` holds the recent months the forecast starts from; the model is trained on
    `training` (default: the same panel) unless a fitted `model` is given. Returns columns
    iso3, month, horizon, draw, outcome. Countries without 12 covered months up to `as_of` are
    left out: `insufficient_countries` names them.
    """
    if n_draws != N_DRAWS:
        raise ValueError(f"the model makes {N_DRAWS} draws")
    model = model or fit(training if training is not None else panel, as_of, seed=seed)
    return simulate(panel, as_of, horizons, model=model, seed=seed).long()


def insufficient_countries(panel: pd.DataFrame, as_of: str | pd.Timestamp) -> list[str]:
    """Countries of the panel without 12 covered months up to `as_of` (no forecast for them)."""
    arrays = panel_arrays(panel)
    origin = _origin_index(arrays, as_of)
    start = origin - WINDOW + 1
    if start < 0:
        return list(arrays.iso3)
    window = arrays.sb[start : origin + 1]
    return [c for c, ok in zip(arrays.iso3, ~np.isnan(window).any(axis=0), strict=True) if not ok]


def _copula_ranks(countries_n: int, horizons_n: int, seed: int) -> np.ndarray:
    """Rank of each draw per horizon: a shared factor plus noise, so horizons co-move."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((countries_n, 1, N_DRAWS))
    noisy = shared + COPULA_NOISE * rng.standard_normal((countries_n, horizons_n, N_DRAWS))
    return np.argsort(np.argsort(noisy, axis=2), axis=2)
