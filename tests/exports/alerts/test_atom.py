"""The Atom feed, read back with feedparser as a feed reader would."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from exports.alerts.atom import feed, write_feed
from tests.exports.alerts.samples import MARKUP, alert, alerts, watchlist

UPDATED = "2026-12-02T06:05:00Z"


def _parse(data: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_entries_newest_first_with_their_evidence_and_links() -> None:
    data = feed(
        watchlist(),
        alerts(),
        updated=UPDATED,
        app_url="https://a99.example.org/app/",
        feed_url="https://a99.example.org/feeds/watchlist-3.atom",
    )
    parsed = _parse(data)
    assert {(link.rel, link.href) for link in parsed.feed.links} == {
        ("alternate", "https://a99.example.org/app/"),
        ("self", "https://a99.example.org/feeds/watchlist-3.atom"),
    }

    assert parsed.feed.title == "Article 99 alerts: Sahel watch"
    assert parsed.feed.id.startswith("urn:uuid:")
    assert parsed.feed.author == "Article 99"
    assert parsed.feed.updated == "2026-12-02T06:05:00+00:00"
    assert [e.title for e in parsed.entries] == [
        "Burkina Faso: risk ≥ 50% met: 97% risk of a month with ≥ 25 deaths.",
        "Niger: a rise of ≥ 20 points: risk 41%, up from 18%.",
        "Mali: risk ≥ 50% met: 93% risk of a month with ≥ 25 deaths in Jan–Mar 2021.",
    ]
    mali = parsed.entries[2]
    assert mali.published == mali.updated == "2026-12-02T06:00:00+00:00"
    assert [t.term for t in mali.tags] == ["risk"]
    assert mali.tags[0].label == "risk ≥ 50%"
    content = mali.content[0]
    assert content.type == "text/html"
    assert "<li>Risk in the snapshot of data to Jun 2020: 88% (now 93%).</li>" in content.value
    assert "<li>Source: UCDP GED 21.1 (events to 2020-12)</li>" in content.value
    link = urlsplit(mali.link)
    assert link.netloc == "a99.example.org" and link.path == "/app/country"
    assert parse_qs(link.query) == {
        "region": ["group:Sahel"],
        "as_of": ["2020-12"],
        "iso3": ["MLI"],
    }


def test_ids_are_stable_per_alert_and_watchlist_not_name() -> None:
    first = _parse(feed(watchlist(), alerts(), updated=UPDATED))
    renamed = _parse(feed(watchlist(name="Sahel (renamed)"), alerts()[:1], updated=UPDATED))
    assert renamed.feed.id == first.feed.id
    assert renamed.entries[0].id == first.entries[2].id  # Mali, alert 11
    assert len({e.id for e in first.entries}) == 3
    other = _parse(feed(watchlist(id=4), [], updated=UPDATED))
    assert other.feed.id != first.feed.id


def test_markup_and_ampersands_come_back_as_text() -> None:
    country = "Côte d'Ivoire <i>& co</i>"
    data = feed(
        watchlist(name=MARKUP),
        [alert(country=country, headline=f"{country}: risk ≥ 50% met", watchlist=MARKUP)],
        updated=UPDATED,
    )
    assert b"<script>" not in data and b"<b>" not in data
    parsed = _parse(data)
    assert parsed.feed.title == f"Article 99 alerts: {MARKUP}"
    assert parsed.entries[0].title == f"{country}: risk ≥ 50% met"
    # The evidence names the watchlist: in the HTML content its markup is text, not tags.
    content = parsed.entries[0].content[0].value
    assert "<script>" not in content
    lines = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", content)]
    assert f"Rank 2 in the watchlist {MARKUP}." in lines


def test_an_empty_watchlist_is_a_valid_empty_feed() -> None:
    parsed = _parse(feed(watchlist(), [], updated=UPDATED))
    assert parsed.entries == []
    assert parsed.feed.title == "Article 99 alerts: Sahel watch"


def test_an_unstored_alert_or_a_bad_link_is_refused() -> None:
    with pytest.raises(ValueError, match="no id yet"):
        feed(watchlist(), [alert(id=None)], updated=UPDATED)
    with pytest.raises(ValueError, match="app_url must be an http"):
        feed(watchlist(), alerts(), updated=UPDATED, app_url="javascript:alert(1)")
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        feed(watchlist(), alerts(), updated="yesterday")


def test_write_feed_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "alerts" / "watchlist-3.atom"
    write_feed(path, feed(watchlist(), alerts(), updated=UPDATED))
    write_feed(path, feed(watchlist(), [], updated=UPDATED))
    assert _parse(path.read_bytes()).entries == []
    assert [p.name for p in path.parent.iterdir()] == ["watchlist-3.atom"]  # no temp files
    assert path.stat().st_mode & 0o644 == 0o644
