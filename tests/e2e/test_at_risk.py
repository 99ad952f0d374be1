"""The landing page in a real browser with the global GED 21.1 store, with no network at all.

The map (Vega-Lite, SVG renderer) must draw country shapes from the topojson inside its spec,
a link or the sidebar must narrow the table and the map to a region, and selecting a row or a
country on the map must open its profile with the filters kept in the URL. The data grid is a
canvas; its cells are read from the accessible table the grid keeps inside it. Each map shape
carries an aria-label that starts with the country's name, which is how a test finds one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from exports import vega
from loaders import countries
from tests.e2e.conftest import MAP_SHAPES, screenshot, settle

SAHEL = {
    "Burkina Faso", "Cameroon", "Chad", "Gambia", "Guinea",
    "Mali", "Mauritania", "Niger", "Nigeria", "Senegal",
}  # fmt: skip
LOAD_MS = 180_000  # a cold server forecasts every country before it draws the page
RISK_TABLE = "[data-testid='stDataFrame']"
SHAPES = MAP_SHAPES


@pytest.fixture
def page(browser, app_url: str) -> Iterator[object]:
    """A tab that records every request leaving the machine (there must be none for the map)."""
    tab = browser.new_page(viewport={"width": 1400, "height": 2400})
    tab.external = []
    tab.on(
        "request",
        lambda request: None if "127.0.0.1" in request.url else tab.external.append(request.url),
    )
    yield tab
    tab.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Ranked by risk", exact=True).wait_for(timeout=LOAD_MS)
    _settled(page)


def _settled(page) -> None:
    settle(page, LOAD_MS)
    page.wait_for_selector(f"{RISK_TABLE} [data-testid='glide-cell-2-0']", state="attached")
    page.wait_for_selector(SHAPES, state="attached")


def _countries(page) -> list[str]:
    """The Country column of the ranked table (column 2 of the grid's accessible table)."""
    cells = page.locator(RISK_TABLE).first.locator("[data-testid^='glide-cell-2-']")
    # The grid fills its accessible cells a moment after the run settles, and for a moment
    # may still hold a cell of the previous draw (CI once read "0"): poll for names, bounded.
    texts: list[str] = []
    for _ in range(100):
        texts = cells.all_inner_texts()
        if texts and all(t and not t.replace(",", "").isdigit() for t in texts):
            break
        page.wait_for_timeout(200)
    return texts


def test_world_map_draws_offline_with_headline_numbers(page, app_url: str) -> None:
    _open(page, app_url)
    # Every reference country with an outline at 110m is drawn and coloured (the smallest
    # states, e.g. Andorra, have none at this scale); the rest of the land is grey.
    outlined = set(countries.reference()["iso3"]) & vega.outlined()
    assert page.locator(SHAPES).count() == len(outlined) > 160
    assert page.locator("[data-testid='stVegaLiteChart'] g.mark-shape path").count() > 170
    fills = page.eval_on_selector_all(SHAPES, "paths => paths.map(p => p.getAttribute('fill'))")
    assert len(set(fills)) > 20  # coloured by risk, not one flat colour
    afghanistan = page.locator(f"{SHAPES}[aria-label^='Afghanistan.']")
    label = afghanistan.get_attribute("aria-label")
    assert re.match(r"Afghanistan\. Risk (99|100)%\. Deaths, 3 months \(median\): [\d,]+ ", label)
    assert not [u for u in page.external if "topojson" in u or "plot.ly" in u]
    metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert 10 <= int(metrics[0]) <= 25  # countries with risk ≥ 50% in Jan–Mar 2021
    assert "," in metrics[2]  # expected deaths: thousands
    assert _countries(page)[0] == "Afghanistan"
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "at_risk_world.png")


def test_link_with_a_region_shows_only_its_countries(page, app_url: str) -> None:
    _open(page, f"{app_url}/?region=group:Sahel")
    assert set(_countries(page)) == SAHEL
    assert page.locator(SHAPES).count() == len(SAHEL)
    assert "Sahel (Group)" in page.inner_text("[data-testid='stSidebar']")
    # The UN's presence beside the risk (the grid's column 3), and the prevention-gap list.
    presence = page.locator(RISK_TABLE).first.locator("[data-testid^='glide-cell-3-']")
    assert "UNOWAS (regional)" in presence.all_inner_texts()
    main = page.inner_text("[data-testid='stMain']")
    assert "Prevention gap: high or rising risk, no UN field presence or envoy" in main
    screenshot(page, "at_risk_sahel.png")


