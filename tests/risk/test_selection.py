"""Selections: regions to countries, URL round trips, and bad parameters reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loaders import reference
from risk.selection import (
    Selection,
    apply,
    countries_for,
    forecast_months,
    from_query,
    region_options,
    to_query,
)


def test_regions_resolve_to_their_members() -> None:
    assert countries_for(Selection(regions=("group:Central Sahel",))) == ["BFA", "MLI", "NER"]
    lake_chad = countries_for(Selection(regions=("group:Lake Chad Basin",), countries=("MLI",)))
    assert lake_chad == ["CMR", "MLI", "NER", "NGA", "TCD"]
    west = countries_for(Selection(regions=("sub:Western Africa",)))
    assert "SEN" in west and "KEN" not in west
    assert "EGY" in countries_for(Selection(regions=("ucdp:Middle East",)))
    assert len(countries_for(Selection())) == 195


def test_region_options_are_labelled_by_kind() -> None:
    labels = dict(region_options())
    assert labels["un:Africa"] == "Africa (UN region)"
    assert labels["group:Sahel"] == "Sahel (Group)"
    assert labels["ucdp:Middle East"] == "Middle East (UCDP region)"
    assert labels["org:ECOWAS"] == "ECOWAS"


def test_a_regional_organisation_is_a_group_carried_in_the_url(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its current members (Mali, Burkina Faso and Niger left ECOWAS in Jan 2025); a replaced
    memberships table changes the group at once."""
    ecowas = from_query({"region": "org:ECOWAS"})
    assert not ecowas.problems and to_query(ecowas) == {"region": "org:ECOWAS"}
    members = countries_for(ecowas)
    assert len(members) == 12 and "NGA" in members and "MLI" not in members
    assert ecowas.describe().startswith("ECOWAS · ")
    assert len(countries_for(Selection(regions=("org:AU",)))) == 54
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    text = (reference.DATA_DIR / "memberships.csv").read_text(encoding="utf-8")
    text = text.replace("ECOWAS,MLI,Mali,,2025-01-29", "ECOWAS,MLI,Mali,,")
    reference.replace("memberships", text.encode(), "m.csv")
    assert "MLI" in countries_for(from_query({"region": "org:ECOWAS"}))


def test_url_round_trip_and_defaults_left_out() -> None:
    selection = Selection(
        regions=("group:Sahel",),
        countries=("SDN",),
        start="2019-01",
        end="2020-12",
        measure="one_sided",
    )
    query = to_query(selection)
    assert query == {
        "region": "group:Sahel",
        "country": "SDN",
        "from": "2019-01",
        "to": "2020-12",
        "measure": "one_sided",
    }
    assert from_query(query) == selection
    assert to_query(Selection()) == {}  # all organised violence is the default, left out
    assert Selection().measure == "all"
    assert selection.describe() == (
        "Sahel (Group), SDN · 2019-01 to 2020-12 · one-sided violence against civilians"
    )
    assert Selection().describe() == "All countries · all organised violence"


def test_the_measure_gives_the_violence_types_of_history_and_events() -> None:
    assert Selection().violence == ("state-based", "non-state", "one-sided")
    assert Selection(measure="non_state").violence == ("non-state",)


def test_old_violence_links_open_as_the_measure_counting_those_types() -> None:
    one = from_query({"violence": "one-sided"})
    assert (one.measure, one.problems) == ("one_sided", ())
    every = from_query({"violence": "one-sided,state-based,non-state"})
    assert (every.measure, every.problems) == ("all", ())
    # Two types are not one measure: all organised violence is shown, and the link says so.
    two = from_query({"violence": "state-based,one-sided"})
    assert two.measure == "all"
    assert two.problems == (
        "violence state-based and one-sided is not one measure; showing all organised violence",
    )
    assert to_query(one) == {"measure": "one_sided"}  # written back in the new form
    # An explicit measure wins over an old parameter beside it; an unknown one is reported.
    assert from_query({"measure": "non_state", "violence": "one-sided"}).measure == "non_state"
    bad = from_query({"measure": "deaths"})
    assert (bad.measure, bad.problems) == ("all", ("unknown measure: deaths",))


def test_bad_parameters_are_dropped_and_reported() -> None:
    selection = from_query(
        {
            "region": "group:Sahel,group:Atlantis",
            "country": "MLI,<script>",
            "from": "2020-13",
            "to": "2019-05",
            "source": "gdelt",
        }
    )
    assert selection.regions == ("group:Sahel",)
    assert selection.countries == ("MLI",)
    assert selection.start is None and selection.end == "2019-05"
    assert selection.source == "ucdp"
    assert selection.problems == (
        "unknown region: group:Atlantis",
        "unknown country: <script>",
        "from must be a month YYYY-MM, not '2020-13'",
        "unknown source: gdelt",
    )


def test_apply_filters_rows_by_country_and_month() -> None:
    table = pd.DataFrame(
        {
            "iso3": ["MLI", "MLI", "KEN"],
            "month": pd.to_datetime(["2019-12-01", "2020-02-01", "2020-02-01"]),
        }
    )
    kept = apply(table, Selection(regions=("group:Sahel",), start="2020-01"))
    assert kept.index.tolist() == [1]


def test_the_forecast_month_round_trips_through_the_url() -> None:
    selection = Selection(regions=("group:Sahel",), as_of="2019-12")
    assert to_query(selection) == {"region": "group:Sahel", "as_of": "2019-12"}
    assert from_query(to_query(selection)) == selection
    assert selection.describe() == (
        "Sahel (Group) · all organised violence · forecast from data to Dec 2019"
    )
    assert Selection().as_of is None and "as_of" not in to_query(Selection())


def test_an_invalid_forecast_month_is_dropped_and_reported() -> None:
    for bad in ("2019-13", "Dec 2019", "2019-1"):
        selection = from_query({"country": "MLI", "as_of": bad})
        assert selection.as_of is None
        assert selection.countries == ("MLI",)
        assert selection.problems == (f"as_of must be a month YYYY-MM, not {bad!r}",)


def test_forecast_months_start_after_a_window_and_the_horizons() -> None:
    """12 months of features and 15 ahead: data from Jan 1989 first forecast from Mar 1991
    (the 27th month, index 26)."""
    months = forecast_months("1989-01", "2020-12")
    assert months[0] == "1991-03" and months[-1] == "2020-12"
    assert len(months) == 32 * 12 - 26
    assert forecast_months("2019-01", "2020-12") == []
