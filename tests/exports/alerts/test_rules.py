"""Watchlists and rules checked at the boundary; rules evaluated on hand-made snapshots."""

from __future__ import annotations

import pytest

from exports.alerts import rules
from exports.alerts.db import AlertsError
from exports.alerts.model import Rule, Watchlist
from risk.selection import Selection

WATCHLIST = Watchlist("Sahel watch", Selection(regions=("group:Sahel",)), id=1)
RAISED_AT = "2026-12-02T10:00:00+00:00"


def _country(iso3: str, name: str, risk: float, before: float, **flags: object) -> dict:
    return {
        "iso3": iso3,
        "name": name,
        "status": "ok",
        "risk": risk,
        "risk_last_month": before,
        "median_fatalities": 100.0,
        "fatalities_low": 10.0,
        "fatalities_high": 900.0,
        "expected_fatalities": 250.0,
        "surge_events": flags.get("surge_events", False),
        "surge_fatalities": flags.get("surge_fatalities", False),
        "new_risk": flags.get("new_risk", False),
    }


def _snapshot(as_of: str, countries: list[dict], drivers: list[dict] = ()) -> dict:
    return {
        "as_of": as_of,
        "measure": "all",
        "table_sha256": "ab" * 32,
        "countries": countries,
        "drivers": list(drivers),
        "sources": [
            {
                "label": "UCDP GED 21.1",
                "last_date": "2020-12-31",
                "fetched_at": "2026-11-30T09:00:00+00:00",
                "sha256": "d50ad0079569" + "0" * 52,
            }
        ],
        "citations": ["Sundberg, Ralph, and Erik Melander, 2013, …"],
    }


NOW = _snapshot(
    "2020-12",
    [
        _country("NGA", "Nigeria", 0.99, 0.97),
        _country("MLI", "Mali", 0.50, 0.55),
        _country("BFA", "Burkina Faso", 0.67, 0.40, surge_fatalities=True),
        _country("NER", "Niger", 0.43, 0.44, surge_events=True, surge_fatalities=True),
        _country("SEN", "Senegal", 0.02, 0.01, new_risk=True),
        _country("MRT", "Mauritania", 0.01, 0.01, new_risk=True),
    ],
    drivers=[
        {"iso3": "NGA", "kind": "level", "effect": 0.10, "direction": "raises",
         "text": "174 deaths from one-sided violence in the last 3 months"},
        {"iso3": "NGA", "kind": "level", "effect": 0.25, "direction": "raises",
         "text": "281 deaths from state-based violence in the last 3 months"},
        {"iso3": "NGA", "kind": "change", "effect": 0.30, "direction": "raises",
         "text": "not a level driver"},
    ],
)  # fmt: skip


def _raised(kind: str, threshold: object = None, earlier: dict | None = None) -> list:
    rule = rules.rule(1, kind, threshold)
    return rules.evaluate(WATCHLIST, [Rule(1, rule.kind, rule.threshold, id=7)], NOW, earlier,
                          raised_at=RAISED_AT)  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "^name: a watchlist needs a name"),
        ({"name": "<b>Sahel</b>"}, "^name: '<' is not allowed"),
        ({"name": "Sahel & co"}, "^name: '&' is not allowed"),
        ({"name": "x" * 81}, "^name: at most 80 characters"),
        ({"name": "S", "regions": ["un:Atlantis"]}, "^regions: unknown region 'un:Atlantis'"),
        ({"name": "S", "countries_": ["NGA", "XYZ"]}, "^countries: unknown country code 'XYZ'"),
        ({"name": "S", "measure": "riots"}, "^measure: 'riots' is not one of"),
        ({"name": "S", "language": "de"}, "^language: 'de' is not one of"),
        ({"name": "S", "recipients": ["desk.example.org"]}, "^recipients: "),
        ({"name": "S", "recipients": ["a@example.org\nBcc: b@example.org"]}, "^recipients: "),
    ],
)
def test_a_bad_watchlist_is_refused_naming_the_field(fields: dict, message: str) -> None:
    with pytest.raises(AlertsError, match=message):
        rules.watchlist(**fields)


def test_a_watchlist_is_normalised() -> None:
    checked = rules.watchlist(
        "  Sahel   watch ",
        regions=["group:Sahel", "group:Sahel"],
        countries_=["nga", "NGA"],
        recipients=["desk@example.org", "desk@example.org"],
    )
    assert checked.name == "Sahel watch"
    assert checked.selection == Selection(regions=("group:Sahel",), countries=("NGA",))
    assert checked.recipients == ("desk@example.org",)


