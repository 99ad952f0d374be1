"""Skill records: calibration bins by hand, a record's round trip, the CLI that writes it, and the
sentences the Model skill page builds from a record's numbers."""

from __future__ import annotations

import copy
import json
import math
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
