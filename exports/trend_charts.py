"""Plotly figures of the compare and skill pages, shared with the briefing exports.

Compare: several countries or regions on one chart, or one small panel each; skill: the
calibration of the model's P(≥ 25 deaths). Okabe-Ito colours (readable with every common
colour-vision deficiency; past seven series the line dash changes too), 14 px text, thousands
separators, human labels, a title that says what and when, and the source inside the figure as
its subtitle, so a pasted figure still says where its numbers come from. Text from data goes
through `html.escape`, because plotly renders a subset of HTML in titles and labels.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from exports.charts import layout

FONT_SIZE = 14
# Okabe-Ito without its yellow, which is too faint for a thin line on white.
LINE_COLOURS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
)
DASHES = ("solid", "dash", "dot")
CALIBRATION_COLOUR = "#0072B2"
GAP_NOTE = "Breaks in a line: months no data source covers (no data, not zero)."


def line_style(position: int) -> dict:
    """Colour and dash of the n-th series, the same on the one chart and the small multiples."""
    colour = LINE_COLOURS[position % len(LINE_COLOURS)]
    dash = DASHES[(position // len(LINE_COLOURS)) % len(DASHES)]
    return {"color": colour, "dash": dash, "width": 2}


def _layout(fig: go.Figure, title: str, source: str) -> go.Figure:
    """The shared look (`exports.charts.layout`: wrapped title and source subtitle); a "\n" in
    the source starts a new line."""
    layout(fig, title, source)
    fig.update_layout(margin_l=70)
    return fig


def _values(series: pd.Series) -> np.ndarray:
    """Floats with NaN for gaps, which plotly draws as breaks in the line."""
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def _source_line(source: str, has_gaps: bool) -> str:
    return f"{source} · {GAP_NOTE}" if has_gaps else source


def _hover(y_label: str) -> str:
    label = html.escape(y_label)
    return f"%{{fullData.name}}<br>%{{x|%b %Y}}: %{{y:,.1~f}}<br>{label}<extra></extra>"


def trend_figure(frame: pd.DataFrame, *, title: str, y_label: str, source: str) -> go.Figure:
    """Every series of `risk.trends.trend_frame` as one line on one chart.

    Gaps stay gaps (no line is drawn across a month without data), and when there are any the
    subtitle says what they mean.
    """
    fig = go.Figure()
    for position, (name, part) in enumerate(frame.groupby("name", sort=False)):
        fig.add_trace(_line(part, name, position, y_label))
    fig.update_yaxes(title_text=html.escape(y_label), tickformat=",~f", rangemode="tozero")
    has_gaps = not frame.empty and not frame["covered"].astype(bool).all()
    return _layout(fig, title, _source_line(source, has_gaps))


def small_multiples_figure(
    frame: pd.DataFrame,
    *,
    title: str,
    y_label: str,
    source: str,
    shared_y: bool = True,
    columns: int = 3,
) -> go.Figure:
    """One small panel per series, in the order of `frame`; one y axis for all or one each.

    A shared axis compares sizes; independent axes show the shape of each series, however
    small. The axis choice is written into the subtitle, so a reader of a pasted figure knows.
    """
    names = list(dict.fromkeys(frame["name"])) or [""]
    columns = max(1, min(columns, len(names)))
    rows = math.ceil(len(names) / columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[html.escape(str(n), quote=False) for n in names],
        shared_xaxes="all",
        shared_yaxes="all" if shared_y else False,
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.06,
    )
    for position, name in enumerate(names):
        part = frame[frame["name"] == name]
        fig.add_trace(
            _line(part, name, position, y_label, showlegend=False),
            row=position // columns + 1,
            col=position % columns + 1,
        )
    fig.update_yaxes(tickformat=",~f", rangemode="tozero", showticklabels=True)
    fig.update_xaxes(showticklabels=True)
    fig.update_annotations(font_size=FONT_SIZE + 1)  # the panel titles
    has_gaps = not frame.empty and not frame["covered"].astype(bool).all()
    scale = "same y axis in every panel" if shared_y else "each panel has its own y axis"
    fig = _layout(fig, title, _source_line(f"{source}\n{y_label}; {scale}", has_gaps))
    # Room between the subtitle and the first row's panel titles.
    fig.update_layout(height=max(380, 230 * rows + 170), margin_t=fig.layout.margin.t + 25)
    return fig


def calibration_figure(calibration: pd.DataFrame, *, title: str, source: str) -> go.Figure:
    """Forecast probability against how often it happened, per probability bin, with the diagonal.

    `calibration` has the columns of `risk.skill.calibration`: label, count, mean_predicted,
    observed_frequency. Empty bins are left out. Point area grows with the bin's count, so the
    crowded bins, whose shares are trustworthy, stand out from the thin ones.
    """
    shown = calibration[calibration["count"] > 0]
    counts = shown["count"].to_numpy(dtype="float64")
    sizes = 10 + 40 * np.sqrt(counts / counts.max()) if len(counts) else counts
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="Perfect calibration",
            line={"color": "#777777", "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=shown["mean_predicted"].to_numpy(dtype="float64"),
            y=shown["observed_frequency"].to_numpy(dtype="float64"),
            mode="markers+lines",
            name="Model (point size: country-months)",
            line={"color": CALIBRATION_COLOUR, "width": 1},
            marker={"size": sizes, "color": CALIBRATION_COLOUR, "opacity": 0.8},
            customdata=np.column_stack([shown["label"].to_numpy(dtype=object), counts]),
            hovertemplate="Forecast %{customdata[0]}<br>%{customdata[1]:,.0f} country-months"
            "<br>average forecast %{x:.1%}<br>happened %{y:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(
        title_text="Forecast probability of ≥25 deaths (bin average)",
        range=[-0.03, 1.03],
        tickformat=".0%",
    )
    fig.update_yaxes(
        title_text="Share of country-months with ≥25 deaths", range=[-0.03, 1.03], tickformat=".0%"
    )
    fig = _layout(fig, title, source)
    fig.update_layout(height=560)
    return fig


def _line(
    part: pd.DataFrame, name: object, position: int, y_label: str, **extra: object
) -> go.Scatter:
    """One series as a line; gaps in coverage stay gaps, the name is escaped for hover HTML."""
    return go.Scatter(
        x=part["month"],
        y=_values(part["value"]),
        name=html.escape(str(name), quote=False),
        mode="lines",
        line=line_style(position),
        connectgaps=False,
        hovertemplate=_hover(y_label),
        **extra,
    )
