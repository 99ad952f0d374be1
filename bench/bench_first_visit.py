"""The first visitor after an import: from `streamlit run` to the rendered risk table.

    PYTHONPATH=. .venv/bin/python bench/bench_first_visit.py [--wait-fresh 600]

1. Imports the global GED 21.1 file into a fresh store with `python -m loaders import`, which
   ends by computing the forecast: the import and the forecast step are timed apart (the
   forecast from the CLI's "Imported …" line to its exit).
2. Starts `streamlit run app.py` on a free loopback port with `ARTICLE99_DATA_DIR` set and
   opens the landing page in Debian's headless Chromium: time from the server's start to its
   health check, and to the risk table on screen with Streamlit's run finished.
3. Stale cache: imports GED 24.1 Myanmar with `--no-forecast`, starts a fresh server and opens
   the page again: the previous forecast must show at once, labelled as such, while the new one
   is computed in the background; then waits (up to `--wait-fresh` s) for the label to go.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from tests.conftest import GLOBAL_GED, shared_data_dir  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, settle, start_app  # noqa: E402

OUT = REPO / "bench" / "out"
SECOND = "ucdp_ged_v24_1_myanmar.csv.gz"
TABLE = "[data-testid='stDataFrame']"
PREVIOUS = "Showing the forecast made for the previous data"
TARGET_S = 12.0


def cli_import(path: Path, store: Path, *extra: str) -> tuple[float, float, str]:
    """`python -m loaders import`: seconds to the "Imported" line, seconds after it, output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "loaders", "--data-dir", str(store), "import", str(path), *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    imported, lines = None, []
    for line in process.stdout:
        lines.append(line.rstrip())
        if imported is None and line.startswith("Imported"):
            imported = time.perf_counter() - started
    if process.wait() != 0 or imported is None:
        raise RuntimeError("the import failed:\n" + "\n".join(lines))
    return imported, time.perf_counter() - started - imported, "\n".join(lines)


def first_visit(browser, store: Path) -> dict:
    """A fresh server, one visitor: seconds from the server's start to health and to the table."""
    started = time.perf_counter()
    process, url = start_app(store)
    healthy = time.perf_counter() - started
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.goto(url)
        page.wait_for_selector(TABLE, timeout=600_000)
        settle(page, timeout=600_000)
        rendered = time.perf_counter() - started
        text = page.inner_text("body")
        label = next((line for line in text.splitlines() if PREVIOUS in line), "")
        return {
            "healthy": healthy,
            "table": rendered,
            "label": label,
            "page": page,
            "proc": process,
        }
    except Exception:
        page.close()
        process.terminate()
        raise


def wait_for_fresh(page, seconds: float) -> float | None:
    """Seconds until the previous forecast's label is gone (the page reruns by itself)."""
    from playwright.sync_api import TimeoutError as Timeout

    started = time.perf_counter()
    try:
        page.wait_for_function(
            f"() => !document.body.innerText.includes({PREVIOUS!r})", timeout=seconds * 1000
        )
        page.wait_for_selector(TABLE, timeout=60_000)
    except Timeout:  # a figure here, not a failure
        return None
    return time.perf_counter() - started


def close(visit: dict) -> None:
    visit["page"].close()
    visit["proc"].terminate()
    visit["proc"].wait(10)


def load() -> str:
    """The machine's load average over the last minute, against its cores."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wait-fresh", type=float, default=600, help="seconds (0: skip)")
    args = parser.parse_args()
    data = shared_data_dir()
    store = OUT / "first_visit_store"
    shutil.rmtree(store, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)

    print(f"Importing {GLOBAL_GED} into a fresh store ({load()})…", flush=True)
    imported, forecast, output = cli_import(data / GLOBAL_GED, store)
    print(output)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"First visit ({load()})…", flush=True)
        fresh = first_visit(browser, store)
        close(fresh)

        print(f"Importing {SECOND} with --no-forecast ({load()})…", flush=True)
        second, _, output = cli_import(data / SECOND, store, "--no-forecast")
        print(output)
        print(f"First visit with a stale cache ({load()})…", flush=True)
        stale = first_visit(browser, store)
        replaced = wait_for_fresh(stale["page"], args.wait_fresh) if args.wait_fresh else None
        close(stale)
        browser.close()

    verdict = "PASS" if fresh["table"] <= TARGET_S else "MISS"
    print(f"\nFirst visit after an import, headless Chromium ({load()} at the end)")
    print(f"{'import of GED 21.1 (CLI, to its Imported line)':<58}{imported:>8.1f} s")
    print(f"{'forecast step after it (CLI)':<58}{forecast:>8.1f} s")
    print(f"{'server start to health':<58}{fresh['healthy']:>8.1f} s")
    print(
        f"{'server start to the rendered risk table':<58}{fresh['table']:>8.1f} s"
        f"  target {TARGET_S:.0f} s  {verdict}"
    )
    print(f"{'import of GED 24.1 Myanmar, --no-forecast':<58}{second:>8.1f} s")
    print(f"{'stale cache: server start to the rendered risk table':<58}{stale['table']:>8.1f} s")
    print(f"{'stale cache: the label':<58}{'shown' if stale['label'] else 'MISSING'}")
    if stale["label"]:
        print(f"    {stale['label']}")
    if args.wait_fresh:
        waited = (
            f"{replaced:>8.1f} s"
            if replaced is not None
            else f"  not within {args.wait_fresh:.0f} s"
        )
        print(f"{'stale cache: new forecast shown (label gone) after':<58}{waited}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
