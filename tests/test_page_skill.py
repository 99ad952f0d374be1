"""AppTest of the Model skill page: a real recorded evaluation (window 2019), a recorded GED
backtest (of a hand-made panel), and an empty store.

The module records window 2019 once: risk.model trained on UCDP GED 21.1 (precisely located
events) up to October 2018, scored on the VIEWS challenge's files, ~20 s. The page must show
the record it reads: the model's figures and the sentences worded from them are checked against
that record (not against the model's digits, which change with the model); the benchmarks'
figures, computed from fixed files, are checked exactly (conflictology: CRPS 9.24, MIS 81.3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import loaders
from risk import skill
from risk.evaluate import DECIMALS, METRICS, evaluate_window
from risk.skill import record_backtest, record_evaluation
from tests.conftest import REPO, shared_data_dir
from ui.text import escape_markdown

PAGE = str(REPO / "app_pages" / "skill.py")
GLOBAL_GED = "ucdp_ged_v21_1_global_precise_reduced.csv.gz"


@pytest.fixture(scope="module")
def recorded_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    challenge = shared_data_dir() / "views_challenge"
    features = challenge / "cm_features_to_oct2018.parquet"
    if not (shared_data_dir() / GLOBAL_GED).exists() or not features.exists():
        pytest.skip("shared data (GED 21.1 and the VIEWS challenge files) not found")
    store = tmp_path_factory.mktemp("skill") / "store"
    loaders.import_file(shared_data_dir() / GLOBAL_GED, data_dir=store)
    result = evaluate_window(features, challenge / "cm_actuals_2019.parquet", data_dir=store)
    record_evaluation(result, store, window=2019, features_name=features.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        yield store


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_recorded_window_shows_its_table_chart_and_reading(recorded_store: Path) -> None:
    page = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not page.exception
    assert [tab.label for tab in page.tabs] == ["Window 2019"]
    [record] = skill.load_records(recorded_store)
    scores = page.dataframe[0].value.set_index("Method")
    assert scores.index.tolist() == [
        "Article 99 model",
        "Zero (benchmark)",
        "Conflictology (benchmark)",
        "Last historical (benchmark)",
        "Global bootstrap (benchmark)",
    ]
    # The model's scores as recorded, rounded as the CLI prints them; the benchmarks' exactly.
    model = next(s for s in record["scores"] if s["method"] == "model")
    for metric in METRICS:
        shown = scores.loc["Article 99 model", skill.COLUMN_LABELS[metric]]
        assert shown == round(model[metric], DECIMALS[metric]), metric
    assert scores.loc["Conflictology (benchmark)", "CRPS"] == 9.24
    assert scores.loc["Conflictology (benchmark)", "MIS 90%"] == 81.3
    assert scores.loc["Article 99 model", "CRPS"] < scores.loc["Zero (benchmark)", "CRPS"]
    assert page.caption[0].value.startswith("2,292 country-months, 180 with ≥25 state-based deaths")
    assert "Lower is better for CRPS" in page.caption[1].value

    calibration = page.dataframe[1].value
    assert calibration["Country-months"].sum() == 2292
    assert calibration["Forecast probability"].iloc[0] == "0–5%"
    [chart] = page.get("plotly_chart")
    title = json.loads(chart.proto.spec)["layout"]["title"]
    assert title["text"] == "P(≥25 deaths) forecast against outcome, window 2019"
    assert title["subtitle"]["text"].startswith("Source: VIEWS 2023/24 prediction challenge")

    text = "\n".join(m.value for m in page.markdown)
    assert "**CRPS** measures" in text and "**AP**" in text and "**Brier**" in text
    # What it beats and where it is weak, worded from the record's numbers (Markdown-escaped).
    sentences = [*skill.what_it_beats(record), *skill.where_it_is_weak(record)]
    assert sentences[0].startswith(("The model beats all 4 benchmarks", "It beats", "Against"))
    for sentence in sentences:
        assert f"- {escape_markdown(sentence)}" in text
    assert "Outbreaks in quiet countries" in text
    mis = f"MIS {model['MIS']:.1f} against 81.3"
    assert any(mis in sentence for sentence in sentences)
    assert "precisely located events only" in text
    assert "[Methodology](./methodology)" in text
    assert page.text[-1].value.startswith(
        "Source: VIEWS 2023/24 prediction challenge, country-month, window 2019\n"
        "Files: cm_features_to_oct2018.parquet, cm_actuals_2019.parquet\n"
        "Model trained on UCDP GED 21.1 (events to 2020-12) up to 2018-10"
    )


def test_an_empty_store_says_no_evaluation_is_recorded_and_how(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "store"))
        page = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not page.exception
    # First the store's own backtest (each import starts one), then the VIEWS windows.
    assert page.info[0].value.startswith("No GED backtest is recorded in this store yet")
    assert "An import of UCDP GED data starts one in the background" in page.info[0].value
    store = (tmp_path / "store").resolve()
    assert page.code[0].value == f"python -m risk evaluate ged --data-dir {store}"
    assert page.info[1].value.startswith("No VIEWS challenge window is recorded in this store")
    assert "VIEWS 2023/24 prediction challenge" in page.info[1].value
    command = page.code[1].value
    assert command.startswith("python -m risk evaluate views")
    assert "--actuals cm_actuals_2019.parquet" in command
    assert f"--data-dir {store}" in command
    assert not page.dataframe and not page.tabs


def test_while_the_first_backtest_runs_the_page_says_so(tmp_path: Path) -> None:
    """An import has just started the store's backtest (held here as that process would)."""
    store = tmp_path / "store"
    with skill.running(store), pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        page = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not page.exception
    assert page.info[0].value.startswith(
        "A backtest of this store's GED data has been running since "
    )
    assert not any("No GED backtest is recorded" in i.value for i in page.info)
    assert page.code[0].value.startswith("python -m risk evaluate views")  # VIEWS only


