"""The export and briefing pages in a real browser with the global GED 21.1 store, offline.

A download must be a real file in the browser (Streamlit serves it from its media store), so
the CSV is fetched with Playwright's download and read back. The briefing's charts must be
drawn (plotly's SVG inside the chart), Next must move to the next country and write the slide
to the URL, and "Fill the screen" must hide the sidebar. Waits are on Streamlit settling and on
the expected text, never on a fixed time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import screenshot, settle

LOAD_MS = 180_000  # a cold server forecasts every country before it draws the page
PREPARE_MS = 180_000
CHART_SVG = "[data-testid='stPlotlyChart'] .main-svg"
SIDEBAR = "[data-testid='stSidebar']"


@pytest.fixture
def page(browser, app_url: str) -> Iterator[object]:
    tab = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield tab
    tab.close()


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_export_csv_downloads_the_ranked_table(page, app_url: str, tmp_path: Path) -> None:
    page.goto(f"{app_url}/export?region=group:Sahel")
    page.get_by_role("button", name="Prepare the files").wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert "Sahel (Group)" in page.inner_text("[data-testid='stMain']")
    formats = page.locator("[data-testid='stMultiSelect']").filter(has_text="Formats")
    for label in ("Excel workbook", "PDF briefing pack", "PowerPoint slides"):
        formats.get_by_role("button", name=f"Remove {label}").click()
        settle(page, LOAD_MS)
    chosen = formats.locator("[data-tag]").all_inner_texts()
    assert chosen == ["CSV table", "JSON snapshot"]

    page.get_by_role("button", name="Prepare the files").click()
    downloads = page.locator("[data-testid='stDownloadButton']")
    downloads.get_by_role("button", name="Download everything").wait_for(timeout=PREPARE_MS)
    settle(page, LOAD_MS)
    labels = [text.splitlines()[-1] for text in downloads.all_inner_texts()]  # after the icon
    assert [label.split(" (")[0] for label in labels] == [
        "CSV table", "Prevention-gap list", "JSON snapshot", "Download everything"
    ]  # fmt: skip
    screenshot(page, "export_prepared.png")

    with page.expect_download(timeout=LOAD_MS) as download:
        downloads.get_by_role("button", name="CSV table").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "article99_sahel-group-all-organised-violence_2020-12.csv"
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert "Risk" in rows[0]
    assert rows[1][rows[0].index("Country")] == "Nigeria"
    assert len(rows) == 11  # the header and the ten Sahel countries
    settle(page, LOAD_MS)
    assert downloads.count() == 4  # the download did not rebuild or drop the files
    _no_exception(page)


def test_briefing_shows_slides_with_charts(page, app_url: str) -> None:
    page.goto(f"{app_url}/briefing?region=group:Sahel")
    page.get_by_role("heading", name="Risk briefing: Sahel (Group)", level=1).wait_for(
        timeout=LOAD_MS
    )
    settle(page, LOAD_MS)
    page.wait_for_selector(f"{CHART_SVG} path.choroplethlocation", state="attached")
    page.get_by_text("Slide 1 of 12", exact=True).wait_for()

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Nigeria", level=1).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    page.wait_for_selector(CHART_SVG, state="attached", timeout=LOAD_MS)
    chart = page.locator("[data-testid='stPlotlyChart']")
    assert chart.count() == 1
    assert "Nigeria: deaths per month" in chart.locator(".gtitle").text_content()
    assert chart.locator(".main-svg .scatterlayer .trace").count() > 0  # lines drawn
    assert re.search(r"\b(9\d|100)% risk\b", page.inner_text("[data-testid='stMain']"))
    assert parse_qs(urlparse(page.url).query) == {"region": ["group:Sahel"], "slide": ["2"]}
    screenshot(page, "briefing_nigeria.png")

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Mali", level=1).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    page.get_by_text("Slide 3 of 12", exact=True).wait_for()
    assert parse_qs(urlparse(page.url).query)["slide"] == ["3"]
    _no_exception(page)


def test_briefing_link_reopens_the_slide_and_fills_the_screen(page, app_url: str) -> None:
    page.goto(f"{app_url}/briefing?region=group:Sahel&slide=3")
    page.get_by_role("heading", name="Mali", level=1).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    page.wait_for_selector(CHART_SVG, state="attached", timeout=LOAD_MS)
    assert page.locator(SIDEBAR).is_visible()

    page.get_by_text("Fill the screen", exact=True).click()
    page.wait_for_selector(SIDEBAR, state="hidden", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    page.get_by_role("heading", name="Mali", level=1).wait_for()
    screenshot(page, "briefing_full_screen.png")

    # PageUp is the Previous button's shortcut (a presenter's clicker sends it); a shortcut
    # is ignored while a form control such as the toggle has the focus.
    page.get_by_role("heading", name="Mali", level=1).click()
    page.keyboard.press("PageUp")
    page.get_by_role("heading", name="Nigeria", level=1).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert not page.locator(SIDEBAR).is_visible()  # the layout stays through the slides

    page.get_by_text("Fill the screen", exact=True).click()
    page.wait_for_selector(SIDEBAR, state="visible", timeout=LOAD_MS)
    _no_exception(page)
