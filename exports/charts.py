"""Palettes, number formats and the risk choropleth, shared by the pages and the exports.

A briefing-room figure must read the same on a projector, in greyscale print and for the one
reader in twelve with a colour-vision deficiency: categories use Okabe-Ito, risk uses
ColorBrewer's YlOrRd (lightness rises with risk, so it survives every deficiency and greyscale),
text is at least 14 px and every count has thousands separators. Missing numbers are written
as such ("no data"), never as zero.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from risk.forecast import RISK_MONTHS
from risk.model import THRESHOLD
from risk.profile import deaths_of, mean_outside

if TYPE_CHECKING:  # the definitions import this module's formats
    from exports.chart_specs import RiskMap

FONT_SIZE = 14
TITLE_SIZE = FONT_SIZE + 4
# Streamlit draws a figure at its column's width: about 950 px for the main column at 1440×900
# with the sidebar open; the exports draw at 1000. Titles are wrapped for the narrower.
SHOWN_WIDTH = 900
# Average width of a character of running text, in em: measured 0.51 for the subtitles drawn
# by kaleido; a little more for text with many capitals or digits.
GLYPH_EM = 0.56
MONTH_YEAR = re.compile(r"\b[A-Z][a-z]{2} \d{4}\b")  # "Feb 2024" stays on one line
NO_BREAK = "\u00a0"  # textwrap breaks at ASCII whitespace only
TITLE_X = 0.05  # plotly's default: the title starts at 5% of the figure's width
TITLE_PAD = 16  # px above the title
TITLE_LINE, SUBTITLE_LINE = 24, 20  # px per line of title and of subtitle
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
# ColorBrewer YlOrRd (9 classes), marked colour-blind safe and print friendly by ColorBrewer.
RISK_SCALE = (
    "#FFFFCC",
    "#FFEDA0",
    "#FED976",
    "#FEB24C",
    "#FD8D3C",
    "#FC4E2A",
    "#E31A1C",
    "#BD0026",
    "#800026",
)
NOT_ENOUGH_DATA_GREY = "#8C8C8C"  # countries the data cannot speak for
OUTSIDE_GREY = "#E8E8E8"  # land outside the selection or not covered by the data
NO_DATA = "no data"
MISSING = "—"
# Offline outlines: plotly appends "world_110m.json" to this URL (Streamlit static serving).
TOPOJSON_URL = "/app/static/topojson/"
PLOTLY_CONFIG = {"topojsonURL": TOPOJSON_URL, "displaylogo": False}


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain(text: object) -> str:
    """Data text for plotly, which renders a subset of HTML tags in titles and hover text.

    Control characters are dropped: plotly.js fails to draw a figure that holds one.
    """
    return html.escape(CONTROL.sub("", str(text)), quote=False)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def count(value: object) -> str:
    """A whole number with thousands separators: 1234.4 → '1,234'; missing → 'no data'."""
    if _missing(value):
        return NO_DATA
    return f"{round(float(value)):,}"


def interval(low: object, high: object) -> str:
    """A range of counts: (890.2, 2100) → '890–2,100'."""
    if _missing(low) or _missing(high):
        return NO_DATA
    return f"{count(low)}–{count(high)}"


def count_with_interval(value: object, low: object, high: object) -> str:
    """'1,234 (890–2,100)': a count and its 90% interval, for text and exports."""
    if _missing(value):
        return NO_DATA
    return f"{count(value)} ({interval(low, high)})"


def deaths_in_words(row: Mapping | pd.Series) -> str:
    """'37 (90% interval 5–120)': the median of the 3-month total with its interval, the
    statistic the forecast chart draws (`risk.profile.mean_outside` says why not the mean)."""
    low, high = row.get("fatalities_low"), row.get("fatalities_high")
    return f"{count(row.get('median_fatalities'))} (90% interval {interval(low, high)})"


def average_in_words(row: Mapping | pd.Series) -> str:
    """'average 193' with why it lies outside the 90% interval when it does."""
    mean = row.get("expected_fatalities")
    note = mean_outside(mean, row.get("fatalities_low"), row.get("fatalities_high"))
    return f"average {count(mean)}" + (f" ({note})" if note else "")


def percent(share: object) -> str:
    """A probability as a whole percentage; below 1% it says '<1%' rather than a false 0%."""
    if _missing(share):
        return NO_DATA
    whole = round(float(share) * 100)
    if whole == 0 and float(share) > 0:
        return "<1%"
    return f"{whole}%"


def points(change: object) -> str:
    """A change of probability in percentage points with a real minus sign: '−11 pts'."""
    if _missing(change):
        return MISSING
    value = round(float(change) * 100)
    sign = "−" if value < 0 else "+" if value > 0 else ""
    return f"{sign}{abs(value)} pts"


def month_label(month: str) -> str:
    """'2020-12' → 'Dec 2020'."""
    return f"{pd.Period(month, 'M'):%b %Y}"


def risk_period(as_of: str) -> str:
    """The months a forecast from `as_of` covers: '2020-12' → 'Jan–Mar 2021'."""
    first = pd.Period(as_of, "M") + 1
    last = first + RISK_MONTHS - 1
    if first.year == last.year:
        return f"{first:%b}–{last:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"


def risk_definition(as_of: str, measure: str) -> str:
    """What 'risk' means, in one line, for titles and captions."""
    return (
        f"chance of at least one month with ≥ {THRESHOLD} {deaths_of(measure)}, "
        f"{risk_period(as_of)}"
    )


def risk_title(measure: str) -> str:
    """'Risk of ≥ 25 deaths from all organised violence in at least one of the next 3 months'."""
    return (
        f"Risk of ≥ {THRESHOLD} {deaths_of(measure)} in at least one of the next "
        f"{RISK_MONTHS} months"
    )


def wrap(text: str, font_size: int, width: float = SHOWN_WIDTH) -> list[str]:
    """`text` as lines that fit a title of a figure `width` px wide at `font_size`; a "\n" in it
    also starts a line.

    Plotly titles never wrap and Vega's only where given a list of lines, so a long one is cut
    at the right; this breaks between words at a conservative average glyph width, after
    plotly's left offset of the title, so both renderers wrap a title alike.
    """
    chars = max(20, int((width * (1 - TITLE_X) - 20) / (GLYPH_EM * font_size)))
    kept = MONTH_YEAR.sub(lambda month: month[0].replace(" ", NO_BREAK), text)
    return [
        line.replace(NO_BREAK, " ")
        for paragraph in kept.split("\n")
        for line in textwrap.wrap(paragraph, chars, break_on_hyphens=False)
    ]


def layout(fig: go.Figure, title: str, subtitle: str, *, width: float = SHOWN_WIDTH) -> go.Figure:
    """The shared look of every plotly figure: the title with the source as its subtitle (inside
    the figure, so a pasted figure still says where its numbers come from), both wrapped for a
    figure `width` px wide and the top margin grown by their lines; 14 px text, a legend under
    the plot."""
    titles = wrap(title, TITLE_SIZE, width)
    subtitles = wrap(subtitle, FONT_SIZE, width)
    fig.update_layout(
        title={
            "text": "<br>".join(plain(line) for line in titles),
            "x": TITLE_X,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": TITLE_PAD},
            "font": {"size": TITLE_SIZE},
            "subtitle": {
                "text": "<br>".join(plain(line) for line in subtitles),
                "font": {"size": FONT_SIZE, "color": "#444444"},
            },
        },
        font={"size": FONT_SIZE},
        separators=".,",
        template="plotly_white",
        hoverlabel={"font": {"size": FONT_SIZE}},
        # At the figure's foot, not at a share of the plot's height: the plot's bottom margin
        # grows to hold it, so it never runs into the x axis's title on a short figure.
        legend={
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0,
            "x": 0,
            "traceorder": "normal",
            "itemsizing": "constant",
        },
        margin={
            "t": TITLE_PAD + TITLE_LINE * len(titles) + SUBTITLE_LINE * len(subtitles) + 24,
            "b": 40,
            "l": 60,
            "r": 20,
        },
    )
    return fig


def risk_choropleth(chart: RiskMap, *, zoom: bool = False) -> go.Figure:
    """The risk map's definition as a plotly map: countries coloured by risk (0–100%), those
    without a forecast in grey.

    With `zoom` the view fits the map's countries, otherwise it shows the world. Outlines are the
    world 110m topojson, which the page (or kaleido) must be given locally: plotly fetches it
    from a CDN otherwise.
    """
    rows = chart.rows
    forecast, missing = rows[rows["risk"].notna()], rows[rows["risk"].isna()]
    fields = [field for field, _ in chart.tooltip]
    hover = "<br>".join(
        f"{label}: %{{customdata[{k}]}}" for k, (_, label) in enumerate(chart.tooltip) if k
    )
    outline = {"line": {"color": "#FFFFFF", "width": 0.5}}
    fig = go.Figure()
    fig.add_trace(
        go.Choropleth(
            locations=forecast["iso3"].to_numpy(),
            locationmode="ISO-3",
            z=forecast["risk"].to_numpy(),
            zmin=0,
            zmax=1,
            colorscale=[[k / (len(chart.scale) - 1), c] for k, c in enumerate(chart.scale)],
            marker=outline,
            colorbar={
                "title": {"text": chart.legend_title, "side": "top"},
                "tickformat": chart.tick_format,
                "tickvals": list(chart.ticks),
                "len": 0.75,
                "thickness": 16,
            },
            customdata=forecast[fields].map(plain).to_numpy(),
            hovertemplate=f"<b>%{{customdata[0]}}</b><br>{hover}<extra></extra>",
            name=chart.legend_title,
        )
    )
    if not missing.empty:
        fig.add_trace(
            go.Choropleth(
                locations=missing["iso3"].to_numpy(),
                locationmode="ISO-3",
                z=np.zeros(len(missing)),
                colorscale=[[0, chart.no_forecast_colour], [1, chart.no_forecast_colour]],
                showscale=False,
                marker=outline,
                customdata=missing[fields].map(plain).to_numpy(),
                hovertemplate=f"<b>%{{customdata[0]}}</b><br>{hover}<extra></extra>",
                name="Not enough data",
            )
        )
    fig.update_geos(
        scope="world",
        resolution=110,
        projection_type="natural earth",
        showframe=False,
        showcoastlines=False,
        showcountries=True,
        countrycolor="#FFFFFF",
        showland=True,
        landcolor=chart.outside_colour,
        showocean=False,
    )
    if zoom:
        fig.update_geos(fitbounds="locations")
    else:  # no Antarctica: it is never forecast and takes a fifth of the map
        fig.update_geos(lataxis_range=[-58, 85])
    layout(fig, chart.title, chart.source)
    fig.update_layout(
        height=520,
        margin={"b": 40, "l": 10, "r": 10},
        annotations=[
            {
                "text": plain(chart.note),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.06,
                "showarrow": False,
                "xanchor": "left",
                "font": {"size": FONT_SIZE, "color": "#444444"},
            }
        ],
    )
    return fig
