"""UCDP and ACLED side by side, on real data: GED 21.1 (global) and ACLED's Burkina Faso and
Benin exports, plus the HDX HAPI aggregates of January 1997.

The expected numbers were computed by hand from the raw files with pandas:

    GED 21.1, country "Burkina Faso", Sep 2019 – Dec 2020: 1,359 deaths (best) in 16 months;
        Oct 2019: 94, Jul 2020: 11
    ACLED reduced export, Battles + Explosions/Remote violence + Violence against civilians
        + Riots: Mob violence,
        Sep 2019 – Dec 2020: 3,092 deaths (843 events; mob violence 3 deaths); Oct 2019: 215,
        Jul 2020: 116
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loaders
from risk import sources
from risk.forecast import risk_forecast
from risk.panel import country_month_panel
from tests.conftest import GLOBAL_GED, open_page, shared_data_dir

ACLED = "acled"
BURKINA = "acled_burkina_faso_2019_2022_reduced_columns.csv.gz"
BENIN = "acled_benin_2009_2022.csv"
HAPI_1997 = "hdx_hapi_conflict_event_global_1997-01.csv.gz"


@pytest.fixture(scope="module")
def two_source_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    shared = shared_data_dir()
    if not (shared / GLOBAL_GED).exists():
        pytest.skip(f"shared data not found at {shared}")
    store = tmp_path_factory.mktemp("two_sources") / "store"
    loaders.import_file(shared / GLOBAL_GED, data_dir=store)
    for name in (BURKINA, BENIN, HAPI_1997):
        loaders.import_file(shared / ACLED / name, source="acled", data_dir=store)
    risk_forecast(store)  # trained once here and kept in the store, not inside a page's run
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        yield store


def _month(panel: pd.DataFrame, iso3: str, month: str) -> pd.Series:
    rows = panel[(panel["iso3"] == iso3) & (panel["month"] == pd.Timestamp(month))]
    assert len(rows) == 1
    return rows.iloc[0]


def test_burkina_faso_ucdp_and_acled_side_by_side(two_source_store: Path) -> None:
    panel = sources.source_panel(two_source_store, countries=["BFA"])
    october = _month(panel, "BFA", "2019-10-01")
    assert (october["fatalities_ucdp"], october["fatalities_acled"]) == (94, 215)
    assert october["basis_acled"] == "events"
    # Before the ACLED export starts and outside the HAPI month: missing, never zero.
    assert pd.isna(_month(panel, "BFA", "2010-05-01")["fatalities_acled"])
    # After GED 21.1 ends, ACLED still speaks and UCDP does not.
    late = _month(panel, "BFA", "2022-03-01")
    assert pd.isna(late["fatalities_ucdp"]) and late["fatalities_acled"] > 0

    comparison = sources.compare_sources(panel, "BFA", "Burkina Faso")
    table = comparison.table
    assert len(table) == 16
    assert table["month"].iloc[0] == pd.Timestamp("2019-09-01")
    assert (int(table["ucdp"].sum()), int(table["acled"].sum())) == (1359, 3092)
    july = table[table["month"] == pd.Timestamp("2020-07-01")].iloc[0]
    assert (july["ucdp"], july["acled"], july["larger"]) == (11, 116, "ACLED")
    assert july["ratio"] == pytest.approx(116 / 11) and july["disagree"]
    assert int(table["disagree"].sum()) == 10  # Sep 2019 is a partial month (see below)
    assert "UCDP records 1,359 deaths and ACLED 3,092 (ACLED 2.3× the other)" in (
        comparison.summary
    )
    assert "In 10 of these months" in comparison.summary
    # ACLED's export starts on 24 Sep 2019: a week, marked and never called a disagreement.
    september = table[table["month"] == pd.Timestamp("2019-09-01")].iloc[0]
    assert september["partial"] and not september["disagree"]
    assert table["partial"].sum() == 1
    assert "1 month is covered only in part by one source (marked) and not judged" in (
        comparison.summary
    )


def test_each_acled_country_has_its_own_coverage(two_source_store: Path) -> None:
    """The Burkina Faso export ends on 23 Sep 2022, the Benin one on 28 Dec 2022."""
    from loaders import coverage
    from loaders.store import Store

    cover = coverage.by_country(Store(two_source_store).coverage(("acled",)), ["BFA", "BEN"])
    bfa, ben = (cover.set_index("iso3").loc[c] for c in ("BFA", "BEN"))
    assert str(bfa["last_day"].date()) == "2022-09-23" and bfa["last_month_partial"]
    assert str(bfa["first_day"].date()) == "2019-09-24" and bfa["first_month_partial"]
    assert str(ben["last_day"].date()) == "2022-12-28"
    panel = sources.source_panel(two_source_store, countries=["BFA", "BEN"])
    # After its own last day Burkina Faso has no ACLED figure, not a zero (Benin goes on).
    later = panel[(panel["iso3"] == "BFA") & (panel["month"] > pd.Timestamp("2022-09-01"))]
    assert later["fatalities_acled"].isna().all()
    assert _month(panel, "BEN", "2022-10-01")["fatalities_acled"] >= 0
    assert _month(panel, "BFA", "2022-09-01")["partial_acled"]
    assert not _month(panel, "BFA", "2022-08-01")["partial_acled"]


def test_a_partial_last_month_is_marked_not_flagged(shared_data: Path, store_dir: Path) -> None:
    """A hand-written GED 23.1 Burkina Faso file (to Dec 2022, 5 deaths in Sep 2022) beside
    ACLED's export, which ends on 23 Sep 2022 with many more deaths that month."""
    from tests.conftest import ged_rows, write_ged

    template = {**ged_rows()[0], "country": "Burkina Faso", "country_id": "439"}
    rows = [
        {**template, "id": "7001", "date_start": "2021-03-02", "date_end": "2021-03-02"},
        {**template, "id": "7002", "date_start": "2022-09-10", "date_end": "2022-09-10"},
    ]
    rows[1]["best"] = rows[1]["low"] = rows[1]["high"] = "5"
    ged = write_ged(store_dir.parent / "GEDEvent_v23_1_burkina.csv", rows)
    loaders.import_file(ged, data_dir=store_dir)
    loaders.import_file(shared_data / ACLED / BURKINA, source="acled", data_dir=store_dir)
    panel = sources.source_panel(store_dir, countries=["BFA"])
    comparison = sources.compare_sources(panel, "BFA", "Burkina Faso")
    last = comparison.table.iloc[-1]
    assert last["month"] == pd.Timestamp("2022-09-01")
    assert last["ucdp"] == 5 and last["acled"] >= 2 * 25  # a disagreement, were it whole
    assert last["partial"] and not last["disagree"]


