"""Benchmark forecasts: the VIEWS challenge's, as forecasters with the model's signature.

`zero`, `conflictology` and `last_historical` take (panel, as_of, horizons, n_draws, seed) and
return (iso3, month, draw, outcome) like `risk.model.forecast`, so the same harness runs and
scores all of them; the global bootstrap is the challenge's own draws, read from its file.
They forecast the panel column `target`: by default state-based fatalities
(`fatalities_state_based`, the challenge's `ged_sb`); the GED backtests (risk.backtest) pass
each measure's column. `base_rate` is the benchmark for onsets: a ranking by long-run history.
A model worth using has to beat them; conflictology is the hard one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from risk import views

TARGET = "fatalities_state_based"
HISTORY_MONTHS = 12


def zero(
    panel: pd.DataFrame,
    as_of: pd.Timestamp,
    horizons: Sequence[int],
    n_draws: int = 1000,
    seed: int = 0,
    *,
    target: str = TARGET,
) -> pd.DataFrame:
    """No fatalities anywhere, ever: right for most country-months, useless for warning."""
    iso3s = _history(panel, as_of, months=1, target=target).index
    draws = np.zeros((len(iso3s), len(horizons), n_draws))
    return _long(iso3s, _target_months(as_of, horizons), draws)


def conflictology(
    panel: pd.DataFrame,
    as_of: pd.Timestamp,
    horizons: Sequence[int],
    n_draws: int = 1000,
    seed: int = 0,
    *,
    target: str = TARGET,
) -> pd.DataFrame:
    """Each country's own last 12 months as its forecast for every target month.

    The 12 values, oldest first, are repeated in order and cut at n_draws (1,000 draws hold
    the four oldest months once more than the rest). That is how the challenge's draws were
    built: scored this way the CRPS is the published 9.24 (2019) and 12.06 (2020); the 12
    values alone score 9.22 and 12.06.
    """
    history = _history(panel, as_of, months=HISTORY_MONTHS, target=target)
    cycles = -(-n_draws // HISTORY_MONTHS)
    sample = np.tile(history.to_numpy(dtype="float64"), (1, cycles))[:, :n_draws]
    draws = np.broadcast_to(sample[:, None, :], (len(history), len(horizons), n_draws))
    return _long(history.index, _target_months(as_of, horizons), draws)


def conflictology_probability(
    panel: pd.DataFrame, as_of: pd.Timestamp, threshold: float = 25, *, target: str = TARGET
) -> pd.Series:
    """P(fatalities ≥ threshold) under conflictology: the share of the last 12 months at or
    above it, by iso3.

    This exact share, not the share of the 1,000 cycled draws, reproduces the challenge's
    published average precision for P(≥ 25): 0.795 (2019) and 0.808 (2020), where the cycled
    draws give 0.798 and 0.818. The Brier score is 0.0283 / 0.0266 either way.
    """
    history = _history(panel, as_of, months=HISTORY_MONTHS, target=target)
    return (history >= threshold).mean(axis=1).rename("probability")


def last_historical(
    panel: pd.DataFrame,
    as_of: pd.Timestamp,
    horizons: Sequence[int],
    n_draws: int = 1000,
    seed: int = 0,
    *,
    target: str = TARGET,
) -> pd.DataFrame:
    """Poisson draws around the last observed month (`as_of`), for every target month."""
    last = _history(panel, as_of, months=1, target=target)
    rate = last.to_numpy(dtype="float64")[:, 0]
    rng = np.random.default_rng(seed)
    draws = rng.poisson(rate[:, None, None], size=(len(rate), len(horizons), n_draws))
    return _long(last.index, _target_months(as_of, horizons), draws.astype("float64"))


def base_rate(
    panel: pd.DataFrame, as_of: pd.Timestamp, threshold: float = 25, *, target: str = TARGET
) -> pd.Series:
    """P(target ≥ threshold in a month): each country's share of all its covered months up to
    `as_of` at or above it, by iso3 (countries with no covered month are left out).

    A ranking by long-run history, for onsets: a country quiet for two years but at war in the
    1990s ranks above one never at war, where conflictology gives both 0.
    """
    upto = panel[panel["month"] <= pd.Timestamp(as_of)]
    values = upto[target].astype("float64")
    covered = values.notna()
    shares = (values[covered] >= threshold).groupby(upto.loc[covered, "iso3"]).mean()
    return shares.rename("probability")


def bootstrap(path: str | Path) -> pd.DataFrame:
    """The challenge's global bootstrap draws (month_id, country_id, draw, outcome) from its file,
    e.g. `bm_cm_bootstrap_expanded_2019.parquet`: resampled from all countries' recent months.
    """
    return views.read_draws(path)


def _history(
    panel: pd.DataFrame, as_of: pd.Timestamp, months: int, target: str = TARGET
) -> pd.DataFrame:
    """The target's last `months` months up to `as_of`, one row per iso3, oldest month first."""
    as_of = pd.Timestamp(as_of).to_period("M")
    window = pd.period_range(end=as_of, periods=months, freq="M")
    frame = panel.assign(period=panel["month"].dt.to_period("M"))
    frame = frame[frame["period"].isin(window)]
    wide = frame.pivot(index="iso3", columns="period", values=target).reindex(columns=window)
    lacking = wide.columns[wide.isna().all()]
    if len(lacking):
        raise ValueError(f"the panel has no {target} for {', '.join(map(str, lacking))}")
    gaps = wide.index[wide.isna().any(axis=1)]
    if len(gaps):
        raise ValueError(
            f"{len(gaps)} countries lack {target} in {window[0]} … {window[-1]}: "
            + ", ".join(gaps[:5])
        )
    return wide


def _target_months(as_of: pd.Timestamp, horizons: Sequence[int]) -> pd.DatetimeIndex:
    start = pd.Timestamp(as_of).to_period("M")
    return pd.PeriodIndex([start + h for h in horizons], freq="M").to_timestamp()


def _long(iso3s: pd.Index, months: pd.DatetimeIndex, draws: np.ndarray) -> pd.DataFrame:
    """(countries, months, n) draws as rows (iso3, month, draw, outcome), in that order."""
    countries, n_months, n_draws = draws.shape
    return pd.DataFrame(
        {
            "iso3": np.repeat(np.asarray(iso3s, dtype=object), n_months * n_draws),
            "month": np.tile(np.repeat(months.to_numpy(), n_draws), countries),
            "draw": np.tile(np.arange(n_draws), countries * n_months),
            "outcome": np.asarray(draws, dtype="float64").reshape(-1),
        }
    )
