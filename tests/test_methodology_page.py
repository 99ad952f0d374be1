"""AppTest of the methodology page: it is in the navigation and renders the method note."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


@pytest.fixture
def app(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=30)


def test_methodology_page_renders_the_note(app: AppTest) -> None:
    # The first run registers the pages; switch_page then refuses a page st.navigation lacks.
    app.run()
    app.switch_page("app_pages/methodology.py").run()
    assert not app.exception
    text = "\n".join(element.value for element in app.markdown)
    assert "# Article 99 forecasting methodology" in text
    assert "Article 99 contributors (2026). Article 99 forecasting methodology, version 2." in text
    assert "| model | 8.85 | 0.534 | 87.6 | 0.985 | 0.867 | 0.0255 |" in text
    assert "| conflictology | 12.06 | 0.623 | 154.6 | 0.969 | 0.808 | 0.0266 |" in text
    assert "precisely located" in text
    assert 'Insufficient data" means no forecast, not zero' in text
