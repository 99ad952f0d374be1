"""Escalation signals on hand-written events with hand-computed answers, and on Myanmar's GED.

Every synthetic event is dated the 15th of its month; the month under test is 2024-01 unless
said otherwise, and "history" is the months of data before it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import loaders
from risk.signals import (
    REQUIRED_COLUMNS,
    escalation_signals,
    latest_complete_month,
    signals_from_store,
)

AS_OF = "2024-01"


def ev(
    iso3: str,
    months: str | list[str],
    *,
    n: int = 1,
    deaths: int = 1,
    kind: str | None = "state-based",
    admin1: str | None = "North",
    side_a: str | None = "Government",
    side_b: str | None = "Rebels",
) -> list[dict]:
    """`n` events in each month of `months` (a "YYYY-MM" or a "YYYY-MM:YYYY-MM" range)."""
    if isinstance(months, str):
        first, _, last = months.partition(":")
        months = [str(m) for m in pd.period_range(first, last or first, freq="M")]
    row = {
        "iso3": iso3,
        "admin1": admin1,
        "violence_type": kind,
        "fatalities_best": deaths,
        "side_a": side_a,
        "side_b": side_b,
    }
    return [{**row, "date_start": pd.Timestamp(f"{m}-15")} for m in months for _ in range(n)]


def frame(*groups: list[dict]) -> pd.DataFrame:
    rows = [row for group in groups for row in group]
    events = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))
    return events.astype({"fatalities_best": "Int32", "date_start": "datetime64[ms]"})


def by_iso3(signals: pd.DataFrame) -> pd.DataFrame:
    return signals.set_index("iso3")


def test_surge_needs_double_the_3_month_mean_and_a_floor() -> None:
    """SRG 5 → 12 events (+140%) surges; LOW 1 → 2 (+100%) is below the floor of 10;
    EDG 5 → 10 is exactly twice the mean. DTH: 10 → 30 deaths (≥ 25, ≥ 2 × 10) surges in
    fatalities; SRG's 12 deaths are below the fatality floor of 25."""
    events = frame(
        ev("SRG", "2023-01:2023-12", n=5),
        ev("SRG", AS_OF, n=12),
        ev("LOW", "2023-01:2023-12"),
        ev("LOW", AS_OF, n=2),
        ev("EDG", "2023-01:2023-12", n=5),
        ev("EDG", AS_OF, n=10),
        ev("DTH", "2023-01:2023-12", deaths=10),
        ev("DTH", AS_OF, deaths=30),
    )
    s = by_iso3(escalation_signals(events, AS_OF))
    assert s.loc["SRG", ["events", "events_mean_3m", "events_change_pct"]].tolist() == [12, 5, 140]
    assert s.loc["SRG", "fatalities_change_pct"] == 140
    assert s["surge_events"].to_dict() == {"DTH": False, "EDG": True, "LOW": False, "SRG": True}
    assert s["surge_fatalities"].to_dict() == {
        "DTH": True,
        "EDG": False,
        "LOW": False,
        "SRG": False,
    }
    assert (s["status"] == "ok").all() and s["reason"].isna().all()
    assert s.loc["SRG", "month"] == pd.Timestamp("2024-01-01")


def test_fatality_record_counts_from_100_and_reports_1_and_3_year_highs() -> None:
    """HDX's rule. REC: 60 deaths a month, 200 in 2022-06 (19 months back), now 110: not twice
    the mean (120) but above every month of the past year and ≥ 100, so a surge; not a 3-year
    high. SUB: 40 a month, now 79: a 3-year high but below 100 and below 2 × 40."""
    events = frame(
        ev("REC", "2021-01:2023-12", deaths=60),
        ev("REC", "2022-06", deaths=140),
        ev("REC", AS_OF, deaths=110),
        ev("SUB", "2021-01:2023-12", deaths=40),
        ev("SUB", AS_OF, deaths=79),
    )
    s = by_iso3(escalation_signals(events, AS_OF))
    assert s.loc["REC", ["fatalities_max_12m", "fatalities_max_36m"]].tolist() == [60, 200]
    assert s["surge_fatalities"].to_dict() == {"REC": True, "SUB": False}
    assert s["fatalities_high_12m"].to_dict() == {"REC": True, "SUB": True}
    assert s["fatalities_high_36m"].to_dict() == {"REC": False, "SUB": True}
    assert s["history_months"].tolist() == [36, 36]


