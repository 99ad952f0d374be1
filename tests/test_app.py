"""AppTest of the app: an empty store explains itself; a loaded one lists its sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import loaders
from tests.conftest import REPO, SMALL_GED, ged_rows, write_ged


@pytest.fixture
def app(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=30)


def test_empty_store_explains_what_to_do(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert app.sidebar.caption[0].value == "No data loaded yet."
    # AppTest drops the sidebar after switch_page, so the sidebar is checked on the first run.
    app.switch_page("app_pages/data.py").run()
    assert not app.exception
    assert "The local store is empty" in app.info[0].value
    assert "python -m loaders fetch ucdp" in app.info[0].value


def test_loaded_store_lists_sources_with_vintage(app: AppTest, store_dir: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    app.run()
    assert app.sidebar.caption[0].value == "UCDP GED 25.1, events to Mar 2024"
    app.switch_page("app_pages/data.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert table["Source"].tolist() == ["UCDP GED 25.1"]
    assert table["Events"].tolist() == [5]
    assert table["Deaths (best)"].tolist() == [43]
    assert app.metric[0].value == "5"
    assert any("Sundberg" in t.value for t in app.text)


def test_the_period_follows_the_data_when_an_import_adds_months(
    app: AppTest, store_dir: Path, tmp_path: Path
) -> None:
    """An open session whose Period spans all the data (GED 25.1: 2024) still spans it all
    after the May 2025 Candidate release comes in: no `to=2024-12` in its link hides 2025."""
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    app.run()
    assert app.sidebar.select_slider(key="filter_period").value == ("2024-01", "2024-12")
    later = [
        {**row, "id": f"9{row['id']}", "date_start": "2025-05-02 00:00:00.000",
         "date_end": "2025-05-02 00:00:00.000", "year": "2025"}
        for row in ged_rows()
    ]  # fmt: skip
    loaders.import_file(write_ged(tmp_path / "GEDEvent_v25_0_5.csv", later), data_dir=store_dir)
    app.run()
    assert not app.exception
    assert app.sidebar.select_slider(key="filter_period").value == ("2024-01", "2025-05")
    assert "to" not in app.query_params
