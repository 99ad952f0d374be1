"""Alerts and watchlists written by hand for the delivery tests (no store, no model run).

The numbers are of the kind a forecast from data to Dec 2020 gives for the Sahel; they are
not the model's and nothing asserts them against it.
"""

from __future__ import annotations

from dataclasses import replace

from exports.alerts.model import RISE, RISK, Alert, Watchlist
from risk.selection import Selection

USERNAME, PASSWORD = "desk-robot", "Pa55-w0rd-never-shown"  # the loopback SMTP server's
MARKUP = "<b>Sahel</b> & \"friends\" <script>alert('x')</script>"


def watchlist(**changes) -> Watchlist:
    """The 'Sahel watch' watchlist (id 3) with one recipient."""
    base = Watchlist(
        name="Sahel watch",
        selection=Selection(regions=("group:Sahel",)),
        recipients=("desk@example.org",),
        id=3,
        created_at="2026-11-30T08:00:00+00:00",
    )
    return replace(base, **changes)


def alert(**changes) -> Alert:
    """Mali meets 'risk ≥ 50%' in the forecast from data to Dec 2020 (alert id 11)."""
    base = Alert(
        watchlist_id=3,
        watchlist="Sahel watch",
        rule_id=5,
        rule="risk ≥ 50%",
        kind=RISK,
        iso3="MLI",
        country="Mali",
        as_of="2020-12",
        period="Jan–Mar 2021",
        measure="all",
        risk=0.93,
        risk_before=0.88,
        before="the snapshot of data to Jun 2020",
        rank=2,
        deaths_median=310.0,
        deaths_low=120.0,
        deaths_high=690.0,
        deaths_expected=352.4,
        headline="Mali: risk ≥ 50% met: 93% risk of a month with ≥ 25 deaths in Jan–Mar 2021.",
        drivers=("Deaths in the last 12 months were far above the Sahel's typical level.",),
        sources=("UCDP GED 21.1 (events to 2020-12)",),
        citations=("Sundberg, Ralph and Erik Melander (2013). Introducing the UCDP GED.",),
        snapshot_sha256="9f2c" * 16,
        raised_at="2026-12-02T06:00:00+00:00",
        id=11,
    )
    return replace(base, **changes)


def alerts() -> list[Alert]:
    """Three alerts of one update, oldest first: Mali, Niger (a rise), Burkina Faso."""
    return [
        alert(),
        alert(
            id=12,
            rule_id=6,
            rule="a rise of ≥ 20 points",
            kind=RISE,
            iso3="NER",
            country="Niger",
            risk=0.41,
            risk_before=0.18,
            rank=4,
            deaths_median=18.0,
            deaths_low=2.0,
            deaths_high=95.0,
            deaths_expected=31.0,
            headline="Niger: a rise of ≥ 20 points: risk 41%, up from 18%.",
            raised_at="2026-12-02T06:00:01+00:00",
        ),
        alert(
            id=13,
            iso3="BFA",
            country="Burkina Faso",
            risk=0.97,
            deaths_median=1450.0,
            deaths_low=700.0,
            deaths_high=2600.0,
            deaths_expected=1500.0,
            headline="Burkina Faso: risk ≥ 50% met: 97% risk of a month with ≥ 25 deaths.",
            raised_at="2026-12-02T06:00:02+00:00",
        ),
    ]
