"""Export speed: a 10-country PDF pack, the Excel workbook, every format for one region.

    PYTHONPATH=. .venv/bin/python bench/bench_exports.py [--store DIR] [--region group:Sahel]

The store defaults to the global GED 21.1 file from ../shared/data imported once under
bench/out; the forecast is computed beforehand (it is kept in the store, as in daily use), so
the figures are the export's own cost: building the snapshot from the stored forecast, drawing
the charts in Chromium (kaleido) and writing each file. Each step runs in a fresh process-wide
state except the browser, which kaleido keeps once started; the first PDF therefore includes
the browser's start. Figures are printed, never asserted.
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
from exports import bundle, images, pdf, tabular  # noqa: E402
from exports.snapshot import build_snapshot  # noqa: E402
from risk.forecast import risk_forecast  # noqa: E402
from risk.selection import Selection  # noqa: E402

OUT = REPO / "bench" / "out"
SHARED = Path(os.environ.get("ARTICLE99_SHARED_DATA", REPO.parent / "shared" / "data"))
GLOBAL_GED = SHARED / "ucdp_ged_v21_1_global_precise_reduced.csv.gz"
TARGETS = {"PDF pack, 10 countries": 15.0, "Excel workbook": 2.0, "all formats, one region": 30.0}


def default_store() -> Path:
    store = OUT / "exports_store_ged211"
    if not (store / "manifest.json").exists():
        loaders.import_file(GLOBAL_GED, data_dir=store)
    return store


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="a store (default: GED 21.1 under bench/out)")
    parser.add_argument("--region", default="group:Sahel", help="a region with ≥ 10 countries")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = args.store or default_store()
    started = time.perf_counter()
    risk_forecast(store)
    print(f"forecast ready in {time.perf_counter() - started:.1f} s ({store.name})")
    selection = Selection(regions=(args.region,))

    def pdf_pack() -> None:
        snapshot = build_snapshot(store, selection)
        top = list(snapshot.ranked["iso3"][:10])
        pngs = images.render_all(images.snapshot_figures(snapshot, top), "png")
        pdf.briefing_pdf(snapshot, images=pngs, max_countries=10)

    def workbook() -> None:
        tabular.to_xlsx(build_snapshot(store, selection))

    sizes: dict[str, int] = {}

    def everything() -> None:
        files = bundle.export_files(build_snapshot(store, selection), bundle.FORMATS)
        sizes.update({name: len(data) for name, data in files.items()})

    results = {
        "PDF pack, 10 countries": [timed(pdf_pack) for _ in range(args.repeat)],
        "Excel workbook": [timed(workbook) for _ in range(args.repeat)],
        "all formats, one region": [timed(everything) for _ in range(args.repeat)],
    }
    print(f"\nExports of {selection.describe()}, {args.repeat} runs (first includes the browser)")
    print(f"{'step':<26}{'first':>8}{'median':>9}{'target':>9}  result")
    for step, times in results.items():
        median = statistics.median(times)
        verdict = "PASS" if median <= TARGETS[step] else "MISS"
        print(f"{step:<26}{times[0]:>7.2f}s{median:>8.2f}s{TARGETS[step]:>8.1f}s  {verdict}")
    charts = [n for n in sizes if n.startswith("charts/")]
    print(
        f"\n{len(sizes)} files, {sum(sizes.values()) / 2**20:.1f} MiB "
        f"({len(charts)} chart images); largest: "
        + ", ".join(
            f"{n} {s / 2**20:.1f} MiB" for n, s in sorted(sizes.items(), key=lambda x: -x[1])[:3]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
