"""The VIEWS challenge harness: files in and out, the baselines, the published benchmark figures,
clear errors for bad files, and `python -m risk evaluate views` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loaders.errors import LoaderError
from risk import baselines, views
from risk.evaluate import evaluate_window, format_table, score
from tests.conftest import REPO

# Two countries, November 2017 … October 2018 (month_id 455 … 466), the shape of
# cm_features_to_oct2018.parquet. Mali is VIEWS country 50 (Gleditsch-Ward 432), Colombia 28 (100).
MALI_SB = [5, 0, 30, 0, 0, 40, 0, 0, 0, 26, 0, 2]
COLOMBIA_SB = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
HORIZONS = list(range(3, 15))


def write_features(path: Path, drop: tuple[str, ...] = (), **overrides) -> Path:
    """A small features file; `overrides` replace columns, `drop` removes them."""
    months = list(range(455, 467))
    frame = pd.DataFrame(
        {
            "month_id": months * 2,
            "country_id": [50] * 12 + [28] * 12,
            "gleditsch_ward": [432] * 12 + [100] * 12,
            "ged_sb": [float(v) for v in MALI_SB + COLOMBIA_SB],
            "ged_ns": [0.0] * 23 + [7.0],
            "ged_os": [3.0] + [0.0] * 23,
            "wdi_sp_pop_totl": 1.0,
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    frame.drop(columns=list(drop)).set_index(["month_id", "country_id"]).to_parquet(path)
    return path


def write_actuals(path: Path, first_month: int = 469, mali: float = 30.0) -> Path:
    """Actuals for 2019 (month_id 469 … 480): Mali `mali` deaths a month, Colombia 4."""
    months = list(range(first_month, first_month + 12))
    frame = pd.DataFrame(
        {
            "month_id": months * 2,
            "country_id": [50] * 12 + [28] * 12,
            "ged_sb": [mali] * 12 + [4.0] * 12,
        }
    )
    frame.set_index(["month_id", "country_id"]).to_parquet(path)
    return path


@pytest.fixture
def panel(tmp_path: Path) -> pd.DataFrame:
    return views.read_features(write_features(tmp_path / "cm_features_to_oct2018.parquet"))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "risk", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )


# Month ids and the panel ------------------------------------------------------------------


def test_month_ids_count_from_january_1980() -> None:
    assert views.month_id_to_month(1) == pd.Timestamp("1980-01-01")
    assert views.month_id_to_month(469) == pd.Timestamp("2019-01-01")
    assert views.month_to_month_id(pd.Timestamp("2019-12-31")) == 480
    ids = pd.Series([455, 466, 480])
    months = views.month_id_to_month(ids)
    assert months.tolist() == [pd.Timestamp(d) for d in ("2017-11-01", "2018-10-01", "2019-12-01")]
    assert views.month_to_month_id(months).tolist() == ids.tolist()


def test_features_become_the_project_panel(panel: pd.DataFrame) -> None:
    assert list(panel.columns) == [
        "iso3",
        "country",
        "month",
        "fatalities_state_based",
        "fatalities_non_state",
        "fatalities_one_sided",
        "fatalities_total",
        "covered",
        "complete",
        "country_id",
        "gleditsch_ward",
    ]
    assert sorted(panel["iso3"].unique()) == ["COL", "MLI"]
    mali = panel[panel["iso3"] == "MLI"].set_index("month")
    assert mali.index.min() == pd.Timestamp("2017-11-01")
    assert mali.index.max() == pd.Timestamp("2018-10-01")
    first = mali.loc[pd.Timestamp("2017-11-01")]
    assert first[
        ["fatalities_state_based", "fatalities_one_sided", "fatalities_total"]
    ].tolist() == [
        5,
        3,
        8,
    ]
    assert first["country"] == "Mali" and first["country_id"] == 50
    assert panel.attrs["last_complete_month"] == "2018-10"


def test_country_names_beside_the_file_resolve_an_unknown_code(tmp_path: Path) -> None:
    """A code the reference lacks (here 9999) falls back to the VIEWS name in country_list.csv."""
    pd.DataFrame({"country_id": [50, 28], "id": [50, 28], "name": ["Mali", "Colombia"]}).to_csv(
        tmp_path / "country_list.csv", index=False
    )
    path = write_features(tmp_path / "f.parquet", gleditsch_ward=[9999] * 12 + [100] * 12)
    assert sorted(views.read_features(path)["iso3"].unique()) == ["COL", "MLI"]


# Baselines and the harness ------------------------------------------------------------------


def test_conflictology_cycles_the_last_12_months_oldest_first(panel: pd.DataFrame) -> None:
    as_of = pd.Timestamp("2018-10-01")
    draws = baselines.conflictology(panel, as_of, HORIZONS, n_draws=14)
    mali_june = draws[(draws["iso3"] == "MLI") & (draws["month"] == pd.Timestamp("2019-06-01"))]
    assert mali_june["outcome"].tolist() == MALI_SB + MALI_SB[:2]
    assert mali_june["draw"].tolist() == list(range(14))
    assert len(draws) == 2 * 12 * 14
    probability = baselines.conflictology_probability(panel, as_of)
    assert probability.to_dict() == {"COL": 0.0, "MLI": 0.25}  # 30, 40, 26 of Mali's 12


def test_last_historical_is_poisson_around_the_last_month_and_seeded(panel: pd.DataFrame) -> None:
    as_of = pd.Timestamp("2018-10-01")
    first = baselines.last_historical(panel, as_of, HORIZONS, n_draws=2000, seed=7)
    again = baselines.last_historical(panel, as_of, HORIZONS, n_draws=2000, seed=7)
    pd.testing.assert_frame_equal(first, again)
    means = first.groupby("iso3")["outcome"].mean()
    assert means["MLI"] == pytest.approx(2, rel=0.05)  # October 2018: 2
    assert means["COL"] == pytest.approx(12, rel=0.05)  # October 2018: 12
    zero = baselines.zero(panel, as_of, HORIZONS, n_draws=3)
    assert len(zero) == 2 * 12 * 3 and (zero["outcome"] == 0).all()


def test_forecasts_turn_into_the_challenge_format(panel: pd.DataFrame) -> None:
    draws = views.forecast_window(baselines.conflictology, panel, n_draws=14)
    assert list(draws.columns) == ["month_id", "country_id", "draw", "outcome"]
    assert draws["month_id"].min() == 469 and draws["month_id"].max() == 480
    first = draws[(draws["month_id"] == 469) & (draws["country_id"] == 50)]
    assert first["outcome"].tolist() == MALI_SB + MALI_SB[:2]
    assert draws.equals(
        draws.sort_values(["month_id", "country_id", "draw"]).reset_index(drop=True)
    )


def test_a_forecaster_that_leaves_out_rows_or_returns_nan_is_refused(panel: pd.DataFrame) -> None:
    def incomplete(panel, as_of, horizons, n_draws=1000, seed=0):
        draws = baselines.conflictology(panel, as_of, horizons, n_draws, seed)
        return draws.iloc[:-1]

    def with_nan(panel, as_of, horizons, n_draws=1000, seed=0):
        draws = baselines.conflictology(panel, as_of, horizons, n_draws, seed)
        return draws.assign(outcome=draws["outcome"].where(draws["draw"] != 3))

    with pytest.raises(ValueError, match="forecast of incomplete: 1 of the 48 expected"):
        views.forecast_window(incomplete, panel, n_draws=2, name="incomplete")
    with pytest.raises(ValueError, match="NaN"):
        views.forecast_window(with_nan, panel, n_draws=5, name="with_nan")


def test_draws_round_trip_through_the_challenge_file(panel: pd.DataFrame, tmp_path: Path) -> None:
    draws = views.forecast_window(baselines.last_historical, panel, n_draws=10)
    path = views.write_draws(draws, tmp_path / "pred.parquet")
    back = views.read_draws(path)
    pd.testing.assert_frame_equal(back, draws)
    assert pd.read_parquet(path).index.names == ["month_id", "country_id", "draw"]


def test_score_on_a_small_window_matches_the_metrics(panel: pd.DataFrame, tmp_path: Path) -> None:
    """Colombia's 12 values against 4 deaths; Mali's against 30. Zero's CRPS is the mean of
    |y|: (30 + 4)/2 = 17; conflictology's P(≥ 25) is exact: Mali 0.25, Colombia 0."""
    actuals = views.read_actuals(write_actuals(tmp_path / "cm_actuals_2019.parquet"))
    result = evaluate_window(
        tmp_path / "cm_features_to_oct2018.parquet",
        tmp_path / "cm_actuals_2019.parquet",
        model=baselines.zero,
        model_name="zero",
        n_draws=24,
    )
    table = result.table
    assert list(table.index) == ["model", "zero", "conflictology", "last historical"]
    assert table.loc["zero", "CRPS"] == pytest.approx(17.0)
    assert table.loc["zero", "AUROC"] == pytest.approx(0.5)
    # Brier of conflictology: Mali (0.25 − 1)², Colombia 0², equally many cells.
    assert table.loc["conflictology", "Brier"] == pytest.approx((0.75**2) / 2)
    assert table.attrs == {"cells": 24, "events": 12, "draws": [24], "threshold": 25}
    assert "global bootstrap: no draws file given" in result.notes[0]
    assert len(actuals) == 24


