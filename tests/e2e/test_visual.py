"""Every page as a presenter would show it: 1440×900 and 1920×1080, light and dark theme, on
the GED store and on an empty one. No error box, no "None" or "nan", no text cut at the edge
of its box or chart (tests/e2e/visual.py says how each is measured).

Each page is opened once per store; the window size and the theme then change in place (the
theme follows the browser's, as for an analyst whose system is dark). Every view is saved
under tests/screenshots/visual/ (git-ignored; CI keeps it as an artefact), and a failure
lists every fault of every view at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOTS, settle, start_app
from tests.e2e.visual import problems

LOAD_MS = 240_000  # a cold server forecasts every country before it draws the landing page
PAGES = {
    "at_risk": "/",
    "at_risk_organisation": "/?region=org:ECOWAS&presence=Regional+office+only",
    "country": "/country?iso3=MLI",
    "country_where": "/country?iso3=MLI&section=Where",
    "country_who": "/country?iso3=MLI&section=Who",
    "country_latest": "/country?iso3=MLI&section=Latest+events",
    "country_quiet": "/country?iso3=CHE",
    "compare": "/compare",
    "compare_region": "/compare?region=group:Sahel",
    "briefing": "/briefing",
    "briefing_gap": "/briefing?region=group:Sahel&slide=12",
    "export": "/export",
    "skill": "/skill",
    "data": "/data",
    "methodology": "/methodology",
}
SIZES = ((1440, 900), (1920, 1080))
THEMES = ("light", "dark")
FOLDER = SCREENSHOTS / "visual"
# Charts draw a moment after Streamlit's run has ended: every chart's SVG must be there.
CHARTS_DRAWN = """() => [
  ...[...document.querySelectorAll("[data-testid='stPlotlyChart']")].map(
    (chart) => chart.querySelector(".main-svg")),
  ...[...document.querySelectorAll("[data-testid='stVegaLiteChart']")].map(
    (chart) => chart.querySelector("svg")),
].every(Boolean)"""


@pytest.fixture(scope="module")
def empty_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = start_app(tmp_path_factory.mktemp("empty") / "store")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _views(browser, url: str, store: str) -> list[str]:
    """Open every page once and look at it in every size and theme; the faults found."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    faults = []
    try:
        for name, path in PAGES.items():
            page.goto(url + path)
            page.wait_for_selector("[data-testid='stMain'] h1", timeout=LOAD_MS)
            settle(page, LOAD_MS)
            page.wait_for_function(CHARTS_DRAWN, timeout=LOAD_MS)
            for width, height in SIZES:
                for theme in THEMES:
                    page.set_viewport_size({"width": width, "height": height})
                    page.emulate_media(color_scheme=theme)
                    time.sleep(0.5)  # the layout and the charts follow the new width
                    view = f"{store}_{name}_{width}x{height}_{theme}"
                    page.screenshot(path=str(FOLDER / f"{view}.png"))
                    faults += [f"{view}: {fault}" for fault in problems(page)]
    finally:
        page.close()
    return faults


@pytest.mark.shared_data
def test_every_page_on_the_ged_store(browser, app_url: str) -> None:
    faults = _views(browser, app_url, "ged")
    assert not faults, "\n".join(faults)


def test_every_page_on_an_empty_store(browser, empty_url: str) -> None:
    faults = _views(browser, empty_url, "empty")
    assert not faults, "\n".join(faults)


def test_the_checks_find_what_they_look_for(browser, tmp_path: Path) -> None:
    """A page written to fail every check: each fault is found, and only those."""
    script = tmp_path / "faulty.py"
    script.write_text(
        "import streamlit as st\n"
        "st.metric('Risk', 'a value far too long for a metric column ' * 3)\n"
        "st.write('Expected deaths: None')\n"
        "st.columns(8)[0].selectbox('Violence', ['One-sided violence against civilians'])\n",
        encoding="utf-8",
    )
    process, url = start_app(tmp_path / "store", script=script)
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        page.wait_for_selector("[data-testid='stSelectbox'] input", timeout=60_000)
        settle(page)
        found = problems(page)
        page.close()
    finally:
        process.terminate()
        process.wait(10)
    assert "missing value written as 'None'" in found
    assert any(f.startswith("text cut: 'a value far too long") for f in found)
    assert any(f.startswith("text cut: 'One-sided violence") for f in found), found
