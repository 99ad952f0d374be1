"""Skill records: calibration bins by hand, a record's round trip, the CLI that writes it, and the
sentences the Model skill page builds from a record's numbers."""

from __future__ import annotations

import copy
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loaders
from loaders.errors import LoaderError
from risk import baselines, cli, skill
from risk.evaluate import METRICS, evaluate_window
from tests.conftest import SMALL_GED
from tests.risk.test_views import write_actuals, write_features


def test_calibration_bins_by_hand() -> None:
    table = skill.calibration(
        np.array([0.0, 0.02, 0.07, 0.15, 0.95, 1.0]), np.array([0, 1, 0, 1, 1, 1])
    )
    assert table["label"].tolist() == [
        "0–5%", "5–10%", "10–20%", "20–30%", "30–40%", "40–50%",
        "50–60%", "60–70%", "70–80%", "80–90%", "90–100%",
    ]  # fmt: skip
    filled = table[table["count"] > 0].set_index("label")
    assert filled["count"].to_dict() == {"0–5%": 2, "5–10%": 1, "10–20%": 1, "90–100%": 2}
    assert filled["mean_predicted"].to_dict() == pytest.approx(
        {"0–5%": 0.01, "5–10%": 0.07, "10–20%": 0.15, "90–100%": 0.975}
    )
    assert filled["observed_frequency"].to_dict() == {
        "0–5%": 0.5, "5–10%": 0.0, "10–20%": 1.0, "90–100%": 1.0,
    }  # fmt: skip
    empty = table[table["count"] == 0]
    assert len(empty) == 7 and empty["mean_predicted"].isna().all()


