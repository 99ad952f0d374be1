"""The country profile's tables on hand-written events, with the answers worked out by hand.

The events (as-of month June 2024; "recent" = Apr–Jun 2024, "before" = Jan–Mar 2024, the
12-month window = Jul 2023–Jun 2024):

| id  | date       | admin1  | type        | deaths | side A | side B    |
|-----|------------|---------|-------------|--------|--------|-----------|
| e1  | 2024-06-20 | North   | state-based | 10     | Gov    | Rebels    |
| e2  | 2024-05-02 | North␣  | state-based | 5      | Gov    | Rebels    |
| e3  | 2024-02-10 | North   | state-based | 3      | Gov    | Rebels    |
| e4  | 2024-04-15 | South   | one-sided   | 4      | Rebels | Civilians |
| e5  | 2024-01-05 | South   | one-sided   | 8      | Rebels | Civilians |
| e6  | 2024-03-01 | South   | state-based | 8      | Gov    | Rebels    |
| e7  | 2024-06-01 | –       | non-state   | 0      | Rebels | Militia   |
| e8  | 2024-07-03 | East    | state-based | 50     | Gov    | Rebels    | after as-of
| e9  | 2023-06-30 | West    | state-based | 100    | Gov    | Militia   | before the 12 months
| e10 | 2023-07-01 | West    | state-based | 2      | Gov    | Militia   |
| e11 | 2024-02-01 | East    | state-based | 0      | Gov    | Rebels    |
| e12 | 2024-04-01 | Centre  | state-based | 10     | Gov    | Rebels    |
| e13 | 2024-01-20 | Centre  | state-based | 9      | Gov    | Rebels    |
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk import drivers as driver_rules
from risk import profile
from risk.forecast import RiskForecast
from risk.signals import escalation_signals

AS_OF = "2024-06"
ROWS = [
    ("e1", "2024-06-20", "North", "state-based", 10, "Gov", "Rebels"),
    ("e2", "2024-05-02", "North ", "state-based", 5, "Gov", "Rebels"),
    ("e3", "2024-02-10", "North", "state-based", 3, "Gov", "Rebels"),
    ("e4", "2024-04-15", "South", "one-sided", 4, "Rebels", "Civilians"),
    ("e5", "2024-01-05", "South", "one-sided", 8, "Rebels", "Civilians"),
    ("e6", "2024-03-01", "South", "state-based", 8, "Gov", "Rebels"),
    ("e7", "2024-06-01", None, "non-state", 0, "Rebels", "Militia"),
    ("e8", "2024-07-03", "East", "state-based", 50, "Gov", "Rebels"),
    ("e9", "2023-06-30", "West", "state-based", 100, "Gov", "Militia"),
    ("e10", "2023-07-01", "West", "state-based", 2, "Gov", "Militia"),
    ("e11", "2024-02-01", "East", "state-based", 0, "Gov", "Rebels"),
    ("e12", "2024-04-01", "Centre", "state-based", 10, "Gov", "Rebels"),
    ("e13", "2024-01-20", "Centre", "state-based", 9, "Gov", "Rebels"),
]


@pytest.fixture
def events() -> pd.DataFrame:
    frame = pd.DataFrame(
        ROWS,
        columns=[
            "event_id",
            "date_start",
            "admin1",
            "violence_type",
            "fatalities_best",
            "side_a",
            "side_b",
        ],
    )
    frame["date_start"] = pd.to_datetime(frame["date_start"])
    frame["iso3"] = "MLI"
    frame["latitude"] = 14.0
    frame["longitude"] = -4.0
    frame["headline"] = "headline " + frame["event_id"]
    frame["source_category"] = "UCDP " + frame["violence_type"]
    return frame


def test_admin1_trend_compares_the_last_3_months_with_the_3_before(events: pd.DataFrame) -> None:
    table = profile.admin1_trend(events, AS_OF)
    # North 15 vs 3 deaths (+400%), Centre 10 vs 9 (+11%, steady), South 4 vs 16 (−75%);
    # "(not recorded)" 1 vs 0 events, no deaths: the arrow follows events; East 0 vs 1 event.
    # e8 (after June) and e9, e10 (before January) are outside both periods.
    assert table["admin1"].tolist() == ["North", "Centre", "South", "(not recorded)", "East"]
    assert table["events_recent"].tolist() == [2, 1, 1, 1, 0]
    assert table["deaths_recent"].tolist() == [15, 10, 4, 0, 0]
    assert table["events_before"].tolist() == [1, 1, 2, 0, 1]
    assert table["deaths_before"].tolist() == [3, 9, 16, 0, 0]
    assert table["trend"].tolist() == ["▲", "▶", "▼", "▲", "▼"]
    deaths = table["deaths_change_pct"]
    assert deaths.iloc[0] == pytest.approx(400.0)
    assert deaths.iloc[1] == pytest.approx(100 / 9)
    assert deaths.iloc[2] == pytest.approx(-75.0)
    assert deaths.iloc[3:].isna().all()  # no deaths before: no percentage, never a zero
    assert table["events_change_pct"].tolist()[:3] == [100.0, 0.0, -50.0]
    assert table["events_change_pct"].iloc[4] == -100.0


def test_admin1_trend_on_no_events_is_an_empty_table(events: pd.DataFrame) -> None:
    table = profile.admin1_trend(events.iloc[:0], AS_OF)
    assert table.empty
    assert "trend" in table.columns


def test_top_actors_leave_out_civilians_and_count_each_event_once(events: pd.DataFrame) -> None:
    actors = profile.top_actors(events, AS_OF)
    # Jul 2023–Jun 2024: Rebels in e1–e7, e11–e13 (10 events, 57 deaths); Gov in e1–e3, e6,
    # e10–e13 (8, 47); Militia in e7, e10 (2, 2). Civilians are not an armed actor.
    assert actors.to_dict("list") == {
        "actor": ["Rebels", "Gov", "Militia"],
        "events": [10, 8, 2],
        "deaths": [57, 47, 2],
    }


def test_top_dyads_keep_civilians(events: pd.DataFrame) -> None:
    dyads = profile.top_dyads(events, AS_OF)
    assert dyads.to_dict("list") == {
        "dyad": ["Gov – Rebels", "Rebels – Civilians", "Gov – Militia", "Rebels – Militia"],
        "events": [7, 2, 1, 1],
        "deaths": [45, 12, 2, 0],
        "violence": ["state-based", "one-sided", "state-based", "non-state"],
    }
    assert profile.top_dyads(events, AS_OF, n=2)["dyad"].tolist() == [
        "Gov – Rebels",
        "Rebels – Civilians",
    ]


def test_latest_events_are_newest_first_with_headline(events: pd.DataFrame) -> None:
    latest = profile.latest_events(events, n=3)
    assert latest["headline"].tolist() == ["headline e8", "headline e1", "headline e7"]
    assert [str(d) for d in latest["date"]] == ["2024-07-03", "2024-06-20", "2024-06-01"]
    assert latest["admin1"].tolist() == ["East", "North", "(not recorded)"]
    assert latest["fatalities_best"].tolist() == [50, 10, 0]
    assert latest["category"].tolist() == [f"UCDP {v}" for v in latest["violence_type"]]
    assert profile.unrecorded(latest) == []


def test_what_a_source_does_not_record_is_said_not_shown_as_none(events: pd.DataFrame) -> None:
    events["headline"] = None  # a release without headlines
    events.loc[events["event_id"] == "e1", "side_b"] = None
    latest = profile.latest_events(events, n=3)
    assert "headline" not in latest.columns
    assert profile.unrecorded(latest) == ["Headline (source)"]
    assert latest["side_b"].tolist() == ["Rebels", "(not recorded)", "Militia"]
    assert not latest.isna().any().any()
    # Sides: an unknown one is "(not recorded)"; events with neither side make no dyad.
    assert "Gov – (not recorded)" in profile.top_dyads(events, AS_OF)["dyad"].tolist()
    events[["side_a", "side_b"]] = None
    assert profile.top_dyads(events, AS_OF).empty


def test_map_events_are_the_located_events_of_the_last_12_months(events: pd.DataFrame) -> None:
    events.loc[events["event_id"] == "e10", "latitude"] = np.nan
    located = profile.map_events(events, AS_OF)
    # 11 events in Jul 2023–Jun 2024 (all but e8 and e9); e10 has no latitude.
    assert len(located) == 10
    assert located["admin1"].str.strip().eq(located["admin1"]).all()
    assert located["date_start"].is_monotonic_increasing


def _panel() -> pd.DataFrame:
    months = pd.date_range("2024-01-01", "2024-06-01", freq="MS")
    panel = pd.DataFrame(
        {
            "iso3": "MLI",
            "month": months,
            "fatalities_state_based": [3, 1, 4, 1, 5, 9],
            "fatalities_non_state": [0, 0, 0, 0, 0, 2],
            "fatalities_one_sided": [8, 0, 0, 4, 0, 0],
            "covered": True,
        }
    )
    panel["fatalities_total"] = panel.filter(like="fatalities_").sum(axis=1)
    panel.attrs["last_complete_month"] = AS_OF
    return panel


def _monthly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": ["MLI", "MLI", "NER"],
            "month": pd.to_datetime(["2024-07-01", "2024-08-01", "2024-07-01"]),
            "horizon": [1, 2, 1],
            "p_ge25": [0.2, 0.3, 0.1],
            "mean": [12.0, 14.0, 1.0],
            "q05": [0.0, 1.0, 0.0],
            "q25": [4.0, 5.0, 0.0],
            "q50": [9.0, 10.0, 0.0],
            "q75": [15.0, 18.0, 1.0],
            "q95": [30.0, 40.0, 3.0],
        }
    )


def test_fan_series_joins_history_and_forecast() -> None:
    series = profile.fan_series(_panel(), _monthly(), "MLI", AS_OF, "state_based", months=3)
    assert [f"{m:%Y-%m}" for m in series["month"]] == [
        "2024-04",
        "2024-05",
        "2024-06",
        "2024-07",
        "2024-08",
    ]
    assert "fatalities_one_sided" not in series.columns  # the measure's own history only
    assert series["fatalities_state_based"].tolist()[:3] == [1, 5, 9]
    assert series["fatalities_state_based"].iloc[3:].isna().all()
    assert series["q50"].iloc[:3].isna().all()
    assert series["q50"].iloc[3:].tolist() == [9.0, 10.0]  # Mali's rows only
    without = profile.fan_series(_panel(), None, "MLI", AS_OF, months=3)
    assert len(without) == 3
    # All organised violence: the total the forecast continues, then the three types it sums.
    assert list(without.columns[:5]) == [
        "month", "fatalities_total", "fatalities_state_based", "fatalities_non_state",
        "fatalities_one_sided",
    ]  # fmt: skip
    assert without["fatalities_one_sided"].tolist() == [4, 0, 0]
    assert without["fatalities_total"].tolist() == [5, 5, 11]  # Apr 1+0+4, May 5, Jun 9+2


def test_the_numbers_behind_the_chart_are_two_tables_without_empty_cells() -> None:
    series = profile.fan_series(_panel(), _monthly(), "MLI", AS_OF, "state_based", months=3)
    history, forecast = profile.chart_numbers(series)
    assert list(history.columns) == ["Month", "State-based deaths"]
    assert history["State-based deaths"].tolist() == [1, 5, 9]
    assert list(forecast.columns) == [
        "Month", "Months ahead", "P(≥ 25 deaths)", "Forecast average", "Forecast 5%",
        "Forecast 25%", "Forecast median", "Forecast 75%", "Forecast 95%",
    ]  # fmt: skip
    assert forecast["Months ahead"].tolist() == [1, 2]
    assert not history.isna().any().any() and not forecast.isna().any().any()
    _, none = profile.chart_numbers(profile.fan_series(_panel(), None, "MLI", AS_OF, months=3))
    assert none.empty  # no forecast: no forecast table


def test_driver_table_is_sorted_by_size_with_markers() -> None:
    drivers = pd.DataFrame(
        {
            "iso3": ["MLI", "MLI", "MLI", "NER"],
            "driver": ["recent_state_based", "neighbours", "earlier", "earlier"],
            "label": ["State-based", "Neighbours", "9 months before", "9 months before"],
            "kind": "level",
            "effect": [-0.3, 0.001, 0.6, 1.0],
            "deaths_effect": [-30.0, 0.1, 60.0, 100.0],
            "direction": ["lowers", "raises", "raises", "raises"],
            "text": ["fatalities down", "neighbours quiet", "12 serious months", "other"],
        }
    )
    changed = drivers.iloc[[0]].assign(kind="change", text="what moved")
    table = profile.driver_table(pd.concat([drivers, changed]), "MLI")
    assert table["text"].tolist() == ["12 serious months", "fatalities down", "neighbours quiet"]
    assert table["marker"].tolist() == ["▲ raises", "▼ lowers", "• negligible"]
    assert table["effect"].tolist() == [60.0, -30.0, 0.1]  # points of risk
    tiny = drivers.assign(effect=[-0.0003, 0.001, 0.6, 1.0], deaths_effect=[-0.01, 0.1, 6, 1])
    shown = profile.driver_table(tiny, "MLI")
    assert [f"{v:+.1f}" for v in shown["effect"]] == ["+60.0", "+0.1", "+0.0"]  # not "−0.0"
    assert [f"{v:+.1f}" for v in shown["deaths_effect"]] == ["+6.0", "+0.1", "+0.0"]
    change = profile.driver_table(pd.concat([drivers, changed]), "MLI", "change")
    assert change["text"].tolist() == ["what moved"]


def test_explanations_name_their_reference_and_what_the_shares_add_up_to() -> None:
    row = {"risk": 0.85, "reference_risk": 0.002, "reference_fatalities": 0.07}
    level = profile.explanation_sentence(row)
    assert level.startswith("Reference: a country with no recorded organised violence")
    assert "risk of <1%" in level and "risk of 85%" in level and "not a cause" in level
    change = profile.explanation_sentence({**row, "risk_last_month": 0.80}, "change")
    assert "from 80% to 85% (+5.0 points)" in change
    assert "month before had no forecast" in profile.explanation_sentence(
        {**row, "risk_last_month": float("nan")}, "change"
    )


def test_signal_table_says_the_signals_in_words(events: pd.DataFrame) -> None:
    signals = escalation_signals(events, AS_OF)
    table = profile.signal_table(signals, "MLI").set_index("Signal")["Value"]
    # June 2024: e1 and e7, 10 deaths; Mar–May: 1, 2 and 1 events (mean 4/3), 8, 14 and 5 deaths.
    assert table["Month"] == "Jun 2024"
    assert table["Events in the month"] == "2 (+50% on the 3-month mean)"
    assert table["Deaths in the month"] == "10 (+11% on the 3-month mean)"
    assert table["Surge in events"] == "no"
    assert profile.signal_table(signals, "ISL").empty


def test_default_country_is_the_highest_risk_candidate() -> None:
    table = pd.DataFrame(
        {
            "iso3": ["SDN", "MLI", "NER", "ISL"],
            "risk": [0.9, 0.8, 0.5, np.nan],
            "status": ["ok", "ok", "ok", "insufficient data"],
        }
    )
    assert profile.default_country(table, ["MLI", "NER", "ISL"]) == "MLI"
    assert profile.default_country(table, ["ISL"]) == "ISL"
    assert profile.default_country(None, ["NER", "MLI"]) == "MLI"
    assert profile.default_country(table, []) is None


def test_risk_sentence_and_surge_words() -> None:
    row = {
        "risk": 0.374,
        "median_fatalities": 801.5,
        "expected_fatalities": 1234.4,
        "fatalities_low": 88.0,
        "fatalities_high": 4321.0,
        "surge_events": True,
        "surge_fatalities": pd.NA,
    }
    assert profile.risk_sentence(row, "2024-11", "state_based") == (
        "37% chance of at least 25 deaths from state-based violence in at least one month of "
        "Dec 2024–Feb 2025. Deaths over those 3 months: median 802 (90% interval 88–4,321); "
        "average 1,234."
    )
    # Guinea, Dec 2020: the average (1.6, shown 2) above its interval 0–1 is explained.
    guinea = {**row, "median_fatalities": 0.0, "fatalities_low": 0.0, "fatalities_high": 1.0,
              "expected_fatalities": 1.6}  # fmt: skip
    assert profile.risk_sentence(guinea, "2020-12", "all").endswith(
        "median 0 (90% interval 0–1); average 2 (the average is above the 90% range because "
        "a few scenarios are far more violent than the rest)."
    )
    assert profile.surge_words(row) == "events"
    assert profile.surge_words({"surge_events": False, "surge_fatalities": np.True_}) == "deaths"


def test_build_profile_without_a_forecast_keeps_the_event_tables(events: pd.DataFrame) -> None:
    built = profile.build_profile(
        "MLI", "Mali", events=events, panel=_panel(), forecast=None, no_forecast_reason="too short"
    )
    assert (built.status, built.reason, built.as_of) == ("no forecast", "too short", AS_OF)
    assert built.admin1_recorded
    assert built.actors["actor"].iloc[0] == "Rebels"
    chosen = profile.build_profile(
        "MLI", "Mali", events=events, panel=_panel(), forecast=None, measure="one_sided"
    )
    assert chosen.events_total == 2
    assert chosen.dyads["dyad"].tolist() == ["Rebels – Civilians"]
    assert list(chosen.series.columns[:2]) == ["month", "fatalities_one_sided"]


def test_build_profile_says_when_no_source_covers_the_country(events: pd.DataFrame) -> None:
    table = pd.DataFrame(
        {"iso3": ["ISL"], "status": ["insufficient data"], "reason": ["fewer than 12 months"]}
    )
    drivers = pd.DataFrame(columns=list(driver_rules.COLUMNS))
    forecast = RiskForecast(table, _monthly().iloc[:0], drivers, AS_OF, "")
    built = profile.build_profile(
        "ISL", "Iceland", events=events.iloc[:0], panel=_panel(), forecast=forecast
    )
    assert built.status == "insufficient data"
    assert built.reason == "no source in the store covers Iceland in Jun 2024"
    assert built.events_total == 0
    assert not built.admin1_recorded
    assert built.drivers.empty and built.changes.empty