def test_new_admin1_are_units_without_violence_in_the_past_12_months() -> None:
    """B was last violent 19 months ago and E never: both new. C (10 months ago) is not, nor D,
    whose name differs only in spaces; the event without an admin1 is left out."""
    events = frame(
        ev("ADM", "2023-01:2024-01", admin1="Province A"),
        ev("ADM", ["2022-06", AS_OF], admin1="Province B"),
        ev("ADM", ["2023-03", AS_OF], admin1="Province C"),
        ev("ADM", "2023-05", admin1="Province D"),
        ev("ADM", AS_OF, admin1="  Province   D "),
        ev("ADM", AS_OF, admin1="Province E"),
        ev("ADM", AS_OF, admin1=None),
    )
    country = escalation_signals(events, AS_OF).iloc[0]
    assert country["events"] == 6
    assert country["new_admin1_count"] == 2
    assert country["new_admin1"] == ["Province B", "Province E"]

    units = escalation_signals(events, AS_OF, level="admin1")
    assert units["admin1"].tolist()[:5] == [f"Province {x}" for x in "ABCDE"]
    assert units["admin1"].isna().tolist() == [False] * 5 + [True]
    assert units["events"].sum() == 6
    newly = units["newly_violent"].tolist()
    assert newly[:5] == [False, True, False, False, True] and newly[5] is pd.NA


def test_new_actors_in_12_and_24_months_leave_out_civilians_and_protesters() -> None:
    """X was last seen 15 months ago: new within 12 months, not 24. Y was never seen. Civilians
    and protesters are not armed actors; " Rebels " is Rebels."""
    events = frame(
        ev("ACT", "2022-01:2024-01"),
        ev("ACT", ["2022-10", AS_OF], side_b="X"),
        ev("ACT", AS_OF, kind="one-sided", side_a="Y", side_b="Civilians"),
        ev("ACT", AS_OF, kind="one-sided", side_b="Protesters (Actland)"),
        ev("ACT", AS_OF, side_b=" Rebels "),
    )
    s = escalation_signals(events, AS_OF).iloc[0]
    assert s["new_actors_12m"] == ["X", "Y"] and s["new_actors_12m_count"] == 2
    assert s["new_actors_24m"] == ["Y"] and s["new_actors_24m_count"] == 1


def test_one_sided_share_rising_needs_15_points_and_10_events() -> None:
    """OSR: 2 of 26 trailing events one-sided (7.7%), now 3 of 10 (30%): rising. OSF: 9 of 9
    now, but fewer than 10 events. OSE: 2 of 20 (10%) then 5 of 20 (25%): exactly +15 points."""
    events = frame(
        ev("OSR", "2023-01:2023-12", n=2),
        ev("OSR", ["2023-03", "2023-07"], kind="one-sided"),
        ev("OSR", AS_OF, n=7),
        ev("OSR", AS_OF, n=3, kind="one-sided"),
        ev("OSF", "2023-01:2023-12", n=2),
        ev("OSF", AS_OF, n=9, kind="one-sided"),
        ev("OSE", "2023-01:2023-09", n=2),
        ev("OSE", ["2023-02", "2023-04"], kind="one-sided"),
        ev("OSE", AS_OF, n=15),
        ev("OSE", AS_OF, n=5, kind="one-sided"),
    )
    s = by_iso3(escalation_signals(events, AS_OF))
    assert s.loc["OSR", "one_sided_share"] == pytest.approx(0.3)
    assert s.loc["OSR", "one_sided_share_12m"] == pytest.approx(2 / 26)
    assert s["one_sided_rising"].to_dict() == {"OSE": True, "OSF": False, "OSR": True}


def test_demonstrations_never_count() -> None:
    """Rows without a violence type (ACLED demonstrations) add no events, deaths, units or
    actors, even with fatalities."""
    violent = ev("DEM", "2023-01:2024-01")
    protest = ev("DEM", AS_OF, n=20, deaths=5, kind=None, admin1="South", side_a="Protesters")
    s = escalation_signals(frame(violent, protest), AS_OF).iloc[0]
    assert s[["events", "fatalities", "new_admin1_count", "new_actors_12m_count"]].tolist() == [
        1,
        1,
        0,
        0,
    ]
    assert not s["surge_events"] and not s["surge_fatalities"]


