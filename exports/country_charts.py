"""Plotly figures of the country profile, for the briefing exports' static images.

The fan chart draws its definition in `exports.chart_specs` (the page draws the same one with
Vega-Lite); the hotspot map takes `risk.profile.map_events`. Okabe-Ito colours (readable with
every common colour-vision deficiency), 14 px text, thousands separators, human labels, a title
that says what and when, and the source line inside the figure, so a figure pasted into a
briefing still says where its numbers come from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from exports.chart_specs import (
    BAND_COLOURS,
    BAND_QUANTILES,
    NUMBER_FORMAT,
    VIOLENCE_COLOURS,
    VIOLENCE_LABELS,
    Entry,
    FanChart,
)
from exports.charts import FONT_SIZE, OKABE_ITO, PLOTLY_CONFIG, layout, plain

OTHER_COLOUR = "#999999"
MAP_CONFIG = PLOTLY_CONFIG  # offline outlines: pass to st.plotly_chart(config=...)


def _values(series: pd.Series) -> np.ndarray:
    """Floats with NaN for missing, which plotly draws as gaps."""
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def _dash(entry: Entry) -> str:
    return ",".join(f"{length}px" for length in entry.dash) if entry.dash else "solid"


def fan_chart(chart: FanChart) -> go.Figure:
    """The fan chart's definition as a plotly figure: the history lines (the total over its
    types), then the forecast's 90% and 50% bands and its median; a dotted line marks the as-of
    month. Without a forecast the subtitle says why before the source line."""
    fig = go.Figure()
    rank = {entry.label: position for position, entry in enumerate(chart.entries)}
    for entry in chart.drawn("history"):
        rows = chart.history[chart.history["line"] == entry.label]
        label = plain(entry.label)
        fig.add_trace(
            go.Scatter(
                x=rows["month"],
                y=rows["deaths"].to_numpy(),
                name=label,
                legendrank=rank[entry.label],
                mode="lines+markers",
                marker={"size": 5},
                line={"color": entry.colour, "width": 2, "dash": _dash(entry)},
                hovertemplate=f"{label}: %{{y:{NUMBER_FORMAT}}}<extra></extra>",
            )
        )
    if len(chart.forecast):
        _add_fan(fig, chart, rank)
    fig.add_shape(
        type="line",
        x0=chart.origin,
        x1=chart.origin,
        y0=0,
        y1=1,
        yref="paper",
        line={"color": OKABE_ITO["black"], "dash": "dot", "width": 1},
    )
    # Inside the plot, left of the line: above it, it ran into the subtitle.
    fig.add_annotation(
        x=chart.origin,
        y=1,
        yref="paper",
        text=chart.origin_label,
        showarrow=False,
        xanchor="right",
        yanchor="top",
        xshift=-4,
        bgcolor="rgba(255, 255, 255, 0.8)",
        font={"size": FONT_SIZE},
    )
    fig.update_xaxes(title_text=chart.x_title, tickformat="%b %Y")
    top = max(chart.y_at_least, *chart.history["deaths"].dropna(), *chart.forecast.get("q95", []))
    fig.update_yaxes(title_text=chart.y_title, tickformat=NUMBER_FORMAT, range=[0, top * 1.05])
    fig.update_layout(hovermode="x unified")
    subtitle = f"{chart.note}\n{chart.source}" if chart.note else chart.source
    return layout(fig, chart.title, subtitle)


def _add_fan(fig: go.Figure, chart: FanChart, rank: dict[str, int]) -> None:
    """The 90% band (q05–q95), the 50% band (q25–q75) over it, and the median on top."""
    x = chart.forecast["month"]
    for band, (low, high) in BAND_QUANTILES.items():
        fill = BAND_COLOURS[band]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=chart.forecast[low].to_numpy(),
                name=f"{band} (low)",
                mode="lines",
                line={"width": 0, "color": fill},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=chart.forecast[high].to_numpy(),
                name=band,
                legendrank=rank[band],
                mode="lines",
                line={"width": 0, "color": fill},
                fill="tonexty",
                fillcolor=fill,
                customdata=chart.forecast[low].to_numpy(),
                hovertemplate=f"{band}: %{{customdata:{NUMBER_FORMAT}}}–"
                f"%{{y:{NUMBER_FORMAT}}}<extra></extra>",
            )
        )
    (median,) = chart.drawn("median")
    fig.add_trace(
        go.Scatter(
            x=x,
            y=chart.forecast["q50"].to_numpy(),
            name=plain(median.label),
            legendrank=rank[median.label],
            mode="lines+markers",
            marker={"size": 5},
            line={"color": median.colour, "width": 2, "dash": _dash(median)},
            hovertemplate=f"Forecast median: %{{y:{NUMBER_FORMAT}}}<extra></extra>",
        )
    )


def _hover_text(events: pd.DataFrame) -> list[str]:
    """One hover label per event: date, admin1, deaths and the two sides."""
    lines = []
    for row in events.itertuples(index=False):
        sides = " – ".join(plain(s) for s in (row.side_a, row.side_b) if pd.notna(s))
        lines.append(
            f"{pd.Timestamp(row.date_start):%d %b %Y} · {plain(row.admin1)}<br>"
            f"{row.fatalities_best:,} deaths · {sides}"
        )
    return lines


def marker_sizes(deaths: pd.Series) -> np.ndarray:
    """Marker diameters in px: area grows with deaths; an event without deaths still shows."""
    return np.clip(5 + 3 * np.sqrt(_values(deaths)), 5, 40)


def hotspot_map(events: pd.DataFrame, *, country: str, period: str, source: str) -> go.Figure:
    """Events of `risk.profile.map_events` on the country's outline: size deaths, colour type.

    Outlines are the world 110m topojson; the page (or kaleido) must be given a local
    topojson URL, since plotly would fetch them from a CDN otherwise.
    """
    fig = go.Figure()
    # ACLED events outside UCDP's types (protests, riots, explosions…) are drawn in grey.
    kinds = {**VIOLENCE_LABELS, None: "Other (source's own category)"}
    for violence, label in kinds.items():
        if violence is None:
            rows = events[events["violence_type"].isna()]
        else:
            rows = events[events["violence_type"] == violence]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scattergeo(
                lat=rows["latitude"].to_numpy(),
                lon=rows["longitude"].to_numpy(),
                name=label,
                mode="markers",
                marker={
                    "size": marker_sizes(rows["fatalities_best"]),
                    "color": VIOLENCE_COLOURS.get(violence, OTHER_COLOUR),
                    "opacity": 0.6,
                    "line": {"width": 0.5, "color": "white"},
                },
                text=_hover_text(rows),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_geos(
        fitbounds="locations",
        resolution=110,
        showcountries=True,
        countrycolor="#777777",
        showland=True,
        landcolor="#F2F2F2",
        showocean=True,
        oceancolor="#E8F1F8",
        projection_type="mercator",
    )
    title = f"{country}: where violent events happened, {period} (size: deaths)"
    fig.update_layout(height=560)
    return layout(fig, title, source)
