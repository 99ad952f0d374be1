"""Plotly figures of the country profile, shared by the page and the briefing exports.

The builders take the tables of `risk.profile` and return a finished figure: Okabe-Ito colours
(readable with every common colour-vision deficiency), 14 px text, thousands separators, human
labels, a title that says what and when, and the source line inside the figure, so a figure
pasted into a briefing still says where its numbers come from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from exports.charts import FONT_SIZE, OKABE_ITO, PLOTLY_CONFIG, plain
from risk import measures

VIOLENCE_COLOURS = {
    "state-based": OKABE_ITO["blue"],
    "non-state": OKABE_ITO["orange"],
    "one-sided": OKABE_ITO["reddish purple"],
}
VIOLENCE_LABELS = {"state-based": "State-based", "non-state": "Non-state", "one-sided": "One-sided"}
# The history lines of the fan chart, by panel column: the total of all organised violence
# (in black, the line its forecast continues), then each type.
HISTORY_LINES = {
    measures.COLUMNS[measures.ALL]: ("All organised violence", OKABE_ITO["black"]),
    **{
        f"fatalities_{v.replace('-', '_')}": (VIOLENCE_LABELS[v], VIOLENCE_COLOURS[v])
        for v in VIOLENCE_LABELS
    },
}
OTHER_COLOUR = "#999999"
FORECAST_COLOUR = OKABE_ITO["vermillion"]
BAND_90 = "rgba(213, 94, 0, 0.15)"  # vermillion, light
BAND_50 = "rgba(213, 94, 0, 0.35)"
QUANTILES = ("q05", "q25", "q50", "q75", "q95")
MAP_CONFIG = PLOTLY_CONFIG  # offline outlines: pass to st.plotly_chart(config=...)


def _layout(fig: go.Figure, title: str, source: str) -> go.Figure:
    """Shared look; the source line is the title's subtitle so that it can never be cropped."""
    fig.update_layout(
        title={
            "text": plain(title),
            "font": {"size": FONT_SIZE + 4},
            "subtitle": {
                "text": plain(source),
                "font": {"size": FONT_SIZE, "color": "#444444"},
            },
        },
        font={"size": FONT_SIZE},
        separators=".,",
        template="plotly_white",
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.15,
            "x": 0,
            "traceorder": "normal",
            "itemsizing": "constant",
        },
        margin={"t": 90, "b": 40, "l": 60, "r": 20},
    )
    return fig


def _values(series: pd.Series) -> np.ndarray:
    """Floats with NaN for missing, which plotly draws as gaps."""
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def median_label(measure: str) -> str:
    """The forecast line's name: the statistic and the measure it forecasts."""
    return f"Forecast median ({measures.LABELS[measure]})"


def fan_title(country: str, measure: str, span: str) -> str:
    """'Mali: deaths per month from all organised violence, and forecast, Jan 2018–Mar 2021'."""
    return f"{country}: deaths per month from {measures.LABELS[measure]}, and forecast, {span}"


def fan_chart(
    series: pd.DataFrame, *, country: str, as_of: str, measure: str, source: str
) -> go.Figure:
    """Monthly deaths of the measure, then the forecast's median and 50%/90% bands.

    `series` is `risk.profile.fan_series` of `measure`: its history columns (for all organised
    violence the total and each type) and the forecast quantiles q05…q95. A dotted line marks
    the as-of month.
    """
    fig = go.Figure()
    months = pd.to_datetime(series["month"])
    history = series[series["q50"].isna()]
    for column, (label, colour) in HISTORY_LINES.items():
        if column not in series.columns:
            continue
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(history["month"]),
                y=_values(history[column]),
                name=f"{label} deaths",
                mode="lines+markers",
                marker={"size": 5},
                line={"color": colour, "width": 2},
                hovertemplate=f"{label}: %{{y:,.0f}}<extra></extra>",
            )
        )
    forecast = series[series["q50"].notna()]
    if len(forecast):
        _add_fan(fig, forecast, median_label(measure))
    origin = pd.Period(as_of, "M").start_time
    fig.add_shape(
        type="line",
        x0=origin,
        x1=origin,
        y0=0,
        y1=1,
        yref="paper",
        line={"color": OKABE_ITO["black"], "dash": "dot", "width": 1},
    )
    fig.add_annotation(
        x=origin,
        y=1,
        yref="paper",
        text=f"data to {origin:%b %Y}",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": FONT_SIZE},
    )
    first, last = months.min(), months.max()
    span = f"{first:%b %Y}–{last:%b %Y}" if len(months) else ""
    title = fan_title(country, measure, span)
    fig.update_xaxes(title_text="Month", tickformat="%b %Y")
    fig.update_yaxes(
        title_text="Deaths per month (best estimate)", tickformat=",", rangemode="tozero"
    )
    fig.update_layout(hovermode="x unified")
    return _layout(fig, title, source)


def _add_fan(fig: go.Figure, forecast: pd.DataFrame, median: str) -> None:
    """The 90% band (q05–q95), the 50% band (q25–q75) and the median, in that order."""
    x = pd.to_datetime(forecast["month"])
    q = {name: _values(forecast[name]) for name in QUANTILES}
    for low, high, fill, label in (
        ("q05", "q95", BAND_90, "Forecast 90% interval"),
        ("q25", "q75", BAND_50, "Forecast 50% interval"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=q[low],
                name=f"{label} (low)",
                mode="lines",
                line={"width": 0, "color": fill},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=q[high],
                name=label,
                mode="lines",
                line={"width": 0, "color": fill},
                fill="tonexty",
                fillcolor=fill,
                customdata=q[low],
                hovertemplate=f"{label}: %{{customdata:,.0f}}–%{{y:,.0f}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=q["q50"],
            name=median,
            mode="lines+markers",
            marker={"size": 5},
            line={"color": FORECAST_COLOUR, "width": 2, "dash": "dash"},
            hovertemplate="Forecast median: %{y:,.0f}<extra></extra>",
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
    return _layout(fig, title, source)