def test_short_history_gives_insufficient_data_with_the_reason() -> None:
    """Data from 2023-06: at 2024-01 only 7 months precede the month. The month's own counts
    are shown, the baselines and flags are missing, never zero."""
    events = frame(ev("NEW", "2023-06:2023-12"), ev("NEW", AS_OF, n=3))
    s = escalation_signals(events, AS_OF).iloc[0]
    assert s["status"] == "insufficient data"
    assert s["reason"] == "only 7 months of data before 2024-01; 12 needed for the baseline"
    assert s["events"] == 3
    for column in ("events_mean_3m", "surge_events", "surge_fatalities", "one_sided_rising"):
        assert s[column] is pd.NA, column
    assert s["new_admin1"] is None

    after = escalation_signals(events, "2024-03").iloc[0]
    assert after["reason"] == "2024-03 is after the last month of data (2024-01)"
    assert after["events"] is pd.NA
    before = escalation_signals(events, "2023-01").iloc[0]
    assert before["reason"] == "2023-01 is before the first month of data (2023-06)"


def test_long_windows_are_missing_until_the_history_reaches_them() -> None:
    """20 months of history: the 12-month rules work; the 36-month maximum and the 24-month
    new actors are missing."""
    events = frame(ev("MID", "2022-05:2024-01"))
    s = escalation_signals(events, AS_OF).iloc[0]
    assert s["status"] == "ok" and s["history_months"] == 20
    assert s["events_max_12m"] == 1 and s["fatalities_high_12m"] is not pd.NA
    assert not s["fatalities_high_12m"]
    assert s["events_max_36m"] is pd.NA and s["fatalities_high_36m"] is pd.NA
    assert s["new_actors_12m_count"] == 0 and s["new_actors_24m_count"] is pd.NA


def test_coverage_makes_quiet_countries_real_zeros() -> None:
    """With the store's coverage a covered country without events is quiet (zeros, no flags);
    one outside the coverage has no data. NEW's history now starts in 2020."""
    events = frame(ev("NEW", "2023-06:2024-01"))
    whole = [{"first_month": "2020-01", "last_month": "2024-01", "countries": ["*"]}]
    s = by_iso3(escalation_signals(events, AS_OF, countries=["NEW", "QUI"], coverage=whole))
    assert s["status"].tolist() == ["ok", "ok"]
    assert s.loc["QUI", ["events", "fatalities", "new_admin1_count"]].tolist() == [0, 0, 0]
    assert not s.loc["QUI", "surge_events"] and s.loc["NEW", "history_months"] == 48

    subset = [{"first_month": "2020-01", "last_month": "2024-01", "countries": ["NEW"]}]
    s = by_iso3(escalation_signals(events, AS_OF, countries=["NEW", "QUI"], coverage=subset))
    assert s.loc["QUI", "reason"] == "no data for this country"
    assert s.loc["QUI", "events"] is pd.NA


