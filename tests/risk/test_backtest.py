"""The GED backtest harness: scores checked by hand on a small panel with a cheap forecaster,
the onset selection by hand, tables recomputed from the draws, the CLI, and one real origin."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loaders
from risk import backtest, baselines, cli, measures, model, skill
from risk.metrics import auroc, average_precision, brier, crps, ignorance, interval_score
from tests.conftest import SMALL_GED

TYPES = ("fatalities_state_based", "fatalities_non_state", "fatalities_one_sided")
ORIGIN = "2002-12"


def make_panel(deaths: dict[str, dict[str, dict[str, float]]]) -> pd.DataFrame:
    """Months 2000-01 … 2003-12 of each country; `deaths[iso3][column][YYYY-MM]` overrides 0
    (NaN: the month is not covered). `fatalities_total` is the sum of the three types."""
    months = pd.date_range("2000-01-01", "2003-12-01", freq="MS")
    frames = []
    for iso3, columns in deaths.items():
        frame = pd.DataFrame({"iso3": iso3, "month": months})
        for column in TYPES:
            given = columns.get(column, {})
            frame[column] = [given.get(f"{m:%Y-%m}", 0.0) for m in months]
        frames.append(frame)
    panel = pd.concat(frames, ignore_index=True)
    panel["fatalities_total"] = panel[list(TYPES)].sum(axis=1, skipna=False)
    panel["covered"] = panel["fatalities_total"].notna()
    return panel.astype({c: "Int64" for c in measures.COLUMNS.values()})


def months(first: str, last: str, value: float) -> dict[str, float]:
    return {f"{m:%Y-%m}": value for m in pd.period_range(first, last, freq="M")}


# AAA: 30 state-based deaths every month. BBB: quiet, then 40 in June 2003 (an onset).
# CCC: 30 a month in the first half of 2000, quiet since; 30 one-sided a month in 2003.
HAND = make_panel(
    {
        "AAA": {"fatalities_state_based": months("2000-01", "2003-12", 30)},
        "BBB": {"fatalities_state_based": {"2003-06": 40}},
        "CCC": {
            "fatalities_state_based": months("2000-01", "2000-06", 30),
            "fatalities_one_sided": months("2003-01", "2003-12", 30),
        },
    }
)


def persistence(panel: pd.DataFrame, as_of: pd.Timestamp, *, horizons, seed: int) -> dict:
    """Every measure's last month, ten identical draws for every horizon."""
    last = panel[panel["month"] == as_of].set_index("iso3")
    out = {}
    for measure, column in measures.COLUMNS.items():
        value = last[column].to_numpy(dtype="float64")
        values = np.repeat(value[:, None, None], len(horizons), axis=1).repeat(10, axis=2)
        out[measure] = model.Draws(last.index.to_numpy(), as_of, tuple(horizons), values)
    return out


@pytest.fixture(scope="module")
def hand() -> backtest.Backtest:
    return backtest.run_backtest(HAND, [ORIGIN], forecaster=persistence)


def test_every_score_of_the_hand_panel_by_hand(hand: backtest.Backtest) -> None:
    """Persistence forecasts AAA 30 and BBB, CCC 0 for each month of 2003.

    36 cells, 13 events (AAA's 12 months, BBB's June). Every forecast is exact but BBB's June
    (0 against 40): CRPS 40/36, MIS 20·40/36 (width 0, missed by 40); IGN: 10 draws and 11
    bins with a pseudo-count, −log2(11/21) in the 35 exact cells, −log2(1/21) in June.
    P(≥ 25) is 1, 0, 0: of the 13·23 event/non-event pairs, BBB's June ties 23 (AUROC
    (276 + 11.5)/299); AP 12/13·1 + 1/13·13/36; Brier 1/36. Zero: CRPS (12·30 + 40)/36.
    Base rate at Dec 2002: AAA 36/36, BBB 0, CCC 6/36: Brier (1 + 12·(1/6)²)/36.
    """
    table = hand.table("state_based")
    assert table.attrs == {"cells": 36, "events": 13}
    assert table.index.tolist() == [
        "model",
        "zero",
        "conflictology",
        "last historical",
        "base rate",
    ]
    ours = table.loc["model"]
    assert ours["CRPS"] == pytest.approx(40 / 36)
    assert ours["MIS"] == pytest.approx(800 / 36)
    assert ours["IGN"] == pytest.approx((35 * math.log2(21 / 11) + math.log2(21)) / 36)
    assert ours["AUROC"] == pytest.approx(287.5 / 299)
    assert ours["AP"] == pytest.approx(12 / 13 + 1 / 36)
    assert ours["Brier"] == pytest.approx(1 / 36)
    assert table.loc["zero", "CRPS"] == pytest.approx(400 / 36)
    assert table.loc["zero", ["AUROC", "AP", "Brier"]].tolist() == pytest.approx(
        [0.5, 13 / 36, 13 / 36]
    )
    # Conflictology's last 12 months are those of persistence: the same P(≥ 25).
    assert table.loc["conflictology", "Brier"] == pytest.approx(1 / 36)
    rate = table.loc["base rate"]
    assert math.isnan(rate["CRPS"]) and math.isnan(rate["IGN"]) and math.isnan(rate["MIS"])
    assert rate["Brier"] == pytest.approx((1 + 12 * (1 / 6) ** 2) / 36)


