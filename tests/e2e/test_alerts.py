"""The Alerts page in a real browser: a watchlist and a rule added through the forms, the rules
evaluated, the alerts listed with their evidence, one acknowledged."""

from __future__ import annotations

from pathlib import Path

from exports.alerts.db import AlertsDB
from tests.e2e.conftest import screenshot, settle, start_app

LOAD_MS = 120_000
MAIN = "[data-testid='stMain']"


def test_an_analyst_sets_up_a_watchlist_and_acknowledges_an_alert(
    browser, forecast_store: Path
) -> None:
    process, url = start_app(forecast_store)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/alerts")
        page.get_by_text("No alerts yet").wait_for(timeout=LOAD_MS)
        settle(page, LOAD_MS)

        form = page.locator("[data-testid='stForm']").filter(has_text="Add watchlist")
        form.get_by_label("Name").fill("Sahel watch")
        form.locator("[data-testid='stMultiSelect']").filter(has_text="Regions").click()
        page.keyboard.type("Sahel (Group)")
        page.get_by_role("option", name="Sahel (Group)", exact=True).click()
        page.keyboard.press("Escape")
        form.get_by_role("button", name="Add watchlist").click()
        page.get_by_text("Added Sahel watch.").wait_for(timeout=LOAD_MS)
        settle(page, LOAD_MS)

        watchlist = page.locator("[data-testid='stExpander'] summary")
        assert watchlist.inner_text().endswith(
            "Sahel watch · Sahel (Group) · all organised violence"
        )
        watchlist.click()
        threshold = page.get_by_label("Threshold", exact=True).and_(page.locator("input"))
        threshold.fill("60")  # committed when the button takes the focus
        page.get_by_role("button", name="Add rule").click()
        page.get_by_text("Added the rule risk ≥ 60% to Sahel watch.").wait_for(timeout=LOAD_MS)
        settle(page, LOAD_MS)

        page.get_by_role("button", name="Evaluate now").click()
        page.get_by_text("watchlist Sahel watch: new alerts 4").wait_for(timeout=LOAD_MS)
        settle(page, LOAD_MS)
        main = page.inner_text(MAIN)
        assert "(rule: risk ≥ 60%)" in main
        assert "UCDP GED 21.1 (events to 2020-12" in main
        assert page.locator("[data-testid='stException']").count() == 0

        page.get_by_label("Your name", exact=True).and_(page.locator("input")).fill("A. Analyst")
        page.get_by_role("button", name="Acknowledge").click()
        page.get_by_text("Acknowledged 1 alert.").wait_for(timeout=LOAD_MS)
        settle(page, LOAD_MS)
        screenshot(page, "alerts.png")
        page.close()
    finally:
        process.terminate()
        process.wait(10)
    raised = AlertsDB(forecast_store).alerts()
    assert [a.acknowledged_by for a in raised].count("A. Analyst") == 1
