"""The landing page's figure and tables: right countries and values, readable numbers, no raw names.

The risk table is written by hand: four countries with numbers chosen so that every format
(thousands separators, intervals, '<1%', a minus sign, flags, 'not enough data') shows up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exports import chart_specs, charts, tables

SOURCE = "Source: UCDP GED 21.1 (events to 2020-12)"
VINTAGE = "UCDP GED 21.1 (events to 2020-12)"


@pytest.fixture
def risk_table() -> pd.DataFrame:
    """Shaped like `RiskForecast.table`: Mali high, Niger rising, Ghana quiet, one without data."""
    frame = pd.DataFrame(
        {
            "iso3": ["NER", "MLI", "GHA", "SSD"],
            "name": ["Niger", "Mali", "Ghana", "South <b>Sudan</b>"],
            "risk": [0.303, 0.769, 0.003, np.nan],
            "median_fatalities": [40.0, 1100.2, 0.0, np.nan],
            "expected_fatalities": [91.1, 1234.4, 0.6, np.nan],
            "fatalities_low": [0.0, 890.2, 0.0, np.nan],
            "fatalities_high": [347.8, 2100.0, 1.0, np.nan],
            "risk_change": [0.038, -0.109, 0.0, np.nan],
            "trend": ["▶", "▼", "▶", ""],
            "new_risk": pd.array([False, False, True, pd.NA], dtype="boolean"),
            "surge_events": pd.array([True, False, False, pd.NA], dtype="boolean"),
            "surge_fatalities": pd.array([True, False, False, pd.NA], dtype="boolean"),
            "new_admin1_count": pd.array([0, 2, 0, pd.NA], dtype="Int64"),
            "drivers": [
                "one-sided violence 70% of deaths in the last 3 months; neighbour Mali quiet",
                "fatalities down 13% over 3 months (38 → 33); violence spread to 2 new areas",
                "",
                "",
            ],
            "status": ["ok", "ok", "ok", "insufficient data"],
            "reason": ["", "", "", "fewer than 12 months of data up to 2020-12"],
            "as_of": "2020-12",
            "data_vintage": VINTAGE,
        }
    )
    return frame


@pytest.fixture
def drivers() -> pd.DataFrame:
    """`RiskForecast.drivers`: Niger's largest share raises, Mali's lowers the risk; Niger's
    change since last month is larger still, but the table gives why this level."""
    return pd.DataFrame(
        {
            "iso3": ["NER", "NER", "MLI", "NER"],
            "measure": "all",
            "kind": ["level", "level", "level", "change"],
            "driver": ["recent_one_sided", "neighbours", "earlier", "recent_one_sided"],
            "label": ["One-sided deaths, last 3 months", "Neighbours", "9 months before", "x"],
            "text": [
                "70 deaths from one-sided violence in the last 3 months",
                "neighbour Mali: 0 deaths in the last 3 months",
                "38 deaths in months 4–12 before, 0 of those 9 with ≥ 25",
                "what moved since last month",
            ],
            "effect": [0.8, -0.1, -0.4, 0.9],
            "deaths_effect": [60.0, -2.0, -30.0, 70.0],
            "direction": ["raises", "lowers", "lowers", "raises"],
        }
    )


def test_numbers_have_separators_and_say_when_missing() -> None:
    assert charts.count(1234.4) == "1,234"
    assert charts.count(1234567) == "1,234,567"
    assert charts.count(np.nan) == "no data"
    assert charts.interval(890.2, 2100) == "890–2,100"
    assert charts.count_with_interval(1234.4, 890.2, 2100) == "1,234 (890–2,100)"
    assert charts.count_with_interval(None, 1, 2) == "no data"
    assert charts.percent(0.769) == "77%"
    assert charts.percent(0.003) == "<1%"  # not a false "0%"
    assert charts.percent(0.0) == "0%"
    assert charts.points(-0.109) == "−11 pts"  # a real minus sign
    assert charts.points(0.004) == "0 pts"
    assert charts.points(0.038) == "+4 pts"


def test_risk_is_defined_for_the_measure() -> None:
    assert charts.risk_definition("2020-12", "one_sided") == (
        "chance of at least one month with ≥ 25 deaths from one-sided violence against "
        "civilians, Jan–Mar 2021"
    )
    assert charts.risk_title("all") == (
        "Risk of ≥ 25 deaths from all organised violence in at least one of the next 3 months"
    )
    with pytest.raises(ValueError, match="unknown measure"):
        charts.risk_title("deaths")


def test_the_headline_names_the_median_and_explains_an_average_outside_its_interval() -> None:
    """Guinea, Dec 2020: median 0, 90% interval 0–1, average 1.6 (shown 2): outside the range
    as the reader sees it, so said why. Niger: average 91 inside 0–348, no note."""
    guinea = {
        "median_fatalities": 0.0,
        "fatalities_low": 0.0,
        "fatalities_high": 1.0,
        "expected_fatalities": 1.6,
    }
    assert charts.deaths_in_words(guinea) == "0 (90% interval 0–1)"
    assert charts.average_in_words(guinea) == (
        "average 2 (the average is above the 90% range because a few scenarios are far more "
        "violent than the rest)"
    )
    niger = {**guinea, "expected_fatalities": 91.1, "fatalities_high": 347.8}
    assert charts.average_in_words(niger) == "average 91"
    # Decided on the numbers as shown: 1.4 reads "1", inside "0–1", so nothing to explain.
    assert charts.average_in_words({**guinea, "expected_fatalities": 1.4}) == "average 1"
    below = {**guinea, "fatalities_low": 10.0, "fatalities_high": 50.0, "expected_fatalities": 9}
    assert "below the 90% range" in charts.average_in_words(below)
    assert charts.average_in_words({**guinea, "expected_fatalities": np.nan}) == "average no data"


def test_risk_period_names_the_three_forecast_months() -> None:
    assert charts.risk_period("2020-12") == "Jan–Mar 2021"
    assert charts.risk_period("2020-11") == "Dec 2020–Feb 2021"
    assert charts.month_label("2020-12") == "Dec 2020"


def _choropleth(table: pd.DataFrame, zoom: bool = False):
    chart = chart_specs.risk_map(table, as_of="2020-12", measure="all", source=SOURCE)
    return charts.risk_choropleth(chart, zoom=zoom)


def test_choropleth_colours_forecast_countries_by_risk(risk_table: pd.DataFrame) -> None:
    fig = _choropleth(risk_table)
    risk = fig.data[0]
    assert risk.name == "Risk"
    assert list(risk.locations) == ["NER", "MLI", "GHA"]
    assert risk.locationmode == "ISO-3"
    assert list(risk.z) == pytest.approx([0.303, 0.769, 0.003])
    assert (risk.zmin, risk.zmax) == (0, 1)
    assert risk.colorscale[0][1].upper() == charts.RISK_SCALE[0]
    assert risk.colorscale[-1][1].upper() == charts.RISK_SCALE[-1]
    # Hover shows the same formatted numbers as the table: the median and its interval.
    assert list(risk.customdata[1]) == ["Mali", "77%", "1,100 (90% interval 890–2,100)"]
    assert list(risk.customdata[2]) == ["Ghana", "&lt;1%", "0 (90% interval 0–1)"]
    assert "Deaths, 3 months (median)" in risk.hovertemplate


def test_choropleth_shows_countries_without_forecast_in_grey(risk_table: pd.DataFrame) -> None:
    fig = _choropleth(risk_table)
    missing = fig.data[1]
    assert missing.name == "Not enough data"
    assert list(missing.locations) == ["SSD"]
    assert {c for _, c in missing.colorscale} == {charts.NOT_ENOUGH_DATA_GREY}
    assert missing.showscale is False
    # Data text is escaped: plotly would otherwise render the tags.
    assert missing.customdata[0][0] == "South &lt;b&gt;Sudan&lt;/b&gt;"
    assert "not enough data" in fig.layout.annotations[0].text.lower()


def test_choropleth_title_source_fonts_and_offline_outlines(risk_table: pd.DataFrame) -> None:
    fig = _choropleth(risk_table)
    assert "Jan–Mar 2021" in fig.layout.title.text
    assert "≥ 25 deaths from all organised violence" in fig.layout.title.text
    assert fig.layout.title.subtitle.text == SOURCE
    assert fig.layout.font.size >= 14
    assert fig.layout.geo.scope == "world"
    assert fig.layout.geo.resolution == 110  # the outline file served from static/topojson
    assert fig.layout.geo.fitbounds in (None, False)
    assert charts.PLOTLY_CONFIG["topojsonURL"] == "/app/static/topojson/"
    zoomed = _choropleth(risk_table, zoom=True)
    assert zoomed.layout.geo.fitbounds == "locations"


def test_risk_table_is_ranked_with_human_labels(
    risk_table: pd.DataFrame, drivers: pd.DataFrame
) -> None:
    display = tables.risk_table(risk_table, drivers)
    assert list(display.columns) == list(tables.RISK_COLUMNS)
    raw = set(risk_table.columns)
    assert not [c for c in display.columns if c in raw or "_" in c]
    # Only forecast countries: no empty rank, risk or deaths (South Sudan is listed apart).
    assert list(display.index) == ["MLI", "NER", "GHA"]
    assert list(display["Country"]) == ["Mali", "Niger", "Ghana"]
    assert display["Rank"].tolist() == [1, 2, 3]
    assert display["Risk"].tolist() == [0.769, 0.303, 0.003]
    assert display["Deaths, 3 months (median)"].tolist() == [1100, 40, 0]
    assert display["90% interval"].tolist() == ["890–2,100", "0–348", "0–1"]
    assert display["Trend vs last month"].tolist() == ["▼ −11 pts", "▶ +4 pts", "▶ 0 pts"]
    assert not display.isna().any().any()


def test_risk_table_flags_and_drivers_in_words(
    risk_table: pd.DataFrame, drivers: pd.DataFrame
) -> None:
    display = tables.risk_table(risk_table, drivers)
    assert display.loc["NER", "Flags"] == "Events surge · Deaths surge"
    assert display.loc["MLI", "Flags"] == "Spread to 2 new areas"
    assert display.loc["GHA", "Flags"] == "none"
    assert display.loc["NER", "Top driver"] == (
        "Raises risk (+80 pts): 70 deaths from one-sided violence in the last 3 months"
    )
    assert display.loc["MLI", "Top driver"] == (
        "Lowers risk (−40 pts): 38 deaths in months 4–12 before, 0 of those 9 with ≥ 25"
    )
    assert display.loc["GHA", "Top driver"] == "No share of 0.5 pts or more"
    # Brief, for a table that must fit the screen: the group's name; the profile quotes data.
    brief = tables.risk_table(risk_table, drivers, brief=True)
    assert brief.loc["NER", "Top driver"] == "▲ +80 pts: One-sided deaths, last 3 months"
    assert brief.loc["MLI", "Top driver"] == "▼ −40 pts: 9 months before"
    # Without the drivers frame, the first sentence of the table's drivers column is used.
    plain = tables.risk_table(risk_table)
    assert plain.loc["NER", "Top driver"] == "One-sided violence 70% of deaths in the last 3 months"


def test_countries_without_a_forecast_are_listed_apart_with_the_reason(
    risk_table: pd.DataFrame,
) -> None:
    without = tables.no_forecast_table(risk_table)
    assert without.index.tolist() == ["SSD"]
    assert without.loc["SSD"].tolist() == [
        "South <b>Sudan</b>",
        "Not enough data: fewer than 12 months of data up to 2020-12",
    ]
    assert tables.no_forecast_table(risk_table[risk_table["status"] == "ok"]).empty


def test_the_app_shows_risk_as_the_exports_do_on_the_maps_colour(
    risk_table: pd.DataFrame,
) -> None:
    display = tables.risk_table(risk_table)
    html = tables.styled(display).to_html()
    assert ">77%<" in html and ">30%<" in html and "><1%<" in html
    assert ">0%<" not in html  # 0.3% is "<1%", as in the PDF, never a false 0%
    assert tables.risk_colour(0) == "rgb(255, 255, 204)"  # the scale's ends, as on the map
    assert tables.risk_colour(1) == "rgb(128, 0, 38)"
    assert tables.text_colour(tables.risk_colour(1)) == "#FFFFFF"
    assert tables.text_colour(tables.risk_colour(0.5)) == "#000000"


def test_headline_numbers(risk_table: pd.DataFrame) -> None:
    headline = tables.headline(risk_table, "one_sided")
    numbers = {h.label: h.value for h in headline}
    assert numbers == {
        "Countries with risk ≥ 50%": "1",
        "Countries with a surge flag": "2",  # Niger surges, Mali spread
        # Averages add up, medians do not: the sum is of averages and says so.
        "Deaths, sum of averages": "1,326",  # 91.1 + 1,234.4 + 0.6
        "Countries with insufficient data": "1",
    }
    assert all(h.help for h in headline)
    assert "deaths from one-sided violence against civilians" in headline[0].help
    assert headline[2].help.startswith("Deaths from one-sided violence against civilians")


def test_new_risk_table_keeps_only_readable_columns(
    risk_table: pd.DataFrame, drivers: pd.DataFrame
) -> None:
    quiet = risk_table[risk_table["iso3"] == "GHA"]
    shown = tables.new_risk_table(quiet, drivers)
    assert list(shown.columns) == list(tables.NEW_RISK_COLUMNS)
    assert shown.loc["GHA"].tolist() == ["Ghana", 0.003, 0, "0–1", "No share of 0.5 pts or more"]


def test_as_of_line_says_month_and_source() -> None:
    assert tables.as_of_line("2020-12", VINTAGE) == (
        "Forecast from data to Dec 2020 · UCDP GED 21.1 (events to 2020-12)"
    )
