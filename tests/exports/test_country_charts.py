"""The profile's figures: the right traces, bands in quantile order, human names, offline map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exports import chart_specs, country_charts

SOURCE = "Source: UCDP GED 24.1, events to Dec 2023"


@pytest.fixture
def series() -> pd.DataFrame:
    """Two history months of all organised violence and every type, then two forecast months
    with distinct quantiles (`risk.profile.fan_series` of the measure "all")."""
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"]),
            "fatalities_total": [512, 255, None, None],
            "fatalities_state_based": [482, 212, None, None],
            "fatalities_non_state": [0, 0, None, None],
            "fatalities_one_sided": [30, 43, None, None],
            "horizon": [None, None, 1, 2],
            "p_ge25": [None, None, 0.99, 0.98],
            "mean": [None, None, 190.0, 180.0],
            "q05": [None, None, 105.0, 99.0],
            "q25": [None, None, 143.0, 139.0],
            "q50": [None, None, 168.0, 158.6],
            "q75": [None, None, 220.4, 212.0],
            "q95": [None, None, 431.4, 405.0],
        }
    )
    history = [c for c in frame.columns if c.startswith("fatalities_")]
    frame[history] = frame[history].astype("Int64")
    return frame


def _by_name(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


def _fan(series: pd.DataFrame, country: str = "Myanmar", **options: str):
    options = {"as_of": "2023-12", "measure": "all", "source": SOURCE} | options
    return country_charts.fan_chart(chart_specs.fan_chart(series, country=country, **options))


TOTAL = "All organised violence deaths (total, on top)"


def test_fan_chart_has_history_bands_and_median(series: pd.DataFrame) -> None:
    fig = _fan(series)
    assert [t.name for t in fig.data] == [
        "State-based deaths",
        "Non-state deaths",
        "One-sided deaths",
        TOTAL,  # last: drawn over its types
        "Forecast 90% interval (low)",
        "Forecast 90% interval",
        "Forecast 50% interval (low)",
        "Forecast 50% interval",
        "Forecast median (all organised violence)",
    ]
    traces = _by_name(fig)
    assert list(traces[TOTAL].y) == [512, 255]
    assert traces[TOTAL].line.color == chart_specs.TOTAL_GREY  # reads on light and dark themes
    assert traces[TOTAL].line.dash == "6px,4px"
    assert list(traces["State-based deaths"].y) == [482, 212]
    assert traces["State-based deaths"].line.color == "#0072B2"  # Okabe-Ito blue
    assert traces["State-based deaths"].line.dash == "solid"
    # The bands fill to the trace before them: low bound first, then the high one.
    assert traces["Forecast 90% interval"].fill == "tonexty"
    assert traces["Forecast 90% interval (low)"].showlegend is False
    layers = [
        traces["Forecast 90% interval (low)"].y,
        traces["Forecast 50% interval (low)"].y,
        traces["Forecast median (all organised violence)"].y,
        traces["Forecast 50% interval"].y,
        traces["Forecast 90% interval"].y,
    ]
    assert np.all(np.diff(np.vstack(layers), axis=0) >= 0)  # q05 ≤ q25 ≤ q50 ≤ q75 ≤ q95
    assert list(traces["Forecast 90% interval (low)"].y) == [105.0, 99.0]
    assert list(traces["Forecast 90% interval"].y) == [431.4, 405.0]
    assert "%{customdata:,.0f}–%{y:,.0f}" in traces["Forecast 90% interval"].hovertemplate


def test_fan_chart_says_what_when_and_where_from(series: pd.DataFrame) -> None:
    fig = _fan(series)
    title = fig.layout.title
    assert title.text == (  # wrapped for a 900 px figure, never inside "Nov 2023"
        "Myanmar: deaths per month from all organised violence, and forecast,<br>Nov 2023–Feb 2024"
    )
    assert title.subtitle.text == SOURCE
    assert fig.layout.font.size >= 14
    assert fig.layout.yaxis.tickformat == ",.0f"
    assert fig.layout.yaxis.title.text == "Deaths per month (best estimate)"
    marker = fig.layout.shapes[0]
    assert pd.Timestamp(marker.x0) == pd.Timestamp("2023-12-01")
    label = fig.layout.annotations[0]
    assert label.text == "data to Dec 2023"
    # Inside the plot, under its top edge: above it, it ran into the subtitle.
    assert (label.yref, label.y, label.yanchor) == ("paper", 1, "top")


def test_fan_chart_without_forecast_draws_only_history(series: pd.DataFrame) -> None:
    history = series.iloc[:2][["month", "fatalities_one_sided", "q50"]]  # one-sided's history
    fig = _fan(
        history, "Mali", measure="one_sided", reason="fewer than 12 months of data up to 2023-12"
    )
    assert [t.name for t in fig.data] == ["One-sided deaths"]
    assert fig.layout.title.text == (  # no stray ", and forecast," when there is none
        "Mali: deaths per month from one-sided violence against civilians,<br>Nov 2023–Dec 2023"
    )
    assert fig.layout.title.subtitle.text == (
        f"No forecast: fewer than 12 months of data up to 2023-12.<br>{SOURCE}"
    )
    assert fig.layout.yaxis.range[1] >= 10  # not an axis with a single tick at 0


@pytest.fixture
def located() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date_start": pd.to_datetime(["2023-12-30", "2023-12-31", "2023-12-28"]),
            "admin1": ["Sagaing region", "Shan <b>state</b>", "(not recorded)"],
            "violence_type": ["state-based", "state-based", "one-sided"],
            "fatalities_best": [0, 1200, 3],
            "side_a": ["Government of Myanmar (Burma)", "NUG", "Government of Myanmar (Burma)"],
            "side_b": ["NUG", "<a href='x'>KIO</a>", "Civilians"],
            "latitude": [22.0, 21.0, 20.0],
            "longitude": [95.0, 97.0, 94.0],
        }
    )


def test_hotspot_map_one_trace_per_violence_type(located: pd.DataFrame) -> None:
    fig = country_charts.hotspot_map(
        located, country="Myanmar", period="Jan–Dec 2023", source=SOURCE
    )
    assert [t.name for t in fig.data] == ["State-based", "One-sided"]
    traces = _by_name(fig)
    assert list(traces["State-based"].lat) == [22.0, 21.0]
    assert traces["One-sided"].marker.color == "#CC79A7"
    sizes = traces["State-based"].marker.size
    assert sizes[0] == 5  # an event without deaths still shows
    assert sizes[1] == 40  # and a massacre does not cover the country
    assert fig.layout.geo.fitbounds == "locations"
    assert fig.layout.geo.resolution == 110  # world_110m.json, the outline served offline
    assert fig.layout.title.text == "Myanmar: where violent events happened, Jan–Dec 2023 " + (
        "(size: deaths)"
    )
    assert fig.layout.title.subtitle.text == SOURCE


def test_hotspot_map_hover_shows_data_text_as_text(located: pd.DataFrame) -> None:
    fig = country_charts.hotspot_map(located, country="Myanmar", period="2023", source=SOURCE)
    hover = list(fig.data[0].text)
    assert hover[0] == (
        "30 Dec 2023 · Sagaing region<br>0 deaths · Government of Myanmar (Burma) – NUG"
    )
    assert hover[1] == (
        "31 Dec 2023 · Shan &lt;b&gt;state&lt;/b&gt;<br>1,200 deaths · "
        "NUG – &lt;a href='x'&gt;KIO&lt;/a&gt;"
    )


def test_hotspot_map_of_no_events_is_an_empty_figure(located: pd.DataFrame) -> None:
    fig = country_charts.hotspot_map(located.iloc[:0], country="Mali", period="2023", source="")
    assert len(fig.data) == 0
