"""One definition per chart: the Vega-Lite spec and the plotly figure say the same thing.

Both versions are read back (the spec as a dict, the figure's traces) and compared with each
other and with the definition's rows: titles, legend entries, colours, dashes, axis titles and
data values. Then the rough edges: legends list only what is drawn, no forecast is promised when
there is none, and wrapped titles fit their width.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from exports import chart_specs, charts, country_charts, vega
from risk.profile import history_columns

SOURCE = "Source: UCDP GED 21.1 (events to 2020-12). Article 99 forecast of deaths from all " + (
    "organised violence from data to 2020-12; generated 2026-12-02."
)


def _series(measure: str = "all", forecast: bool = True) -> pd.DataFrame:
    """`risk.profile.fan_series`: three history months (a gap in the second, state-based
    violence the whole total), then two forecast months."""
    history = {
        "fatalities_total": [40, None, 12],
        "fatalities_state_based": [40, None, 12],
        "fatalities_non_state": [0, None, 0],
        "fatalities_one_sided": [0, None, 0],
    }
    frame = pd.DataFrame(
        {
            "month": pd.date_range("2020-10-01", periods=5, freq="MS"),
            **{c: history[c] + [None, None] for c in history_columns(measure)},
            **{
                q: [None] * 3 + [float(k), float(k + 1)]
                for k, q in enumerate(chart_specs.QUANTILES)
            },
        }
    )
    frame[history_columns(measure)] = frame[history_columns(measure)].astype("Int64")
    return frame if forecast else frame.iloc[:3]


def _fan(series: pd.DataFrame, **options: str) -> chart_specs.FanChart:
    options = {"country": "Bosnia & Herzegovina", "as_of": "2020-12", "measure": "all"} | options
    return chart_specs.fan_chart(series, source=SOURCE, **options)


def _lines(text: str) -> list[str]:
    """A plotly title's lines as the reader sees them."""
    return [html.unescape(line) for line in text.split("<br>")] if text else []


def _legend(fig: go.Figure) -> list[go.Scatter]:
    """The traces plotly lists in its legend, in legend order."""
    shown = [t for t in fig.data if t.showlegend is not False]
    return sorted(shown, key=lambda t: t.legendrank)


def _colour(trace: go.Scatter) -> str:
    return trace.fillcolor or trace.line.color


def _vega_layers(spec: dict, field: str) -> list[dict]:
    return [
        layer for layer in spec["layer"] if layer["encoding"].get("y", {}).get("field") == field
    ]