def test_calibration_bins_are_closed_below_and_the_last_holds_one() -> None:
    table = skill.calibration(np.array([0.05, 0.1, 0.9, 1.0]), np.array([0, 0, 1, 1]))
    counts = table.set_index("label")["count"]
    assert (counts["5–10%"], counts["10–20%"], counts["90–100%"]) == (1, 1, 2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        skill.calibration(np.array([1.2]), np.array([1]))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    loaders.import_file(SMALL_GED, data_dir=store)
    return store


@pytest.fixture
def evaluation(tmp_path: Path):
    """Window 2019 of the two-country files, last historical standing in for the model."""
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet")
    actuals = write_actuals(tmp_path / "cm_actuals_2019.parquet")
    return evaluate_window(features, actuals, model=baselines.last_historical, n_draws=50)


def test_a_record_round_trips_with_scores_counts_and_calibration(evaluation, store: Path) -> None:
    path = skill.record_evaluation(
        evaluation, store, window=2019, features_name="cm_features_to_oct2018.parquet"
    )
    assert path == store.resolve() / "skill" / "views_2019.json"
    assert not list(path.parent.glob("*.tmp"))
    [record] = skill.load_records(store)
    assert record["window"] == 2019 and record["as_of"] == "2018-10"
    assert record["forecast_months"] == ["2019-01", "2019-12"]
    assert record["actuals"] == "cm_actuals_2019.parquet"
    assert (record["cells"], record["events"], record["draws"]) == (24, 12, [50])
    table = evaluation.table
    assert [s["method"] for s in record["scores"]] == list(table.index)
    for row in record["scores"]:
        for metric in METRICS:
            expected = table.loc[row["method"], metric]
            assert (row[metric] is None) if math.isnan(expected) else row[metric] == expected
    expected = skill.model_calibration(evaluation.draws, evaluation.actuals)
    assert pd.DataFrame(record["calibration"])["count"].tolist() == expected["count"].tolist()
    assert sum(b["count"] for b in record["calibration"]) == 24
    assert record["model"]["seed"] == 0 and record["model"]["n_draws"] == 50
    assert record["model"]["training_data"][0]["label"] == "UCDP GED 25.1"
    assert record["notes"] == evaluation.notes
    # Recording the window again replaces it.
    skill.record_evaluation(evaluation, store, window=2019, features_name="again.parquet")
    assert [r["features"] for r in skill.load_records(store)] == ["again.parquet"]


def test_what_cannot_be_recorded_is_refused(evaluation, store: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="window 2020"):
        skill.record_evaluation(evaluation, store, window=2020, features_name="f")
    evaluation.info["model_name"] = "zero"
    with pytest.raises(ValueError, match="zero baseline"):
        skill.record_evaluation(evaluation, store, window=2019, features_name="f")
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet")
    no_actuals = evaluate_window(features, model=baselines.zero, n_draws=5)
    with pytest.raises(ValueError, match="no actuals"):
        skill.record_evaluation(no_actuals, store, window=2019, features_name="f")
    assert not (store / "skill").exists()


def test_loading_an_empty_store_and_a_broken_record(tmp_path: Path) -> None:
    assert skill.load_records(tmp_path / "nowhere") == []
    folder = tmp_path / "store" / "skill"
    folder.mkdir(parents=True)
    (folder / "views_2019.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LoaderError, match=r"views_2019\.json"):
        skill.load_records(tmp_path / "store")


def test_the_cli_records_the_model_and_not_a_baseline(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    features = write_features(tmp_path / "cm_features_to_oct2018.parquet")
    actuals = write_actuals(tmp_path / "cm_actuals_2019.parquet")
    out = tmp_path / "pred.parquet"
    common = [
        "evaluate", "views", "--features", str(features), "--actuals", str(actuals),
        "--out", str(out), "--n-draws", "20", "--data-dir", str(store),
    ]  # fmt: skip
    assert cli.main([*common, "--model", "zero"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Not recorded: only risk.model's skill is recorded, not the zero baseline."
    )
    assert skill.load_records(store) == []
    # The store's five events cannot train risk.model; a baseline stands in, unseen by the CLI.
    monkeypatch.setattr(cli, "resolve_forecaster", lambda name, data_dir: baselines.zero)
    assert cli.main(common) == 0
    path = store.resolve() / "skill" / "views_2019.json"
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Recorded window 2019 in {path} (shown on the Model skill page)"
    )
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["features"] == "cm_features_to_oct2018.parquet" and record["draws"] == [20]


# The page's sentences, from a hand-written record -----------------------------------------------

RECORD = {
    "window": 2020,
    "challenge": "VIEWS 2023/24 prediction challenge, country-month",
    "features": "cm_features_to_oct2019.parquet",
    "actuals": "cm_actuals_2020.parquet",
    "created_at": "2026-11-27T10:00:00+00:00",
    "scores": [
        {
            "method": "zero",
            "CRPS": 21.89,
            "IGN": 1.545,
            "MIS": 437.9,
            "AUROC": 0.5,
            "AP": 0.082,
            "Brier": 0.0816,
        },
        {
            "method": "model",
            "CRPS": 11.8301,
            "IGN": 0.508,
            "MIS": 157.5,
            "AUROC": 0.987,
            "AP": 0.885,
            "Brier": 0.0242,
        },
        {
            "method": "conflictology",
            "CRPS": 12.06,
            "IGN": 0.623,
            "MIS": 154.6,
            "AUROC": 0.969,
            "AP": 0.808,
            "Brier": 0.0266,
        },
    ],
    "calibration": [
        {"label": "0–5%", "count": 1900, "mean_predicted": 0.003, "observed_frequency": 0.003},
        {"label": "10–20%", "count": 80, "mean_predicted": 0.14, "observed_frequency": 0.30},
        {"label": "60–70%", "count": 5, "mean_predicted": 0.68, "observed_frequency": 1.0},
        {"label": "70–80%", "count": 0, "mean_predicted": None, "observed_frequency": None},
    ],
    "model": {
        "trained_to": "2019-10",
        "training_data": [
            {
                "label": "UCDP GED 21.1",
                "last_date": "2020-12-31",
                "notes": ["third-party subset: only precisely located events (where_prec 1-2)"],
            }
        ],
    },
}


def test_the_score_table_puts_the_model_first_with_human_names() -> None:
    table = skill.score_table(RECORD)
    assert table["Method"].tolist() == [
        "Article 99 model",
        "Zero (benchmark)",
        "Conflictology (benchmark)",
    ]
    assert table.columns.tolist() == [
        "Method", "CRPS", "IGN (bits)", "MIS 90%", "AUROC ≥25", "AP ≥25", "Brier ≥25",
    ]  # fmt: skip
    assert table["CRPS"].tolist() == [11.83, 21.89, 12.06]


def test_the_notes_say_what_it_beats_and_where_it_is_weak_from_the_numbers() -> None:
    assert skill.what_it_beats(RECORD) == [
        "It beats zero on every score.",
        "Against conflictology it is not better on MIS 90% (157.5 against 154.6).",
    ]
    weak = skill.where_it_is_weak(RECORD)
    assert weak[0].startswith("Outbreaks in quiet countries")
    assert "(MIS 157.5 against 154.6)" in weak[2] and "worse than conflictology" in weak[2]
    # Only bins with at least 30 country-months are called out.
    assert weak[3] == (
        "Calibration: months with 25 or more deaths happened more often than forecast in the "
        "10–20% band (30% against 14%, 80 country-months)."
    )
    assert weak[4].startswith("Training data: it learned from precisely located events only")
    better = copy.deepcopy(RECORD)
    better["scores"][1]["MIS"] = 150.0
    assert skill.what_it_beats(better) == [
        "The model beats all 2 benchmarks on every score in this window (zero, conflictology)."
    ]
    assert "narrowest lead" in skill.where_it_is_weak(better)[2]
    assert skill.source_line(RECORD) == (
        "Source: VIEWS 2023/24 prediction challenge, country-month, window 2020\n"
        "Files: cm_features_to_oct2019.parquet, cm_actuals_2020.parquet\n"
        "Model trained on UCDP GED 21.1 (events to 2020-12) up to 2019-10; recorded 2026-11-27"
    )
    calibration = skill.calibration_table(RECORD)
    assert calibration["Forecast probability"].tolist() == ["0–5%", "10–20%", "60–70%"]


# GED backtest records -----------------------------------------------------------------------


@pytest.fixture
def backtest_record(tmp_path: Path) -> tuple[Path, dict]:
    """The hand panel of test_backtest, persistence standing in for the model, recorded."""
    from risk.backtest import run_backtest
    from tests.risk.test_backtest import HAND, persistence

    result = run_backtest(HAND, ["2001-12", "2002-12"], forecaster=persistence)
    store = tmp_path / "store"
    path = skill.record_backtest(result, store, seconds=12.34)
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_a_backtest_record_keeps_what_the_run_was(backtest_record, tmp_path: Path) -> None:
    path, record = backtest_record
    assert path.name == "ged_2001-12_2002-12_seed0.json" and not list(path.parent.glob("*.tmp"))
    assert record["format"] == skill.GED_RECORD_FORMAT and record["kind"] == "ged_backtest"
    assert record["origins"] == ["2001-12", "2002-12"] and record["horizons"] == [1, 12]
    assert (record["seed"], record["threshold"], record["seconds"]) == (0, 25, 12.3)
    assert (record["quiet_months"], record["onset_months"], record["headline_months"]) == (
        24,
        12,
        3,
    )
    assert record["model"]["name"] == "risk.model" and len(record["model"]["version"]) == 16
    assert list(record["measures"]) == ["all", "state_based", "non_state", "one_sided"]
    state = record["measures"]["state_based"]
    assert state["label"] == "state-based violence"
    assert (state["monthly"]["cells"], state["monthly"]["events"]) == (72, 25)
    assert [o["origin"] for o in state["by_origin"]] == ["2001-12", "2002-12"]
    assert sum(o["monthly"]["cells"] for o in state["by_origin"]) == 72
    [loaded] = skill.load_backtests(path.parents[1])
    assert loaded == record
    table = skill.backtest_table(record, "state_based")
    assert table["Method"].tolist() == [
        "Article 99 model", "Zero (benchmark)", "Conflictology (benchmark)",
        "Last historical (benchmark)", "Base rate (benchmark)",
    ]  # fmt: skip
    assert table.loc[0, "CRPS"] == round(40 / 72, 2) and math.isnan(table.loc[4, "CRPS"])
    onset = skill.backtest_table(record, "state_based", "onset")
    assert list(onset.columns) == ["Method", "AUROC ≥25", "AP ≥25", "Brier ≥25"]
    onsets = skill.onsets_table(record, "state_based")
    assert onsets[["Months forecast", "Country"]].values.tolist() == [["2003-01 … 2003-12", "BBB"]]
    by_origin = skill.by_origin_table(record, "state_based")
    assert by_origin["Months forecast"].tolist() == ["2002-01 … 2002-12", "2003-01 … 2003-12"]
    assert by_origin["Onsets"].tolist() == [0, 1]
    assert math.isnan(by_origin.loc[0, "Onset AUROC, model"])
    assert skill.backtest_source_line(record).startswith(
        "Source: GED rolling-origin backtest, country-month, origins 2001-12 … 2002-12 (2), "
        "seed 0; at each origin the model learned only from the data up to it\n"
    )


def test_backtest_records_load_most_origins_first_and_refuse_unreadable_ones(
    backtest_record, tmp_path: Path
) -> None:
    path, record = backtest_record
    folder = path.parent
    one = {**record, "origins": ["2002-12"], "seed": 0}
    (folder / "ged_2002-12_2002-12_seed0.json").write_text(json.dumps(one), encoding="utf-8")
    (folder / "ged_2001-12_2002-12_seed1.json").write_text(
        json.dumps({**record, "seed": 1}), encoding="utf-8"
    )
    loaded = skill.load_backtests(folder.parent)
    assert [skill.backtest_label(r) for r in loaded] == [
        "Origins 2001-12 … 2002-12 (2), seed 0",
        "Origins 2001-12 … 2002-12 (2), seed 1",
        "Origins 2002-12 … 2002-12 (1), seed 0",
    ]
    assert skill.load_records(folder.parent) == []  # VIEWS records are apart
    (folder / "ged_old.json").write_text(json.dumps({**record, "format": 99}), encoding="utf-8")
    with pytest.raises(LoaderError, match=r"ged_old\.json.*format 99"):
        skill.load_backtests(folder.parent)
    assert skill.load_backtests(tmp_path / "nowhere") == []


def onset_record(scores: dict[str, tuple[float, float]], quiet: int, onsets: int) -> dict:
    return {
        "threshold": 25,
        "quiet_months": 24,
        "onset_months": 12,
        "measures": {
            "all": {
                "label": "all organised violence",
                "onset": {
                    "cells": quiet,
                    "events": onsets,
                    "scores": [
                        {"method": m, "AUROC": auc, "AP": ap, "Brier": 0.02}
                        for m, (auc, ap) in scores.items()
                    ],
                },
            }
        },
    }


def test_the_onset_reading_says_onsets_are_rare_and_what_the_model_adds() -> None:
    record = onset_record(
        {
            "model": (0.81, 0.142),
            "conflictology": (0.5, 0.024),
            "last historical": (0.6, 0.05),
            "base rate": (0.74, 0.061),
        },
        quiet=1700,
        onsets=41,
    )
    assert skill.onset_reading(record, "all") == [
        "Onsets are rare: of 1,700 times a country had gone 24 months without a month of 25 or "
        "more deaths from all organised violence, 41 (2.4%) saw such a month within the next 12.",
        "Ranking at random gives an average precision of about 0.024 (the share of onsets); it "
        "is low for every method here, at most 0.142 (the model): the few onsets must rank "
        "above many quiet countries that stay quiet.",
        "Conflictology cannot rank onsets: none of a quiet country's last 12 months reached 25, "
        "so it gives every one of them 0 (AUROC 0.5).",
        "Against the base rate (each country's long-run share of months with 25 or more deaths) "
        "the model ranks onsets better than it: AUROC 0.810 against 0.740, AP 0.142 against "
        "0.061.",
    ]
    worse = onset_record({"model": (0.6, 0.03), "base rate": (0.7, 0.05)}, quiet=100, onsets=2)
    assert "the model does not rank onsets better than it" in skill.onset_reading(worse, "all")[3]
    none = onset_record({"model": (None, None)}, quiet=100, onsets=0)
    assert skill.onset_reading(none, "all")[1] == (
        "With no onset, or only onsets, a ranking cannot be scored."
    )


def test_the_headline_skill_line_quotes_the_record_of_its_measure() -> None:
    scores = [
        {"method": "model", "AUROC": 0.984, "AP": 0.925, "Brier": 0.0266},
        {"method": "conflictology", "AUROC": 0.953, "AP": 0.883, "Brier": 0.0297},
    ]
    record = {
        "origins": ["2009-12", "2010-12", "2019-12"],
        "measures": {"one_sided": {"headline": {"scores": scores}}},
    }
    assert skill.headline_skill_line(record, "one_sided") == (
        "Backtested on this store's GED data (3 yearly origins, 2009-12 … 2019-12): this risk's "
        "average precision 0.93 against conflictology's 0.88, AUROC 0.98, Brier 0.027 (lower is "
        "better)."
    )


def test_a_record_is_current_until_the_data_or_the_model_change(
    backtest_record, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, record = backtest_record
    store = path.parents[1]
    assert skill.is_current(record, store) and skill.current_backtest(store) == record
    assert skill.backtest_status(store) == ""
    with monkeypatch.context() as patched:
        patched.setattr(skill, "code_digest", lambda: "another model")
        assert skill.current_backtest(store) is None
        assert "describe an earlier version of the model" in skill.backtest_status(store)
    loaders.import_file(SMALL_GED, data_dir=store)  # new GED data: the record is of the old
    assert skill.current_backtest(store) is None
    assert "as they were before its last import" in skill.backtest_status(store)


def test_one_backtest_at_a_time_and_a_dead_ones_note_does_not_count(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert skill.running_backtest(store) is None
    with skill.running(store) as alone:
        assert alone
        assert skill.running_backtest(store)["pid"] == os.getpid()
        with skill.running(store) as second:
            assert not second  # another process (here: another open lock) must not start
        assert skill.backtest_status(store).startswith(
            "A backtest of this store's GED data has been running since "
        )
    assert skill.running_backtest(store) is None
    assert not (store / "skill" / skill.RUNNING).exists()
    # The note of a process killed mid-run: the lock died with it, so nothing runs.
    (store / "skill" / skill.RUNNING).write_text('{"started_at": "x", "pid": 1}')
    assert skill.running_backtest(store) is None


def test_the_cli_backtests_only_if_needed(
    backtest_record, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path, _ = backtest_record
    monkeypatch.setattr(cli, "country_month_panel", lambda data_dir: pytest.fail("read"))
    assert cli.main(["evaluate", "ged", "--if-needed", "--data-dir", str(path.parents[1])]) == 0
    assert "is recorded: nothing to do" in capsys.readouterr().out


def test_an_import_starts_the_backtest_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real command in a real process; the small store's 5 events of 2024 cannot be
    backtested, so it ends at once, saying why, in the log the message names."""
    from risk.prepare import AUTO_BACKTEST, start_backtest

    store = tmp_path / "store"
    monkeypatch.setenv(AUTO_BACKTEST, "1")
    assert start_backtest(store) == ""  # no UCDP data: nothing to backtest
    loaders.import_file(SMALL_GED, data_dir=store)
    message = start_backtest(store)
    assert "being backtested in the background" in message
    log = store.resolve() / "skill" / "backtest.log"
    assert str(log) in message
    deadline = time.monotonic() + 120
    while "needs 10 years of data" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.5)
    assert skill.running_backtest(store) is None
    monkeypatch.setenv(AUTO_BACKTEST, "0")
    assert start_backtest(store) == ""
