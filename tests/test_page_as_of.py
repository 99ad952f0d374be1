"""AppTest of the "As of" choice: the analyst forecasts from an earlier month, and the landing
page, the URL, the profile and the briefing all show that month; the reduced GED file's caveat
shows beside the numbers, and not for a full release."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import loaders
from risk.forecast import risk_forecast
from tests.conftest import REPO, SMALL_GED

TIMEOUT = 300
CAVEAT = "Caveat: UCDP GED 21.1 is a third-party 'precise, reduced' subset"


def _captions(at: AppTest) -> list[str]:
    """Every caption's text, markdown escapes removed."""
    return [c.value.replace("\\", "") for c in at.caption]


def _caption(at: AppTest, text: str) -> str:
    return next(v for v in _captions(at) if text in v)


@pytest.fixture(scope="module")
def latest_and_december(global_app_store: Path) -> tuple[pd.DataFrame, AppTest]:
    """The Sahel landing page's table, then the page with "As of" Dec 2019 chosen."""
    risk_forecast(global_app_store, "2019-12")  # trained outside the AppTest timeout; cached
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["region"] = "group:Sahel"
    at.run()
    assert not at.exception
    latest = at.dataframe[0].value
    choice = at.sidebar.selectbox(key="filter_as_of")
    assert choice.value == "2020-12"
    assert choice.options[:2] == ["Dec 2020 (default)", "Nov 2020"]
    assert choice.options[-1] == "Mar 1991"
    choice.set_value("2019-12").run()
    assert not at.exception
    return latest, at


@pytest.fixture(scope="module")
def december(latest_and_december: tuple[pd.DataFrame, AppTest]) -> AppTest:
    return latest_and_december[1]


def test_choosing_a_month_changes_the_landing_page_and_the_url(
    latest_and_december: tuple[pd.DataFrame, AppTest],
) -> None:
    latest, december = latest_and_december
    assert "Forecast from data to Dec 2019" in _caption(december, "Forecast from data to")
    assert "forecast from data to Dec 2019" in _caption(december, "Sahel (Group)")
    assert "Jan–Mar 2020" in _caption(december, "Sahel (Group)")
    table = december.dataframe[0].value
    assert set(table.index) == set(latest.index)
    assert not table["Risk"].equals(latest["Risk"])
    assert december.query_params["as_of"] == "2019-12"
    assert december.query_params["region"] == "group:Sahel"
    assert any(c.startswith(CAVEAT) for c in _captions(december))


def test_the_profile_and_the_briefing_show_the_same_month(december: AppTest) -> None:
    december.switch_page("app_pages/country.py").run()
    assert not december.exception
    assert "Forecast from data to Dec 2019." in _caption(december, "Forecast from data to")
    assert any(c.startswith(CAVEAT) for c in _captions(december))
    december.switch_page("app_pages/briefing.py").run()
    assert not december.exception
    assert "all organised violence from data to 2019-12" in _caption(december, "Source: ")
    assert any(c.startswith(CAVEAT) for c in _captions(december))


def test_a_month_the_data_cannot_forecast_from_is_dropped_and_reported(
    global_app_store: Path,
) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["as_of"] = "1990-06"
    at.query_params["country"] = "MLI"
    at.run()
    assert not at.exception
    warning = at.sidebar.warning[0].value
    assert "Ignored in the link: as_of 1990-06 is not a month the data can forecast from" in warning
    assert "(1991-03 … 2020-12)" in warning
    assert "as_of" not in at.query_params
    assert "Forecast from data to Dec 2020" in _caption(at, "Forecast from data to")


def test_no_caveat_for_a_full_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    loaders.import_file(SMALL_GED, data_dir=store)
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["iso3"] = "MLI"
    at.run()
    for page in ("app_pages/country.py", "app_pages/compare.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert any("UCDP GED 25.1" in c for c in _captions(at)), page
        assert not any(c.startswith("Caveat") for c in _captions(at)), page