def test_sidebar_region_filter_narrows_the_table_and_the_link(page, app_url: str) -> None:
    _open(page, app_url)
    regions = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']")
    regions.filter(has_text="Regions").locator("input").click()
    page.keyboard.type("Sahel")
    page.get_by_role("option", name="Sahel (Group)", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_url("**region=group%3ASahel*", timeout=LOAD_MS)
    # The map and the grid redraw one after the other: wait for both to show ten countries.
    page.wait_for_function(
        f"""() => document.querySelectorAll("{SHAPES}").length === {len(SAHEL)}
            && document.querySelector("{RISK_TABLE} table[role='grid']")
                .getAttribute('aria-rowcount') === '{len(SAHEL) + 1}'""",
        timeout=LOAD_MS,
    )
    _settled(page)
    assert parse_qs(urlparse(page.url).query) == {"region": ["group:Sahel"]}
    assert set(_countries(page)) == SAHEL


def test_selecting_a_row_opens_the_profile(page, app_url: str) -> None:
    _open(page, f"{app_url}/?region=group:Sahel")
    assert _countries(page)[1] == "Mali"  # polled: the grid fills its cells after the run
    box = page.locator(RISK_TABLE).first.bounding_box()
    # The row-selection checkbox is the grid's first, narrow column; rows are 35 px high.
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 + 17)
    page.wait_for_url("**/country?*", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    url = urlparse(page.url)
    assert url.path == "/country"
    assert parse_qs(url.query) == {"iso3": ["MLI"], "region": ["group:Sahel"]}
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "at_risk_to_profile.png")


def test_clicking_a_country_on_the_map_opens_its_profile(page, app_url: str) -> None:
    _open(page, f"{app_url}/?region=group:Sahel")
    niger = page.locator(f"{SHAPES}[aria-label^='Niger.']").bounding_box()
    page.mouse.move(niger["x"] + niger["width"] / 2, niger["y"] + niger["height"] / 2)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible")
    assert "Niger" in tooltip.inner_text() and "Deaths, 3 months (median)" in tooltip.inner_text()
    page.mouse.click(niger["x"] + niger["width"] / 2, niger["y"] + niger["height"] / 2)
    page.wait_for_url("**/country?*", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert parse_qs(urlparse(page.url).query) == {"iso3": ["NER"], "region": ["group:Sahel"]}
    assert page.locator("[data-testid='stException']").count() == 0


def test_profile_link_and_its_sections(page, app_url: str) -> None:
    """The link under the table opens the chosen country; a section tab draws its content
    only when chosen, writes itself to the URL, and that URL reopens it."""
    _open(page, f"{app_url}/?region=group:Sahel")
    page.get_by_label("Open a country profile").click()
    page.keyboard.type("Mali")
    page.get_by_role("option", name="Mali", exact=True).click()
    settle(page, LOAD_MS)
    page.get_by_role("link", name="Open profile").click()
    page.wait_for_url("**/country?*", timeout=LOAD_MS)
    page.get_by_role("heading", name="Mali", exact=True).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert parse_qs(urlparse(page.url).query) == {"iso3": ["MLI"], "region": ["group:Sahel"]}
    charts = "[data-testid='stVegaLiteChart']"
    # The hotspot map's event circles (marks, not legend symbols): the page's second chart.
    events = page.locator(charts).nth(1).locator("g.mark-symbol.role-mark path")
    assert page.get_by_role("tab", name="Signals").get_attribute("aria-selected") == "true"
    assert page.locator(charts).count() == 1  # the fan chart; the hotspot map is not drawn

    page.get_by_role("tab", name="Where").click()
    page.wait_for_url("**section=Where*", timeout=LOAD_MS)
    events.first.wait_for(state="attached", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    drawn = events.count()
    assert drawn > 0
    screenshot(page, "profile_where.png")

    page.goto(page.url)  # the link reproduces the view, tab included
    events.first.wait_for(state="attached", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert page.get_by_role("tab", name="Where").get_attribute("aria-selected") == "true"
    assert events.count() == drawn
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_link_with_a_measure_counts_it_on_every_line(page, app_url: str) -> None:
    """`?measure=one_sided`: the sidebar, the title, the map and its labels all say so."""
    _open(page, f"{app_url}/?measure=one_sided&region=group:Sahel")
    main = page.inner_text("[data-testid='stMain']")
    title = "Risk of ≥ 25 deaths from one-sided violence against civilians in at least one"
    assert title in main
    assert parse_qs(urlparse(page.url).query)["measure"] == ["one_sided"]
    assert "deaths from one-sided violence against civilians, Jan–Mar 2021" in main
    mali = page.locator(f"{SHAPES}[aria-label^='Mali.']").get_attribute("aria-label")
    assert "Deaths, 3 months (median)" in mali
    screenshot(page, "at_risk_one_sided.png")
