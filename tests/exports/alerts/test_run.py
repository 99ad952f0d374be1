"""After an update, on the GED 21.1 store: snapshots kept, alerts raised once, feed, CAP files
and a digest delivered through a loopback SMTP server; a server down loses nothing."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from exports.alerts import cap, rules
from exports.alerts.db import AlertsDB, path_of
from exports.alerts.mail import SmtpSettings
from exports.alerts.run import after_update, cap_folder, feed_path
from tests.conftest import tree_digest
from tests.exports.alerts.samples import PASSWORD, USERNAME
from tests.smtp_loopback import Certificate, SmtpLoopback, closed_port


@pytest.fixture
def watched(forecast_store: Path) -> Path:
    """The store with a Sahel watchlist: risk ≥ 60% and entry into the top 3, to one desk."""
    db = AlertsDB(forecast_store)
    sahel = db.add_watchlist(
        rules.watchlist("Sahel watch", regions=["group:Sahel"], recipients=["desk@example.org"])
    )
    db.add_rule(rules.rule(sahel.id, "risk", "60%"))
    db.add_rule(rules.rule(sahel.id, "top", 3))
    return forecast_store


def _relay(server: SmtpLoopback) -> SmtpSettings:
    return SmtpSettings(
        host=server.host, port=server.port, sender="article99@example.org", starttls=False
    )


def _files(store: Path) -> dict[str, str]:
    """What a run writes (the database's header counts each transaction, so it is left out)."""
    return {
        name: digest
        for name, digest in tree_digest(store).items()
        if not name.endswith((".lock", ".sqlite"))
    }


def test_an_update_raises_delivers_and_a_second_run_changes_nothing(
    watched: Path, plain_server: SmtpLoopback
) -> None:
    outcome = after_update(watched, smtp=_relay(plain_server))
    assert outcome.ok, outcome.problems
    assert outcome.lines[0] == "snapshot of data to 2020-12: written (snapshots/all/2020-12.json)"
    assert outcome.lines[1] == "watchlist Sahel watch: new alerts 5, raised before 0; digest queued"
    assert outcome.lines[-1] == "email: digests sent 1 of 1"
    assert (watched / "alerts" / "snapshots" / "watchlist-1" / "2020-12.json").is_file()

    db = AlertsDB(watched)
    raised = db.alerts()
    # Risk ≥ 60%: Nigeria, Mali, Cameroon, Burkina Faso; and Cameroon entered the top 3 (the
    # first evaluation compares with the forecast a month earlier).
    assert sorted((a.country, a.rule) for a in raised) == [
        ("Burkina Faso", "risk ≥ 60%"),
        ("Cameroon", "entry into the top 3"),
        ("Cameroon", "risk ≥ 60%"),
        ("Mali", "risk ≥ 60%"),
        ("Nigeria", "risk ≥ 60%"),
    ]
    (top,) = [a for a in raised if a.kind == "top"]
    assert top.headline.startswith("Cameroon: entered the top 3 (rank 3, was 4)")
    assert top.before == "the forecast a month earlier"

    feed = feedparser.parse(feed_path(watched, db.watchlist("Sahel watch")).read_bytes())
    assert not feed.bozo
    assert feed.feed.title == "Article 99 alerts: Sahel watch"
    assert sorted(e.title.split(":")[0] for e in feed.entries) == sorted(a.country for a in raised)
    messages = sorted(cap_folder(watched).glob("*.xml"))
    assert len(messages) == 5
    for message in messages:
        cap.check(message.read_bytes())

    (digest,) = plain_server.messages
    assert digest["Subject"] == "Article 99: 5 new alerts for Sahel watch (data to Dec 2020)"
    assert digest["To"] == "desk@example.org"
    assert "Nigeria" in digest.get_body(("plain",)).get_content()

    before = _files(watched)
    again = after_update(watched, smtp=_relay(plain_server))
    assert again.ok, again.problems
    assert again.lines[0].endswith(": unchanged (snapshots/all/2020-12.json)")
    assert again.lines[1] == "watchlist Sahel watch: new alerts 0, raised before 5"
    assert len(plain_server.messages) == 1  # nothing sent twice
    assert _files(watched) == before


def test_a_server_down_keeps_the_digest_and_the_next_run_sends_it_once(
    watched: Path,
    smtp_server: SmtpLoopback,
    certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = SmtpSettings(
        host="127.0.0.1",
        port=closed_port(),
        sender="article99@example.org",
        username=USERNAME,
        password=PASSWORD,
        timeout=2,
    )
    monkeypatch.setattr("exports.alerts.mail.time.sleep", lambda seconds: None)
    first = after_update(watched, smtp=down)
    (problem,) = first.problems
    assert problem.startswith("email: digest <") and "kept for the next run" in problem
    (waiting,) = AlertsDB(watched).outbox()
    assert waiting.attempts == 1 and waiting.last_error

    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))  # trust the loopback's certificate
    up = SmtpSettings(
        host=smtp_server.host,
        port=smtp_server.port,
        sender="article99@example.org",
        username=USERNAME,
        password=PASSWORD,
    )
    smtp_server.refuse(451, times=3)  # busy for one run's three attempts
    second = after_update(watched, smtp=up)
    assert "kept for the next run" in second.problems[0]
    assert smtp_server.messages == []
    third = after_update(watched, smtp=up)
    assert third.ok and third.lines[-1] == "email: digests sent 1 of 1"
    (digest,) = smtp_server.messages
    assert digest["Message-ID"] == waiting.message["Message-ID"]
    assert set(smtp_server.logins) == {USERNAME}  # over STARTTLS, each attempt
    fourth = after_update(watched, smtp=up)
    assert fourth.ok and len(smtp_server.messages) == 1

    everything = [*first.lines, *first.problems, *second.problems, *third.lines]
    assert not any(PASSWORD in line for line in everything)
    for name in tree_digest(watched):
        assert PASSWORD.encode() not in (watched / name).read_bytes(), name
    assert path_of(watched).is_file()


def test_without_mail_settings_digests_wait_and_the_run_says_so(
    watched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARTICLE99_SMTP_HOST", raising=False)
    outcome = after_update(watched)
    assert outcome.problems == [
        "email: digests waiting 1, not sent: ARTICLE99_SMTP_HOST is not set"
    ]
    assert len(AlertsDB(watched).outbox()) == 1
