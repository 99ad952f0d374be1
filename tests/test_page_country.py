"""AppTest of the country profile on real data: UCDP GED 24.1 for Myanmar (admin1, actors,
headlines). The expected numbers were checked by hand with pandas on the raw CSV:

    g = pd.read_csv("ucdp_ged_v24_1_myanmar.csv.gz"); d = pd.to_datetime(g.date_start)
    newest day 2023-12-31: ids 509060 (Mandalay region) and 508214 (Sagaing region)
    Oct–Dec 2023 vs Jul–Sep 2023 by adm_1: Shan state 80 events / 286 deaths vs 25 / 39,
        Sagaing region 143 / 211 vs 189 / 271
    2023, side_a or side_b: Government of Myanmar (Burma) 2,072 events, 3,109 deaths; NUG 1,263;
        dyads: Government – NUG 1,251 events (1,413 deaths), Government – Civilians 269 (596)
    December 2023: 121 events; Sep–Nov 168, 192, 184 (mean 181.3): −33%; Shan state 23 events
        and 114 deaths, the most of any admin1
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import loaders
from loaders import reference
from risk import presence as un_presence
from risk.drivers import REFERENCE
from risk.forecast import risk_forecast
from risk.selection import Selection
from tests.conftest import REPO, ged_rows, shared_data_dir, write_ged
from ui.text import escape_markdown

MYANMAR = "ucdp_ged_v24_1_myanmar.csv.gz"
PAGE = str(REPO / "app_pages" / "country.py")
NEWEST_HEADLINE = "Myanmar Junta Loses Town, Dozens of Troops in Five Days of Resistance Attacks"


@pytest.fixture(scope="module")
def myanmar_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = shared_data_dir() / MYANMAR
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    store = tmp_path_factory.mktemp("myanmar") / "store"
    loaders.import_file(path, data_dir=store)
    # Fit once here (the store caches the model), so the page's run stays within its timeout
    # on a busy machine; the page then forecasts from the cached fit.
    risk_forecast(store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        yield store


def _page(
    iso3: str | None = None, selection: Selection | None = None, section: str | None = None
) -> AppTest:
    """The profile as a link opens it: `?iso3=…&section=…` (no section: the first tab)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    if iso3 is not None:
        at.query_params["iso3"] = iso3
    if section is not None:
        at.query_params["section"] = section
    if selection is not None:
        at.session_state["selection"] = selection
    return at.run()


