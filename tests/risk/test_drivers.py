"""Explanations: exact Shapley shares that add up, sentences that match them, a monotone model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk import drivers, measures, model
from risk.forecast import risk_forecast
from risk.panel import country_month_panel

MONTHS = ("2020-06", "2020-12")


def test_shapley_values_by_hand() -> None:
    """v(S) = Σ a_g over S plus 6 when groups 0 and 1 are both in: each of the two gets 3."""
    masks = drivers._masks()
    a = np.arange(1, len(drivers.GROUPS) + 1, dtype=float)
    values = masks @ a + 6 * (masks[:, 0] & masks[:, 1])
    shares = drivers.shapley(values)
    assert np.allclose(shares, a + np.r_[3, 3, np.zeros(len(a) - 2)])
    assert np.isclose(shares.sum(), values[-1] - values[0])


@pytest.fixture(scope="module", params=MONTHS)
def forecast(request, global_store: Path):
    return risk_forecast(global_store, request.param, measure=None)


@pytest.mark.shared_data
def test_shares_sum_to_the_forecast_minus_its_reference(forecast) -> None:
    table = forecast.table[forecast.table["status"] == "ok"].set_index(["measure", "iso3"])
    shares = forecast.drivers.groupby(["kind", "measure", "iso3"])[
        ["effect", "deaths_effect"]
    ].sum()
    level, change = shares.loc["level"], shares.loc["change"]
    assert set(level.index) == set(table.index)  # every country and measure explained
    assert np.allclose(level["effect"], (table["risk"] - table["reference_risk"])[level.index])
    expected = table["expected_fatalities"] - table["reference_fatalities"]
    assert np.allclose(level["deaths_effect"], expected[level.index], rtol=1e-9, atol=1e-6)
    moved = (table["risk"] - table["risk_last_month"]).dropna()
    assert np.allclose(change["effect"].reindex(moved.index), moved)
    assert len(moved) > 150
    # Against a quiet country, nothing lowers the risk: the model only rises with violence.
    assert (forecast.drivers.query("kind == 'level'")["effect"] >= -1e-12).all()


@pytest.mark.shared_data
def test_each_sentence_quotes_the_data_in_the_direction_of_its_share(
    forecast, global_store: Path
) -> None:
    rows = forecast.drivers
    sign = np.sign(rows["effect"]).map({1.0: "raises", -1.0: "lowers", 0.0: "no effect"})
    assert (rows["direction"] == sign).all()
    level = rows[rows["kind"] == "level"]
    # A group with no deaths adds nothing: its sentence says so and its share is exactly 0.
    nothing = level["text"].str.startswith("0 deaths")
    assert nothing.sum() > 100 and (level.loc[nothing, "effect"] == 0).all()
    assert not rows["text"].str.contains("%").any()  # no shares of zero deaths
    # Quoted from the data: Mali's one-sided deaths in the 3 months to the forecast month.
    panel = country_month_panel(global_store, end=forecast.as_of)
    mali = panel[panel.iso3 == "MLI"].tail(3)["fatalities_one_sided"].sum()
    text = level.query("iso3 == 'MLI' and measure == 'all' and driver == 'recent_one_sided'")
    assert text["text"].iloc[0].startswith(f"{mali:,} deaths from one-sided violence")


@pytest.fixture(scope="module")
def fitted_2019(global_store: Path) -> tuple[model.Model, model.Inputs]:
    panel = country_month_panel(global_store)
    arrays = model.panel_arrays(panel)
    fitted = model.fit(panel, "2019-12")
    return fitted, model.origin_inputs(arrays, int(arrays.months.get_loc(pd.Timestamp("2019-12"))))


def _headline(fitted: model.Model, inputs: model.Inputs) -> dict[str, tuple]:
    ranks = model.copula_ranks(inputs.iso3, drivers.HORIZONS, 0)
    return drivers.headline(model.type_draws(fitted, inputs, drivers.HORIZONS, ranks))


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "bump",
    ["every month +10", "latest month +200", "one-sided 3 months +30", "a quiet month to 40"],
)
def test_more_recent_violence_never_lowers_a_forecast(fitted_2019, bump: str) -> None:
    """For every country and measure: risk and expected deaths do not fall when its own recent
    deaths rise, all else equal (the model's monotonic inputs, floors and fixed draw order)."""
    fitted, inputs = fitted_2019
    window = inputs.window.copy()
    if bump == "every month +10":
        window += 10
    elif bump == "latest month +200":
        window[:, 0, -1] += 200
    elif bump == "one-sided 3 months +30":
        window[:, 2, -3:] += 30
    else:
        window[:, :, 5] = np.maximum(window[:, :, 5], 40)
    before = _headline(fitted, inputs)
    after = _headline(fitted, replace(inputs, window=window))
    for measure in measures.MEASURES:
        for k, what in enumerate(("risk", "expected deaths")):
            lower = after[measure][k] < before[measure][k] - 1e-9
            assert not lower.any(), (measure, what, list(inputs.iso3[lower]))
    assert (after["all"][1] > before["all"][1]).mean() > 0.9  # and mostly raise it