def test_a_recorded_backtest_shows_every_measure_beside_its_benchmarks(tmp_path: Path) -> None:
    """Persistence standing in for the model on the hand panel of tests/risk/test_backtest.py
    (its scores are checked by hand there); a second record with one origin is chosen below."""
    from risk.backtest import run_backtest
    from tests.risk.test_backtest import HAND, persistence

    store = tmp_path / "store"
    for origins in (["2001-12", "2002-12"], ["2002-12"]):
        record_backtest(run_backtest(HAND, origins, forecaster=persistence), store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        page = AppTest.from_file(PAGE, default_timeout=60).run()
        assert not page.exception
        assert page.info[0].value.startswith("No VIEWS challenge window is recorded")
        assert [tab.label for tab in page.tabs] == [
            "All organised violence",
            "State-based violence",
            "Non-state violence",
            "One-sided violence against civilians",
        ]
        [choice] = page.selectbox
        assert choice.value["origins"] == ["2001-12", "2002-12"]
        # Per measure: the monthly table, headline, onsets, the onsets themselves, by origin.
        state = page.dataframe[5:10]
        monthly = state[0].value.set_index("Method")
        assert monthly.loc["Article 99 model", "CRPS"] == round(40 / 72, 2)
        assert monthly.loc["Zero (benchmark)", "CRPS"] == round(760 / 72, 2)
        assert math.isnan(monthly.loc["Base rate (benchmark)", "IGN (bits)"])
        onset = state[2].value.set_index("Method")
        assert onset.index.tolist() == [
            "Article 99 model",
            "Conflictology (benchmark)",
            "Last historical (benchmark)",
            "Base rate (benchmark)",
        ]
        assert state[3].value["Country"].tolist() == ["BBB"]
        assert state[4].value["Months forecast"].tolist() == [
            "2002-01 … 2002-12",
            "2003-01 … 2003-12",
        ]
        captions = [c.value for c in page.caption]
        assert "72 country-months, 25 with ≥25 deaths; origins 2001-12 … 2002-12 (2), seed 0." in (
            captions
        )
        assert any("it has no CRPS, IGN or MIS" in c for c in captions)
        text = "\n".join(m.value for m in page.markdown)
        assert "Conflictology cannot rank onsets" in text
        assert page.text[-1].value.startswith(
            "Source: GED rolling-origin backtest, country-month, origins 2001-12 … 2002-12 (2)"
        )
        choice.set_value(skill.load_backtests(store)[1]).run()
        assert not page.exception
        assert page.dataframe[5].value.set_index("Method").loc["Article 99 model", "CRPS"] == (
            round(40 / 36, 2)
        )