def _charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of the page's charts (the fan chart and the hotspot map)."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def _frame(at: AppTest, column: str):
    """The first dataframe element with this column (tables are found by what they show)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame
    raise AssertionError(f"no table with a column {column!r}")


def _table(at: AppTest, column: str):
    """The first dataframe with this column, as a DataFrame."""
    return _frame(at, column).value


def test_profile_of_myanmar_from_the_link(myanmar_store: Path) -> None:
    at = _page("MMR")
    assert not at.exception
    assert at.header[0].value == "Myanmar"
    assert at.selectbox[0].value == "MMR"
    assert at.query_params["iso3"] == "MMR"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Risk, next 3 months"] == "100%"
    assert metrics["Surge flags"] == "none"  # December 2023 fell from November (checked above)
    assert "in at least one month of Jan–Mar 2024" in at.caption[0].value
    assert "deaths from all organised violence" in at.caption[0].value
    # One statistic per number: the headline is the median, as the chart's line; the sentence
    # under it names the median, its interval and the average.
    row = risk_forecast(myanmar_store, measure="all").table.set_index("iso3").loc["MMR"]
    assert metrics["Deaths, 3 months (median)"] == f"{round(row['median_fatalities']):,}"
    assert f"median {round(row['median_fatalities']):,} (90% interval" in at.caption[0].value
    assert f"average {round(row['expected_fatalities']):,}" in at.caption[0].value
    assert at.caption[0].value.endswith(" Forecast from data to Dec 2023.")

    # The first tab, escalation signals, is open; the other sections are not drawn.
    assert [tab.label for tab in at.tabs] == [
        "Signals",
        "Where",
        "Who",
        "Latest events",
        "UCDP and ACLED",
    ]
    signals = _table(at, "Signal")
    values = signals.set_index("Signal")["Value"]
    assert values["Events in the month"] == "121 (-33% on the 3-month mean)"
    by_unit = _table(at, "Newly violent").set_index("Admin1")
    assert by_unit.index[0] == "Shan state"  # December 2023: 23 events, 114 deaths
    assert by_unit.loc["Shan state", ["Events", "Deaths"]].tolist() == [23, 114]
    shown = {column for frame in at.dataframe for column in frame.value.columns}
    assert not shown & {"Headline (source)", "Actor", "Dyad", "Trend"}

    (fan,) = _charts(at)  # the hotspot map is in the "Where" tab
    assert " ".join(fan["title"]["text"]).startswith(
        "Myanmar: deaths per month from all organised violence, and forecast, Jan 2021–"
    )
    history = next(layer for layer in fan["layer"] if layer["mark"]["type"] == "line")
    names = history["encoding"]["color"]["scale"]["domain"]
    assert {
        "All organised violence deaths (total, on top)",
        "State-based deaths",
        "Forecast 90% interval",
        "Forecast median (all organised violence)",
    } <= set(names)
    assert {row["line"] for row in history["data"]["values"]} <= set(names)

    assert any("Sundberg" in t.value for t in at.text)
    assert at.caption[-1].value == r"Data: UCDP GED 24\.1, events to Dec 2023"


def test_why_this_level_and_why_it_changed_give_the_forecasts_shares(myanmar_store: Path) -> None:
    """Each explanation: its reference in words, then its shares, largest first, in points of
    risk; they add up to the risk minus the reference's (level) or last month's (change)."""
    at = _page("MMR")
    assert not at.exception
    forecast = risk_forecast(myanmar_store, measure="all")
    row = forecast.table.set_index("iso3").loc["MMR"]
    headings = [h.value for h in at.subheader]
    assert headings.index("Why this level") < headings.index("Why it changed since last month")
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith(f"Reference: {REFERENCE}, with a risk of ") for c in captions)
    before, now = f"{row['risk_last_month']:.0%}", f"{row['risk']:.0%}"
    assert any(f"the risk moved from {before} to {now}" in c for c in captions)
    tables = [f.value for f in at.dataframe if "Share of the risk (points)" in f.value.columns]
    assert len(tables) == 2  # why this level, then why it changed
    totals = {"level": row["risk"] - row["reference_risk"], "change": row["risk_change"]}
    for table, (kind, total) in zip(tables, totals.items(), strict=True):
        shares = forecast.drivers[
            (forecast.drivers["iso3"] == "MMR") & (forecast.drivers["kind"] == kind)
        ]
        shares = shares.iloc[np.argsort(-shares["effect"].abs().to_numpy(), kind="stable")]
        assert table["What the data say"].tolist() == shares["text"].tolist(), kind
        # Exact, but for shares under 0.05 points: shown as 0.0 (never "−0.0").
        points = table["Share of the risk (points)"]
        assert points.tolist() == pytest.approx((shares["effect"] * 100).tolist(), abs=0.05), kind
        assert points.sum() == pytest.approx(total * 100, abs=0.05 * len(points)), kind
    level = tables[0]
    assert set(level["Direction"]) <= {"▲ raises", "• negligible"}  # the model only rises
    assert "deaths from state-based violence in the last 3 months" in " ".join(
        level["What the data say"]
    )


def test_each_section_opens_from_its_link(myanmar_store: Path) -> None:
    latest_tab = _page("MMR", section="Latest events")
    assert not latest_tab.exception
    latest = _table(latest_tab, "Headline (source)")
    assert len(latest) == 20
    first = latest.iloc[0]
    assert str(first["Date"]) == "2023-12-31"
    assert first["Admin1"] == "Mandalay region"
    assert first["Headline (source)"] == NEWEST_HEADLINE
    assert not any("Signal" in frame.value.columns for frame in latest_tab.dataframe)

    where = _page("MMR", section="Where")
    admin1 = _table(where, "Trend").set_index("Admin1")
    assert list(admin1.index[:2]) == ["Shan state", "Sagaing region"]
    assert admin1.loc["Shan state"].iloc[1:5].tolist() == [80, 286, 25, 39]
    assert admin1.loc["Sagaing region"].iloc[1:5].tolist() == [143, 211, 189, 271]
    assert admin1.loc["Shan state", "Trend"] == "▲"
    assert "(not recorded)" in admin1.index  # 453 events without adm_1 are kept, not dropped
    _, hotspots = _charts(where)
    outlines = hotspots["layer"][1]["data"]  # offline: the topojson is inside the spec
    assert outlines["format"] == {"type": "topojson", "feature": "countries"}
    assert "fit" in hotspots["projection"]  # the view fits Myanmar and its events

    who = _page("MMR", section="Who")
    actors = _table(who, "Actor")
    assert actors.iloc[0].tolist() == ["Government of Myanmar (Burma)", 2072, 3109]
    assert actors.iloc[1].tolist() == ["NUG", 1263, 1428]
    assert "Civilians" not in set(actors["Actor"])
    dyads = _table(who, "Dyad").set_index("Dyad")
    assert dyads.loc["Government of Myanmar (Burma) – NUG", "Events"] == 1251
    assert dyads.loc["Government of Myanmar (Burma) – Civilians"].tolist()[:2] == [269, 596]

    sources = _page("MMR", section="UCDP and ACLED")
    assert any("ACLED is not in the store" in c.value for c in sources.caption)


def test_numbers_behind_the_chart_are_drawn_when_opened(myanmar_store: Path) -> None:
    at = _page("MMR")
    assert not any("Month" in frame.value.columns for frame in at.dataframe)
    at.session_state["profile_numbers"] = True  # the expander, opened
    at.run()
    # Two tables, so that neither has empty cells for what the other holds.
    history, forecast = (f.value for f in at.dataframe if "Month" in f.value.columns)
    assert len(history) == 36  # to Dec 2023
    assert history["Month"].min() == pd.Timestamp("2021-01-01")
    assert len(forecast) == 15 and forecast["Months ahead"].tolist() == list(range(1, 16))
    assert forecast["Month"].max() == pd.Timestamp("2025-03-01")
    assert not history.isna().any().any() and not forecast.isna().any().any()


def test_a_measure_in_the_link_shows_its_forecast_and_history(myanmar_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["measure"] = "one_sided"
    at.query_params["iso3"] = "MMR"
    at.run()
    at.switch_page("app_pages/country.py").run()
    assert not at.exception
    one_sided = risk_forecast(myanmar_store, measure="one_sided")
    row = one_sided.table.set_index("iso3").loc["MMR"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Risk, next 3 months"] == f"{row['risk']:.0%}"
    assert metrics["Deaths, 3 months (median)"] == f"{round(row['median_fatalities']):,}"
    sentence = next(c.value for c in at.caption if "chance of at least" in c.value)
    assert "25 deaths from one-sided violence against civilians" in sentence
    (fan,) = _charts(at)
    assert "from one-sided violence against civilians" in " ".join(fan["title"]["text"])
    lines = fan["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert lines[:2] == [
        "One-sided deaths",
        "Forecast median (one-sided violence against civilians)",
    ]
    median = next(layer for layer in fan["layer"] if "strokeDash" in layer["mark"])
    monthly = one_sided.monthly[one_sided.monthly["iso3"] == "MMR"]
    assert [p["q50"] for p in median["data"]["values"]] == monthly["q50"].tolist()


def test_violence_filter_narrows_the_event_tables(myanmar_store: Path) -> None:
    at = _page("MMR", Selection(measure="one_sided"), section="Who")
    assert not at.exception
    dyads = _table(at, "Dyad")
    assert dyads.iloc[0].tolist() == [
        "Government of Myanmar (Burma) – Civilians",
        269,
        596,
        "one-sided",
    ]
    assert any("count one-sided violence against civilians" in c.value for c in at.caption)
    latest = _page("MMR", Selection(measure="one_sided"), section="Latest events")
    assert set(_table(latest, "Headline (source)")["Violence type"]) == {"one-sided"}


def test_choosing_a_country_writes_it_to_the_link(myanmar_store: Path) -> None:
    at = _page("MMR")
    at.selectbox[0].set_value("ISL").run()
    assert not at.exception
    assert at.header[0].value == "Iceland"
    assert at.query_params["iso3"] == "ISL"


def test_country_without_data_says_so(myanmar_store: Path) -> None:
    at = _page("ISL")
    assert not at.exception
    assert at.header[0].value == "Iceland"
    infos = [i.value for i in at.info]
    assert infos[0] == "No forecast for Iceland: no source in the store covers Iceland in Dec 2023."
    assert infos[1].startswith("No events of all organised violence are recorded for Iceland")
    assert not at.dataframe
    assert not at.get("plotly_chart") and not at.get("vega_lite_chart")
    assert any("Sundberg" in t.value for t in at.text)  # the footer still cites the data


def test_unknown_country_in_the_link_warns_and_offers_the_choice(myanmar_store: Path) -> None:
    at = _page("XYZ")
    assert not at.exception
    assert "unknown country code (XYZ)" in at.warning[0].value
    # Falls back to the highest-risk country, the only one with a forecast in this store.
    assert at.selectbox[0].value == "MMR"
    assert at.query_params["iso3"] == "MMR"
    assert at.header[0].value == "Myanmar"


def test_source_without_admin1_and_without_forecast(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [row for row in ged_rows() if row["country"] == "Mali"]
    for row in rows:
        row["adm_1"] = ""
    rows[0]["source_headline"] = "[click](http://evil) **bold** <b>x</b>"
    loaders.import_file(write_ged(tmp_path / "GEDEvent_v25_1.csv", rows), data_dir=store_dir)
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    at = _page("MLI", section="Where")
    assert not at.exception
    infos = [i.value for i in at.info]
    assert infos[0].startswith("No forecast for Mali: not enough history to train")
    assert "Admin1 not recorded in this source: no table of admin1 units." in infos
    at = _page("MLI", section="Latest events")
    latest = _table(at, "Headline (source)")
    # Data text stays text: shown as typed, never rendered as a link or bold.
    assert latest.iloc[-1]["Headline (source)"] == "[click](http://evil) **bold** <b>x</b>"
    # A column this source never fills is left out, and said to be.
    assert "Admin1" not in latest.columns
    assert "Not in this source's release, so not shown: Admin1." in [c.value for c in at.caption]


def test_empty_store_points_to_the_data_page(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    at = _page("MMR")
    assert not at.exception
    assert at.info[0].value == "The store is empty: load data on the Data page first."
    assert not at.selectbox


def test_a_country_only_release_extends_its_profile(
    mixed_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GED 21.1 (the world to Dec 2020) and GED 24.1 Myanmar: the forecast is from Dec 2020,
    Myanmar's history runs on to Dec 2023."""
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(mixed_store))
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params["iso3"] = "MMR"
    at.session_state["profile_numbers"] = True
    at.run()
    assert not at.exception
    months = _table(at, "Month")
    assert months["Month"].max() == pd.Timestamp("2023-12-01")
    assert len(months) == 36  # history only: the Dec 2020 forecast is not drawn over it
    assert "Risk, next 3 months" in {m.label for m in at.metric}
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert "last 36 months to 2023-12" in captions and "The forecast is from 2020-12" in captions
    assert "to forecast from 2023-12, choose it under As of in the sidebar" in captions


