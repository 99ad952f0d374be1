"""The app in a real browser: it starts, reads the store and shows its sources."""

from __future__ import annotations

from pathlib import Path

import loaders
from tests.conftest import SMALL_GED
from tests.e2e.conftest import SCREENSHOTS, settle, start_app


def test_data_page_shows_the_loaded_release(browser, store_dir: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    process, url = start_app(store_dir)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/data")
        settle(page)
        page.get_by_text("UCDP GED events in use").wait_for(timeout=20_000)
        assert "UCDP GED 25.1, events to Mar 2024" in page.inner_text("[data-testid='stSidebar']")
        assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "5"
        assert "Sundberg" in page.inner_text("[data-testid='stMain']")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "data_page.png"), full_page=True)
        page.close()
    finally:
        process.terminate()
        process.wait(10)
