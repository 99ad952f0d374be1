"""Series over time: countries and region sums, gaps kept as gaps, smoothing, cumulative totals.

The panel is built by hand: Mali, Burkina Faso and Niger (the "Central Sahel" group), January
to June 2020. Every country is covered January to April; a second import covers only Mali in
May and June, so in those months Burkina Faso and Niger have no data and the region is a gap.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from risk import trends
from risk.panel import build_panel
from risk.selection import Selection

SAHEL = "group:Central Sahel"
SAHEL_NAME = "Central Sahel (Group)"
MONTHS = pd.date_range("2020-01-01", periods=6, freq="MS")
# Mali state-based deaths Jan … Jun, and 5 one-sided deaths in March; Burkina Faso 7 in February.
MALI_SB = [10, 20, 30, 40, 50, 60]


def _counts() -> pd.DataFrame:
    rows = [("MLI", m, "state-based", f, 1) for m, f in zip(MONTHS, MALI_SB, strict=True)]
    rows += [("MLI", MONTHS[2], "one-sided", 5, 2), ("BFA", MONTHS[1], "state-based", 7, 3)]
    counts = pd.DataFrame(rows, columns=["iso3", "month", "violence_type", "fatalities", "events"])
    return counts


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    coverage = [
        {"first_month": "2020-01", "last_month": "2020-04", "countries": ["*"]},
        {"first_month": "2020-05", "last_month": "2020-06", "countries": ["MLI"]},
    ]
    return build_panel(_counts(), coverage)


def _values(frame: pd.DataFrame, key: str, column: str = "value") -> list[float]:
    return frame.loc[frame["series"] == key, column].tolist()


def _same(actual: list[float], expected: list[float]) -> bool:
    return all(
        (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e)
        for a, e in zip(actual, expected, strict=True)
    )


def test_a_country_series_sums_the_chosen_violence_types(panel: pd.DataFrame) -> None:
    frame = trends.trend_frame(panel, ["MLI"])
    assert frame["month"].tolist() == list(MONTHS)
    assert _values(frame, "MLI") == [10, 20, 35, 40, 50, 60]  # one-sided 5 added in March
    state_based = trends.trend_frame(panel, ["MLI"], violence=("state-based",))
    assert _values(state_based, "MLI") == MALI_SB
    events = trends.trend_frame(panel, ["MLI", "BFA"], quantity="events")
    assert _values(events, "MLI") == [1, 1, 3, 1, 1, 1]
    assert _same(_values(events, "BFA"), [0, 3, 0, 0, math.nan, math.nan])


def test_a_region_is_the_sum_of_its_members_and_a_gap_when_one_is_not_covered(
    panel: pd.DataFrame,
) -> None:
    assert trends.members(SAHEL) == ["BFA", "MLI", "NER"]
    frame = trends.trend_frame(panel, [SAHEL, "MLI"])
    # Jan 10; Feb 20 + 7; Mar 30 + 5; Apr 40; May and June: Burkina Faso and Niger have no data.
    assert _same(_values(frame, SAHEL), [10, 27, 35, 40, math.nan, math.nan])
    assert _values(frame, SAHEL, "covered") == [True] * 4 + [False] * 2
    assert _values(frame, "MLI", "covered") == [True] * 6
    assert frame.loc[frame["series"] == SAHEL, "name"].iloc[0] == "Central Sahel (Group)"


def test_smoothing_is_a_trailing_mean_that_uses_months_before_the_period(
    panel: pd.DataFrame,
) -> None:
    mali = trends.trend_frame(panel, ["MLI"], violence=("state-based",), smoothing=3)
    assert _same(_values(mali, "MLI"), [math.nan, math.nan, 20, 30, 40, 50])
    cut = trends.trend_frame(
        panel, ["MLI"], violence=("state-based",), smoothing=3, start="2020-03"
    )
    assert cut["month"].min() == pd.Timestamp("2020-03-01")
    assert _values(cut, "MLI") == [20, 30, 40, 50]  # March = (10 + 20 + 30) / 3
    assert _values(cut, "MLI", "monthly") == [30, 40, 50, 60]
    # A window that holds a gap is a gap: Mar (10 + 27 + 35) / 3 = 24, Apr (27 + 35 + 40) / 3.
    region = trends.trend_frame(panel, [SAHEL], smoothing=3)
    assert _same(_values(region, SAHEL), [math.nan, math.nan, 24, 34, math.nan, math.nan])


def test_cumulative_totals_stop_at_a_gap(panel: pd.DataFrame) -> None:
    frame = trends.trend_frame(panel, [SAHEL, "MLI"], start="2020-02", cumulative_total=True)
    assert _same(_values(frame, SAHEL), [27, 62, 102, math.nan, math.nan])
    assert _values(frame, "MLI") == [20, 55, 95, 145, 205]
    monthly = pd.Series([np.nan, 1, 2, np.nan, 4])
    assert _same(trends.cumulative(monthly).tolist(), [math.nan, 1, 3, math.nan, math.nan])


def test_default_series_is_the_selection_or_the_deadliest_countries(panel: pd.DataFrame) -> None:
    # A region brings its members with deaths, most first (Mali 215, Burkina Faso 7; Niger
    # none), then the selection's countries; its total only when asked for.
    chosen = Selection(regions=(SAHEL,), countries=("SYR",))
    assert trends.default_series(panel, chosen) == ["MLI", "BFA", "SYR"]
    assert trends.default_series(panel, chosen, region_totals=True) == [SAHEL, "MLI", "BFA", "SYR"]
    assert trends.default_series(panel, Selection(regions=(SAHEL,), countries=("NER",))) == [
        "MLI",
        "BFA",
        "NER",
    ]
    # Mali 215 deaths, Burkina Faso 7; Niger and every other country none, so left out.
    assert trends.default_series(panel, Selection()) == ["MLI", "BFA"]
    assert trends.default_series(panel, Selection(start="2020-03")) == ["MLI"]
    assert trends.default_series(panel, Selection(measure="non_state")) == []


def test_members_are_ranked_and_those_not_drawn_are_named(panel: pd.DataFrame) -> None:
    sahel = Selection(regions=(SAHEL,))
    assert trends.ranked_members(panel, sahel).to_dict() == {"MLI": 215, "BFA": 7, "NER": 0}
    # Niger: no death (and no data in May and June), so named rather than drawn.
    assert trends.members_not_shown(panel, sahel, ["MLI", "BFA"]) == (
        "Also in Central Sahel (Group), not drawn (deaths Jan 2020 – Jun 2020): no deaths "
        "recorded: Niger."
    )
    march = Selection(regions=(SAHEL,), start="2020-03", end="2020-03")
    assert trends.members_not_shown(panel, march, ["NER"]) == (
        "Also in Central Sahel (Group), not drawn (deaths Mar 2020): Mali 35; no "
        "deaths recorded: Burkina Faso."
    )
    assert trends.members_not_shown(panel, sahel, ["MLI", "BFA", "NER"]) == ""
    assert trends.members_not_shown(panel, Selection(countries=("MLI",)), []) == ""


def test_the_period_shown_is_the_sidebars_or_the_last_ten_years() -> None:
    months = pd.date_range("2001-01-01", "2020-12-01", freq="MS")
    long = pd.DataFrame({"month": months})
    shown, why = trends.shown_period(long, Selection())
    assert (shown.start, shown.end) == ("2011-01", "2020-12")
    assert why == (
        "Shown: Jan 2011 – Dec 2020, the last 10 years of the data, which start in Jan 2001; "
        "set the Period in the sidebar for other months."
    )
    shown, why = trends.shown_period(long, Selection(), all_months=True)
    assert (shown.start, shown.end) == ("2001-01", "2020-12")
    assert why == "Shown: Jan 2001 – Dec 2020, all the months of the data."
    shown, why = trends.shown_period(long, Selection(start="2005-06"), all_months=True)
    assert (shown.start, shown.end) == ("2005-06", "2020-12")
    assert why == "Shown: Jun 2005 – Dec 2020, the period set in the sidebar."
    shown, _ = trends.shown_period(long, Selection(end="2003-02"))
    assert (shown.start, shown.end) == ("2001-01", "2003-02")
    # A country-only release to Dec 2020 beyond the world's Sep 2020: the default ends with the
    # world, so that other countries do not show months of gaps.
    mixed = long.copy()
    mixed.attrs["default_as_of"] = "2020-09"
    shown, why = trends.shown_period(mixed, Selection())
    assert (shown.start, shown.end) == ("2010-10", "2020-09")
    assert why == (
        "Shown: Oct 2010 – Sep 2020, the last 10 years of the data, which start in Jan 2001, to "
        "the month every country is covered to (some to Dec 2020); set the Period in the "
        "sidebar for other months."
    )
    short = pd.DataFrame({"month": months[-30:]})
    shown, why = trends.shown_period(short, Selection())
    assert (shown.start, why) == (
        "2018-07",
        "Shown: Jul 2018 – Dec 2020, all the months of the data.",
    )


def test_tables_and_labels_for_the_page(panel: pd.DataFrame) -> None:
    frame = trends.trend_frame(panel, ["MLI", SAHEL], smoothing=6, violence=("state-based",))
    table = trends.wide_table(frame)
    assert table.columns.tolist() == ["Month", "Mali", "Central Sahel (Group)"]
    assert table["Mali"].iloc[-1] == "35"  # (10 + … + 60) / 6; Jan … May too early: text
    # The region's 6-month mean: never complete (5 months from Jan; May and June no data), so
    # its column is text that says why each cell is missing.
    assert table["Central Sahel (Group)"].tolist() == ["unknown"] * 4 + ["no data"] * 2
    monthly = trends.wide_table(trends.trend_frame(panel, [SAHEL], smoothing=3))
    assert monthly[SAHEL_NAME].tolist() == ["unknown", "unknown", "24", "34", "no data", "no data"]
    gaps = trends.gap_months(trends.trend_frame(panel, [SAHEL, "MLI"]))
    assert gaps.to_dict("records") == [
        {
            "name": "Central Sahel (Group)",
            "months": 2,
            "first": pd.Timestamp("2020-05-01"),
            "last": pd.Timestamp("2020-06-01"),
        }
    ]
    assert trends.measure_label("fatalities", ("state-based",), smoothing=3) == (
        "State-based deaths per month, 3-month rolling mean"
    )
    assert trends.measure_label("events", ("state-based", "one-sided"), cumulative_total=True) == (
        "State-based and one-sided events, cumulative total"
    )
    assert trends.period_label(frame) == "Jan 2020 – Jun 2020"
    assert trends.series_label("SYR") == "Syria"


def test_bad_choices_are_refused(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="quantity"):
        trends.trend_frame(panel, ["MLI"], quantity="deaths")
    with pytest.raises(ValueError, match="smoothing"):
        trends.trend_frame(panel, ["MLI"], smoothing=4)
    with pytest.raises(ValueError, match="violence"):
        trends.trend_frame(panel, ["MLI"], violence=())
    assert trends.trend_frame(panel, []).empty