def test_all_organised_violence_counts_every_type(hand: backtest.Backtest) -> None:
    """CCC's one-sided deaths of 2003 are events of "all" (12 more) but not of state-based."""
    assert hand.table("all").attrs == {"cells": 36, "events": 25}
    assert hand.table("one_sided").attrs == {"cells": 36, "events": 12}
    assert hand.table("non_state").attrs == {"cells": 36, "events": 0}
    assert math.isnan(hand.table("non_state").loc["model", "AUROC"])
    assert hand.table("all").loc["model", "CRPS"] == pytest.approx((40 + 12 * 30) / 36)


def test_headline_risk_and_onsets_by_hand(hand: backtest.Backtest) -> None:
    """Headline (Jan–Mar 2003): only AAA. Onsets: BBB and CCC were quiet in 2001–2002 and BBB
    saw 40 in June 2003; persistence gives both 0, the base rate gives CCC 1 − (5/6)^12."""
    headline = hand.headline_table("state_based")
    assert headline.attrs == {"cells": 3, "events": 1}
    assert headline.loc["model"].tolist() == [1.0, 1.0, 0.0]
    assert headline.loc["base rate", "Brier"] == pytest.approx((1 - (5 / 6) ** 3) ** 2 / 3)
    onset = hand.onset_table("state_based")
    assert onset.index.tolist() == ["model", "conflictology", "last historical", "base rate"]
    assert onset.attrs == {"cells": 2, "events": 1}
    assert onset.loc["model"].tolist() == [0.5, 0.5, 0.5]
    ccc = 1 - (5 / 6) ** 12
    assert onset.loc["base rate"].tolist() == pytest.approx([0.0, 0.5, (1 + ccc**2) / 2])
    # Under "all", CCC's one-sided year is an onset too: only onsets, nothing to rank.
    every = hand.onset_table("all")
    assert every.attrs == {"cells": 2, "events": 2}
    assert math.isnan(every.loc["model", "AUROC"]) and every.loc["model", "Brier"] == 1.0
    summary = hand.summary()
    assert summary["state_based"]["onsets"] == [
        {"origin": ORIGIN, "iso3": "BBB", "model": 0.0, "conflictology": 0.0,
         "last historical": 0.0, "base rate": 0.0}
    ]  # fmt: skip


def test_the_onset_selection_by_hand() -> None:
    """Quiet: no month ≥ 25 in Jan 2001 … Dec 2002, all 24 covered, and all 12 months after
    the origin covered. EEE had 30 in Jan 2001 (inside); FFF in Dec 2000 (just outside);
    GGG's June 2001 is not covered; HHH had 24 every month; III's May 2003 is not covered."""
    sb = "fatalities_state_based"
    panel = make_panel(
        {
            "EEE": {sb: {"2001-01": 30}},
            "FFF": {sb: {"2000-12": 30, "2003-03": 25}},
            "GGG": {sb: {"2001-06": math.nan}},
            "HHH": {sb: months("2000-01", "2003-12", 24)},
            "III": {sb: {"2003-05": math.nan}},
        }
    )
    result = backtest.run_backtest(
        panel, [ORIGIN], forecaster=persistence, measure_names=["state_based"]
    )
    chosen = result.onset[result.onset["method"] == "model"]
    assert chosen.set_index("iso3")["event"].to_dict() == {"FFF": True, "HHH": False}
    # III's uncovered month is left out of the monthly cells, not scored as 0.
    assert result.table("state_based").attrs["cells"] == 5 * 12 - 1
    assert result.headline_table("state_based").attrs["cells"] == 5