@pytest.mark.parametrize(
    ("kind", "threshold", "message"),
    [
        ("often", None, "^kind: 'often' is not one of risk, rise, top, surge, new_risk"),
        ("risk", None, "^threshold: a risk rule needs a number"),
        ("risk", 50, "^threshold: a risk threshold is a share above 0 and at most 1"),
        ("risk", "0%", "^threshold: a risk threshold is a share above 0"),
        ("rise", "nan", "^threshold: a rise rule needs a finite number"),
        ("top", 0, "^threshold: the top N is a whole number from 1 to 100"),
        ("top", "2.5", "^threshold: the top N is a whole number"),
        ("surge", 3, "^threshold: a surge rule takes no threshold"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(kind: str, threshold: object, message: str) -> None:
    with pytest.raises(AlertsError, match=message):
        rules.rule(1, kind, threshold)


def test_thresholds_are_shares_percentages_or_counts() -> None:
    assert rules.rule(1, "risk", "50%").threshold == 0.5
    assert rules.rule(1, "rise", 0.2).threshold == 0.2
    assert rules.rule(1, "top", "5").threshold == 5
    assert rules.rule(1, "new_risk", "").threshold is None


def test_risk_at_the_threshold_is_met() -> None:
    raised = _raised("risk", "50%")
    assert [a.iso3 for a in raised] == ["NGA", "MLI", "BFA"]
    mali = raised[1]
    assert mali.headline == (
        "Mali: risk 50% of at least one month with ≥ 25 deaths from all organised violence "
        "in Jan–Mar 2021 (rule: risk ≥ 50%)."
    )
    assert (mali.rule_id, mali.watchlist, mali.as_of, mali.period) == (
        7, "Sahel watch", "2020-12", "Jan–Mar 2021",
    )  # fmt: skip


def test_a_rise_is_measured_from_the_earlier_snapshot_when_there_is_one() -> None:
    (burkina,) = _raised("rise", "20%")  # no earlier snapshot: last month's forecast
    assert (burkina.iso3, burkina.risk_before) == ("BFA", 0.40)
    assert burkina.before == "the forecast a month earlier"
    assert burkina.headline.startswith("Burkina Faso: risk rose 27 points from 40%; risk 67%")
    earlier = _snapshot(
        "2020-06",
        [_country("NGA", "Nigeria", 0.70, 0.7), _country("BFA", "Burkina Faso", 0.60, 0.6)],
    )
    (nigeria,) = _raised("rise", "20%", earlier)
    assert (nigeria.iso3, nigeria.risk_before) == ("NGA", 0.70)
    assert nigeria.before == "the snapshot of data to Jun 2020"


def test_entry_into_the_top_n() -> None:
    # Last month's ranks: NGA 1, MLI 2, NER 3, BFA 4; now NGA 1, BFA 2, MLI 3, NER 4.
    (burkina,) = _raised("top", 2)
    assert burkina.headline.startswith("Burkina Faso: entered the top 2 (rank 2, was 4)")
    assert burkina.rank == 2


def test_surge_and_new_risk_flags() -> None:
    surges = _raised("surge")
    assert [(a.iso3, a.headline.split(";")[0]) for a in surges] == [
        ("BFA", "Burkina Faso: surge in deaths in Dec 2020"),
        ("NER", "Niger: surge in events and deaths in Dec 2020"),
    ]
    # Both quiet countries are on the new-risk list now and were last month: no entry.
    assert _raised("new_risk") == []
    earlier = _snapshot("2020-11", [_country("MRT", "Mauritania", 0.01, 0.01, new_risk=True)])
    (senegal,) = _raised("new_risk", earlier=earlier)
    assert senegal.iso3 == "SEN"
    assert "entered the new-risk list" in senegal.headline


def test_the_evidence_quotes_numbers_drivers_and_sources() -> None:
    nigeria = _raised("risk", "90%")[0]
    assert nigeria.drivers == (
        "Raises risk: 281 deaths from state-based violence in the last 3 months",
        "Raises risk: 174 deaths from one-sided violence in the last 3 months",
    )
    assert nigeria.sources == (
        "UCDP GED 21.1 (events to 2020-12; fetched 2026-11-30; sha256 d50ad0079569…)",
    )
    assert nigeria.evidence[:3] == [
        "Risk in the forecast a month earlier: 97% (now 99%).",
        "Deaths in Jan–Mar 2021: most likely 100 (90% interval 10–900; expected 250).",
        "Rank 1 in the watchlist Sahel watch.",
    ]
    assert nigeria.snapshot_sha256 == "ab" * 32


def test_countries_without_a_forecast_raise_nothing() -> None:
    quiet = _snapshot("2020-12", [{**_country("SSD", "South Sudan", 0.9, 0.9), "status":
                                  "insufficient data"}])  # fmt: skip
    assert rules.evaluate(WATCHLIST, [Rule(1, "risk", 0.1, id=1)], quiet, None,
                          raised_at=RAISED_AT) == []  # fmt: skip
