"""The risk table on real GED data: one row per country, honest about what it cannot say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loaders
from loaders import countries
from risk import artifacts, drivers, measures, model
from risk.cli import main
from risk.forecast import InsufficientData, new_risk, risk_forecast
from tests.conftest import SMALL_GED


@pytest.fixture(scope="module")
def result(global_store: Path):
    return risk_forecast(global_store, "2020-06")


def test_one_row_per_country_ranked_by_risk(result) -> None:
    table = result.table
    assert result.as_of == "2020-06"
    assert len(table) == len(countries.reference())
    assert table["iso3"].is_unique
    ok = table[table.status == "ok"]
    assert ok["risk"].between(0, 1).all()
    assert ok["risk"].is_monotonic_decreasing
    assert set(ok.head(5)["iso3"]) & {"AFG", "SYR", "YEM", "SOM", "NGA"}
    afg = table.set_index("iso3").loc["AFG"]
    assert afg["fatalities_low"] <= afg["expected_fatalities"] <= afg["fatalities_high"]
    assert afg["trend"] in {"▲", "▼", "▶"}
    assert afg["data_vintage"] == "UCDP GED 21.1 (events to 2020-12)"
    assert afg["drivers"]
    quiet = table.set_index("iso3").loc["ISL"]
    assert quiet["risk"] < 0.02 and quiet["new_risk"]


def test_monthly_detail_for_fan_charts(result) -> None:
    monthly = result.monthly
    syria = monthly[monthly.iso3 == "SYR"]
    assert list(syria["horizon"]) == list(model.HORIZONS)
    assert syria["month"].iloc[0] == pd.Timestamp("2020-07-01")
    ordered = syria[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all()


def test_new_risk_list_holds_only_countries_quiet_for_two_years(result, global_store) -> None:
    from risk.panel import country_month_panel

    onsets = new_risk(result.table)
    panel = country_month_panel(global_store, start="2018-07", end="2020-06")
    serious = set(panel[panel["fatalities_total"] >= 25]["iso3"])
    assert not set(onsets["iso3"]) & serious
    assert onsets["risk"].is_monotonic_decreasing
    assert len(onsets) > 100


def test_drivers_are_measured_on_the_model_and_quoted_from_the_data(result) -> None:
    all_drivers = result.drivers
    assert set(all_drivers["measure"]) == {"all"}  # the forecast of one measure
    assert set(all_drivers["driver"]) == set(drivers.GROUPS)
    top = drivers.top_drivers(all_drivers)
    assert top.groupby("iso3").size().max() <= 3
    assert (top["effect"].abs() >= drivers.MIN_EFFECT).all()
    syria = top[top.iso3 == "SYR"]
    assert syria["text"].iloc[0] in result.table.set_index("iso3").loc["SYR", "drivers"]


def test_every_measure_is_forecast_and_all_is_at_least_each_type(global_store: Path) -> None:
    every = risk_forecast(global_store, "2020-06", measure=None)
    table = every.table[every.table.status == "ok"].pivot(
        index="iso3", columns="measure", values="risk"
    )
    assert list(table.columns.sort_values()) == sorted(measures.MEASURES)
    assert (table["all"] >= table[list(model.TYPES)].max(axis=1) - 1e-9).all()
    expected = every.table.pivot(index="iso3", columns="measure", values="expected_fatalities")
    types = expected[list(model.TYPES)].sum(axis=1)
    assert np.allclose(expected["all"].dropna(), types[expected["all"].notna()])
    one_sided = risk_forecast(global_store, "2020-06", measure="one_sided")
    assert one_sided.measure == "one_sided" and set(one_sided.monthly["measure"]) == {"one_sided"}


def test_the_forecast_is_kept_as_parquet_and_json_and_read_back_unchanged(
    global_store: Path, result, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = global_store / "models"
    assert not list(models.glob("*.pkl"))  # no pickle, and no model kept beside the forecast
    (kept,) = [
        path
        for path in models.glob("forecast-*")
        if json.loads((path / "meta.json").read_text())["key"]["as_of"] == "2020-06"
    ]
    assert {p.name for p in kept.iterdir()} >= {"table.parquet", "monthly.parquet", "meta.json"}
    assert result.stored["digest"] == kept.name.removeprefix("forecast-")
    assert result.info["code"] == artifacts.code_digest()

    def no_training(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("trained again instead of reading the kept forecast")

    monkeypatch.setattr(model, "fit", no_training)
    again = risk_forecast(global_store, "2020-06")
    pd.testing.assert_frame_equal(again.table, result.table)  # dtypes and NA included
    pd.testing.assert_frame_equal(again.monthly, result.monthly)
    pd.testing.assert_frame_equal(again.drivers, result.drivers)
    assert (again.as_of, again.vintage, again.info) == (result.as_of, result.vintage, result.info)
    assert again.table["new_risk"].dtype == "boolean"


def test_too_little_history_is_kept_and_said_again_without_training(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)  # three months of 2024
    with pytest.raises(model.InsufficientData, match="not enough history") as first:
        risk_forecast(store_dir)
    monkeypatch.setattr(model, "fit", lambda *_a, **_k: pytest.fail("trained again"))
    with pytest.raises(model.InsufficientData) as again:
        risk_forecast(store_dir)
    assert str(again.value) == str(first.value)


def test_subset_store_says_insufficient_data_for_uncovered_countries(
    shared_data: Path, store_dir: Path
) -> None:
    loaders.import_file(shared_data / "ucdp_ged_v24_1_myanmar.csv.gz", data_dir=store_dir)
    table = risk_forecast(store_dir).table.set_index("iso3")
    assert table.loc["MMR", "status"] == "ok"
    assert 0 <= table.loc["MMR", "risk"] <= 1
    assert table.loc["THA", "status"] == "insufficient data"
    assert pd.isna(table.loc["THA", "risk"])
    assert table.loc["THA", "reason"] == "not covered by any UCDP release"
    # February 2021, the coup: events surged and reached six provinces without violence in 2020.
    coup = risk_forecast(store_dir, "2021-02").table.set_index("iso3").loc["MMR"]
    assert coup["surge_events"]
    assert coup["new_admin1_count"] == 6
    assert "violence spread to 6 new admin1 units" in coup["drivers"]


def test_empty_store_is_an_error_not_a_zero(store_dir: Path) -> None:
    with pytest.raises(InsufficientData, match="store is empty"):
        risk_forecast(store_dir)


def test_cli_writes_the_table(global_store: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "risk.csv"
    assert (
        main(["forecast", "--as-of", "2020-06", "--out", str(out), "--data-dir", str(global_store)])
        == 0
    )
    table = pd.read_csv(out)
    assert len(table) == len(countries.reference())
    assert "Risk table as of 2020-06" in capsys.readouterr().out
    assert (
        main(["forecast", "--as-of", "June", "--out", str(out), "--data-dir", str(global_store)])
        == 1
    )
    assert "is not a month (YYYY-MM)" in capsys.readouterr().err


@pytest.fixture(scope="module")
def mixed(mixed_store: Path):
    return risk_forecast(mixed_store)


def test_the_forecast_month_follows_the_world_not_the_newest_file(mixed) -> None:
    """GED 21.1 covers every country to Dec 2020; GED 23.1 CAR (to 2022) and 24.1 Myanmar (to
    2023) extend two countries and move the month for no one."""
    table = mixed.table.set_index("iso3")
    assert mixed.as_of == "2020-12"
    assert (table["as_of"] == "2020-12").all()
    ok = table[table["status"] == "ok"]
    assert len(ok) >= 100
    assert set(table["reason"][table["status"] != "ok"]) <= {
        "fewer than 12 months of data up to 2020-12"
    }
    assert table.loc["MMR", "status"] == "ok" and table.loc["CAF", "status"] == "ok"
    assert mixed.vintage == (
        "UCDP GED 21.1: all countries to Dec 2020; UCDP GED 23.1: Central African Republic to "
        "Dec 2022; UCDP GED 24.1: Myanmar to Dec 2023"
    )
    assert "ACLED" not in mixed.vintage  # ACLED never enters the forecast


def test_each_country_without_a_forecast_gets_its_own_reason(mixed_store: Path) -> None:
    """From Dec 2023 only Myanmar is covered; the others' reasons come from their coverage."""
    from risk.forecast import _reasons
    from risk.panel import country_month_panel

    panel = country_month_panel(mixed_store)
    iso3s = pd.Series(["CAF", "FRA", "AFG"])
    reasons = _reasons(panel, iso3s, pd.Timestamp("2023-12-01"))
    assert reasons.tolist() == [
        "no UCDP data after 2022-12",
        "no UCDP data after 2020-12",
        "no UCDP data after 2020-12",
    ]
    others = countries.reference()["iso3"]
    everyone = _reasons(panel, others[others != "MMR"], pd.Timestamp("2023-12-01"))
    assert set(everyone) == {"no UCDP data after 2022-12", "no UCDP data after 2020-12"}
    early = _reasons(panel, pd.Series(["SYR"]), pd.Timestamp("1989-06-01"))
    assert early.tolist() == ["fewer than 12 months of data up to 1989-06"]
    assert _reasons(panel, pd.Series(["SYR"]), pd.Timestamp("1988-12-01")).tolist() == [
        "no UCDP data before 1989-01"
    ]
