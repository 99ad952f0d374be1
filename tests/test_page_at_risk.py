"""AppTest of the landing page with the global GED 21.1 store: what an analyst sees for the Sahel.

The page runs inside `app.py` (it is the default page) because its links to the Data, Model skill
and profile pages need the app's navigation. The filters come from the URL, as from a shared link.
The fixture computes the forecast first (≈ 20 s on an idle machine, minutes on a busy one), as an
import does; it is kept in the store, so the page's runs only read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import loaders
from exports import charts, tables, vega
from risk import measures
from risk import presence as un_presence
from risk.forecast import risk_forecast
from risk.panel import country_month_panel
from risk.selection import Selection
from tests.conftest import REPO, shared_data_dir
from ui import cache

GLOBAL_GED = "ucdp_ged_v21_1_global_precise_reduced.csv.gz"
SAHEL = {"BFA", "CMR", "GIN", "GMB", "MLI", "MRT", "NER", "NGA", "SEN", "TCD"}
TIMEOUT = 300
NEW_RISK = tables.NEW_RISK_COLUMNS


@pytest.fixture(scope="module")
def global_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with UCDP GED 21.1 (1989–2020), named by ARTICLE99_DATA_DIR for the module."""
    path = shared_data_dir() / GLOBAL_GED
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    store = tmp_path_factory.mktemp("at_risk") / "store"
    loaders.import_file(path, data_dir=store)
    risk_forecast(store)  # once, outside the AppTest timeout, as an import does; kept in the store
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        yield store


@pytest.fixture(scope="module")
def sahel(global_store: Path) -> AppTest:
    """The landing page opened from a link filtered to the Sahel group."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["region"] = "group:Sahel"
    at.run()
    assert not at.exception
    return at


def _caption(at: AppTest, text: str) -> str:
    """The caption containing `text` (captions escape markdown, so compare without backslashes)."""
    values = [c.value.replace("\\", "") for c in at.caption]
    return next(v for v in values if text in v)


def _forecast(store: Path, measure: str) -> pd.DataFrame:
    """The stored forecast's table of one measure, by iso3: what the page must show."""
    return risk_forecast(store, measure=measure).table.set_index("iso3")


def test_sahel_table_ranks_only_sahel_countries(sahel: AppTest, global_store: Path) -> None:
    table = sahel.dataframe[0].value
    assert set(table.index) == SAHEL
    expected = _forecast(global_store, "all").loc[list(SAHEL)]
    ranked = expected.sort_values(["risk", "expected_fatalities"], ascending=False)
    assert list(table.index) == list(ranked.index)
    assert list(table.columns[:7]) == [
        "Rank", "Country", "UN presence", "Risk", "Trend vs last month",
        "Deaths, 3 months (median)", "90% interval",
    ]  # fmt: skip
    assert table["Risk"].is_monotonic_decreasing
    assert table.loc["NGA", "Risk"] > 0.9  # Nigeria: ≥ 25 deaths in every month of 2020
    assert table.loc["NER", "Flags"] == "Deaths surge"
    for iso3 in SAHEL:  # the median of the 3-month total, as the profile's chart draws it
        row = expected.loc[iso3]
        assert table.loc[iso3, "Risk"] == pytest.approx(row["risk"])  # shown as a whole percent
        assert table.loc[iso3, "Deaths, 3 months (median)"] == round(row["median_fatalities"])
        assert table.loc[iso3, "Trend vs last month"].startswith(row["trend"])
    low, high = table.loc["NGA", "90% interval"].split("–")
    assert int(low.replace(",", "")) <= table.loc["NGA", "Deaths, 3 months (median)"]
    assert int(high.replace(",", "")) > 1_000 and "," in high


def test_the_title_names_the_measure(sahel: AppTest) -> None:
    assert sahel.markdown[0].value == (
        "**Risk of ≥ 25 deaths from all organised violence in at least one of the next 3 months**"
    )
    assert sahel.radio(key="filter_measure").value == "all"


