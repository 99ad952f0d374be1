"""The forecast model on synthetic panels (exact behaviour) and on real GED data (skill)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk import baselines, metrics, model
from risk.panel import country_month_panel

COUNTRIES = ["MLI", "NER", "BFA", "SEN", "GHA", "CIV", "TGO", "BEN", "NGA", "CMR"]


def synthetic_panel(months: int = 60, seed: int = 3) -> pd.DataFrame:
    """Mali at war (~100 deaths a month), Senegal and Ghana quiet, the rest in between."""
    rng = np.random.default_rng(seed)
    level = dict(zip(COUNTRIES, [100, 30, 20, 0, 0, 3, 1, 2, 60, 15], strict=True))
    dates = pd.date_range("2015-01-01", periods=months, freq="MS")
    rows = [
        {
            "iso3": c,
            "month": m,
            model.SB: rng.poisson(level[c]),
            model.NS: rng.poisson(level[c] / 5),
            model.OS: rng.poisson(level[c] / 4),
        }
        for c in COUNTRIES
        for m in dates
    ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted() -> model.Model:
    return model.fit(synthetic_panel(), "2019-12-01")


def test_forecast_shape_determinism_and_levels(fitted: model.Model) -> None:
    panel = synthetic_panel()
    draws = model.forecast(panel, "2019-12", horizons=(1, 2, 3), model=fitted, seed=4)
    assert list(draws.columns) == ["iso3", "month", "horizon", "draw", "outcome"]
    assert len(draws) == len(COUNTRIES) * 3 * model.N_DRAWS
    assert draws["month"].min() == pd.Timestamp("2020-01-01")
    assert (draws["outcome"] >= 0).all()
    again = model.forecast(panel, "2019-12", horizons=(1, 2, 3), model=fitted, seed=4)
    pd.testing.assert_frame_equal(draws, again)
    p25 = draws[draws.horizon == 1].groupby("iso3")["outcome"].apply(lambda x: (x >= 25).mean())
    assert p25["MLI"] > 0.9
    assert p25["SEN"] < 0.05 and p25["GHA"] < 0.05
    median = draws[draws.horizon == 1].groupby("iso3")["outcome"].median()
    assert 60 <= median["MLI"] <= 150


def test_country_without_twelve_covered_months_gets_no_forecast(fitted: model.Model) -> None:
    panel = synthetic_panel()
    gap = (panel.iso3 == "TGO") & (panel.month == "2019-06-01")
    panel.loc[gap, [model.SB, model.NS, model.OS]] = np.nan
    draws = model.forecast(panel, "2019-12", horizons=(1,), model=fitted)
    assert "TGO" not in set(draws["iso3"])
    assert model.insufficient_countries(panel, "2019-12") == ["TGO"]
    assert model.insufficient_countries(panel, "2019-05") == []


def test_bad_panels_are_refused_with_a_reason() -> None:
    with pytest.raises(model.InsufficientData, match="empty"):
        model.fit(synthetic_panel().iloc[:0], "2019-12")
    with pytest.raises(model.InsufficientData, match="lacks columns: fatalities_one_sided"):
        model.fit(synthetic_panel().drop(columns=[model.OS]), "2019-12")
    negative = synthetic_panel()
    negative.loc[0, model.SB] = -3
    with pytest.raises(model.InsufficientData, match="negative"):
        model.fit(negative, "2019-12")
    with pytest.raises(model.InsufficientData, match="need 27 covered months"):
        model.fit(synthetic_panel(months=20), "2016-08")
    with pytest.raises(model.InsufficientData, match="outside the panel"):
        model.fit(synthetic_panel(), "2031-01")


def test_horizons_move_together_but_not_in_lockstep(fitted: model.Model) -> None:
    """P(≥ 25 in any of 3 months) lies between the comonotone and the independent answers."""
    draws = model.forecast_measures(synthetic_panel(), "2019-12", (1, 2, 3), model=fitted)
    hits = draws["state_based"].values[list(draws["state_based"].iso3).index("BFA")] >= 25
    any_of_three = hits.any(axis=0).mean()
    single = hits.mean(axis=1)
    assert single.max() <= any_of_three <= 1 - np.prod(1 - single)


def test_all_organised_violence_is_the_sum_of_the_types_draw_by_draw(fitted: model.Model) -> None:
    draws = model.forecast_measures(synthetic_panel(), "2019-12", (1, 2, 3), model=fitted, seed=2)
    types = sum(draws[t].values for t in model.TYPES)
    assert np.allclose(draws["all"].values, types, atol=1e-6)
    assert all((draws[m].iso3 == draws["all"].iso3).all() for m in model.TYPES)
    # Not the sum of probabilities: P(total ≥ 25) is at least each type's, at most their sum.
    p = {m: (d.values[:, 0] >= 25).mean(axis=1) for m, d in draws.items()}
    assert (p["all"] >= np.max([p[t] for t in model.TYPES], axis=0)).all()
    one_sided = draws["one_sided"].long()
    assert one_sided.equals(model.forecast(synthetic_panel(), "2019-12", (1, 2, 3), model=fitted,
                                           seed=2, measure="one_sided"))  # fmt: skip


def test_a_country_forecast_does_not_depend_on_the_other_countries(fitted: model.Model) -> None:
    """Cameroon is neither Mali's neighbour nor in its subregion: leaving it out changes nothing
    of Mali's forecast (the draws' order comes from Mali's own seeded stream)."""
    panel = synthetic_panel()
    both = model.forecast_measures(panel, "2019-12", (1, 2), model=fitted)["all"]
    fewer = model.forecast_measures(panel[panel.iso3 != "CMR"], "2019-12", (1, 2), model=fitted)
    mali = both.values[list(both.iso3).index("MLI")]
    assert np.array_equal(mali, fewer["all"].values[list(fewer["all"].iso3).index("MLI")])


@pytest.mark.parametrize("window", [2016, 2017])
def test_backtest_ranking_not_worse_than_the_benchmarks(global_store, window: int) -> None:
    """On GED data: train to October of the year before, forecast the year 3–14 months ahead."""
    panel = country_month_panel(global_store)
    as_of = pd.Timestamp(f"{window - 1}-10-01")
    horizons = tuple(range(3, 15))
    draws = model.forecast(panel, as_of, horizons, training=panel)
    truth = panel.set_index(["iso3", "month"])[model.SB]

    def scores(forecast: pd.DataFrame) -> tuple[float, float]:
        wide = forecast.pivot_table(index=["iso3", "month"], columns="draw", values="outcome")
        observed = truth.reindex(wide.index).to_numpy(dtype="float64")
        p = metrics.exceedance_probability(wide.to_numpy())
        event = observed >= 25
        return metrics.average_precision(p, event), metrics.auroc(p, event)

    recent = panel[panel.month <= as_of]
    model_ap, model_auc = scores(draws)
    for name in ("conflictology", "last_historical"):
        bench = getattr(baselines, name)(recent, as_of, list(horizons))
        ap, auc = scores(bench)
        assert model_ap >= ap, (name, model_ap, ap)
        assert model_auc >= auc, (name, model_auc, auc)
