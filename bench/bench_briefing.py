"""Briefing slide changes in a real browser: from PageDown (or Next) to the next slide on screen.

    PYTHONPATH=. .venv/bin/python bench/bench_briefing.py [--store DIR] [--region group:Sahel]

The store defaults to the global GED 21.1 file from ../shared/data imported once under
bench/out; its forecast is computed beforehand (kept in the store, as in daily use), so no page
view trains. One `streamlit run app.py` and one headless Chromium page at 1440 × 900 open the
briefing on slide 1; the presenter then goes forward through the deck (each slide seen for the
first time since the server started) and back again (seen before). Each change is timed from
the key press until the page shows "Slide k of n" and the slide's title (the words of
`exports.slides.briefing_slides()` for the same snapshot), Streamlit's run has ended, and the
slide's chart is drawn. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import loaders  # noqa: E402
from exports.slides import briefing_slides  # noqa: E402
from exports.snapshot import build_snapshot  # noqa: E402
from risk.forecast import risk_forecast  # noqa: E402
from risk.selection import Selection  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, settle, start_app  # noqa: E402

OUT = REPO / "bench" / "out"
SHARED = Path(os.environ.get("ARTICLE99_SHARED_DATA", REPO.parent / "shared" / "data"))
GLOBAL_GED = SHARED / "ucdp_ged_v21_1_global_precise_reduced.csv.gz"
TARGET = 0.6  # seconds per slide change, from issue 15
# The slide is on screen: its position, its title, no stale element, and its chart (if any)
# drawn with the slide's own title in it.
SHOWN = """([position, title, chart]) => {
    const texts = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')];
    if (!texts.some(e => e.innerText.trim() === position)) return false;
    const heading = document.querySelector('[data-testid="stHeading"] h1');
    if (!heading || heading.innerText.trim() !== title) return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    if (!chart) return true;
    const drawn = [...document.querySelectorAll('.js-plotly-plot .gtitle')];
    return drawn.some(e => e.textContent.includes(chart));
}"""


def default_store() -> Path:
    store = OUT / "briefing_store_ged211"
    if not (store / "manifest.json").exists():
        loaders.import_file(GLOBAL_GED, data_dir=store)
    return store


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: with 20 values p95 is the 19th smallest."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def summary(name: str, times: list[float]) -> str:
    if not times:
        return f"{name:<28} no change timed"
    worst = max(times)
    verdict = "PASS" if worst <= TARGET else "MISS"
    return (
        f"{name:<28} n={len(times):>2}  p50 {statistics.median(times):.2f} s  "
        f"p95 {percentile(times, 0.95):.2f} s  max {worst:.2f} s  "
        f"(target ≤ {TARGET} s each: {verdict})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="a store (default: GED 21.1 under bench/out)")
    parser.add_argument("--region", help="a region filter, e.g. group:Sahel (default: none)")
    parser.add_argument("--changes", type=int, default=20, help="slide changes each way")
    parser.add_argument("--click", action="store_true", help="click Next, not PageDown")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds spent on each slide (default 0)"
    )
    args = parser.parse_args()
    store = args.store or default_store()
    started = time.perf_counter()
    risk_forecast(store, measure=None)  # every measure, as the pages read it
    print(f"forecast ready in {time.perf_counter() - started:.1f} s ({store})")
    selection = Selection(regions=(args.region,)) if args.region else Selection()
    deck = briefing_slides(build_snapshot(store, selection))
    charts = [
        slide.title if slide.kind == "country" else ("Risk" if slide.chart else "")
        for slide in deck
    ]
    changes = min(args.changes, len(deck) - 1)
    query = f"?region={args.region}&slide=1" if args.region else "?slide=1"
    print(f"deck of {len(deck)} slides; {changes} changes forward, then back; load {load()}")

    from playwright.sync_api import sync_playwright

    process, url = start_app(store)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            opened = time.perf_counter()
            page.goto(f"{url}/briefing{query}")
            wait_for(page, deck, charts, 1, timeout=120_000)
            settle(page, timeout=120_000)
            print(f"first slide on screen {time.perf_counter() - opened:.2f} s after opening")
            forward = [
                change(page, deck, charts, number, args.click, "Next", "PageDown", args.pause)
                for number in range(2, changes + 2)
            ]
            back = [
                change(page, deck, charts, number, args.click, "Previous", "PageUp", args.pause)
                for number in range(changes, 0, -1)
            ]
            browser.close()
    finally:
        process.terminate()
        process.wait(10)
    print("each change forward:", " ".join(f"{t:.2f}" for t in forward))
    print("each change back:   ", " ".join(f"{t:.2f}" for t in back))
    print(summary("forward (first view)", forward))
    print(summary("back (seen before)", back))
    print(summary("all changes", forward + back))
    print(f"load average after: {load()}")
    return 0


def wait_for(page, deck, charts, number: int, timeout: float = 60_000) -> None:
    position = f"Slide {number} of {len(deck)}"
    page.wait_for_function(
        SHOWN, arg=[position, deck[number - 1].title, charts[number - 1]], timeout=timeout
    )


def change(
    page, deck, charts, number: int, click: bool, label: str, key: str, pause: float
) -> float:
    """Time one slide change to slide `number`, by the button or its keyboard shortcut,
    `pause` seconds after the previous slide settled (the presenter speaking to it)."""
    time.sleep(pause)
    started = time.perf_counter()
    if click:
        page.get_by_role("button", name=label).click()
    else:
        page.keyboard.press(key)
    wait_for(page, deck, charts, number)
    settle(page, timeout=60_000)
    return time.perf_counter() - started


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
