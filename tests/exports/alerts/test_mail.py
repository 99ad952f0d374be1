"""Email digests: composed from hand-made alerts, sent to real SMTP servers on loopback."""

from __future__ import annotations

import logging
import re
import socket
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from exports.alerts.mail import DeliveryError, SmtpSettings, check_address, digest, send
from tests.exports.alerts.samples import MARKUP, PASSWORD, USERNAME, alert, alerts, watchlist
from tests.smtp_loopback import HOST, Certificate, SmtpLoopback, closed_port

SENDER = "alerts@a99.example.org"
APP = "https://a99.example.org"


def _settings(server: SmtpLoopback, **changes) -> SmtpSettings:
    base = SmtpSettings(
        host=server.host, port=server.port, sender=SENDER, username=USERNAME, password=PASSWORD
    )
    return replace(base, **changes)


def _parts(message: EmailMessage) -> tuple[str, str]:
    """The plain and HTML parts, with line ends as written (SMTP carries CRLF)."""
    plain = message.get_body(("plain",)).get_content()
    rich = message.get_body(("html",)).get_content()
    return plain.replace("\r\n", "\n"), rich.replace("\r\n", "\n")


def _everything(message: EmailMessage) -> str:
    """The message as sent, headers and decoded parts (a secret could hide in either)."""
    plain, rich = _parts(message)
    return message.as_string() + plain + rich


# Composition


def test_a_digest_has_its_subject_recipients_and_both_parts() -> None:
    message = digest(watchlist(), alerts(), app_url=APP)
    assert message["Subject"] == "Article 99: 3 new alerts for Sahel watch (data to Dec 2020)"
    assert message["To"] == "desk@example.org"
    assert message["From"] is None  # the settings' address, added by send
    assert message["Auto-Submitted"] == "auto-generated"
    plain, rich = _parts(message)
    # The strongest risk first, each with its headline, evidence, sources and link.
    assert [line for line in plain.splitlines() if re.match(r"\d\. ", line)] == [
        "1. Burkina Faso: risk ≥ 50% met: 97% risk of a month with ≥ 25 deaths.",
        "2. Mali: risk ≥ 50% met: 93% risk of a month with ≥ 25 deaths in Jan–Mar 2021.",
        "3. Niger: a rise of ≥ 20 points: risk 41%, up from 18%.",
    ]
    assert (
        "   - Deaths in Jan–Mar 2021: most likely 310 (90% interval 120–690; expected 352)."
        in plain
    )
    assert plain.count("   - Source: UCDP GED 21.1 (events to 2020-12)") == 3
    assert (
        "   Country profile: https://a99.example.org/country?region=group%3ASahel&as_of=2020-12"
        "&iso3=MLI" in plain
    )
    assert "- Sundberg, Ralph and Erik Melander (2013). Introducing the UCDP GED." in plain
    assert rich.count("<li><p><strong>") == 3
    assert "<strong>Mali: risk ≥ 50% met: 93% risk" in rich
    assert '<a href="https://a99.example.org/country?region=group%3ASahel&amp;as_of=2020-12' in rich
    assert "<li>Source: UCDP GED 21.1 (events to 2020-12)</li>" in rich


def test_one_alert_is_said_in_the_singular_and_needs_no_app_link() -> None:
    message = digest(watchlist(), [alert()])
    assert message["Subject"] == "Article 99: 1 new alert for Sahel watch (data to Dec 2020)"
    assert "Country profile" not in _parts(message)[0]


def test_the_message_id_is_the_same_for_the_same_alerts() -> None:
    first = digest(watchlist(), alerts())["Message-ID"]
    assert first == digest(watchlist(), list(reversed(alerts())))["Message-ID"]
    assert first == digest(watchlist(name="Renamed"), alerts())["Message-ID"]
    assert first != digest(watchlist(), alerts()[:2])["Message-ID"]
    assert first != digest(watchlist(id=4), alerts())["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{24}\.watchlist-3@article99\.invalid>", first)


def test_markup_from_data_is_escaped_in_html_and_kept_as_text_in_plain() -> None:
    country = "Côte d'Ivoire <i>& co</i>"
    sample = alert(country=country, headline=f"{country}: {MARKUP}", watchlist=MARKUP)
    message = digest(watchlist(name=MARKUP), [sample], app_url=APP)
    plain, rich = _parts(message)
    assert "<script>" not in rich and "<i>" not in rich and "<b>" not in rich
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rich
    assert "Côte d&#x27;Ivoire &lt;i&gt;&amp; co&lt;/i&gt;" in rich
    assert f"1. {country}: {MARKUP}" in plain
    assert message["Subject"] == f"Article 99: 1 new alert for {MARKUP} (data to Dec 2020)"


