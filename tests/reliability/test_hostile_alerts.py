"""Hostile alert settings (issue #16): every bad watchlist or rule is refused with one message
naming the field and changes nothing; the SMTP password appears in no output."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from exports.alerts import rules
from exports.alerts.db import AlertsDB, AlertsError
from exports.alerts.mail import SmtpSettings
from exports.alerts.run import after_update
from tests.conftest import tree_digest
from tests.reliability.hostile import HOSTILE_TEXTS
from tests.reliability.ledger import LEDGER
from tests.smtp_loopback import closed_port

PASSWORD = "Pa55-w0rd-never-shown"  # a test credential, searched for below

WATCHLISTS = {
    **{f"name {text[:12]}": ({"name": text}, "name") for text in HOSTILE_TEXTS},
    "name with a line break": ({"name": "Sahel\nBcc: x@example.org"}, "name"),
    "name of 500 characters": ({"name": "S" * 500}, "name"),
    "unknown region": ({"name": "S", "regions": ["un:Westeros"]}, "regions"),
    "region as SQL": ({"name": "S", "regions": ["'; DROP TABLE rules; --"]}, "regions"),
    "unknown country": ({"name": "S", "countries_": ["XKX9"]}, "countries"),
    "country as markup": ({"name": "S", "countries_": ["<b>NGA</b>"]}, "countries"),
    "unknown measure": ({"name": "S", "measure": "protests"}, "measure"),
    "unknown language": ({"name": "S", "language": "tlh"}, "language"),
    "address without @": ({"name": "S", "recipients": ["desk.example.org"]}, "recipients"),
    "address with a header": (
        {"name": "S", "recipients": ["desk@example.org\r\nBcc: all@example.org"]},
        "recipients",
    ),
    "address list in one": (
        {"name": "S", "recipients": ["a@example.org, b@example.org"]},
        "recipients",
    ),
    "address as markup": ({"name": "S", "recipients": ["<a@example.org>"]}, "recipients"),
}
RULES = {
    "risk above 100%": ("risk", "150%"),
    "risk of 0": ("risk", 0),
    "negative rise": ("rise", -0.2),
    "rise of infinity": ("rise", "inf"),
    "risk as text": ("risk", "high"),
    "top 0": ("top", 0),
    "top 1,000": ("top", 1000),
    "top 2.5": ("top", 2.5),
    "surge with a threshold": ("surge", "10"),
    "unknown kind": ("riots", 1),
}


def _files(store: Path) -> dict[str, str]:
    return {k: v for k, v in tree_digest(store).items() if not k.endswith(".lock")}


@pytest.fixture
def db(store_dir: Path) -> AlertsDB:
    db = AlertsDB(store_dir)
    db.add_rule(rules.rule(db.add_watchlist(rules.watchlist("Sahel")).id, "surge"))
    return db


@pytest.mark.parametrize("case", WATCHLISTS)
def test_a_hostile_watchlist_is_refused_naming_the_field(
    case: str, db: AlertsDB, store_dir: Path
) -> None:
    fields, field = WATCHLISTS[case]
    before = _files(store_dir)
    with pytest.raises(AlertsError) as raised:
        db.add_watchlist(rules.watchlist(**fields))
    intact = _files(store_dir) == before
    LEDGER.hostile(f"watchlist: {case}", refused=True, store_intact=intact)
    message = str(raised.value)
    assert intact and message.startswith(f"{field}: "), message
    assert "\n" not in message and "\r" not in message


@pytest.mark.parametrize("case", RULES)
def test_a_hostile_rule_is_refused_naming_the_field(
    case: str, db: AlertsDB, store_dir: Path
) -> None:
    kind, threshold = RULES[case]
    before = _files(store_dir)
    with pytest.raises(AlertsError) as raised:
        db.add_rule(rules.rule(db.watchlist("Sahel").id, kind, threshold))
    intact = _files(store_dir) == before
    LEDGER.hostile(f"rule: {case}", refused=True, store_intact=intact)
    assert intact and str(raised.value).startswith(("threshold: ", "kind: "))
    assert [r.kind for r in db.rules()] == ["surge"]


def test_the_smtp_password_is_in_no_output(
    forecast_store: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused log-in and a server down, then every file of the store, every line of the
    outcome and every log record are searched for the password (and its user name)."""
    monkeypatch.setattr("exports.alerts.mail.time.sleep", lambda seconds: None)
    db = AlertsDB(forecast_store)
    sahel = db.add_watchlist(
        rules.watchlist("Sahel", regions=["group:Sahel"], recipients=["desk@example.org"])
    )
    db.add_rule(rules.rule(sahel.id, "risk", "50%"))
    monkeypatch.setenv("ARTICLE99_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ARTICLE99_SMTP_PORT", str(closed_port()))
    monkeypatch.setenv("ARTICLE99_SMTP_FROM", "article99@example.org")
    monkeypatch.setenv("ARTICLE99_SMTP_USERNAME", "robot-user-secret")
    monkeypatch.setenv("ARTICLE99_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("ARTICLE99_SMTP_TIMEOUT", "2")
    with caplog.at_level(logging.DEBUG):
        outcome = after_update(forecast_store)
    assert outcome.problems and "kept for the next run" in outcome.problems[0]
    outputs = {f"file {name}": (forecast_store / name).read_bytes() for name in tree_digest(
        forecast_store)}  # fmt: skip
    outputs["outcome"] = "\n".join([*outcome.lines, *outcome.problems]).encode()
    outputs["log"] = caplog.text.encode()
    outputs["settings"] = repr(SmtpSettings.from_env()).encode()
    leaks = [name for name, data in outputs.items() if PASSWORD.encode() in data]
    LEDGER.scanned(len(outputs), leaks)
    assert leaks == []
