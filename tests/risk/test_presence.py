"""UN presence on a day and the prevention-gap list, on the reference tables and GED 21.1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loaders import reference
from risk import presence
from risk.forecast import risk_forecast


def test_what_was_in_force_on_a_day() -> None:
    end_2020 = presence.on("2020-12-31")
    mali = end_2020.loc["MLI"]
    assert mali["presence"] == "Field mission" and mali["field"]
    assert mali["short"] == "MINUSMA · UNOWAS (regional)"
    assert mali["un_presence"].startswith("MINUSMA (peacekeeping, since Apr 2013)")
    assert mali["organisations"] == "AU, ECOWAS"
    assert mali["sanctions"] == "Mali (2374), since Sep 2017"
    nigeria = end_2020.loc["NGA"]
    assert nigeria["presence"] == "Regional office only" and nigeria["regional"] == "UNOWAS"
    assert end_2020.loc["MOZ", "presence"] == "Envoy"
    assert end_2020.loc["USA", "presence"] == "None" and end_2020.loc["USA", "short"] == "none"
    # Ends are inclusive: UNAMID's last day was 31 Dec 2020; Mali's sanctions lapsed in 2023,
    # and its membership of ECOWAS ended on 29 Jan 2025.
    assert "UNAMID" in end_2020.loc["SDN", "short"]
    assert "UNAMID" not in presence.on("2021-01-01").loc["SDN", "short"]
    later = presence.on("2025-01-31").loc["MLI"]
    assert later["presence"] == "Regional office only" and later["sanctions"] == ""
    assert later["organisations"] == "AU"


@pytest.fixture(scope="module")
def forecast(global_store: Path):
    return risk_forecast(global_store)  # from Dec 2020, the store's last month


def test_the_prevention_gap_recomputed_from_the_risk_and_presence_tables(forecast) -> None:
    table = forecast.table
    day = presence.day_of(forecast.as_of)
    assert day == pd.Timestamp("2020-12-31")
    here = presence.on(day)
    listed = presence.gap(table, here)
    # The rule by hand: a forecast, risk ≥ 50% or +20 pts, no field mission, no country envoy.
    rows = table[table["risk"].notna()].set_index("iso3")
    flagged = (rows["risk"] >= 0.5) | (rows["risk_change"].astype(float) >= 0.2)
    uncovered = ~(here["field"] | here["envoy"]).reindex(rows.index)
    expected = rows[flagged & uncovered].sort_values(
        ["risk", "expected_fatalities"], ascending=False
    )
    assert listed["iso3"].tolist() == expected.index.tolist()
    # High risk without a UN field mission or envoy in 2020: Nigeria, Mexico, Cameroon, …;
    # Mali (MINUSMA), Afghanistan (UNAMA) and Myanmar (envoy) are covered.
    assert {"NGA", "MEX", "CMR", "BFA"} <= set(listed["iso3"])
    assert not {"MLI", "AFG", "MMR", "SYR", "MOZ"} & set(listed["iso3"])
    nigeria = listed.set_index("iso3").loc["NGA"]
    assert nigeria["why"] == "risk ≥ 50%" and nigeria["regional"] == "UNOWAS"
    assert listed.set_index("iso3").loc["ETH", "why"] == "risk ≥ 50% and +21 pts"
    assert nigeria["fatalities_low"] <= nigeria["median_fatalities"] <= nigeria["fatalities_high"]


def test_cost_of_waiting_in_plain_words(forecast) -> None:
    listed = presence.gap(forecast.table, presence.on(presence.day_of(forecast.as_of)))
    text = presence.cost_of_waiting(listed, forecast.as_of)
    total = f"{listed['expected_fatalities'].sum():,.0f}"
    assert text.startswith("Managing conflict costs more than preventing it.")
    assert f"about {total} deaths" in text and f"these {len(listed)} countries" in text
    assert "Jan–Mar 2021" in text and "does not say what prevention would achieve" in text
    assert presence.cost_of_waiting(listed.iloc[:0], "2020-12") == (
        "No country meets the prevention-gap rule for Jan–Mar 2021."
    )


def test_a_replaced_table_changes_presence(store_dir: Path) -> None:
    """An analyst records an envoy for Nigeria: Nigeria leaves the gap list's candidates."""
    text = (reference.DATA_DIR / "un_presence.csv").read_text(encoding="utf-8")
    text += "NGA,Nigeria,TEST,Test envoy,envoy,country,2020-01,,,https://example.org/x,2025-02-01\n"
    reference.replace("un_presence", text.encode(), "p.csv", data_dir=store_dir)
    assert presence.on("2020-12-31", store_dir).loc["NGA", "presence"] == "Envoy"
    assert presence.on("2020-12-31").loc["NGA", "presence"] == "Regional office only"
    assert any("replaced" in line for line in presence.sources(store_dir))
