"""Static charts (PNG and SVG) of a snapshot, drawn by kaleido in Debian's Chromium, offline.

kaleido's page would load MathJax from a CDN and plotly's maps their outlines: both are
turned off or pointed at the app's own topojson, so an export on a machine without internet
draws the same map as the page. One browser is started per process and reused (≈ 0.2 s an
image afterwards, ≈ 2 s for the first).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from exports import chart_specs, charts, country_charts
from exports.snapshot import Snapshot
from risk import profile
from risk.panel import country_month_panel

TOPOJSON_DIR = Path(__file__).resolve().parent.parent / "static" / "topojson"
FORMATS = ("png", "svg")
# The layout size: a slide's chart box (7.9 × 4.25 in) with the charts' 14 px text readable
# there; PNGs are drawn at twice the pixels so they stay sharp on a projector and in print.
WIDTH, HEIGHT = 1000, 540
PNG_SCALE = 2
NO_BROWSER = (
    "PNG and SVG export needs Chromium, and none was found: install Debian's `chromium` "
    "(./run.sh does) or set BROWSER_PATH to a Chrome or Chromium binary."
)
_lock = threading.Lock()


class ImageExportError(RuntimeError):
    """A chart could not be drawn (no browser, or the browser failed)."""


def _start() -> None:
    import kaleido
    from choreographer.errors import ChromeNotFoundError

    if kaleido._global_server.is_running():
        return
    try:
        kaleido.start_sync_server(n=1, timeout=90, mathjax=False, silence_warnings=True)
    except ChromeNotFoundError:
        raise ImageExportError(NO_BROWSER) from None


def render(
    figure: go.Figure,
    fmt: str = "png",
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    scale: float = 1,
) -> bytes:
    """One figure as PNG or SVG bytes; `scale` > 1 gives sharper PNGs at the same layout."""
    import kaleido
    from choreographer.errors import BrowserFailedError, ChromeNotFoundError
    from kaleido.errors import KaleidoError

    if fmt not in FORMATS:
        raise ValueError(f"image format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with _lock:  # the sync server is a process-wide singleton
        _start()
        try:
            data = kaleido.calc_fig_sync(
                figure,
                opts={"format": fmt, "width": width, "height": height, "scale": scale},
                topojson=TOPOJSON_DIR.as_uri() + "/",
            )
        except ChromeNotFoundError:
            raise ImageExportError(NO_BROWSER) from None
        except (BrowserFailedError, KaleidoError) as exc:
            title = figure.layout.title.text or "a chart"
            raise ImageExportError(f"Chromium failed while drawing {title}: {exc}") from None
    return data if isinstance(data, bytes) else bytes(data)


def risk_map(snapshot: Snapshot) -> go.Figure:
    """The snapshot's countries coloured by risk, zoomed to them unless it is the world."""
    zoom = bool(snapshot.selection.regions or snapshot.selection.countries)
    chart = chart_specs.risk_map(
        snapshot.countries, as_of=snapshot.as_of, measure=snapshot.measure, source=snapshot.footer
    )
    return charts.risk_choropleth(chart, zoom=zoom)


def country_fan(snapshot: Snapshot, iso3: str, panel: pd.DataFrame) -> go.Figure:
    """Monthly deaths of the snapshot's measure with its forecast fan, as on the profile."""
    row = snapshot.countries.set_index("iso3").loc[iso3]
    series = profile.fan_series(panel, snapshot.monthly, iso3, snapshot.as_of, snapshot.measure)
    chart = chart_specs.fan_chart(
        series,
        country=row["name"],
        as_of=snapshot.as_of,
        measure=snapshot.measure,
        source=snapshot.footer,
        reason=row["reason"] if isinstance(row["reason"], str) else "",
    )
    return country_charts.fan_chart(chart)


def snapshot_figures(snapshot: Snapshot, iso3s: list[str] | None = None) -> dict[str, go.Figure]:
    """The snapshot's charts by file stem: the risk map, then a fan chart per country.

    `iso3s` defaults to every ranked country of the snapshot.
    """
    figures = {"risk_map": risk_map(snapshot)}
    chosen = list(snapshot.ranked["iso3"]) if iso3s is None else iso3s
    if chosen:
        panel = country_month_panel(snapshot.data_dir)
        for iso3 in chosen:
            figures[f"forecast_{iso3}"] = country_fan(snapshot, iso3, panel)
    return figures


def render_all(figures: dict[str, go.Figure], fmt: str = "png") -> dict[str, bytes]:
    """Every figure in one format, keyed by file name (`risk_map.png`, …)."""
    scale = PNG_SCALE if fmt == "png" else 1
    return {f"{stem}.{fmt}": render(figure, fmt, scale=scale) for stem, figure in figures.items()}