@pytest.fixture
def ged_world(global_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GED 21.1 with its forecast from Dec 2020, named by ARTICLE99_DATA_DIR for one test
    (a module-wide setting would outlive it and move the Myanmar tests onto this store)."""
    risk_forecast(global_store)  # trained once, then read back from the store
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(global_store))
    return global_store


def _un_tools(iso3: str) -> AppTest:
    """The profile from a link, with its UN presence, organisations and sanctions opened."""
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params["iso3"] = iso3
    at.session_state["profile_un"] = True  # the expander, opened
    return at.run()


def _texts(elements) -> list[str]:
    """Values as the analyst reads them (markdown escapes removed)."""
    return [e.value.replace("\\", "") for e in elements]


def test_mali_beside_its_risk_minusma_with_its_mandate_document(ged_world: Path) -> None:
    """GED 21.1, forecast from Dec 2020: on 31 Dec 2020 Mali had MINUSMA (S/RES/2100 (2013),
    ended in 2023), UNOWAS's regional cover, AU and ECOWAS, and the 2374 sanctions regime."""
    at = _un_tools("MLI")
    assert not at.exception
    summary = next(m for m in _texts(at.markdown) if m.startswith("**UN presence, 31 Dec 2020:**"))
    assert "MINUSMA (peacekeeping, since Apr 2013)" in summary
    assert "**Regional organisations:** AU, ECOWAS" in summary
    assert "**UN sanctions:** Mali (2374), since Sep 2017" in summary
    assert "Not on the prevention-gap list: the UN has a field mission there." in _texts(at.caption)

    missions = _table(at, "Mission").set_index("Mission")
    minusma = missions.loc["MINUSMA"]
    assert (minusma["Kind"], minusma["Mandate"], minusma["Since"]) == (
        "peacekeeping",
        "country",
        "2013-04-25",
    )
    assert minusma["Mandate document"].startswith("S/RES/2100 (2013)")
    assert minusma["Source"].startswith("https://")
    assert missions.loc["UNOWAS", "Mandate"] == "regional"
    organisations = _table(at, "Organisation")
    assert set(organisations["Organisation"]) == {"AU", "ECOWAS"}
    sanctions = _table(at, "Regime").set_index("Committee")
    assert sanctions.loc["2374", "Document"].startswith("S/RES/2374 (2017)")
    # Each table with its file and as-of date.
    for line in un_presence.sources(ged_world):
        assert line in _texts(at.caption)
    # Source links are links (every source is an http(s) URL); document symbols stay text.
    links = [
        name
        for frame in at.dataframe
        for name, config in json.loads(frame.proto.columns).items()
        if config.get("type_config", {}).get("type") == "link"
    ]
    assert links == ["Source", "Source", "Source"]


def test_nigeria_is_on_the_prevention_gap_list_and_says_why(ged_world: Path) -> None:
    at = _un_tools("NGA")
    assert not at.exception
    forecast = risk_forecast(ged_world, measure="all").table
    presence = un_presence.on(un_presence.day_of("2020-12"), ged_world)
    (listed,) = un_presence.gap(forecast[forecast["iso3"] == "NGA"], presence)["why"]
    assert listed == "risk ≥ 50%"  # ≥ 25 deaths in every month of 2020
    assert (
        f"On the prevention-gap list: {listed}, and no UN field mission or envoy with a "
        "country mandate."
    ) in _texts(at.caption)
    missions = _table(at, "Mission")
    assert missions["Mission"].tolist() == ["UNOWAS"]


def test_a_country_with_nothing_recorded_says_so_for_each_table(ged_world: Path) -> None:
    at = _un_tools("JPN")
    assert not at.exception
    summary = next(m for m in _texts(at.markdown) if m.startswith("**UN presence"))
    assert summary.count("none recorded") == 3
    as_of = f"{reference.info('un_presence').as_of:%-d %b %Y}"
    infos = _texts(at.info)
    for title in ("UN presence", "Regional organisations", "Security Council sanctions"):
        assert f"None recorded for Japan in {title} as of {as_of}." in infos
    assert not any("Mission" in frame.value.columns for frame in at.dataframe)


def test_myanmars_envoy_keeps_it_off_the_prevention_gap_list(myanmar_store: Path) -> None:
    at = _page("MMR")
    summary = next(m for m in _texts(at.markdown) if m.startswith("**UN presence"))
    assert summary.startswith("**UN presence, 31 Dec 2023:** SE Myanmar (envoy, since Apr 2018)")
    caption = "Not on the prevention-gap list: the UN has an envoy with a country mandate there."
    assert caption in _texts(at.caption)


def test_a_replaced_table_shows_at_once_and_its_text_stays_text(myanmar_store: Path) -> None:
    """A store's own UN presence table wins over the shipped one; what it says is shown as
    typed (never a link or bold), and a source that is not an http(s) address is no link."""
    hostile = (
        "iso3,country,mission,name,kind,mandate,start,end,document,source,as_of\n"
        "MMR,Myanmar,[click](http://evil) **x**,<b>Envoy</b>,envoy,country,2018-04-26,,"
        "S/RES/1 (2018),javascript:alert(1),2025-01-31\n"
    )
    reference.replace("un_presence", hostile.encode(), "mine.csv", myanmar_store)
    try:
        at = _un_tools("MMR")
        assert not at.exception
        summary = next(m.value for m in at.markdown if m.value.startswith("**UN presence"))
        assert escape_markdown("[click](http://evil) **x** (envoy, since Apr 2018)") in summary
        missions = _table(at, "Mission")
        assert missions["Mission"].tolist() == ["[click](http://evil) **x**"]
        assert missions["Source"].tolist() == ["javascript:alert(1)"]
        columns = json.loads(_frame(at, "Mission").proto.columns)
        assert columns.get("Source", {}).get("type_config", {}).get("type") != "link"
        assert "un_presence.csv (replaced)" in " ".join(_texts(at.caption))
    finally:
        reference.restore("un_presence", myanmar_store)
