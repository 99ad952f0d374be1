"""The Vega-Lite specs of exports/vega.py, checked as data: no browser, no Streamlit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from exports import chart_specs, charts, vega


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": ["NER", "MLI"],
            "name": ["<b>Niger</b>", "Côte d'Ivoire"],
            "status": ["ok", "insufficient data"],
            "risk": [0.004, np.nan],
            "median_fatalities": [9_876.4, np.nan],
            "expected_fatalities": [12_345.4, np.nan],
            "fatalities_low": [10.0, np.nan],
            "fatalities_high": [23_456.0, np.nan],
        }
    )


def _map_rows(spec: dict) -> list[dict]:
    return spec["layer"][1]["transform"][0]["from"]["data"]["values"]


def _map(measure: str = "all", zoom: bool = False) -> dict:
    chart = chart_specs.risk_map(_table(), as_of="2020-12", measure=measure)
    return vega.risk_map(chart, zoom=zoom)


def test_map_rows_carry_formatted_text_and_no_nan() -> None:
    niger, mali = _map_rows(_map())
    assert niger == {
        "iso3": "NER",
        "name": "<b>Niger</b>",  # raw: Vega draws text and the tooltip handler escapes it
        "risk": 0.004,
        "risk_text": "<1%",
        "deaths_text": "9,876 (90% interval 10–23,456)",  # the median, as the table shows it
        "description": "<b>Niger</b>. Risk <1%. Deaths, 3 months (median): 9,876 "
        "(90% interval 10–23,456).",
    }
    assert mali["risk"] is None and mali["risk_text"] == chart_specs.NOT_ENOUGH_DATA
    json.dumps(_map(), allow_nan=False)  # valid JSON for the browser


def test_world_map_is_offline_and_zoom_fits_the_selection() -> None:
    world = _map("non_state")
    assert world["title"]["text"] == [  # wrapped for a 900 px chart
        "Risk: chance of at least one month with ≥ 25 deaths from non-state violence,",
        "Jan–Mar 2021",
    ]
    text = json.dumps(world, allow_nan=False)
    assert '"url"' not in text  # outlines inline: nothing fetched
    assert "fit" not in world["projection"]
    ids = {g.get("id") for g in world["data"]["values"]["objects"]["countries"]["geometries"]}
    assert "ATA" not in ids and {"NER", "MLI", "FRA"} <= ids
    zoomed = _map(zoom=True)
    corners = np.array(zoomed["projection"]["fit"]["geometry"]["coordinates"])
    assert corners[:, 0].min() < -12 and corners[:, 0].max() > 16  # Mali's west, Niger's east
    assert vega.SELECTION in json.dumps(zoomed["layer"][1]["params"])


def _series(measure: str) -> pd.DataFrame:
    """`risk.profile.fan_series` of `measure`: one history month, then one forecast month."""
    from risk.profile import history_columns

    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2020-12-01", "2021-01-01"]),
            **{column: [7, None] for column in history_columns(measure)},
            **{q: [None, float(k)] for k, q in enumerate(("q05", "q25", "q50", "q75", "q95"))},
        }
    )
    return frame


def _fan(series: pd.DataFrame, measure: str, reason: str = "") -> dict:
    chart = chart_specs.fan_chart(
        series, country="Mali", as_of="2020-12", measure=measure, reason=reason
    )
    return vega.fan_chart(chart)


def test_the_fan_chart_draws_the_measure_and_names_its_median() -> None:
    spec = _fan(_series("one_sided"), "one_sided")
    domain = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert domain == [
        "One-sided deaths",
        "Forecast median (one-sided violence against civilians)",
        "Forecast 50% interval",
        "Forecast 90% interval",
    ]
    assert spec["title"]["text"] == [
        "Mali: deaths per month from one-sided violence against civilians, and forecast,",
        "Dec 2020–Jan 2021",
    ]  # wrapped as the plotly title is, not cut at the right
    assert "subtitle" not in spec["title"]
    every = _fan(_series("all"), "all")
    lines = every["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert lines[:5] == [
        "State-based deaths",
        "Non-state deaths",
        "One-sided deaths",
        "All organised violence deaths (total, on top)",
        "Forecast median (all organised violence)",
    ]
    # The total is drawn after (over) its types, dashed.
    history = [
        layer for layer in every["layer"] if layer["encoding"].get("y", {}).get("field") == "deaths"
    ]
    assert [layer["data"]["values"][0]["line"] for layer in history] == lines[:4]
    assert history[-1]["mark"]["strokeDash"] == [6, 4]


def test_the_fan_chart_without_forecast_draws_history_and_says_why() -> None:
    history = _series("all").iloc[:1]
    spec = _fan(history, "all", reason="fewer than 12 months of data up to 2020-12")
    assert spec["title"]["text"] == [
        "Mali: deaths per month from all organised violence, Dec 2020"  # one month
    ]
    assert spec["title"]["subtitle"] == ["No forecast: fewer than 12 months of data up to 2020-12."]
    legend = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert not [name for name in legend if "Forecast" in name]
    assert not [layer for layer in spec["layer"] if layer["mark"]["type"] == "area"]
    # The y axis reaches 10 at least: a quiet month is not an axis with one tick.
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"domain": {"unionWith": [0, 10]}}
    json.dumps(spec, allow_nan=False)


def test_main_polygon_bounds_leave_out_overseas_parts() -> None:
    west, south, east, north = vega._bounds()["FRA"]
    assert -6 < west and east < 10 and 41 < south and north < 52  # no French Guiana
    assert {"NER", "USA", "RUS"} <= vega.outlined() and "ATA" not in vega.outlined()


def test_hotspot_map_survives_missing_counts() -> None:
    events = pd.DataFrame(
        {
            "longitude": [2.1, 13.2],
            "latitude": [13.5, 13.3],
            "fatalities_best": [np.nan, 1_200],
            "violence_type": ["one-sided", None],
            "date_start": pd.to_datetime(["2020-12-01", "2020-11-03"]),
            "admin1": [None, "Diffa"],
            "side_a": ["IS", "Government of Niger"],
            "side_b": ["Civilians", np.nan],
        }
    )
    spec = vega.hotspot_map(events, country="Niger", iso3="NER", period="Jan–Dec 2020")
    json.dumps(spec, allow_nan=False)
    points = spec["layer"][2]["data"]["values"]
    assert [p["deaths"] for p in points] == ["no data", "1,200"]
    assert points[1]["kind"] == "Other (source's own category)"
    assert spec["layer"][2]["encoding"]["color"]["scale"]["domain"] == [
        "One-sided",
        "Other (source's own category)",
    ]


def test_source_comparison_sets_two_lines_and_rings_disagreements() -> None:
    from risk.sources import compare_sources

    months = pd.date_range("2020-01-01", periods=3, freq="MS")
    panel = pd.DataFrame(
        {
            "iso3": "BFA",
            "month": months,
            "fatalities_ucdp": pd.array([94, 11, 40], "Int64"),
            "events_ucdp": pd.array([10, 2, 5], "Int64"),
            "fatalities_acled": pd.array([215, 116, 42], "Int64"),
            "events_acled": pd.array([30, 20, 9], "Int64"),
            "basis_acled": "events",
        }
    )
    table = compare_sources(panel, "BFA", "Burkina Faso").table
    spec = vega.source_comparison(table, country="Burkina Faso")
    rows = spec["data"]["values"]
    assert len(rows) == 6  # two lines, never one summed line
    acled = [r for r in rows if r["line"].startswith("ACLED")]
    assert [r["text"] for r in acled] == ["215", "116", "42"]
    assert [r["disagree"] for r in acled] == [True, True, False]
    assert spec["title"]["text"] == (
        "Burkina Faso: deaths per month, UCDP and ACLED, Jan 2020–Mar 2020"
    )
    ring = spec["layer"][1]["transform"]
    assert ring[0] == {"filter": "datum.disagree"}


def test_a_wrapped_title_gets_room_above_it() -> None:
    history, reason = _series("all").iloc[:1], "fewer than 12 months of data up to 2020-12"
    short = _fan(history, "all", reason=reason)
    long = vega.fan_chart(
        chart_specs.fan_chart(history, country="A country with a long name", as_of="2020-12",
                              measure="one_sided", reason=reason)
    )  # fmt: skip
    assert len(long["title"]["text"]) == 2 and len(short["title"]["text"]) == 1
    assert long["padding"]["top"] - short["padding"]["top"] == charts.TITLE_SIZE + 4