def test_acled_never_enters_the_forecast_panel(two_source_store: Path) -> None:
    panel = country_month_panel(two_source_store)
    october = _month(panel, "BFA", "2019-10-01")
    assert october["fatalities_total"] == 94


def _hapi_political_violence(iso3: str) -> tuple[int, int, int]:
    """(political violence deaths, events, civilian-targeting deaths) of a country in the file."""
    path = shared_data_dir() / ACLED / HAPI_1997
    deaths = events = civilians = 0
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["location_code"] != iso3:
                continue
            if row["event_type"] == "political_violence":
                deaths += int(row["fatalities"] or 0)
                events += int(row["events"])
            elif row["event_type"] == "civilian_targeting":
                civilians += int(row["fatalities"] or 0)
    return deaths, events, civilians


def test_hapi_aggregates_speak_where_no_acled_events_do(two_source_store: Path) -> None:
    deaths, events, civilians = _hapi_political_violence("DZA")
    assert deaths > civilians > 0  # civilian targeting is part of political violence
    panel = sources.source_panel(two_source_store, countries=["DZA", "BFA"])
    algeria = _month(panel, "DZA", "1997-01-01")
    assert algeria["basis_acled"] == "aggregates"
    assert (algeria["fatalities_acled"], algeria["events_acled"]) == (deaths, events)
    assert algeria["fatalities_ucdp"] >= 0
    comparison = sources.compare_sources(panel, "DZA", "Algeria")
    assert comparison.table["basis_acled"].tolist() == ["aggregates"]
    assert len(comparison.table) == 1


def _panel(ucdp: list, acled: list) -> pd.DataFrame:
    months = pd.date_range("2024-01-01", periods=len(ucdp), freq="MS")
    return pd.DataFrame(
        {
            "iso3": "MLI",
            "month": months,
            "fatalities_ucdp": pd.array(ucdp, "Int64"),
            "events_ucdp": pd.array([1 if v is not None else None for v in ucdp], "Int64"),
            "fatalities_acled": pd.array(acled, "Int64"),
            "events_acled": pd.array([1 if v is not None else None for v in acled], "Int64"),
            "basis_acled": "events",
        }
    )