def test_score_without_events_reports_no_ranking_metrics(panel: pd.DataFrame) -> None:
    draws = views.forecast_window(baselines.zero, panel, n_draws=4)
    actuals = draws[["month_id", "country_id"]].drop_duplicates().assign(ged_sb=0.0)
    table = score({"zero": draws}, actuals)
    assert np.isnan(table.loc["zero", "AUROC"]) and table.loc["zero", "Brier"] == 0.0
    assert "n/a" in format_table(table)


# Bad input -----------------------------------------------------------------------------------


def test_a_features_file_with_the_wrong_columns_says_which(tmp_path: Path) -> None:
    path = write_features(tmp_path / "cm_features_to_oct2018.parquet", drop=("ged_ns", "ged_os"))
    with pytest.raises(LoaderError) as caught:
        views.read_features(path)
    assert str(caught.value) == (
        "cm_features_to_oct2018.parquet: missing column(s) ged_ns, ged_os; a VIEWS country-month "
        "features file has (month_id, country_id) as index or columns and the columns "
        "gleditsch_ward, ged_sb, ged_ns, ged_os"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("month_id,country_id\n"), "f.parquet: not a readable Parquet file"),
        (
            lambda p: pd.DataFrame({"ged_sb": [1.0]}).to_parquet(p),
            "f.parquet: missing column(s) month_id, country_id, gleditsch_ward",
        ),
        (
            lambda p: write_features(p, ged_sb=[np.nan] + [0.0] * 23),
            "f.parquet, column ged_sb: 1 missing value(s)",
        ),
        (
            lambda p: write_features(p, month_id=[455] * 2 + list(range(456, 466)) * 2 + [466] * 2),
            "f.parquet: 2 repeated (month_id, country_id) rows",
        ),
        (
            lambda p: write_features(p, ged_os=[-1.0] + [0.0] * 23),
            "f.parquet, column ged_os: negative values",
        ),
        (
            lambda p: write_features(p, ged_sb=[0.5] + [0.0] * 23),
            "f.parquet, column ged_sb: fatalities are not whole numbers",
        ),
    ],
)
def test_bad_features_files_fail_with_a_clear_error(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "f.parquet"
    make(path)
    with pytest.raises(LoaderError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        views.read_features(path)


def test_actuals_for_another_window_are_refused_before_forecasting(tmp_path: Path) -> None:
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet")
    actuals = write_actuals(tmp_path / "cm_actuals_2020.parquet", first_month=481)
    with pytest.raises(LoaderError, match="covers 2020-01 … 2020-12, but the features file "):
        evaluate_window(features, actuals, model=baselines.zero)


# The published benchmark figures (shared data) ---------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("year", "crps", "average_precision", "brier"),
    [(2019, 9.24, 0.795, 0.0283), (2020, 12.06, 0.808, 0.0266)],
)
def test_conflictology_reproduces_the_published_figures(
    shared_data: Path, year: int, crps: float, average_precision: float, brier: float
) -> None:
    folder = shared_data / "views_challenge"
    result = evaluate_window(
        folder / f"cm_features_to_oct{year - 1}.parquet",
        folder / f"cm_actuals_{year}.parquet",
        model=baselines.conflictology,
        model_name="conflictology",
    )
    table = result.table
    row = table.loc["conflictology"]
    assert round(row["CRPS"], 2) == crps
    assert round(row["AP"], 3) == average_precision
    assert round(row["Brier"], 4) == brier
    # The model row is the same forecaster scored from its 1,000 cycled draws alone: same CRPS
    # and Brier, but AP 0.798 / 0.818, which is why the exact probability is used above.
    assert table.loc["model", "CRPS"] == row["CRPS"]
    assert round(table.loc["model", "AP"], 3) == {2019: 0.798, 2020: 0.818}[year]
    assert list(table.index) == [
        "model",
        "zero",
        "conflictology",
        "last historical",
        "global bootstrap",
    ]
    assert table.attrs["cells"] == 2292 and table.attrs["draws"] == [1000]
    # Conflictology is the benchmark to beat: better than zero and the bootstrap on everything.
    for weaker in ("zero", "global bootstrap"):
        assert (
            table.loc[weaker, ["CRPS", "IGN", "MIS", "Brier"]]
            > row[["CRPS", "IGN", "MIS", "Brier"]]
        ).all()
    assert table.loc["zero", "AUROC"] == 0.5


@pytest.mark.shared_data
def test_our_last_historical_scores_like_the_official_draws(shared_data: Path) -> None:
    folder = shared_data / "views_challenge"
    panel = views.read_features(folder / "cm_features_to_oct2018.parquet")
    ours = views.forecast_window(baselines.last_historical, panel, seed=0)
    official = views.read_draws(folder / "bm_cm_last_historical_poisson_expanded_2019.parquet")
    table = score(
        {"ours": ours, "official": official}, views.read_actuals(folder / "cm_actuals_2019.parquet")
    )
    assert table.loc["ours", "CRPS"] == pytest.approx(table.loc["official", "CRPS"], abs=0.05)
    assert table.loc["ours", "Brier"] == pytest.approx(table.loc["official", "Brier"], abs=0.002)


@pytest.mark.shared_data
def test_shared_features_map_every_views_country_to_one_iso3(shared_data: Path) -> None:
    for year in (2018, 2019, 2020):
        panel = views.read_features(
            shared_data / "views_challenge" / f"cm_features_to_oct{year}.parquet"
        )
        assert len(panel) == 2292 and panel["iso3"].nunique() == 191
        pairs = panel.drop_duplicates("iso3").set_index("country_id")["iso3"]
        assert pairs[133] == "AFG" and pairs[232] == "XKX" and pairs[246] == "SSD"


# The command line ------------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.slow
def test_cli_writes_the_draws_and_prints_the_table(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "views_challenge"
    out = tmp_path / "pred_2019.parquet"
    done = run_cli(
        "evaluate", "views",
        "--features", str(folder / "cm_features_to_oct2018.parquet"),
        "--actuals", str(folder / "cm_actuals_2019.parquet"),
        "--out", str(out),
        "--model", "conflictology",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = pd.read_parquet(out)
    assert written.index.names == ["month_id", "country_id", "draw"] and len(written) == 2_292_000
    lines = done.stdout.splitlines()
    assert lines[0] == f"Wrote 2,292,000 draws (2,292 country-months) to {out}"
    assert "window 2019: data to 2018-10" in done.stdout
    conflictology = next(line for line in lines if line.startswith("conflictology"))
    assert conflictology.split() == [
        "conflictology",
        "9.24",
        "0.682",
        "81.3",
        "0.942",
        "0.795",
        "0.0283",
    ]
    assert any(line.startswith("global bootstrap") for line in lines)


def test_cli_without_actuals_only_writes_the_draws(tmp_path: Path) -> None:
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet")
    out = tmp_path / "pred.parquet"
    done = run_cli(
        "evaluate", "views", "--features", str(features), "--out", str(out),
        "--model", "last_historical", "--n-draws", "5", "--seed", "3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Wrote 120 draws (24 country-months) to {out}"
    assert len(views.read_draws(out)) == 120


def test_cli_bad_features_exit_1_with_one_line(tmp_path: Path) -> None:
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet", drop=("ged_sb",))
    out = tmp_path / "pred.parquet"
    done = run_cli(
        "evaluate", "views", "--features", str(features), "--out", str(out),
        "--model", "zero",
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: cm_features_to_oct2018.parquet: missing column(s) ged_sb; a VIEWS country-month "
        "features file has (month_id, country_id) as index or columns and the columns "
        "gleditsch_ward, ged_sb, ged_ns, ged_os"
    ]
    assert "Traceback" not in done.stderr and not out.exists()


def test_cli_missing_file_and_folder(tmp_path: Path) -> None:
    done = run_cli(
        "evaluate", "views", "--features", str(tmp_path / "nowhere.parquet"),
        "--out", str(tmp_path / "pred.parquet"), "--model", "zero",
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("error: nowhere.parquet: no such file")
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet")
    done = run_cli(
        "evaluate", "views", "--features", str(features),
        "--out", str(tmp_path / "no" / "pred.parquet"), "--model", "zero",
    )  # fmt: skip
    assert done.returncode == 1 and "the folder does not exist" in done.stderr
