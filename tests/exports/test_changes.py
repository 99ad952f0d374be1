"""What changed between snapshots: entries, exits and moves beyond the threshold."""

from __future__ import annotations

import pytest

from exports.changes import DETERIORATED, ENTERED, IMPROVED, LEFT, what_changed
from exports.snapshot import build_snapshot
from risk.selection import Selection


def _snapshot(rows: list[tuple[str, float | None]], as_of: str, region: str = "un:Africa"):
    return {
        "as_of": as_of,
        "filters": {"query": {"region": region}},
        "countries": [
            {"iso3": iso3, "name": iso3.title(), "status": "ok" if risk is not None else
             "insufficient data", "risk": risk}
            for iso3, risk in rows
        ],
    }  # fmt: skip


def test_moves_are_measured_against_the_threshold_and_the_top() -> None:
    earlier = _snapshot([("AAA", 0.9), ("BBB", 0.8), ("CCC", 0.5), ("DDD", 0.3)], "2020-06")
    later = _snapshot([("AAA", 0.95), ("CCC", 0.85), ("BBB", 0.70), ("EEE", 0.2)], "2020-12")
    changes = what_changed(earlier, later, top=2, threshold=0.10)
    rows = changes.table.set_index("iso3")
    assert rows.loc["CCC", "movement"] == f"{ENTERED}; {DETERIORATED}"
    assert rows.loc["CCC", "arrow"] == "↑"
    assert rows.loc["BBB", "movement"] == f"{LEFT}; {IMPROVED}"  # exactly 10 points counts
    assert rows.loc["BBB", "arrow"] == "↓"
    assert rows.loc["AAA", "movement"] == ""
    assert rows.loc["DDD", "movement"] == "only in the earlier snapshot"
    assert rows.loc["EEE", "movement"] == "only in the current snapshot"
    assert list(changes.countries(ENTERED)["iso3"]) == ["CCC"]
    assert changes.same_filters
    assert changes.summary.startswith(
        "From the snapshot of data to 2020-06 to data to 2020-12: 1 entered the top, 1 left"
    )


def test_a_country_without_a_forecast_is_not_a_move() -> None:
    earlier = _snapshot([("AAA", 0.9), ("BBB", None)], "2020-06", region="group:Sahel")
    later = _snapshot([("AAA", 0.2), ("BBB", 0.9)], "2020-12")
    changes = what_changed(earlier, later, top=1)
    rows = changes.table.set_index("iso3")
    assert rows.loc["BBB", "movement"] == "only in the current snapshot"
    # Ranked among the countries both forecast, AAA stays first: it did not leave the top.
    assert rows.loc["AAA", "movement"] == IMPROVED
    assert (rows.loc["AAA", "rank_before"], rows.loc["AAA", "rank_now"]) == (1, 1)
    assert not changes.same_filters


@pytest.fixture(scope="module")
def africa(global_store):
    africa = Selection(regions=("un:Africa",))
    return build_snapshot(global_store, africa, "2020-06"), build_snapshot(global_store, africa)


def test_ethiopia_deteriorated_in_late_2020(africa) -> None:
    """The Tigray war began in November 2020: the December forecast must show it."""
    earlier, latest = africa
    changes = what_changed(earlier.to_json(), latest)
    ethiopia = changes.table.set_index("iso3").loc["ETH"]
    assert ethiopia["movement"] == f"{ENTERED}; {DETERIORATED}"
    # All organised violence: Ethiopia was already at some risk in June (non-state, one-sided).
    assert ethiopia["risk_now"] - ethiopia["risk_before"] > 0.4
    moves = changes.table["change"].abs().dropna()
    assert moves.is_monotonic_decreasing  # the largest move comes first
    assert changes.table[changes.table["change"] > 0].iloc[0]["iso3"] == "ETH"  # the largest rise
