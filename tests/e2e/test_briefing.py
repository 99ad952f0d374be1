"""The briefing page in a real browser, as a presenter sees it at 1440 × 900.

PageDown and PageUp must change the slide (a fragment rerun: the sidebar stays as it is), the
URL must follow, and no slide's text may be cut: every heading and line of the slide wraps
inside its box (`scrollWidth` ≤ `clientWidth`), and no "None" or "nan" is shown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import screenshot, settle
from tests.e2e.visual import problems

LOAD_MS = 180_000
SLIDE_TITLE = "[data-testid='stMain'] h1"  # the slide's title, the page's only h1
# Text boxes of the slide and its controls that must hold their text (none cut at the right).
TEXT = (
    "[data-testid='stHeading'] h1, [data-testid='stHeading'] h2, [data-testid='stHeading'] h3,"
    " [data-testid='stMarkdownContainer'] p, [data-testid='stMarkdownContainer'] li,"
    " [data-testid='stCaptionContainer']"
)
OVERFLOWING = f"""() => [...document.querySelectorAll("{TEXT}")]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText.slice(0, 80))"""


@pytest.fixture
def page(browser, app_url: str) -> Iterator[object]:
    tab = browser.new_page(viewport={"width": 1440, "height": 900})
    yield tab
    tab.close()


def _on_slide(page, number: int, count: int) -> None:
    page.get_by_text(f"Slide {number} of {count}", exact=True).wait_for(timeout=60_000)
    settle(page, 60_000)


def _check_text(page) -> None:
    assert page.evaluate(OVERFLOWING) == []
    shown = page.locator("[data-testid='stMain']").inner_text()
    for word in ("None", "nan", "NaN"):
        assert f" {word} " not in f" {shown} ".replace("\n", " "), word


def test_page_keys_change_the_slide_and_no_text_is_cut(page, app_url: str) -> None:
    page.goto(f"{app_url}/briefing?region=group:Sahel")
    page.get_by_text("Slide 1 of 12", exact=True).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert page.locator(SLIDE_TITLE).inner_text().startswith("Risk briefing: Sahel")
    _check_text(page)
    screenshot(page, "briefing_sahel_1.png")

    page.keyboard.press("PageDown")
    _on_slide(page, 2, 12)
    assert page.locator(SLIDE_TITLE).inner_text() == "Nigeria"
    assert "slide=2" in page.url
    page.wait_for_selector(".js-plotly-plot .gtitle", timeout=60_000)
    assert "Nigeria" in page.locator(".js-plotly-plot .gtitle").first.text_content()
    _check_text(page)
    screenshot(page, "briefing_sahel_2.png")

    page.keyboard.press("PageDown")
    _on_slide(page, 3, 12)
    assert page.locator(SLIDE_TITLE).inner_text() == "Mali"
    page.keyboard.press("PageUp")
    _on_slide(page, 2, 12)
    assert page.locator(SLIDE_TITLE).inner_text() == "Nigeria"


def test_the_chart_source_line_is_not_cut(page, app_url: str) -> None:
    """The subtitle (the source line) wraps inside the chart, below its title, above the
    "data to …" label: their boxes do not overlap and none runs past the chart's right edge."""
    page.goto(f"{app_url}/briefing?region=group:Sahel&slide=2")
    page.wait_for_selector(".js-plotly-plot .gtitle", timeout=LOAD_MS)
    settle(page, LOAD_MS)
    boxes = page.evaluate(
        """() => {
        const plot = document.querySelector('.js-plotly-plot');
        const box = e => { const r = e.getBoundingClientRect();
            return [r.left, r.top, r.right, r.bottom]; };
        const label = [...plot.querySelectorAll('.annotation-text')]
            .find(e => e.textContent.startsWith('data to'));
        return {
            plot: box(plot.querySelector('.main-svg')),
            title: box(plot.querySelector('.gtitle')),
            subtitle: [...plot.querySelectorAll('.gtitle-subtitle')].map(box),
            label: box(label),
        };
    }"""
    )
    assert boxes["subtitle"], "the chart has no source line"
    texts = [boxes["title"], *boxes["subtitle"], boxes["label"]]
    assert max(right for _, _, right, _ in texts) <= boxes["plot"][2] + 1
    subtitle_bottom = max(bottom for *_, bottom in boxes["subtitle"])
    assert subtitle_bottom <= boxes["label"][1] + 1  # the label starts below the source line


def test_the_prevention_gap_slide_is_readable(page, app_url: str) -> None:
    """After the ten country slides: the Sahel's prevention gap, nothing cut or missing."""
    page.goto(f"{app_url}/briefing?region=group:Sahel&slide=12")
    page.get_by_text("Slide 12 of 12", exact=True).wait_for(timeout=LOAD_MS)
    settle(page, LOAD_MS)
    assert page.locator(SLIDE_TITLE).inner_text() == "Prevention gap: 3 countries"
    shown = page.locator("[data-testid='stMain']").inner_text()
    assert "Nigeria: " in shown and "% risk · median " in shown
    assert "Reference tables: Regional organisations: memberships.csv" in shown
    _check_text(page)
    assert problems(page) == []
    screenshot(page, "briefing_sahel_gap.png")
