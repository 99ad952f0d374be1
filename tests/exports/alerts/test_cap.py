"""CAP 1.2 messages, checked against the official OASIS schema with lxml."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from exports.alerts import cap
from tests.exports.alerts.samples import MARKUP, alert, alerts

SENDER = "alerts@a99.example.org"
NS = {"cap": cap.CAP}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(cap.SCHEMA.read_bytes()))


def _read(data: bytes, schema: etree.XMLSchema) -> etree._Element:
    document = etree.fromstring(data)
    schema.assertValid(document)
    return document


def _one(document: etree._Element, path: str) -> str:
    (found,) = document.xpath(path, namespaces=NS)
    return found


def test_the_schema_is_oasis_s_own() -> None:
    text = cap.SCHEMA.read_text(encoding="utf-8")
    assert "<!-- Copyright OASIS Open 2010 All Rights Reserved -->" in text
    assert 'targetNamespace = "urn:oasis:names:tc:emergency:cap:1.2"' in text


def test_each_message_is_valid_cap_with_the_alert_s_numbers(schema: etree.XMLSchema) -> None:
    for sample in alerts():
        _read(cap.message(sample, sender=SENDER), schema)
    document = _read(
        cap.message(alert(), sender=SENDER, app_url="https://a99.example.org/"), schema
    )
    assert _one(document, "cap:sender/text()") == SENDER
    assert _one(document, "cap:sent/text()") == "2026-12-02T06:00:00+00:00"
    assert _one(document, "cap:identifier/text()").startswith("article99-alert-11-")
    (info,) = document.xpath("cap:info", namespaces=NS)
    assert _one(info, "cap:language/text()") == "en-US"
    assert _one(info, "cap:category/text()") == "Security"
    assert _one(info, "cap:responseType/text()") == "Monitor"
    assert _one(info, "cap:urgency/text()") == "Future"
    assert _one(info, "cap:severity/text()") == "Severe"  # median 310 deaths
    assert _one(info, "cap:certainty/text()") == "Likely"  # risk 93%
    assert _one(info, "cap:onset/text()") == "2021-01-01T00:00:00+00:00"
    assert _one(info, "cap:expires/text()") == "2021-04-01T00:00:00+00:00"
    assert _one(info, "cap:web/text()") == (
        "https://a99.example.org/country?as_of=2020-12&iso3=MLI"
    )
    description = _one(info, "cap:description/text()").splitlines()
    assert description == alert().evidence
    parameters = {
        p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
        for p in info.xpath("cap:parameter", namespaces=NS)
    }
    assert parameters["risk"] == "0.930"
    assert parameters["deaths_median"] == "310"
    assert parameters["deaths_interval_90"] == "120-690"
    assert parameters["measure"] == "all" and parameters["as_of"] == "2020-12"
    assert parameters["rule"] == "risk ≥ 50%"
    assert parameters["snapshot_sha256"] == "9f2c" * 16
    assert parameters["source"] == "UCDP GED 21.1 (events to 2020-12)"
    assert _one(info, "cap:area/cap:areaDesc/text()") == "Mali"
    assert _one(info, "cap:area/cap:geocode/cap:valueName/text()") == "ISO 3166-1 alpha-3"
    assert _one(info, "cap:area/cap:geocode/cap:value/text()") == "MLI"


def test_a_message_is_the_same_each_time_it_is_written() -> None:
    assert cap.message(alert(), sender=SENDER) == cap.message(alert(), sender=SENDER)
    assert cap.identifier(alert()) != cap.identifier(alert(id=12))


@pytest.mark.parametrize(
    ("risk", "word"),
    [
        (1.0, "Likely"),
        (0.501, "Likely"),
        (0.5, "Possible"),
        (0.005, "Possible"),
        (0.0049, "Unlikely"),
    ],
)
def test_certainty_as_cap_defines_it(risk: float, word: str, schema: etree.XMLSchema) -> None:
    assert cap.certainty(risk) == word
    document = _read(cap.message(alert(risk=risk), sender=SENDER), schema)
    assert _one(document, "cap:info/cap:certainty/text()") == word


@pytest.mark.parametrize(
    ("deaths", "word"),
    [
        (1000.0, "Extreme"),
        (999.0, "Severe"),
        (25.0, "Severe"),
        (24.0, "Moderate"),
        (1.0, "Moderate"),
        (0.0, "Minor"),
        (float("nan"), "Unknown"),
    ],
)
def test_severity_from_the_median_deaths(deaths: float, word: str, schema) -> None:
    assert cap.severity(deaths) == word
    document = _read(cap.message(alert(deaths_median=deaths), sender=SENDER), schema)
    assert _one(document, "cap:info/cap:severity/text()") == word


def test_markup_in_names_is_text(schema: etree.XMLSchema) -> None:
    country = "Côte d'Ivoire <i>& co</i>"
    data = cap.message(
        alert(country=country, watchlist=MARKUP, headline=f"{country}: {MARKUP}"),
        sender=SENDER,
    )
    assert b"<script>" not in data and b"<i>" not in data
    document = _read(data, schema)
    assert _one(document, "cap:info/cap:area/cap:areaDesc/text()") == country
    assert _one(document, "cap:info/cap:headline/text()") == f"{country}: {MARKUP}"
    assert f"Rank 2 in the watchlist {MARKUP}." in _one(document, "cap:info/cap:description/text()")


def test_a_long_headline_is_cut_to_160_characters(schema: etree.XMLSchema) -> None:
    document = _read(cap.message(alert(headline="Mali " * 60), sender=SENDER), schema)
    headline = _one(document, "cap:info/cap:headline/text()")
    assert len(headline) == 160 and headline.endswith("…")


def test_other_languages_get_the_english_info_until_they_have_text(schema) -> None:
    document = _read(cap.message(alert(), sender=SENDER, languages=("fr", "en")), schema)
    assert document.xpath("cap:info/cap:language/text()", namespaces=NS) == ["en-US"]
    with pytest.raises(ValueError, match="languages: xx"):
        cap.message(alert(), sender=SENDER, languages=("xx",))


@pytest.mark.parametrize(
    ("sender", "problem"),
    [("", "sender: required"), ("  ", "sender: required"), ("desk a99", "sender: 'desk a99'")],
)
def test_a_missing_or_malformed_sender_is_refused(sender: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        cap.message(alert(), sender=sender)


def test_what_the_schema_refuses_is_said_plainly() -> None:
    valid = cap.message(alert(), sender=SENDER)
    with pytest.raises(
        ValueError,
        match=r"not a valid CAP 1\.2 message \(line 5\): Element 'sent': \[facet 'pattern'\]",
    ):
        cap.check(valid.replace(b"2026-12-02T06:00:00+00:00", b"2026-12-02T06:00:00Z", 1))
    with pytest.raises(
        ValueError,
        match=r"\(line 5\): Element 'sent': This element is not expected\. Expected is \( sender",
    ):
        cap.check(valid.replace(b"<sender>alerts@a99.example.org</sender>", b""))
    with pytest.raises(ValueError, match="no id yet"):
        cap.message(alert(id=None), sender=SENDER)


def test_write_messages_one_file_per_alert(tmp_path: Path, schema: etree.XMLSchema) -> None:
    folder = tmp_path / "cap"
    paths = cap.write_messages(folder, alerts(), sender=SENDER)
    assert sorted(p.name for p in folder.iterdir()) == [
        "alert-11.xml",
        "alert-12.xml",
        "alert-13.xml",
    ]
    for path in paths:
        _read(path.read_bytes(), schema)
    with pytest.raises(ValueError, match="sender"):
        cap.write_messages(tmp_path / "none", alerts(), sender="")
    assert not (tmp_path / "none").exists()


def test_the_sender_from_the_environment() -> None:
    assert cap.sender({"ARTICLE99_CAP_SENDER": "ops@un.example.org"}) == "ops@un.example.org"
    assert cap.sender({"ARTICLE99_SMTP_FROM": SENDER}) == SENDER
    assert cap.sender({}) == "article99@localhost"