def random_forecaster(panel: pd.DataFrame, as_of: pd.Timestamp, *, horizons, seed: int) -> dict:
    """Gamma draws around each type's last month; "all" is the sum of the types' draws."""
    last = panel[panel["month"] == as_of].set_index("iso3")
    rng = np.random.default_rng(seed)
    shape = (len(last), len(horizons), 200)
    types = {
        measure: rng.gamma(2.0, 1.0, shape)
        * (last[measures.COLUMNS[measure]].to_numpy(float)[:, None, None] + 1)
        / 2
        for measure in ("state_based", "non_state", "one_sided")
    }
    types["all"] = sum(types.values())
    return {
        m: model.Draws(last.index.to_numpy(), as_of, tuple(horizons), v) for m, v in types.items()
    }


def test_a_records_tables_equal_the_metrics_recomputed_from_its_draws(tmp_path: Path) -> None:
    origins = ["2001-12", "2002-12"]
    result = backtest.run_backtest(HAND, origins, seed=3, forecaster=random_forecaster)
    path = skill.record_backtest(result, tmp_path / "store")
    [record] = skill.load_backtests(tmp_path / "store")
    assert path.name == "ged_2001-12_2002-12_seed3.json"
    for measure in measures.MEASURES:
        column = measures.COLUMNS[measure]
        matrices, observed, joint3, quiet = [], [], [], []
        for origin in origins:
            start = pd.Timestamp(origin)
            draws = random_forecaster(
                HAND[HAND["month"] <= start], start, horizons=range(1, 13), seed=3
            )
            values = draws[measure].values
            wide = HAND.pivot(index="iso3", columns="month", values=column).astype(float)
            after = wide.loc[draws[measure].iso3, start + pd.DateOffset(months=1) :].iloc[:, :12]
            before = wide.loc[draws[measure].iso3, :start].iloc[:, -24:]
            matrices.append(values.reshape(-1, values.shape[2]))
            observed.append(after.to_numpy().ravel())
            joint3.append(
                (
                    (values[:, :3] >= 25).any(axis=1).mean(axis=1),
                    (after.iloc[:, :3] >= 25).any(axis=1),
                )
            )
            calm = (before < 25).all(axis=1).to_numpy()
            quiet.append(
                ((values[calm] >= 25).any(axis=1).mean(axis=1), (after[calm] >= 25).any(axis=1))
            )
        matrix, y = np.concatenate(matrices), np.concatenate(observed)
        p, event = (matrix >= 25).mean(axis=1), y >= 25
        expected = {
            "CRPS": crps(matrix, y).mean(),
            "IGN": ignorance(matrix, y).mean(),
            "MIS": interval_score(matrix, y).mean(),
            "Brier": brier(p, event),
        }
        if event.any() and not event.all():
            expected |= {"AUROC": auroc(p, event), "AP": average_precision(p, event)}
        monthly = record["measures"][measure]["monthly"]
        assert (monthly["cells"], monthly["events"]) == (len(y), int(event.sum()))
        [ours] = [s for s in monthly["scores"] if s["method"] == "model"]
        assert {m: ours[m] for m in expected} == pytest.approx(expected, abs=1e-9)
        for part, pairs in (("headline", joint3), ("onset", quiet)):
            p = np.concatenate([pair[0] for pair in pairs])
            event = np.concatenate([pair[1] for pair in pairs])
            table = record["measures"][measure][part]
            [ours] = [s for s in table["scores"] if s["method"] == "model"]
            assert (table["cells"], table["events"]) == (len(p), int(event.sum()))
            assert ours["Brier"] == pytest.approx(brier(p, event), abs=1e-9)
    assert record["origins"] == origins and record["seed"] == 3
    assert record["store_version"].startswith("0-") and record["model"]["version"]
    assert [o["origin"] for o in record["measures"]["state_based"]["by_origin"]] == origins


def test_baselines_forecast_any_column_and_the_base_rate_by_hand() -> None:
    """CCC's base rate at Dec 2002: 6 of its 36 months; its one-sided conflictology in 2003
    is its own one-sided months of 2003 (the last 12 up to Dec 2003)."""
    rate = baselines.base_rate(HAND, pd.Timestamp(ORIGIN))
    assert rate.to_dict() == pytest.approx({"AAA": 1.0, "BBB": 0.0, "CCC": 1 / 6})
    one_sided = baselines.conflictology(
        HAND, pd.Timestamp("2003-12"), [1], n_draws=12, target="fatalities_one_sided"
    )
    assert one_sided.groupby("iso3")["outcome"].max().to_dict() == {
        "AAA": 0.0, "BBB": 0.0, "CCC": 30.0,
    }  # fmt: skip
    # Uncovered months are not counted either way: 1 of 2 covered months.
    gappy = make_panel(
        {
            "ZZZ": {
                "fatalities_state_based": {"2000-01": 30, **months("2000-03", "2003-12", math.nan)}
            }
        }
    )
    assert baselines.base_rate(gappy, pd.Timestamp("2003-12"))["ZZZ"] == 0.5


