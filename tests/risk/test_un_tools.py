"""What the pages say about the UN's tools beside the risk, on the shipped reference tables and a
hand-written risk table (the rule is 50% or +20 points, with no field mission or envoy).

On 31 Dec 2020: Mali had MINUSMA (peacekeeping, S/RES/2100 (2013)) and UNOWAS; Nigeria only
UNOWAS; Myanmar the Special Envoy; Japan nothing in any table.
"""

from __future__ import annotations

import pandas as pd
import pytest

from risk import presence as un_presence
from risk import un_tools

DAY = pd.Timestamp("2020-12-31")


@pytest.fixture(scope="module")
def presence() -> pd.DataFrame:
    return un_presence.on(DAY)


def _risk(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """A risk table: (iso3, name, risk, risk_change) per country, each with a forecast."""
    table = pd.DataFrame(rows, columns=["iso3", "name", "risk", "risk_change"])
    return table.assign(
        status="ok",
        median_fatalities=10.0,
        fatalities_low=0.0,
        fatalities_high=50.0,
        expected_fatalities=20.0,
    )


def test_gap_line_says_why_a_country_is_or_is_not_listed(presence: pd.DataFrame) -> None:
    table = _risk(
        [
            ("NGA", "Nigeria", 0.9, 0.0),
            ("MLI", "Mali", 0.8, 0.0),
            ("MMR", "Myanmar", 0.9, 0.3),
            ("JPN", "Japan", 0.496, 0.197),
            ("CHE", "Switzerland", 0.1, float("nan")),
            ("ISL", "Iceland", 0.001, 0.0),
            ("NOR", "Norway", 0.3, -0.052),
        ]
    )
    lines = {iso3: un_tools.gap_line(iso3, table, presence) for iso3 in table["iso3"]}
    assert lines == {
        "NGA": "On the prevention-gap list: risk ≥ 50%, and no UN field mission or envoy with a "
        "country mandate.",
        "MLI": "Not on the prevention-gap list: the UN has a field mission there.",
        "MMR": "Not on the prevention-gap list: the UN has an envoy with a country mandate there.",
        # To a tenth where whole points would read as the threshold itself.
        "JPN": "Not on the prevention-gap list: risk 49.6% is below 50% and its change since "
        "last month (+19.7 points) below +20.",
        "CHE": "Not on the prevention-gap list: risk 10% is below 50% (no forecast a month "
        "earlier).",
        "ISL": "Not on the prevention-gap list: risk <1% is below 50% and its change since last "
        "month (0 points) below +20.",
        "NOR": "Not on the prevention-gap list: risk 30% is below 50% and its change since last "
        "month (−5 points) below +20.",
    }
    no_forecast = table.assign(status="insufficient data", risk=float("nan"))
    assert un_tools.gap_line("NGA", no_forecast, presence) == (
        "Not on the prevention-gap list: there is no forecast for this country."
    )


def test_an_empty_list_says_which_half_of_the_rule_no_country_meets(
    presence: pd.DataFrame,
) -> None:
    covered = _risk([("MLI", "Mali", 0.8, 0.0), ("MMR", "Myanmar", 0.1, 0.25)])
    assert un_presence.gap(covered, presence).empty
    assert un_tools.empty_gap_reason(covered, presence) == (
        "No country in the selection meets the rule: every one with high or rising risk has a "
        "UN field mission or envoy (Mali, Myanmar)."
    )
    quiet = _risk([("JPN", "Japan", 0.3, 0.1)])
    assert un_tools.empty_gap_reason(quiet, presence) == (
        "No country in the selection meets the rule: none has a risk of 50% or more or rose 20 "
        "points or more since last month."
    )


def test_country_tables_hold_the_rows_in_force_with_documents_and_sources() -> None:
    mali = un_tools.country_tables("MLI", DAY)
    assert list(mali) == ["un_presence", "memberships", "sanctions"]
    missions = mali["un_presence"].rows.set_index("Mission")
    assert list(missions.index) == ["MINUSMA", "UNOWAS"]
    assert missions.loc["MINUSMA", "Since"] == "2013-04-25"
    assert missions.loc["MINUSMA", "Until"] == "2023-12-31"  # in force on the day, ended since
    assert missions.loc["UNOWAS", "Until"] == "in force"
    assert missions.loc["MINUSMA", "Mandate document"].startswith("S/RES/2100 (2013)")
    # Symbols stay text; every source is an http(s) URL, so only sources become links.
    assert mali["un_presence"].links == ("Source",)
    assert set(mali["memberships"].rows["Organisation"]) == {"AU", "ECOWAS"}
    assert mali["sanctions"].rows["Regime"].tolist() == ["Mali"]
    # Before MINUSMA and the sanctions regime: neither was in force.
    earlier = un_tools.country_tables("MLI", pd.Timestamp("2012-12-31"))
    assert earlier["un_presence"].rows["Mission"].tolist() == ["UNOWAS"]
    assert earlier["sanctions"].rows.empty


def test_an_empty_table_says_none_recorded_with_its_date() -> None:
    japan = un_tools.country_tables("JPN", DAY)
    for listed in japan.values():
        assert listed.rows.empty and listed.links == ()
        assert listed.none_line("Japan") == (
            f"None recorded for Japan in {listed.info.title} as of "
            f"{un_tools.day_label(listed.info.as_of)}."
        )


def test_only_http_addresses_are_links() -> None:
    assert un_tools.is_url("https://undocs.org/S/RES/2100(2013)")
    assert un_tools.is_url("HTTP://example.org")
    assert not un_tools.is_url("javascript:alert(1)")
    assert not un_tools.is_url("S/RES/2100 (2013)")
    assert not un_tools.is_url(None)