@pytest.mark.parametrize("with_forecast", [True, False])
def test_the_fan_charts_two_renderers_say_the_same(with_forecast: bool) -> None:
    chart = _fan(_series(forecast=with_forecast), reason="fewer than 12 months of data")
    spec, fig = vega.fan_chart(chart), country_charts.fan_chart(chart)

    # Same title, wrapped alike; the plotly subtitle is the note, then the source line.
    assert spec["title"]["text"] == _lines(fig.layout.title.text)
    assert " ".join(spec["title"]["text"]) == chart.title
    subtitle = _lines(fig.layout.title.subtitle.text)
    assert spec["title"].get("subtitle", []) == subtitle[: len(subtitle) - len(charts.wrap(
        SOURCE, charts.FONT_SIZE))]  # fmt: skip
    assert " ".join(subtitle).endswith(SOURCE)

    # Same legend entries in the same order and colours: the definition's.
    colour = spec["layer"][0]["encoding"]["color"]["scale"]
    assert colour["domain"] == [t.name for t in _legend(fig)] == [e.label for e in chart.entries]
    assert (
        colour["range"] == [_colour(t) for t in _legend(fig)] == [e.colour for e in chart.entries]
    )

    # Same axis titles and number format.
    y = spec["layer"][0]["encoding"]["y"]
    assert y["title"] == fig.layout.yaxis.title.text == chart.y_title
    assert spec["layer"][0]["encoding"]["x"]["title"] == fig.layout.xaxis.title.text
    assert y["axis"]["format"] == fig.layout.yaxis.tickformat == chart_specs.NUMBER_FORMAT

    # Same values: each history line (gaps included) and each quantile of the forecast.
    traces = {t.name: t for t in fig.data}
    for entry, layer in zip(chart.drawn("history"), _vega_layers(spec, "deaths"), strict=True):
        rows = chart.history[chart.history["line"] == entry.label]
        values = layer["data"]["values"]
        assert [v["line"] for v in values] == [entry.label] * len(rows)
        assert [v["month"] for v in values] == [f"{m:%Y-%m-%d}" for m in rows["month"]]
        expected = rows["deaths"].to_numpy()
        vega_y = np.array([np.nan if v["deaths"] is None else v["deaths"] for v in values])
        np.testing.assert_array_equal(vega_y, expected)
        np.testing.assert_array_equal(np.asarray(traces[entry.label].y, dtype=float), expected)
        dash = layer["mark"].get("strokeDash", [])
        assert dash == list(entry.dash)
        assert traces[entry.label].line.dash == (
            ",".join(f"{d}px" for d in dash) if dash else "solid"
        )
    if with_forecast:
        (median,) = _vega_layers(spec, "q50")
        for q in chart_specs.QUANTILES:
            vega_q = [v[q] for v in median["data"]["values"]]
            assert vega_q == chart.forecast[q].tolist()
        for band, (low, high) in chart_specs.BAND_QUANTILES.items():
            assert list(traces[band].y) == chart.forecast[high].tolist()
            assert list(traces[f"{band} (low)"].y) == chart.forecast[low].tolist()
        assert list(traces[chart.drawn("median")[0].label].y) == chart.forecast["q50"].tolist()
    else:
        assert not _vega_layers(spec, "q50") and not _vega_layers(spec, "q05")

    # The as-of marker says the same.
    (text,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert text["data"]["values"][0]["label"] == fig.layout.annotations[0].text
    assert text["data"]["values"][0]["month"] == f"{fig.layout.shapes[0].x0:%Y-%m-%d}"


def test_the_maps_two_renderers_say_the_same() -> None:
    table = pd.DataFrame(
        {
            "iso3": ["NER", "MLI", "SSD"],
            "name": ["Niger", "Mali", "South Sudan"],
            "status": ["ok", "ok", "insufficient data"],
            "risk": [0.004, 0.77, np.nan],
            "median_fatalities": [9_876.4, 1100.0, np.nan],
            "fatalities_low": [10.0, 890.0, np.nan],
            "fatalities_high": [23_456.0, 2100.0, np.nan],
        }
    )
    chart = chart_specs.risk_map(table, as_of="2020-12", measure="all", source=SOURCE)
    spec, fig = vega.risk_map(chart), charts.risk_choropleth(chart)

    assert spec["title"]["text"] == _lines(fig.layout.title.text)
    assert " ".join(spec["title"]["text"]) == chart.title
    assert " ".join(_lines(fig.layout.title.subtitle.text)) == SOURCE
    assert fig.layout.annotations[0].text == chart.note

    colour = spec["layer"][1]["encoding"]["color"]
    risk, missing = fig.data
    assert colour["scale"]["range"] == [c for _, c in risk.colorscale] == list(chart.scale)
    assert colour["legend"]["values"] == list(risk.colorbar.tickvals) == list(chart.ticks)
    assert colour["legend"]["format"] == risk.colorbar.tickformat == chart.tick_format
    assert colour["legend"]["title"] == risk.colorbar.title.text == chart.legend_title
    assert colour["condition"]["value"] == missing.colorscale[0][1] == chart.no_forecast_colour
    assert spec["layer"][0]["mark"]["fill"] == fig.layout.geo.landcolor == chart.outside_colour

    rows = {r["iso3"]: r for r in spec["layer"][1]["transform"][0]["from"]["data"]["values"]}
    plotted = dict(zip(risk.locations, risk.z, strict=True))
    assert plotted == {iso3: r["risk"] for iso3, r in rows.items() if r["risk"] is not None}
    assert list(missing.locations) == [i for i, r in rows.items() if r["risk"] is None]
    # The hover says what the tooltip says: same labels, same texts.
    labels = [t["title"] for t in spec["layer"][1]["encoding"]["tooltip"]]
    assert all(f"{label}: " in risk.hovertemplate for label in labels[1:])
    fields = [t["field"] for t in spec["layer"][1]["encoding"]["tooltip"]]
    for iso3, hover in zip(risk.locations, risk.customdata, strict=True):
        assert [html.unescape(h) for h in hover] == [rows[iso3][f] for f in fields]


def test_legends_list_only_what_is_drawn() -> None:
    # No forecast, and a measure whose other types are missing: only the drawn line is listed.
    series = _series(forecast=False)
    series["fatalities_non_state"] = pd.array([None] * 3, "Int64")
    chart = _fan(series)
    assert [e.label for e in chart.entries] == [
        "State-based deaths",
        "One-sided deaths",
        "All organised violence deaths (total, on top)",
    ]
    spec, fig = vega.fan_chart(chart), country_charts.fan_chart(chart)
    drawn = {v["line"] for layer in _vega_layers(spec, "deaths") for v in layer["data"]["values"]}
    assert set(spec["layer"][0]["encoding"]["color"]["scale"]["domain"]) == drawn
    assert {t.name for t in _legend(fig)} == {t.name for t in fig.data} == drawn


def test_without_forecast_the_title_promises_none_and_the_note_says_why() -> None:
    chart = _fan(_series(forecast=False), reason="fewer than 12 months of data up to 2020-12")
    assert chart.title == (
        "Bosnia & Herzegovina: deaths per month from all organised violence, Oct 2020–Dec 2020"
    )
    assert not chart.title.rstrip().endswith((",", ";", ":"))
    assert chart.note == "No forecast: fewer than 12 months of data up to 2020-12."
    assert not chart.drawn("median") and not chart.drawn("band")
    nothing = _fan(_series(forecast=False).iloc[:0])
    assert nothing.title == "Bosnia & Herzegovina: deaths per month from all organised violence"
    assert nothing.note == (
        "No forecast is drawn for these months. No data source covers these months."
    )
    with_forecast = _fan(_series())
    assert ", and forecast, Oct 2020–Feb 2021" in with_forecast.title and not with_forecast.note


def test_the_total_is_drawn_over_its_types_and_the_legend_says_so() -> None:
    chart = _fan(_series())
    history = chart.drawn("history")
    assert history[-1].label == "All organised violence deaths (total, on top)"
    assert history[-1].dash and not any(e.dash for e in history[:-1])
    fig = country_charts.fan_chart(chart)
    names = [t.name for t in fig.data]
    assert names.index(history[-1].label) > names.index("State-based deaths")
    single = _fan(_series("one_sided"), measure="one_sided")
    assert [(e.label, e.dash) for e in single.drawn("history")] == [("One-sided deaths", ())]


@pytest.mark.parametrize("width", [500, 900, 1000])
@pytest.mark.parametrize("size", [charts.FONT_SIZE, charts.TITLE_SIZE])
def test_wrapped_lines_never_exceed_the_width(width: int, size: int) -> None:
    text = f"{SOURCE} Caveat: UCDP GED 21.1 is a third-party 'precise, reduced' subset. " * 2
    lines = charts.wrap(text, size, width)
    allowed = (width * (1 - charts.TITLE_X) - 20) / (charts.GLYPH_EM * size)
    assert len(lines) > 1 and all(len(line) <= allowed for line in lines)
    assert " ".join(lines) == " ".join(text.split())  # every word kept, in order
    assert not [line for line in lines if line.endswith(("Dec", "Jan"))]  # "Dec 2020" whole
    assert charts.wrap("Source: a\nModel: b", size, width) == ["Source: a", "Model: b"]
    assert charts.wrap("", size, width) == []


def test_the_top_margin_grows_with_the_wrapped_lines() -> None:
    short = charts.layout(go.Figure(), "Title", "Source: a")
    long = charts.layout(go.Figure(), "Title", SOURCE * 3)
    lines = len(_lines(long.layout.title.subtitle.text))
    assert lines >= 3
    assert long.layout.margin.t - short.layout.margin.t == (lines - 1) * charts.SUBTITLE_LINE