def test_a_link_with_a_measure_shows_that_measures_numbers(global_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["region"] = "group:Sahel"
    at.query_params["measure"] = "one_sided"
    at.run()
    assert not at.exception
    assert at.radio(key="filter_measure").value == "one_sided"
    assert "deaths from one-sided violence against civilians" in at.markdown[0].value
    table = at.dataframe[0].value
    expected = _forecast(global_store, "one_sided").loc[list(table.index)]
    assert table["Risk"].tolist() == pytest.approx(expected["risk"].tolist())
    medians = expected["median_fatalities"].round().astype("Int64")
    assert (table["Deaths, 3 months (median)"] == medians).all()
    definition = _caption(at, "Sahel (Group)")
    assert "one-sided violence against civilians" in definition
    spec = _map_spec(at)
    assert "deaths from one-sided violence against civilians" in " ".join(spec["title"]["text"])
    metrics = {m.label: m.value for m in at.metric}
    total = round(expected["expected_fatalities"].sum())
    assert metrics["Deaths, sum of averages"] == f"{total:,}"
    assert at.query_params["measure"] == "one_sided"  # the link keeps it


def test_an_old_link_with_violence_types_opens_as_the_measure(global_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["region"] = "group:Sahel"
    at.query_params["violence"] = "one-sided"
    at.run()
    assert not at.exception
    assert at.radio(key="filter_measure").value == "one_sided"
    assert at.query_params["measure"] == "one_sided" and "violence" not in at.query_params


def _map_spec(at: AppTest) -> dict:
    """The Vega-Lite spec of the page's risk map, as the browser receives it."""
    (chart,) = at.get("vega_lite_chart")
    return json.loads(chart.proto.spec)


def _map_rows(spec: dict) -> dict[str, dict]:
    """The map's country records (the data its coloured layer looks up), by iso3."""
    (layer,) = [layer for layer in spec["layer"] if layer.get("name") == vega.LAYER]
    lookup = layer["transform"][0]
    assert lookup["lookup"] == "id" and lookup["from"]["key"] == "iso3"
    return {row["iso3"]: row for row in lookup["from"]["data"]["values"]}


def test_sahel_map_holds_the_tables_values_and_zooms_to_the_region(sahel: AppTest) -> None:
    spec = _map_spec(sahel)
    rows = _map_rows(spec)
    table = sahel.dataframe[0].value
    assert set(rows) == SAHEL
    at_least_half = {iso3 for iso3, row in rows.items() if row["risk"] >= 0.5}
    assert at_least_half == set(table.index[table["Risk"] >= 0.5])
    for iso3, row in rows.items():  # the tooltip says what the ranked table says
        assert row["name"] == table.loc[iso3, "Country"]
        assert abs(row["risk"] - table.loc[iso3, "Risk"]) < 1e-6
        # As the table's bar but '<1%' rather than a false '0%' below one per cent.
        assert row["risk_text"] == charts.percent(table.loc[iso3, "Risk"])
        deaths = f"{round(table.loc[iso3, 'Deaths, 3 months (median)']):,}"
        assert row["deaths_text"] == f"{deaths} (90% interval {table.loc[iso3, '90% interval']})"
        assert row["description"].startswith(f"{row['name']}. Risk {row['risk_text']}.")
    assert "," in rows["NGA"]["deaths_text"]  # the interval's top is in the thousands
    # Zoomed to the region: the projection fits a box around West Africa, not the world.
    corners = spec["projection"]["fit"]["geometry"]["coordinates"]
    longitudes, latitudes = zip(*corners, strict=True)
    assert -25 < min(longitudes) < -15 and 15 < max(longitudes) < 30  # Senegal to Chad
    assert -5 < min(latitudes) < 5 and 25 < max(latitudes) < 35  # Cameroon to Mali
    # Offline: the outlines are inside the spec, nothing is fetched.
    assert spec["data"]["format"] == {"type": "topojson", "feature": "countries"}
    assert '"url"' not in json.dumps(spec)
    tooltip = [t["title"] for t in spec["layer"][1]["encoding"]["tooltip"]]
    assert tooltip == ["Country", "Risk", "Deaths, 3 months (median)"]


def test_sahel_headline_numbers(sahel: AppTest, global_store: Path) -> None:
    metrics = {m.label: m.value for m in sahel.metric}
    table = sahel.dataframe[0].value
    assert metrics["Countries with risk ≥ 50%"] == str((table["Risk"] >= 0.5).sum())
    assert metrics["Countries with a surge flag"] == "1"  # Niger
    assert metrics["Countries with insufficient data"] == "0"
    # A sum of averages (averages add up; the table's medians do not), and named so.
    deaths = metrics["Deaths, sum of averages"]
    expected = _forecast(global_store, "all").loc[list(SAHEL), "expected_fatalities"].sum()
    assert deaths == f"{round(expected):,}"


def test_sahel_vintage_and_definition_shown(sahel: AppTest) -> None:
    assert "Forecast from data to Dec 2020" in _caption(sahel, "Forecast from data to")
    assert "UCDP GED 21.1" in _caption(sahel, "Forecast from data to")
    definition = _caption(sahel, "Sahel (Group)")
    assert "≥ 25 deaths from all organised violence, Jan–Mar 2021" in definition
    links = [e.proto.label for e in sahel.get("page_link")]
    assert any("model forecast past years" in label for label in links)


def test_new_risk_lists_only_countries_quiet_for_two_years(
    sahel: AppTest, global_store: Path
) -> None:
    """The page's measure is all organised violence: a month counts every UCDP type's deaths."""
    (quiet,) = [f.value for f in sahel.dataframe if list(f.value.columns) == list(NEW_RISK)]
    panel = country_month_panel(global_store)
    recent = panel[panel["month"] >= pd.Timestamp("2019-01-01")]  # the 24 months to Dec 2020
    worst = recent.groupby("iso3")[measures.COLUMNS["all"]].max()
    assert set(quiet.index) == {iso3 for iso3 in SAHEL if worst[iso3] < 25} == {"SEN", "MRT", "GMB"}
    assert quiet["Risk"].is_monotonic_decreasing
    # Guinea had no month with ≥ 25 state-based deaths, but one with 30 non-state deaths.
    state_based = recent.groupby("iso3")[measures.COLUMNS["state_based"]].max()
    assert state_based["GIN"] < 25 <= worst["GIN"]


def test_open_profile_keeps_the_filters_in_the_link(sahel: AppTest) -> None:
    sahel.selectbox(key="profile_choice").set_value("MLI").run()
    assert not sahel.exception
    assert any(key[-1] == "MLI" for key in cache._warmed)  # its reads started on the choice
    (link,) = [e.proto for e in sahel.get("page_link") if e.proto.label == "Open profile"]
    assert link.page.endswith("country")
    assert parse_qs(link.query_string) == {"region": ["group:Sahel"], "iso3": ["MLI"]}


def test_world_view_counts_every_country(global_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 195  # every reference country, none hidden
    assert table.index[0] == "AFG"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Countries with risk ≥ 50%"] == str((table["Risk"] >= 0.5).sum())
    deaths = metrics["Deaths, sum of averages"]
    assert int(deaths.replace(",", "")) > 5_000
    spec = _map_spec(at)
    assert "fit" not in spec["projection"]  # the whole world
    rows = _map_rows(spec)
    assert set(rows) == set(table.index)
    assert rows["AFG"]["risk_text"] == charts.percent(table.loc["AFG", "Risk"])


def _presence(store: Path) -> pd.DataFrame:
    """What the UN had in force on the forecast's last day (31 Dec 2020), by iso3."""
    return un_presence.on(un_presence.day_of("2020-12"), store)


def test_un_presence_column_shows_what_was_in_force_on_the_forecasts_day(
    sahel: AppTest, global_store: Path
) -> None:
    table = sahel.dataframe[0].value
    # Mali had MINUSMA (peacekeeping, since April 2013) and UNOWAS's regional cover; Nigeria
    # no field mission or envoy, only UNOWAS.
    assert table.loc["MLI", "UN presence"].startswith("MINUSMA")
    assert "UNOWAS (regional)" in table.loc["MLI", "UN presence"]
    assert table.loc["NGA", "UN presence"] == "UNOWAS (regional)"
    expected = _presence(global_store)["short"]
    assert (table["UN presence"] == expected.reindex(table.index)).all()


def test_presence_filter_narrows_table_and_map_and_stays_in_the_link(
    global_store: Path,
) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["region"] = "group:Sahel"
    at.query_params["presence"] = "None,Regional office only,Nowhere"
    at.run()
    assert not at.exception
    # The value not understood is dropped and said to be; the rest stays in the link.
    assert "unknown presence: Nowhere" in at.warning[0].value.replace("\\", "")
    assert at.query_params["presence"] == "Regional office only,None"
    assert at.pills(key="filter_presence").value == ["Regional office only", "None"]
    presence = _presence(global_store)["presence"]
    kept = {iso3 for iso3 in SAHEL if presence[iso3] in ("Regional office only", "None")}
    assert "MLI" not in kept and {"NGA", "NER"} <= kept  # MINUSMA is a field mission
    table = at.dataframe[0].value
    assert set(table.index) == kept
    assert set(_map_rows(_map_spec(at))) == kept
    assert "UN presence: Regional office only, No UN presence" in _caption(at, "Sahel (Group)")

    at.pills(key="filter_presence").set_value(["Field mission"]).run()
    assert not at.exception
    assert set(at.dataframe[0].value.index) == {"MLI"}
    assert at.query_params["presence"] == "Field mission"
    at.pills(key="filter_presence").set_value([]).run()
    assert set(at.dataframe[0].value.index) == SAHEL  # none chosen: every country
    assert "presence" not in at.query_params


def test_prevention_gap_list_is_the_rule_applied_to_the_forecast(global_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    forecast = risk_forecast(global_store, measure="all").table
    presence = _presence(global_store)
    expected = tables.gap_table(un_presence.gap(forecast, presence))
    shown = next(f.value for f in at.dataframe if tables.GAP_WHY in f.value.columns)
    assert not shown.empty
    pd.testing.assert_frame_equal(shown, expected, check_dtype=False)
    # By the rule: risk ≥ 50% or +20 points, and no field mission or country envoy.
    rows = forecast.set_index("iso3").loc[shown.index]
    assert ((rows["risk"] >= 0.5) | (rows["risk_change"] >= 0.2)).all()
    assert not (presence.loc[shown.index, ["field", "envoy"]].any(axis=1)).any()
    assert "NGA" in shown.index and "MLI" not in shown.index  # UNOWAS does not close the gap
    words = un_presence.cost_of_waiting(un_presence.gap(forecast, presence), "2020-12")
    assert any(m.value.replace("\\", "") == words for m in at.markdown)
    total = un_presence.gap(forecast, presence)["expected_fatalities"].sum()
    assert f"about {total:,.0f} deaths" in words
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any("a risk of 50% or more, or up 20 points" in c for c in captions)
    for line in un_presence.sources(global_store):
        assert line in captions
    # A table current to a date more than six months before today is said to be.
    stale = un_presence.stale(global_store)
    warned = [w.value.replace("\\", "") for w in at.warning if "months ago" in w.value]
    assert warned == ([stale] if stale else [])


def test_a_cell_of_the_prevention_gap_list_opens_the_countrys_profile(
    global_store: Path,
) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["region"] = "group:Sahel"
    at.run()
    gap = next(f.value for f in at.dataframe if tables.GAP_WHY in f.value.columns)
    second = gap.index[1]
    # A click on any cell of its row (the selection the browser sends), as the grid gives it.
    clicked = {"rows": [], "columns": [], "cells": [[1, "Country"]]}
    at.session_state["gap_table"] = {"selection": clicked}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Country profile"
    assert dict(at.query_params) == {"region": "group:Sahel", "iso3": second}


def test_an_empty_prevention_gap_list_says_why(global_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["country"] = "MLI,SEN"
    at.run()
    assert not at.exception
    assert not any(tables.GAP_WHY in f.value.columns for f in at.dataframe)
    infos = [i.value.replace("\\", "") for i in at.info]
    assert (
        "No country in the selection meets the rule: every one with high or rising risk has a "
        "UN field mission or envoy (Mali)."
    ) in infos


def test_filter_without_countries_says_so(global_store: Path) -> None:
    at = AppTest.from_file(str(REPO / "app_pages" / "at_risk.py"), default_timeout=TIMEOUT)
    at.session_state["selection"] = Selection(countries=("XXX",))
    at.run()
    assert not at.exception
    assert "No country matches the filters" in at.info[0].value
    assert not at.dataframe


def test_empty_store_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "store"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "Nothing to forecast yet" in at.info[0].value
    assert "Import or fetch UCDP GED data" in at.info[0].value
    assert [e.proto.label for e in at.get("page_link")] == ["Load data"]


def test_a_selection_without_forecasts_says_so_and_sums_nothing_to_zero() -> None:
    table = pd.DataFrame(
        {
            "iso3": ["BFA", "MLI", "NER"],
            "status": "insufficient data",
            "risk": float("nan"),
            "expected_fatalities": float("nan"),
            "surge_events": pd.NA,
            "surge_fatalities": pd.NA,
            "new_admin1_count": pd.NA,
            "reason": [
                "no UCDP data after 2020-12",
                "no UCDP data after 2020-12",
                "not covered by any UCDP release",
            ],
        }
    )
    numbers = {h.label: h.value for h in tables.headline(table, "all")}
    assert numbers == {
        "Countries with risk ≥ 50%": "No forecast",
        "Countries with a surge flag": "No forecast",
        "Deaths, sum of averages": "No forecast",
        "Countries with insufficient data": "3",
    }
    assert tables.no_forecast_line(table) == (
        "No forecast for the 3 countries selected: no UCDP data after 2020-12 (2 countries); "
        "not covered by any UCDP release (1 country)."
    )
    ok = table.assign(status=["ok", "insufficient data", "insufficient data"], risk=[0.2, 0, 0])
    assert tables.no_forecast_line(ok) is None
