"""Compare and trends in a real browser at a presenter's 1440×900, on the global GED 21.1 store.

A link to a region opens its member countries as small multiples, one panel each, the one
member left out named; the log scale is a click away and goes into the link; no text of the
page says "None" or "nan", and no text of a figure overlaps another or leaves the figure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, settle

LOAD_MS = 180_000  # a cold server forecasts every country before it draws any page
SAHEL_PANELS = [
    "Nigeria", "Mali", "Cameroon", "Burkina Faso", "Niger", "Chad", "Guinea", "Senegal",
    "Mauritania",
]  # fmt: skip
# Every text element of each plotly figure: one outside its figure, or two whose boxes cross.
TEXT_CLASHES = """() => {
  const clashes = [];
  document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
    const frame = plot.querySelector('svg.main-svg').getBoundingClientRect();
    const boxes = [...plot.querySelectorAll('text')]
      .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
      .map(t => [t, t.getBoundingClientRect()]);
    for (const [t, r] of boxes) {
      if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1
          || r.bottom > frame.bottom + 1) clashes.push(`${i}: outside: ${t.textContent}`);
    }
    for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
      const [ta, ra] = boxes[a], [tb, rb] = boxes[b];
      if (ta.contains(tb) || tb.contains(ta)) continue;
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 1 && y > 1) clashes.push(`${i}: ${ta.textContent} / ${tb.textContent}`);
    }
  });
  return clashes;
}"""


@pytest.fixture
def page(browser) -> Iterator[object]:
    tab = browser.new_page(viewport={"width": 1440, "height": 900})
    yield tab
    tab.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Compare and trends", exact=True).first.wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=LOAD_MS)


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_a_region_as_small_multiples_and_on_a_log_scale(page, app_url: str) -> None:
    _open(page, f"{app_url}/compare?region=group:Sahel&view=Small+multiples")
    figure = page.locator("[data-testid='stPlotlyChart']").locator("visible=true").first
    titles = figure.locator(".annotation-text").all_text_contents()
    assert titles == SAHEL_PANELS
    assert "Also in Sahel (Group), not drawn (deaths Jan 2011 – Dec 2020): Gambia 1." in (
        _main_text(page)
    )
    assert "Shown: Jan 2011 – Dec 2020, the last 10 years of the data" in _main_text(page)
    screenshot(page, "compare_sahel_multiples.png")

    page.get_by_text("Log", exact=True).click()
    page.wait_for_url("**scale=Log**", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    # The first panel's y axis, labelled with the deaths each tick stands for, 0 included;
    # plotly redraws a moment after the run has settled: retried until then.
    ticks = figure.locator(".subplot.xy .ytick text")
    expect(ticks).to_have_text(["0", "10", "100", "1,000", "10,000"], timeout=30_000)
    text = _main_text(page)
    assert not [word for word in ("None", "nan", "NaN") if f" {word} " in f" {text} "]
    assert page.evaluate(TEXT_CLASHES) == []
    screenshot(page, "compare_sahel_multiples_log.png")


def test_the_default_view_fits_and_says_its_period(page, app_url: str) -> None:
    _open(page, f"{app_url}/compare")
    text = _main_text(page)
    assert (
        "All deaths per month, Jan 2011 – Dec 2020" in page.locator(".gtitle").first.text_content()
    )
    assert "the last 10 years of the data" in text
    assert "None" not in text.split() and "nan" not in text.split()
    assert page.evaluate(TEXT_CLASHES) == []
    screenshot(page, "compare_default.png")