def test_a_name_with_a_line_break_cannot_add_a_header() -> None:
    message = digest(watchlist(name="Sahel\r\nBcc: spy@example.net"), [alert()])
    assert message["Bcc"] is None
    assert message["Subject"] == (
        "Article 99: 1 new alert for Sahel Bcc: spy@example.net (data to Dec 2020)"
    )


def test_a_digest_needs_alerts_and_valid_recipients() -> None:
    with pytest.raises(ValueError, match="alerts: none for the watchlist 'Sahel watch'"):
        digest(watchlist(), [])
    with pytest.raises(ValueError, match="recipients: the watchlist 'Sahel watch' has no"):
        digest(watchlist(recipients=()), alerts())
    with pytest.raises(ValueError, match="recipients: 'desk@' is not an email address"):
        digest(watchlist(recipients=("ok@example.org", "desk@")), alerts())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("desk", "is not an email address"),
        ("desk@example", "is not an email address"),
        ("Desk <desk@example.org>", "is not an email address"),
        ("a b@example.org", "is not an email address"),
        ("desk@example.org\r\nBcc: spy@example.net", "has a line break"),
        ("desk@example.org\n", "has a line break"),
        ("désk@example.org", "is not an ASCII email address"),
    ],
)
def test_check_address_refuses_malformed_addresses(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^recipient: .*{problem}"):
        check_address(text, "recipient")


def test_check_address_accepts_plain_ones() -> None:
    assert check_address(" desk.officer+sahel@un.example.org ", "to") == (
        "desk.officer+sahel@un.example.org"
    )


# Settings


def test_settings_from_the_environment() -> None:
    settings = SmtpSettings.from_env(
        {
            "ARTICLE99_SMTP_HOST": "smtp.example.org",
            "ARTICLE99_SMTP_FROM": SENDER,
            "ARTICLE99_SMTP_USERNAME": USERNAME,
            "ARTICLE99_SMTP_PASSWORD": PASSWORD,
        }
    )
    assert (settings.host, settings.port, settings.starttls) == ("smtp.example.org", 587, True)
    assert settings.password == PASSWORD
    assert PASSWORD not in repr(settings) and "password" not in repr(settings)
    relay = SmtpSettings.from_env(
        {
            "ARTICLE99_SMTP_HOST": "localhost",
            "ARTICLE99_SMTP_PORT": "25",
            "ARTICLE99_SMTP_FROM": SENDER,
            "ARTICLE99_SMTP_STARTTLS": "off",
            "ARTICLE99_SMTP_TIMEOUT": "5",
        }
    )
    assert (relay.port, relay.starttls, relay.timeout, relay.username) == (25, False, 5.0, "")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ARTICLE99_SMTP_HOST": ""}, "^ARTICLE99_SMTP_HOST is not set$"),
        ({"ARTICLE99_SMTP_FROM": " "}, "^ARTICLE99_SMTP_FROM is not set$"),
        ({"ARTICLE99_SMTP_FROM": "alerts"}, "^ARTICLE99_SMTP_FROM: 'alerts' is not an email"),
        ({"ARTICLE99_SMTP_PORT": "smtp"}, "^ARTICLE99_SMTP_PORT: must be a whole number"),
        ({"ARTICLE99_SMTP_PORT": "70000"}, "^ARTICLE99_SMTP_PORT: must be a whole number"),
        ({"ARTICLE99_SMTP_STARTTLS": "maybe"}, "^ARTICLE99_SMTP_STARTTLS: must be on or off"),
        ({"ARTICLE99_SMTP_STARTTLS": "0"}, "^ARTICLE99_SMTP_STARTTLS: is off while a user"),
        ({"ARTICLE99_SMTP_PASSWORD": ""}, "^ARTICLE99_SMTP_PASSWORD: is empty while a user"),
        ({"ARTICLE99_SMTP_USERNAME": ""}, "^ARTICLE99_SMTP_USERNAME: is empty while a pass"),
        ({"ARTICLE99_SMTP_TIMEOUT": "-1"}, "^ARTICLE99_SMTP_TIMEOUT: must be a number of sec"),
        ({"ARTICLE99_SMTP_PASSWORD": "a\nb"}, "^ARTICLE99_SMTP_PASSWORD: has a line break"),
    ],
)
def test_a_bad_setting_names_its_variable_and_never_the_password(changes, message) -> None:
    env = {
        "ARTICLE99_SMTP_HOST": "smtp.example.org",
        "ARTICLE99_SMTP_FROM": SENDER,
        "ARTICLE99_SMTP_USERNAME": USERNAME,
        "ARTICLE99_SMTP_PASSWORD": PASSWORD,
    }
    with pytest.raises(ValueError, match=message) as error:
        SmtpSettings.from_env({**env, **changes})
    assert PASSWORD not in str(error.value)


