"""Email digests of alerts: one message per watchlist and update, sent through SMTP.

The settings come from the environment (`ARTICLE99_SMTP_*`; Streamlit exports its secrets
there). The password is kept out of `repr`, logs and errors; the user name out of errors.
`send` retries what may pass (no connection, a 4xx reply) and stops at once on a permanent
refusal (5xx); what it could not deliver it raises as `DeliveryError`, which the outbox keeps
to send next time. A digest's Message-ID is made from the watchlist and alert ids, so a
message sent again is recognisable as the same one.
"""

from __future__ import annotations

import copy
import hashlib
import html
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from exports.alerts import delivery
from exports.alerts.model import Alert, Watchlist

log = logging.getLogger(__name__)

FROM_ENV = "ARTICLE99_SMTP_FROM"
ENV = {
    "host": "ARTICLE99_SMTP_HOST",
    "port": "ARTICLE99_SMTP_PORT",
    "username": "ARTICLE99_SMTP_USERNAME",
    "password": "ARTICLE99_SMTP_PASSWORD",
    "sender": FROM_ENV,
    "starttls": "ARTICLE99_SMTP_STARTTLS",
    "timeout": "ARTICLE99_SMTP_TIMEOUT",
}
_YES, _NO = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class _Invalid(ValueError):
    """A bad setting, by field, so `from_env` can name the variable instead."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: a submission server (port 587, STARTTLS) by default.

    Implicit TLS (port 465) is not supported; submission servers offer 587 with STARTTLS.
    A user name needs STARTTLS, so a password never crosses the network in clear.
    """

    host: str
    sender: str  # the From address
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    timeout: float = 30.0  # seconds, for the connection and each reply

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() or not c.isprintable() for c in self.host):
            raise _Invalid("host", f"{self.host!r} is not a host name")
        if (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 0 < self.port < 65536
        ):
            raise _Invalid("port", f"must be a whole number 1–65535, not {self.port!r}")
        problem = _address_problem(self.sender)
        if problem:
            raise _Invalid("sender", problem)
        for name in ("username", "password"):
            if not getattr(self, name).isprintable():
                raise _Invalid(name, "has a line break or control character")
        if self.username and not self.password:
            raise _Invalid("password", "is empty while a user name is set")
        if self.password and not self.username:
            raise _Invalid("username", "is empty while a password is set")
        if self.username and not self.starttls:
            raise _Invalid("starttls", "is off while a user name is set (the password in clear)")
        if not self.timeout > 0:
            raise _Invalid("timeout", f"must be a number of seconds above 0, not {self.timeout!r}")

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        """The settings in words for a page or a log, without the credentials."""
        how = "STARTTLS" if self.starttls else "no encryption"
        login = " and a log-in" if self.username else ""
        return f"{self.server} ({how}{login}) from {self.sender}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """The settings from `ARTICLE99_SMTP_HOST`, `_PORT`, `_USERNAME`, `_PASSWORD`, `_FROM`,
        `_STARTTLS` (1/0, true/false, yes/no, on/off) and `_TIMEOUT`; HOST and FROM are
        required. A bad or missing value raises ValueError naming its variable."""
        env = os.environ if environ is None else environ
        given = {name: env.get(variable, "") for name, variable in ENV.items()}
        for required in ("host", "sender"):
            if not given[required].strip():
                raise ValueError(f"{ENV[required]} is not set")
        values: dict[str, object] = {
            "host": given["host"].strip(),
            "sender": given["sender"].strip(),
            "username": given["username"].strip(),
            "password": given["password"],
        }
        try:
            if given["port"].strip():
                values["port"] = _number(given["port"], int, "port", "a whole number 1–65535")
            if given["timeout"].strip():
                values["timeout"] = _number(given["timeout"], float, "timeout", "seconds")
            if given["starttls"].strip():
                values["starttls"] = _switch(given["starttls"])
            return cls(**values)
        except _Invalid as invalid:
            raise ValueError(f"{ENV[invalid.name]}: {invalid.reason}") from None


def check_address(text: str, field: str) -> str:
    """`text` as a bare email address (name@example.org), or ValueError naming `field`.

    Line breaks and other control characters are refused, so an address can never add a
    header; so are non-ASCII addresses (most servers do not take them).
    """
    problem = _address_problem(text)
    if problem:
        raise ValueError(f"{field}: {problem}")
    return text.strip()


class DeliveryError(Exception):
    """A message not delivered. `transient`: trying later may work (a 4xx reply, no
    connection); otherwise the server refused it for good (5xx, TLS or login refused)."""

    def __init__(self, server: str, reply: str, *, transient: bool, attempts: int) -> None:
        tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
        super().__init__(f"mail not delivered through {server} ({tries}): {reply}")
        self.server, self.reply, self.transient, self.attempts = server, reply, transient, attempts


def digest(
    watchlist: Watchlist, alerts: Iterable[Alert], *, app_url: str | None = None
) -> EmailMessage:
    """One email of a watchlist's new alerts to its recipients: plain text and HTML.

    `From` is left to `send` (the settings' address). The Message-ID depends only on the
    watchlist and the alerts, so sending the same digest again gives the same one.
    """
    alerts = sorted(alerts, key=lambda a: (-a.risk, a.country))  # the strongest first
    if not alerts:
        raise ValueError(f"alerts: none for the watchlist {watchlist.name!r}; nothing to send")
    if not watchlist.recipients:
        raise ValueError(f"recipients: the watchlist {watchlist.name!r} has no email address")
    recipients = [Address(addr_spec=check_address(r, "recipients")) for r in watchlist.recipients]
    app_url = delivery.check_app_url(app_url)
    name = " ".join(watchlist.name.split())  # one line, whatever the name holds
    as_of = delivery.month_label(max(a.as_of for a in alerts))
    count = f"{len(alerts)} new alert{'s' if len(alerts) > 1 else ''}"
    subject = f"Article 99: {count} for {name} (data to {as_of})"
    links = [delivery.country_url(app_url, a, watchlist) if app_url else None for a in alerts]
    citations = list(dict.fromkeys(c for a in alerts for c in a.citations))

    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = recipients
    message["Date"] = format_datetime(max(delivery.timestamp(a.raised_at) for a in alerts))
    message["Message-ID"] = _message_id(watchlist, alerts)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    intro = f"{count} for the watchlist {name}, from the forecast of data to {as_of}."
    footer = (
        f"Sent by Article 99 to the recipients of the watchlist {name}. Risks and deaths to "
        "come are the model's forecasts; each alert names the data it rests on."
    )
    message.set_content(_plain(intro, alerts, links, citations, footer))
    message.add_alternative(_html(subject, intro, alerts, links, citations, footer), subtype="html")
    return message


def send(
    message: EmailMessage,
    settings: SmtpSettings,
    *,
    attempts: int = 3,
    backoff: float = 2.0,
    context: ssl.SSLContext | None = None,
) -> dict[str, str]:
    """Deliver `message` through the settings' server, trying up to `attempts` times.

    Waits `backoff` seconds after the first failure, doubling after each; retries only what
    may pass (no connection, a 4xx reply). The waits are short on purpose: a server down for
    longer is the outbox's to retry on the next run. `context` verifies the server's
    certificate (default: the system's trust store; `SSL_CERT_FILE` can name a private CA's).

    Returns the recipients the server refused while accepting the message for the others
    (address → reply; usually empty): the others got it, so it must not be sent again whole.
    Raises `DeliveryError` when nobody got it.
    """
    if attempts < 1:
        raise ValueError(f"attempts: at least 1, not {attempts}")
    if message["From"] is None:
        message = copy.deepcopy(message)
        message["From"] = check_address(settings.sender, "sender")
    for attempt in range(1, attempts + 1):
        try:
            return _deliver(message, settings, context)
        except _Failure as failure:
            reply = _scrub(failure.reply, settings)
            if not failure.transient or attempt == attempts:
                raise DeliveryError(
                    settings.server, reply, transient=failure.transient, attempts=attempt
                ) from None
            delay = backoff * 2 ** (attempt - 1)
            log.warning(
                "mail through %s not delivered (%s); attempt %d of %d in %.0f s",
                settings.server, reply, attempt + 1, attempts, delay,
            )  # fmt: skip
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


class _Failure(Exception):
    def __init__(self, reply: str, *, transient: bool) -> None:
        self.reply, self.transient = reply, transient


def _deliver(
    message: EmailMessage, settings: SmtpSettings, context: ssl.SSLContext | None
) -> dict[str, str]:
    try:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.starttls:
                smtp.starttls(context=context or ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            refused = smtp.send_message(message)
        finally:
            _close(smtp)
    except smtplib.SMTPRecipientsRefused as error:
        replies = [_reply(code, text) for code, text in error.recipients.values()]
        transient = all(400 <= code < 500 for code, _ in error.recipients.values())
        raise _Failure("recipients refused: " + "; ".join(replies), transient=transient) from None
    except smtplib.SMTPResponseException as error:
        raise _Failure(
            _reply(error.smtp_code, error.smtp_error), transient=400 <= error.smtp_code < 500
        ) from None
    except smtplib.SMTPServerDisconnected as error:  # smtplib's words: "…closed: timed out"
        reason = str(error) or "the server closed the connection"
        raise _Failure(reason, transient=True) from None
    except smtplib.SMTPException as error:  # e.g. no STARTTLS or AUTH offered
        raise _Failure(str(error), transient=False) from None
    except ssl.SSLCertVerificationError as error:
        reason = f"TLS certificate refused: {error.verify_message}"
        raise _Failure(reason, transient=False) from None
    except OSError as error:  # refused, unreachable, timed out, TLS cut short
        reason = f"cannot reach the server: {error.strerror or error!s}"
        raise _Failure(reason, transient=True) from None
    return {address: _reply(code, text) for address, (code, text) in refused.items()}


def _close(smtp: smtplib.SMTP) -> None:
    """Say goodbye, ignoring a server that is gone: the outcome is already known."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}"


def _scrub(text: str, settings: SmtpSettings) -> str:
    """A server's reply with the credentials blanked out, should it echo them."""
    for secret in (settings.password, settings.username):
        if secret:
            text = text.replace(secret, "***")
    return text


def _address_problem(text: str) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "is empty"
    if any(not c.isprintable() for c in text):
        return "has a line break or control character"
    if not text.isascii():
        return f"{text!r} is not an ASCII email address"
    try:
        address = Address(addr_spec=text.strip())
    except (ValueError, IndexError, HeaderParseError):
        return f"{text!r} is not an email address such as name@example.org"
    domain = address.domain
    if not address.username or not ("." in domain.strip(".") or domain.startswith("[")):
        return f"{text!r} is not an email address such as name@example.org"
    return None


def _number(text: str, kind: type, name: str, what: str) -> int | float:
    try:
        return kind(text.strip())
    except ValueError:
        raise _Invalid(name, f"must be {what}, not {text!r}") from None


def _switch(text: str) -> bool:
    value = text.strip().lower()
    if value not in _YES | _NO:
        raise _Invalid("starttls", f"must be on or off (1/0, true/false), not {text!r}")
    return value in _YES


def _message_id(watchlist: Watchlist, alerts: list[Alert]) -> str:
    ids = sorted(str(delivery.alert_uuid(a)) for a in alerts)
    key = hashlib.sha256("\n".join([str(delivery.watchlist_uuid(watchlist)), *ids]).encode())
    # Short enough never to be folded onto a second line (a folded id reads back with a space).
    return f"<{key.hexdigest()[:24]}.{watchlist.slug}@article99.invalid>"


def _plain(
    intro: str, alerts: list[Alert], links: list[str | None], citations: list[str], footer: str
) -> str:
    lines = [intro, ""]
    for number, (alert, link) in enumerate(zip(alerts, links, strict=True), start=1):
        lines.append(f"{number}. {alert.headline}")
        lines += [f"   - {line}" for line in alert.evidence]
        if link:
            lines.append(f"   Country profile: {link}")
        lines.append("")
    if citations:
        lines += ["How to cite the data:", *(f"- {c}" for c in citations), ""]
    lines += ["-- ", footer]  # the signature separator mail clients know
    return "\n".join(lines) + "\n"


def _html(
    subject: str,
    intro: str,
    alerts: list[Alert],
    links: list[str | None],
    citations: list[str],
    footer: str,
) -> str:
    esc = html.escape
    items = []
    for alert, link in zip(alerts, links, strict=True):
        evidence = "".join(f"<li>{esc(line)}</li>" for line in alert.evidence)
        profile = f'<p><a href="{esc(link)}">Country profile</a></p>' if link else ""
        items.append(
            f"<li><p><strong>{esc(alert.headline)}</strong></p><ul>{evidence}</ul>{profile}</li>"
        )
    cite = "".join(f"<li>{esc(c)}</li>" for c in citations)
    cite = f"<p>How to cite the data:</p><ul>{cite}</ul>" if citations else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(subject)}</title></head><body>\n<p>{esc(intro)}</p>\n"
        f"<ol>{''.join(items)}</ol>\n{cite}\n"
        f'<p style="color:#555">{esc(footer)}</p>\n</body></html>\n'
    )