def test_origins_are_yearly_and_need_their_outcomes() -> None:
    assert [f"{o:%Y-%m}" for o in backtest.yearly_origins("2009-12", "2011-12")] == [
        "2009-12", "2010-12", "2011-12",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="whole number of years"):
        backtest.yearly_origins("2009-12", "2010-06")
    with pytest.raises(ValueError, match="origin 2003-06: its outcomes run to 2004-06"):
        backtest.run_backtest(HAND, ["2003-06"], forecaster=persistence)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    loaders.import_file(SMALL_GED, data_dir=store)
    return store


def test_the_cli_prints_and_records_every_measure(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # The store's five events of 2024 cannot be backtested: the hand panel stands in.
    monkeypatch.setattr(cli, "country_month_panel", lambda data_dir: HAND)
    monkeypatch.setattr(backtest, "default_forecaster", persistence)
    assert cli.main(["evaluate", "ged", "--origins", ORIGIN, "--data-dir", str(store)]) == 0
    printed = capsys.readouterr()
    out = printed.out
    assert printed.err == "origin 2002-12 (1 of 1)\n"
    path = store.resolve() / "skill" / f"ged_{ORIGIN}_{ORIGIN}_seed0.json"
    assert out.splitlines()[-1].endswith(f"Recorded in {path} (shown on the Model skill page)")
    assert out.startswith(
        "all organised violence: each month 1–12 ahead, origins 2002-12 … 2002-12 (1), seed 0\n"
        "36 country-months, 25 with ≥ 25\n"
    )
    assert "state-based violence: onset" in out and "2 quiet country-origins, 1 onsets" in out
    assert "base rate                 n/a         n/a         n/a" in out
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["training_data"][0]["label"] == "UCDP GED 25.1"
    assert set(record["measures"]) == set(measures.MEASURES)


def test_the_cli_refuses_bad_origins_and_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    empty = str(tmp_path / "empty")
    assert cli.main(["evaluate", "ged", "--origins", "2009-12:2010-03", "--data-dir", empty]) == 1
    assert "--origins" in capsys.readouterr().err
    assert cli.main(["evaluate", "ged", "--origins", "Dec 2009", "--data-dir", empty]) == 1
    assert "is not FIRST:LAST" in capsys.readouterr().err
    assert cli.main(["evaluate", "ged", "--data-dir", empty]) == 1
    assert "holds no UCDP GED data" in capsys.readouterr().err


@pytest.mark.shared_data
@pytest.mark.slow
def test_one_real_origin_on_the_ged_store(global_store: Path) -> None:
    """December 2019, forecasting 2020 from GED 21.1: 195 countries × 12 months."""
    from risk.panel import country_month_panel

    result = backtest.run_backtest(country_month_panel(global_store), ["2019-12"])
    state = result.table("state_based")
    assert state.attrs == {"cells": 2340, "events": 158}
    # The benchmarks come from fixed data: exact to their shown digits.
    assert state.loc["conflictology", "CRPS"] == pytest.approx(4.80, abs=0.005)
    assert state.loc["zero", "CRPS"] == pytest.approx(10.48, abs=0.005)
    for measure in measures.MEASURES:
        table = result.table(measure)
        assert table.loc["model", "CRPS"] < table.loc["zero", "CRPS"]
        assert table.loc["model", "AUROC"] > 0.9
    assert result.table("all").attrs["events"] >= state.attrs["events"]
    onset = result.onset_table("state_based")
    assert onset.attrs == {"cells": 169, "events": 4}
    assert onset.loc["conflictology", "AUROC"] == 0.5


def test_a_stores_default_origins_are_its_last_eleven_decembers_with_a_year_after() -> None:
    months = pd.date_range("1989-01-01", "2020-12-01", freq="MS")
    panel = pd.DataFrame({"month": months})
    panel.attrs["last_complete_month"] = "2020-12"
    origins = [f"{o:%Y-%m}" for o in backtest.store_origins(panel)]
    assert origins == [f"{year}-12" for year in range(2009, 2020)]  # GED 21.1's
    panel.attrs["last_complete_month"] = "2021-05"  # a year after Dec 2019 only
    assert f"{backtest.store_origins(panel)[-1]:%Y-%m}" == "2019-12"
    short = panel[panel["month"] >= "2009-01-01"]  # 10 years before: Dec 2018 … Dec 2019
    with pytest.raises(model.InsufficientData, match="needs 10 years of data"):
        backtest.store_origins(short)