# Sending


def test_starttls_and_login_then_delivered(smtp_server: SmtpLoopback, certificate) -> None:
    message = digest(watchlist(recipients=("a@example.org", "b@example.org")), alerts())
    refused = send(message, _settings(smtp_server), context=certificate.client_context())
    assert refused == {}
    assert smtp_server.logins == [USERNAME]
    (received,) = smtp_server.messages
    assert smtp_server.envelopes == [(SENDER, ["a@example.org", "b@example.org"])]
    assert received["From"] == SENDER
    assert received["Message-ID"] == message["Message-ID"]
    assert received["Subject"] == message["Subject"]
    assert _parts(received) == _parts(message)
    assert message["From"] is None  # the caller's message is left as it was
    assert PASSWORD not in _everything(received) and USERNAME not in _everything(received)


def test_a_plain_relay_needs_neither_tls_nor_login(plain_server: SmtpLoopback) -> None:
    settings = SmtpSettings(host=plain_server.host, port=plain_server.port, sender=SENDER)
    settings = replace(settings, starttls=False)
    send(digest(watchlist(), [alert()]), settings)
    assert len(plain_server.messages) == 1 and plain_server.logins == []


def test_a_transient_refusal_is_retried_then_delivered(
    smtp_server: SmtpLoopback, certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.refuse(451, times=2)
    caplog.set_level(logging.DEBUG, logger="exports.alerts.mail")
    send(
        digest(watchlist(), alerts()),
        _settings(smtp_server),
        attempts=3,
        backoff=0,
        context=certificate.client_context(),
    )
    assert smtp_server.attempts == 3
    assert len(smtp_server.messages) == 1  # delivered once
    retries = [r.getMessage() for r in caplog.records if r.name == "exports.alerts.mail"]
    assert len(retries) == 2
    assert (
        f"mail through {HOST}:{smtp_server.port} not delivered (451 try again later)" in retries[0]
    )
    assert PASSWORD not in caplog.text and USERNAME not in caplog.text


def test_a_permanent_refusal_is_not_retried(
    smtp_server: SmtpLoopback, certificate: Certificate
) -> None:
    smtp_server.refuse(550, times=3)
    with pytest.raises(DeliveryError) as error:
        send(
            digest(watchlist(), alerts()),
            _settings(smtp_server),
            backoff=0,
            context=certificate.client_context(),
        )
    assert smtp_server.attempts == 1 and smtp_server.messages == []
    assert error.value.transient is False
    assert str(error.value) == (
        f"mail not delivered through {HOST}:{smtp_server.port} (1 attempt): 550 mailbox unavailable"
    )


def test_too_many_transient_refusals_end_in_a_transient_error(
    smtp_server: SmtpLoopback, certificate: Certificate
) -> None:
    smtp_server.refuse(451, times=5)
    with pytest.raises(DeliveryError, match=r"\(2 attempts\): 451 try again later") as error:
        send(
            digest(watchlist(), [alert()]),
            _settings(smtp_server),
            attempts=2,
            backoff=0,
            context=certificate.client_context(),
        )
    assert error.value.transient is True and smtp_server.messages == []


def test_a_server_that_is_down_is_retried_then_a_delivery_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = SmtpSettings(
        host=HOST, port=closed_port(), sender=SENDER, username=USERNAME, password=PASSWORD
    )
    caplog.set_level(logging.DEBUG, logger="exports.alerts.mail")
    with pytest.raises(DeliveryError) as error:
        send(digest(watchlist(), [alert()]), settings, attempts=3, backoff=0)
    text = str(error.value)
    assert text.startswith(f"mail not delivered through {settings.server} (3 attempts): ")
    assert "cannot reach the server: Connection refused" in text
    assert error.value.transient is True
    assert len([r for r in caplog.records if r.name == "exports.alerts.mail"]) == 2
    assert error.value.__cause__ is None and error.value.__suppress_context__
    for shown in (text, repr(error.value), caplog.text):
        assert PASSWORD not in shown and USERNAME not in shown


def test_a_wrong_password_is_refused_for_good_without_echoing_it(
    smtp_server: SmtpLoopback, certificate: Certificate
) -> None:
    wrong = "Wr0ng-pa55word"
    with pytest.raises(DeliveryError, match=r"\(1 attempt\): 535 ") as error:
        send(
            digest(watchlist(), [alert()]),
            _settings(smtp_server, password=wrong),
            backoff=0,
            context=certificate.client_context(),
        )
    assert error.value.transient is False
    assert smtp_server.logins == [] and smtp_server.messages == []
    for secret in (wrong, USERNAME, PASSWORD):
        assert secret not in str(error.value) and secret not in repr(error.value)


def test_an_untrusted_certificate_is_refused_for_good(smtp_server: SmtpLoopback) -> None:
    """The system's trust store does not know the throwaway certificate: no login is tried."""
    with pytest.raises(DeliveryError, match="TLS certificate refused") as error:
        send(digest(watchlist(), [alert()]), _settings(smtp_server), backoff=0)
    assert error.value.transient is False and smtp_server.logins == []


def test_a_server_without_starttls_is_refused_for_good(plain_server: SmtpLoopback) -> None:
    settings = SmtpSettings(host=plain_server.host, port=plain_server.port, sender=SENDER)
    with pytest.raises(DeliveryError, match="STARTTLS extension not supported") as error:
        send(digest(watchlist(), [alert()]), settings, backoff=0)
    assert error.value.transient is False and plain_server.messages == []


def test_a_message_read_back_from_the_outbox_is_sent_alike(
    smtp_server: SmtpLoopback, certificate: Certificate
) -> None:
    """The outbox keeps bytes; parsed again they send the same Message-ID and parts."""
    message = digest(watchlist(), alerts(), app_url=APP)
    kept = message_from_bytes(message.as_bytes(), policy=policy.default)
    send(kept, _settings(smtp_server), context=certificate.client_context())
    (received,) = smtp_server.messages
    assert received["Message-ID"] == message["Message-ID"]
    assert _parts(received) == _parts(message)


def test_a_private_ca_through_ssl_cert_file(
    smtp_server: SmtpLoopback, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an organisation with its own CA sets, instead of a context in code."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    send(digest(watchlist(), [alert()]), _settings(smtp_server))
    assert len(smtp_server.messages) == 1


def test_the_settings_in_words_have_no_credentials() -> None:
    settings = SmtpSettings(host="smtp.example.org", sender=SENDER, username=USERNAME,
                            password=PASSWORD)  # fmt: skip
    assert settings.describe() == (
        "smtp.example.org:587 (STARTTLS and a log-in) from alerts@a99.example.org"
    )


def test_a_recipient_refused_while_others_accept_is_returned_not_retried(
    smtp_server: SmtpLoopback, certificate: Certificate
) -> None:
    """The others got it, so sending it again would give them a second copy."""
    smtp_server.refuse_recipient("gone@example.org", 550)
    message = digest(watchlist(recipients=("desk@example.org", "gone@example.org")), [alert()])
    refused = send(message, _settings(smtp_server), context=certificate.client_context())
    assert refused == {"gone@example.org": "550 mailbox unavailable"}
    assert smtp_server.envelopes == [(SENDER, ["desk@example.org"])]


@pytest.mark.parametrize(("code", "attempts"), [(450, 2), (550, 1)])
def test_every_recipient_refused_is_retried_only_when_transient(
    smtp_server: SmtpLoopback, certificate: Certificate, code: int, attempts: int
) -> None:
    smtp_server.refuse_recipient("desk@example.org", code)
    with pytest.raises(DeliveryError, match=f"recipients refused: {code} ") as error:
        send(
            digest(watchlist(), [alert()]),
            _settings(smtp_server),
            attempts=2,
            backoff=0,
            context=certificate.client_context(),
        )
    assert error.value.attempts == attempts and error.value.transient is (code < 500)
    assert smtp_server.messages == []


def test_a_server_that_never_answers_is_given_up_after_the_timeout() -> None:
    """It accepts the connection and says nothing: each attempt ends at `timeout`."""
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen(4)
        settings = SmtpSettings(host=HOST, port=silent.getsockname()[1], sender=SENDER)
        settings = replace(settings, starttls=False, timeout=0.2)
        with pytest.raises(
            DeliveryError, match=r"\(2 attempts\): Connection unexpectedly closed: timed out"
        ):
            send(digest(watchlist(), [alert()]), settings, attempts=2, backoff=0)
