"""One definition per chart that two renderers draw: its rows, words, colours and formats.

The landing map and the profile's fan chart are drawn by Vega-Lite on the pages (no plotly.js
to load) and by plotly for the exports' static images. Both renderers turn the same definition
into their spec or figure, so the two versions cannot drift; `tests/exports/test_chart_specs.py`
reads both back and compares them with the definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from exports.charts import (
    NOT_ENOUGH_DATA_GREY,
    OKABE_ITO,
    OUTSIDE_GREY,
    RISK_SCALE,
    deaths_in_words,
    month_label,
    percent,
    risk_definition,
)
from risk import measures

VIOLENCE_COLOURS = {
    "state-based": OKABE_ITO["blue"],
    "non-state": OKABE_ITO["orange"],
    "one-sided": OKABE_ITO["reddish purple"],
}
VIOLENCE_LABELS = {"state-based": "State-based", "non-state": "Non-state", "one-sided": "One-sided"}
TOTAL_COLUMN = measures.COLUMNS[measures.ALL]
# Dark grey rather than black: the line must read on Streamlit's dark theme too (3.3:1 against
# its background, 5.7:1 against white).
TOTAL_GREY = "#666666"
# The history lines of the fan chart, by panel column: the total of all organised violence
# (the line its forecast continues), then each type.
HISTORY_LINES = {
    TOTAL_COLUMN: ("All organised violence", TOTAL_GREY),
    **{
        f"fatalities_{v.replace('-', '_')}": (VIOLENCE_LABELS[v], VIOLENCE_COLOURS[v])
        for v in VIOLENCE_LABELS
    },
}
FORECAST_COLOUR = OKABE_ITO["vermillion"]
BAND_90 = "Forecast 90% interval"
BAND_50 = "Forecast 50% interval"
# Translucent vermillion: the 90% band light, the 50% band over it darker.
BAND_COLOURS = {BAND_90: "rgba(213, 94, 0, 0.15)", BAND_50: "rgba(213, 94, 0, 0.35)"}
BAND_QUANTILES = {BAND_90: ("q05", "q95"), BAND_50: ("q25", "q75")}
QUANTILES = ("q05", "q25", "q50", "q75", "q95")
DASH = (6, 4)  # px drawn, px left out: the forecast median, and the total over its types
NOT_ENOUGH_DATA = "not enough data to forecast"
DEATHS_AXIS = "Deaths per month (best estimate)"
NUMBER_FORMAT = ",.0f"  # d3 format, read by Vega-Lite and plotly alike
PERCENT_FORMAT = ".0%"


@dataclass(frozen=True)
class Entry:
    """One legend entry, in legend order: what is drawn and how."""

    label: str
    colour: str
    kind: str  # "history", "band" or "median"
    dash: tuple[int, ...] = ()  # () is a solid line


@dataclass(frozen=True)
class FanChart:
    """The profile's chart: monthly deaths of a measure, then its forecast if there is one."""

    title: str
    note: str  # why no forecast is drawn; "" when it is
    source: str
    history: pd.DataFrame  # month, line, deaths (NaN: no data, a gap): one row per point
    forecast: pd.DataFrame  # month, q05 … q95: empty without a forecast
    entries: tuple[Entry, ...]  # legend order, only what is drawn; history in drawing order
    origin: pd.Timestamp  # the as-of month, marked by a dotted rule
    origin_label: str
    x_title: str = "Month"
    y_title: str = DEATHS_AXIS
    y_at_least: float = 10  # the axis's top at least: a quiet country gets a readable axis

    def drawn(self, kind: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == kind]


def median_label(measure: str) -> str:
    """The forecast line's name: the statistic and the measure it forecasts."""
    return f"Forecast median ({measures.LABELS[measure]})"


def fan_title(country: str, measure: str, span: str, *, forecast: bool = True) -> str:
    """'Mali: deaths per month from all organised violence, and forecast, Jan 2018–Mar 2021';
    without a forecast the title promises none."""
    words = f"{country}: deaths per month from {measures.LABELS[measure]}"
    words += ", and forecast" if forecast else ""
    return f"{words}, {span}" if span else words