def test_empty_events_give_insufficient_data_not_a_crash() -> None:
    empty = frame()
    s = escalation_signals(empty, AS_OF, countries=["MLI", "NER"])
    assert s["status"].tolist() == ["insufficient data"] * 2
    assert s["reason"].tolist() == ["no data for this country"] * 2
    assert s["events"].isna().all() and s["surge_events"].isna().all()

    units = escalation_signals(empty, countries="MLI", level="admin1")
    assert units[["iso3", "status"]].values.tolist() == [["MLI", "insufficient data"]]
    assert units["month"].isna().all()  # no data, so no latest month either
    assert escalation_signals(empty, AS_OF).empty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.drop(columns=["side_b", "admin1"]), r"required column\(s\): admin1, side_b"),
        (lambda e: e.assign(fatalities_best=[3, -2]), r"fatalities_best is negative in 1 rows"),
        (lambda e: e.assign(fatalities_best=[3, None]), "fatalities_best is missing"),
        (lambda e: e.assign(date_start=[pd.NaT, pd.NaT]), "date_start is missing in 2 rows"),
        (lambda e: e.assign(date_start=["2024-01-15", "soon"]), "not dates"),
        (lambda e: e.assign(iso3=[None, "MLI"]), "iso3 is missing"),
        (lambda e: e.assign(violence_type="riots"), r"violence_type holds \['riots'\]"),
    ],
)
def test_bad_input_raises_a_clear_error(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    events = change(frame(ev("MLI", ["2023-12", AS_OF])))
    with pytest.raises(ValueError, match=message):
        escalation_signals(events, AS_OF)


def test_bad_options_raise() -> None:
    events = frame(ev("MLI", AS_OF))
    with pytest.raises(ValueError, match="level must be one of country, admin1"):
        escalation_signals(events, AS_OF, level="district")
    with pytest.raises(ValueError, match="as_of 'last month' is not a month"):
        escalation_signals(events, "last month")


def test_latest_complete_month_from_a_panel_or_from_events() -> None:
    panel = pd.DataFrame({"iso3": ["MLI"]})
    panel.attrs["last_complete_month"] = "2023-12"
    assert latest_complete_month(panel) == pd.Period("2023-12", "M")
    panel.attrs["last_complete_month"] = None  # an empty panel
    assert latest_complete_month(panel) is None

    events = frame(ev("MLI", ["2024-02", "2024-03"]))
    assert latest_complete_month(events, today="2024-06-01") == pd.Period("2024-03", "M")
    assert latest_complete_month(events, today="2024-03-20") == pd.Period("2024-02", "M")
    assert latest_complete_month(frame()) is None
    with pytest.raises(ValueError, match="need a panel"):
        latest_complete_month(pd.DataFrame({"iso3": ["MLI"]}))
    # Without as_of, the signals are for that month (March 2024 is over by now).
    assert escalation_signals(events).attrs["as_of"] == "2024-03"


def test_myanmar_coup_and_operation_1027(shared_data: Path, tmp_path: Path) -> None:
    """UCDP GED 24.1 for Myanmar (1989-2023), figures checked by hand with pandas.

    * 2021-02, the coup of 1 February: 14 events against a 3-month mean of 0.67 (2, 0, 0) is an
      event surge; its 23 deaths are below the floor of 25. 13 of the 14 events are one-sided
      (93%, against 5 of 67 = 7.5% in the year before): the crackdown on protesters. Violence
      reaches 6 admin1 units quiet for a year, Yangon and Naypyidaw among them.
    * 2021-03: 115 events and 314 deaths (mean 7.7): both surge; 314 is the highest in 12 months
      but not in 36 (352 in January 2019, the Arakan Army's offensive in Rakhine).
    * 2021-04: the NUG (the opposition government's armed forces) and the MNDAA are new actors.
    * 2023-11, Operation 1027 (from 27 October): 512 deaths against a 3-month mean of 217.3
      (+136%), the highest in 3 years (previous maximum 364, April 2023): a fatality surge.
      Events (184 against 181.7) do not surge: the offensive made fighting deadlier, not more
      frequent, in UCDP's coding. No admin1 unit or actor is new: the Three Brotherhood
      Alliance fought in places and under names already active that year. By province: Shan
      state (124 deaths against a mean of 24.7), Kayah (109 against 4.7) and Rakhine, where
      the Arakan Army ended its ceasefire (22 events against 0.33), surge; Sagaing does not.
    """
    store = tmp_path / "store"
    loaders.import_file(shared_data / "ucdp_ged_v24_1_myanmar.csv.gz", data_dir=store)
    events = loaders.load_events(store)
    assert latest_complete_month(events) == pd.Period("2023-12", "M")

    def at(month: str) -> pd.Series:
        return escalation_signals(events, month).set_index("iso3").loc["MMR"]

    coup = at("2021-02")
    assert coup[["events", "fatalities", "one_sided_events"]].tolist() == [14, 23, 13]
    assert coup["surge_events"] and not coup["surge_fatalities"]
    assert coup["one_sided_rising"]
    assert coup["one_sided_share_12m"] == pytest.approx(5 / 67)
    assert coup["new_admin1_count"] == 6
    assert {"Yangon region", "Naypyidaw Union territory"} <= set(coup["new_admin1"])

    march = at("2021-03")
    assert march["surge_events"] and march["surge_fatalities"]
    assert march["fatalities_high_12m"] and not march["fatalities_high_36m"]
    assert march["fatalities_max_36m"] == 352
    assert at("2021-04")["new_actors_12m"] == ["MNDAA", "NUG"]

    op1027 = at("2023-11")
    assert op1027[["events", "fatalities", "fatalities_max_36m"]].tolist() == [184, 512, 364]
    assert op1027["fatalities_change_pct"] == pytest.approx(100 * (512 / (652 / 3) - 1))
    assert op1027["surge_fatalities"] and op1027["fatalities_high_36m"]
    assert not op1027["surge_events"] and not op1027["one_sided_rising"]
    assert op1027["new_admin1"] == [] and op1027["new_actors_12m"] == []

    provinces = escalation_signals(events, "2023-11", level="admin1").set_index("admin1")
    surging = provinces[provinces["surge_events"] & provinces["surge_fatalities"]]
    assert {"Shan state", "Kayah state", "Rakhine state"} <= set(surging.index)
    assert provinces.loc["Rakhine state", ["events", "events_mean_3m"]].tolist() == [
        22,
        pytest.approx(1 / 3),
    ]
    assert not provinces.loc["Sagaing region", "surge_fatalities"]

    from_store = signals_from_store(store, level="admin1")  # as_of: the store's last month
    assert from_store.attrs["as_of"] == "2023-12"
    pd.testing.assert_frame_equal(from_store, escalation_signals(events, "2023-12", level="admin1"))
