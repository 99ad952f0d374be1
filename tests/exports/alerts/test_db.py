"""The alerts database: schema versions, watchlists and rules, alerts once, the outbox."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from exports.alerts import db as alerts_db
from exports.alerts import rules
from exports.alerts.db import AlertsDB, AlertsError
from exports.alerts.model import Alert


def _alert(watchlist_id: int, rule_id: int, iso3: str = "NGA", as_of: str = "2020-12") -> Alert:
    return Alert(
        watchlist_id=watchlist_id,
        watchlist="Sahel watch",
        rule_id=rule_id,
        rule="risk ≥ 50%",
        kind="risk",
        iso3=iso3,
        country="Nigeria",
        as_of=as_of,
        period="Jan–Mar 2021",
        measure="all",
        risk=0.99,
        risk_before=0.97,
        before="the forecast a month earlier",
        rank=1,
        deaths_median=529.0,
        deaths_low=103.0,
        deaths_high=2528.0,
        deaths_expected=902.0,
        headline="Nigeria: risk 99% …",
        drivers=("Raises risk: 281 deaths from state-based violence in the last 3 months",),
        sources=("UCDP GED 21.1 (events to 2020-12)",),
        raised_at="2026-12-02T10:00:00+00:00",
    )


@pytest.fixture
def db(store_dir: Path) -> AlertsDB:
    return AlertsDB(store_dir)


def test_a_new_database_has_the_current_schema_and_a_newer_one_is_refused(
    store_dir: Path,
) -> None:
    AlertsDB(store_dir)
    path = alerts_db.path_of(store_dir)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == alerts_db.VERSION
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        raw.execute(f"PRAGMA user_version = {alerts_db.VERSION + 1}")
    assert {"watchlists", "rules", "alerts", "outbox"} <= tables
    with pytest.raises(AlertsError, match="newer than this Article 99 reads"):
        AlertsDB(store_dir)


def test_an_older_file_is_migrated_and_keeps_its_rows(store_dir: Path) -> None:
    path = alerts_db.path_of(store_dir)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as raw:  # a version-0 file: empty, as an older tool leaves it
        raw.execute("CREATE TABLE notes (text TEXT)")
        raw.execute("INSERT INTO notes VALUES ('kept')")
    db = AlertsDB(store_dir)
    assert db.watchlists() == []
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT text FROM notes").fetchall() == [("kept",)]
        assert raw.execute("PRAGMA user_version").fetchone()[0] == alerts_db.VERSION


def test_watchlists_round_trip_and_names_are_unique(db: AlertsDB) -> None:
    added = db.add_watchlist(
        rules.watchlist(
            "Sahel watch",
            regions=["group:Sahel"],
            countries_=["nga"],
            measure="one_sided",
            recipients=["desk@example.org"],
        )
    )
    again = db.watchlist("Sahel watch")
    assert again == added
    assert again.selection.regions == ("group:Sahel",)
    assert again.selection.countries == ("NGA",)
    assert again.selection.measure == "one_sided"
    with pytest.raises(AlertsError, match=r"^name: a watchlist called 'Sahel watch' exists"):
        db.add_watchlist(rules.watchlist("Sahel watch"))
    other = db.add_watchlist(rules.watchlist("Horn"))
    with pytest.raises(AlertsError, match=r"^name: "):
        db.update_watchlist(replace(other, name="Sahel watch"))
    renamed = db.update_watchlist(replace(added, name="Sahel and Nigeria"))
    assert (renamed.id, renamed.name) == (added.id, "Sahel and Nigeria")
    assert [w.name for w in db.watchlists()] == ["Horn", "Sahel and Nigeria"]


def test_rules_are_unique_per_watchlist_and_go_with_it(db: AlertsDB) -> None:
    watchlist = db.add_watchlist(rules.watchlist("Sahel watch"))
    rule = db.add_rule(rules.rule(watchlist.id, "risk", "50%"))
    with pytest.raises(AlertsError, match=r"^rule: the watchlist has risk ≥ 50% already"):
        db.add_rule(rules.rule(watchlist.id, "risk", 0.5))
    db.add_rule(rules.rule(watchlist.id, "surge"))
    with pytest.raises(AlertsError, match=r"^rule: the watchlist has a surge flag already"):
        db.add_rule(rules.rule(watchlist.id, "surge"))
    db.record([_alert(watchlist.id, rule.id)])
    db.delete_watchlist(watchlist.id)
    assert db.rules() == []
    (kept,) = db.alerts()  # the history outlives the watchlist
    assert kept.watchlist == "Sahel watch"


def test_an_alert_is_raised_once_per_rule_country_and_month(db: AlertsDB) -> None:
    watchlist = db.add_watchlist(rules.watchlist("Sahel watch"))
    rule = db.add_rule(rules.rule(watchlist.id, "risk", "50%"))
    first = db.record([_alert(watchlist.id, rule.id), _alert(watchlist.id, rule.id, "MLI")])
    assert [a.iso3 for a in first] == ["NGA", "MLI"]
    assert db.record([_alert(watchlist.id, rule.id)]) == []
    later = db.record([_alert(watchlist.id, rule.id, as_of="2021-01")])
    assert len(later) == 1
    stored = db.alerts(watchlist.id)
    assert [(a.iso3, a.as_of) for a in stored] == [
        ("NGA", "2021-01"),
        ("MLI", "2020-12"),
        ("NGA", "2020-12"),
    ]
    assert stored[-1] == first[0]  # every field comes back as recorded


def test_the_first_acknowledgement_stays(db: AlertsDB) -> None:
    watchlist = db.add_watchlist(rules.watchlist("Sahel watch"))
    rule = db.add_rule(rules.rule(watchlist.id, "risk", "50%"))
    (alert,) = db.record([_alert(watchlist.id, rule.id)])
    assert db.alerts(unacknowledged=True) == [alert]
    seen = db.acknowledge(alert.id, "Ana Lima")
    assert seen.acknowledged_by == "Ana Lima" and seen.acknowledged_at
    assert db.acknowledge(alert.id, "Someone else").acknowledged_by == "Ana Lima"
    assert db.alerts(unacknowledged=True) == []
    with pytest.raises(AlertsError, match=r"^by: "):
        db.acknowledge(alert.id, "Ana\nBcc: x@example.org")
    with pytest.raises(AlertsError, match=r"^alert: no alert with id 999"):
        db.acknowledge(999, "Ana")


def test_the_outbox_keeps_a_digest_until_it_is_sent_once(db: AlertsDB) -> None:
    message = EmailMessage()
    message["To"] = "desk@example.org, chief@example.org"
    message["Subject"] = "Article 99: 1 new alert"
    message["Message-ID"] = "<digest-1@article99>"
    message.set_content("Nigeria")
    assert db.queue(1, message)
    assert not db.queue(1, message)  # the same digest is queued once
    (queued,) = db.outbox()
    assert queued.recipients == ("desk@example.org", "chief@example.org")
    assert queued.message["Subject"] == "Article 99: 1 new alert"
    db.failed(queued.id, "connection refused")
    (queued,) = db.outbox()
    assert (queued.attempts, queued.last_error) == (1, "connection refused")
    db.sent(queued.id)
    assert db.outbox() == []
    (done,) = db.outbox(pending=False)
    assert (done.attempts, done.last_error, bool(done.sent_at)) == (2, None, True)