def test_disagreement_needs_twice_the_deaths_and_at_least_25() -> None:
    comparison = sources.compare_sources(
        _panel([0, 10, 30, 100, 40, None], [30, 0, 60, 150, 40, 5]), "MLI", "Mali"
    )
    table = comparison.table
    assert len(table) == 5  # the last month has no UCDP figure
    assert np.isinf(table["ratio"].iloc[0]) and table["disagree"].tolist() == [
        True,  # 0 against 30
        False,  # 10 against 0: below 25
        True,  # 30 against 60
        False,  # 1.5×
        False,  # equal
    ]
    assert table["larger"].tolist() == ["ACLED", "UCDP", "ACLED", "ACLED", ""]
    assert "UCDP records 180 deaths and ACLED 280 (ACLED 1.6× the other)" in comparison.summary


def test_a_missing_source_is_said() -> None:
    only_ucdp = sources.compare_sources(_panel([1, 2], [None, None]), "MLI", "Mali")
    assert only_ucdp.table.empty and only_ucdp.status == "ACLED does not cover Mali"
    apart = sources.compare_sources(_panel([1, None], [None, 2]), "MLI", "Mali")
    assert apart.status == "UCDP and ACLED cover Mali in different months, never the same"
    only_acled = sources.compare_sources(_panel([0, 0], [0, 7]), "MLI", "Mali")
    assert "(only ACLED records any)" in only_acled.summary


def test_acled_attribution_carries_the_access_date(two_source_store: Path) -> None:
    from loaders.store import Store

    records = Store(two_source_store).records(kinds=None)
    lines = sources.attribution(records)
    assert len(lines) == 3  # two exports and the HAPI aggregates; none for UCDP
    fetched = pd.Timestamp(records[0].provenance.fetched_at).strftime("%d %B %Y")
    assert all(line.startswith("Armed Conflict Location & Event Data (ACLED)") for line in lines)
    assert any(f"accessed {fetched}" in line for line in lines)


def test_profile_page_sets_the_sources_side_by_side(two_source_store: Path) -> None:
    at = open_page("app_pages/country.py", iso3="BFA", source="acled", section="UCDP and ACLED")
    markdown = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert "UCDP records 1,359 deaths and ACLED 3,092" in markdown
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)  # unescaped
    assert "Armed Conflict Location & Event Data (ACLED)" in captions
    assert "the risk, drivers and escalation signals are UCDP GED's" in captions
    comparison = at.dataframe[-1].value
    assert comparison["UCDP deaths"].sum() == 1_359 and comparison["ACLED deaths"].sum() == 3_092
    at = open_page("app_pages/country.py", iso3="BFA", source="acled", section="Latest events")
    latest = at.dataframe[-1].value
    assert latest["Date"].max() == pd.Timestamp("2022-09-23").date()
    assert "Category (source)" in latest.columns
    assert latest["Category (source)"].str.contains(":").all()


def test_compare_page_counts_the_chosen_source(two_source_store: Path) -> None:
    at = open_page("app_pages/compare.py", country="BFA", source="acled")
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)  # unescaped
    assert "Deaths are ACLED's, by UCDP violence type" in captions
    assert "Armed Conflict Location & Event Data (ACLED)" in captions
    table = at.dataframe[-1].value
    assert table["Month"].max() >= pd.Timestamp("2022-09-01")


def test_data_page_lists_aggregates_apart_from_events(two_source_store: Path) -> None:
    from loaders.store import Store

    records = Store(two_source_store).records(kinds=None)
    events = [r for r in records if r.kind == "events"]
    rows = {
        source: sum(r.provenance.rows for r in events if r.provenance.source == source)
        for source in ("ucdp", "acled")
    }
    at = open_page("app_pages/data.py")
    # One figure per source, never their sum; the aggregates count no events.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "ACLED events in use": f"{rows['acled']:,}",
        "UCDP GED events in use": f"{rows['ucdp']:,}",
    }
    listed = at.dataframe[0].value
    kinds = dict(zip(listed["Source"], listed["Kind"], strict=True))
    assert kinds["ACLED via HDX HAPI (aggregates), Jan 1997"] == "aggregates"
    assert sorted(kinds.values()).count("events") == 3
    texts = " ".join(t.value for t in at.text)
    assert texts.count("Armed Conflict Location & Event Data (ACLED)") == 3
