"""AppTest of the app: an empty store explains itself; a loaded one lists its sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import loaders
from tests.conftest import REPO, SMALL_GED


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