def fan_chart(
    series: pd.DataFrame,
    *,
    country: str,
    as_of: str,
    measure: str,
    source: str = "",
    reason: str = "",
) -> FanChart:
    """The definition of the fan chart of `risk.profile.fan_series` of `measure`.

    A history line is drawn (and in the legend) only if it has a value; the total of all
    organised violence is drawn dashed over its types, so it shows where one type is the whole
    total. `reason` says why there is no forecast, when there is none.
    """
    future = series.reindex(columns=["q50"])["q50"].notna()
    columns = [c for c in HISTORY_LINES if c in series.columns]
    long = series.loc[~future, ["month", *columns]].melt(
        id_vars="month", var_name="column", value_name="deaths"
    )
    # Missing months stay in the rows (drawn as gaps: no data, not zero).
    drawn = [c for c in columns if long.loc[long["column"] == c, "deaths"].notna().any()]
    long = long[long["column"].isin(drawn)]
    over_types = TOTAL_COLUMN in drawn and len(drawn) > 1
    # The types first, the total last: drawn on top, no type can hide it.
    drawn.sort(key=lambda column: column == TOTAL_COLUMN)
    labels = {c: f"{HISTORY_LINES[c][0]} deaths" for c in drawn}
    if over_types:
        labels[TOTAL_COLUMN] += " (total, on top)"
    dashed = {TOTAL_COLUMN} if over_types else set()
    entries = [
        Entry(labels[c], HISTORY_LINES[c][1], "history", DASH if c in dashed else ()) for c in drawn
    ]
    long = long.assign(order=long["column"].map(drawn.index)).sort_values(["order", "month"])
    history = pd.DataFrame(
        {
            "month": pd.to_datetime(long["month"]).to_numpy(),
            "line": long["column"].map(labels).to_numpy(),
            "deaths": long["deaths"].astype("float64").to_numpy(),
        }
    )
    forecast = series.reindex(columns=["month", *QUANTILES])[future].astype(
        {q: "float64" for q in QUANTILES}
    )
    forecast = forecast.assign(month=pd.to_datetime(forecast["month"])).reset_index(drop=True)
    note = ""
    if len(forecast):
        entries.append(Entry(median_label(measure), FORECAST_COLOUR, "median", DASH))
        entries += [Entry(band, BAND_COLOURS[band], "band") for band in (BAND_50, BAND_90)]
    else:
        reason = reason.strip().rstrip(".")
        note = f"No forecast: {reason}." if reason else "No forecast is drawn for these months."
    months = pd.concat([history.dropna()["month"], forecast["month"]])
    first, last = (f"{months.min():%b %Y}", f"{months.max():%b %Y}") if len(months) else ("", "")
    span = first if first == last else f"{first}–{last}"
    if history["deaths"].isna().all():
        note = f"{note} No data source covers these months.".strip()
    return FanChart(
        title=fan_title(country, measure, span, forecast=bool(len(forecast))),
        note=note,
        source=source,
        history=history,
        forecast=forecast,
        entries=tuple(entries),
        origin=pd.Period(as_of, "M").start_time,
        origin_label=f"data to {month_label(as_of)}",
    )


@dataclass(frozen=True)
class RiskMap:
    """The risk choropleth: one row per country of the selection, coloured by risk."""

    title: str
    source: str
    rows: pd.DataFrame  # iso3, name, risk (NaN: no forecast), risk_text, deaths_text, description
    legend_title: str = "Risk"
    scale: tuple[str, ...] = RISK_SCALE
    ticks: tuple[float, ...] = (0, 0.25, 0.5, 0.75, 1)
    tick_format: str = PERCENT_FORMAT
    no_forecast_colour: str = NOT_ENOUGH_DATA_GREY
    outside_colour: str = OUTSIDE_GREY
    note: str = (
        "Dark grey: not enough data to forecast. "
        "Light grey: outside the selection or not covered by the data."
    )
    # The hover text: (column of `rows`, its label).
    tooltip: tuple[tuple[str, str], ...] = (
        ("name", "Country"),
        ("risk_text", "Risk"),
        ("deaths_text", "Deaths, 3 months (median)"),
    )


MAP_FIELDS = ("iso3", "name", "risk", "risk_text", "deaths_text", "description")


def _map_row(row: dict) -> tuple:
    """The `MAP_FIELDS` of one country of the risk table."""
    name = str(row["name"])
    if row["status"] != "ok":
        missing = f"{name}: {NOT_ENOUGH_DATA}."
        return row["iso3"], name, float("nan"), NOT_ENOUGH_DATA, NOT_ENOUGH_DATA, missing
    risk, deaths = percent(row["risk"]), deaths_in_words(row)
    # What a screen reader says for the shape (Vega's aria-label), in words.
    description = f"{name}. Risk {risk}. Deaths, 3 months (median): {deaths}."
    return row["iso3"], name, float(row["risk"]), risk, deaths, description


def risk_map(table: pd.DataFrame, *, as_of: str, measure: str, source: str = "") -> RiskMap:
    """The definition of the map of `RiskForecast.table` (filtered to the selection), with the
    tooltip's text already formatted in the same words and separators as the ranked table."""
    rows = pd.DataFrame([_map_row(r) for r in table.to_dict("records")], columns=MAP_FIELDS)
    return RiskMap(title=f"Risk: {risk_definition(as_of, measure)}", source=source, rows=rows)
