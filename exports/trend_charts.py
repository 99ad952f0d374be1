"""Plotly figures of the compare and skill pages, shared with the briefing exports.

Compare: several countries or regions on one chart, or one small panel each; skill: the
calibration of the model's P(≥ 25 deaths). Okabe-Ito colours (readable with every common
colour-vision deficiency; past seven series the line dash changes too), 14 px text, thousands
separators, human labels, a title that says what and when, and the source inside the figure as
its subtitle, so a pasted figure still says where its numbers come from. Text from data goes
through `html.escape`, because plotly renders a subset of HTML in titles and labels.

The log scale plots log10(1 + value), because a plain log axis cannot draw the months with no
deaths: they sit on the axis's foot, labelled 0, and every tick is labelled with the value it
stands for (hover shows the value itself).
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
LOG_NOTE = "log scale of 1 + value, so 0 shows"
NO_DATA_NOTE = "No data for this period"  # a small-multiples panel with nothing to draw
PANEL_HEIGHT = 230  # px per row of small multiples
Y_AXIS = {"tickformat": ",~f", "rangemode": "tozero"}
# Dates a little lower, so that a first label on the period's first month does not touch the
# y axis's 0 at the corner.
X_AXIS = {"ticklabelstandoff": 6}


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
    return f"{source}\n{GAP_NOTE}" if has_gaps else source


def _hover(y_label: str) -> str:
    label = html.escape(y_label)
    return f"%{{fullData.name}}<br>%{{x|%b %Y}}: %{{customdata:,.1~f}}<br>{label}<extra></extra>"


def log_ticks(top: float) -> tuple[list[float], list[str]]:
    """Tick positions (log10(1 + v)) and labels (v) of a log scale reaching `top` (at least 1).

    0, then 1-2-5, 1-3 or 1 per decade, fewer the more decades, leaving out a tick closer than
    an eighth of the axis to the one below it (the 1 just above the 0 on a tall axis):
    log_ticks(30) labels 0, 1, 3, 10, 30; log_ticks(5000) 0, 10, 100, 1,000, 10,000.
    """
    top = max(top, 1.0)
    decades = math.ceil(math.log10(top + 1))
    steps = (1, 2, 5) if decades <= 1 else (1, 3) if decades <= 3 else (1,)
    values = [0.0] + [m * 10.0**d for d in range(decades + 1) for m in steps]
    values = values[: next(i for i, v in enumerate(values) if v >= top) + 1]
    gap = math.log10(1 + values[-1]) / 8
    kept = [0.0]
    for value in values[1:]:
        if math.log10(1 + value) - math.log10(1 + kept[-1]) >= gap or value == values[-1]:
            kept.append(value)
    return [math.log10(1 + v) for v in kept], [f"{v:,.0f}" for v in kept]


def _log_axis(values: np.ndarray) -> dict:
    finite = values[np.isfinite(values)]
    positions, labels = log_ticks(float(finite.max()) if finite.size else 1.0)
    # A little room under the 0, so that its label does not touch the x axis's first date.
    return {
        "tickvals": positions,
        "ticktext": labels,
        "range": [-0.04 * positions[-1], positions[-1] * 1.02],
    }


def trend_figure(
    frame: pd.DataFrame, *, title: str, y_label: str, source: str, log_scale: bool = False
) -> go.Figure:
    """Every series of `risk.trends.trend_frame` as one line on one chart.

    Gaps stay gaps (no line is drawn across a month without data), and when there are any the
    subtitle says what they mean. A series without any data in the period has no line, so it
    is left out of the legend too.
    """
    fig = go.Figure()
    for position, (name, part) in enumerate(frame.groupby("name", sort=False)):
        fig.add_trace(_line(part, name, position, y_label, log_scale))
    axis_title = html.escape(y_label) + (f"<br>{LOG_NOTE}" if log_scale else "")
    fig.update_yaxes(title_text=axis_title, **Y_AXIS)
    fig.update_xaxes(**X_AXIS)
    if log_scale:
        fig.update_yaxes(**_log_axis(_values(frame["value"])))
    has_gaps = not frame.empty and not frame["covered"].astype(bool).all()
    fig = _layout(fig, title, _source_line(source, has_gaps))
    if log_scale:  # room for the axis title's second line
        fig.update_layout(margin_l=fig.layout.margin.l + 20)
    return fig


def small_multiples_figure(
    frame: pd.DataFrame,
    *,
    title: str,
    y_label: str,
    source: str,
    shared_y: bool = True,
    log_scale: bool = False,
    columns: int = 3,
) -> go.Figure:
    """One small panel per series, in the order of `frame`; one y axis for all or one each.

    A shared axis compares sizes; independent axes show the shape of each series, however
    small. The axis choice and scale are written into the subtitle, so a reader of a pasted
    figure knows.
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
    fig.update_yaxes(showticklabels=True, **Y_AXIS)
    for position, name in enumerate(names):
        part = frame[frame["name"] == name]
        cell = {"row": position // columns + 1, "col": position % columns + 1}
        fig.add_trace(_line(part, name, position, y_label, log_scale, showlegend=False), **cell)
        if log_scale:
            fig.update_yaxes(_log_axis(_values((frame if shared_y else part)["value"])), **cell)
    fig.update_xaxes(showticklabels=True, **X_AXIS)
    fig.update_annotations(font_size=FONT_SIZE + 1)  # the panel titles
    for position, name in enumerate(names):
        if not np.isfinite(_values(frame.loc[frame["name"] == name, "value"])).any():
            axis = "" if position == 0 else position + 1
            fig.add_annotation(
                text=NO_DATA_NOTE,
                **{"xref": f"x{axis} domain", "yref": f"y{axis} domain", "x": 0.5, "y": 0.5},
                showarrow=False,
                font={"color": "#444444"},
            )
    has_gaps = not frame.empty and not frame["covered"].astype(bool).all()
    scale = "same y axis in every panel" if shared_y else "each panel has its own y axis"
    if log_scale:
        scale += f", {LOG_NOTE}"
    fig = _layout(fig, title, _source_line(f"{source}\n{y_label}; {scale}", has_gaps))
    # Room between the subtitle and the first row's panel titles.
    fig.update_layout(height=max(380, PANEL_HEIGHT * rows + 170), margin_t=fig.layout.margin.t + 25)
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
    part: pd.DataFrame,
    name: object,
    position: int,
    y_label: str,
    log_scale: bool = False,
    **extra: object,
) -> go.Scatter:
    """One series as a line; gaps in coverage stay gaps, the name is escaped for hover HTML.

    The hover reads the value from `customdata`, so it is the same on either scale.
    """
    values = _values(part["value"])
    extra.setdefault("showlegend", bool(np.isfinite(values).any()))
    return go.Scatter(
        x=part["month"],
        y=np.log10(1 + values) if log_scale else values,
        customdata=values,
        name=html.escape(str(name), quote=False),
        mode="lines",
        line=line_style(position),
        connectgaps=False,
        hovertemplate=_hover(y_label),
        **extra,
    )
