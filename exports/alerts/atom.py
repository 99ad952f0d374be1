"""A watchlist's alerts as an Atom 1.0 feed (RFC 4287), for feed readers and other systems.

One feed per watchlist, newest alert first. Ids are lasting URNs (`delivery.alert_uuid`), so a
reader shows each alert once however often the feed is rewritten. All text from data goes
through ElementTree, which escapes it; the entry's HTML content is escaped once more before.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from exports.alerts import delivery
from exports.alerts.model import Alert, Watchlist

ATOM = "http://www.w3.org/2005/Atom"


def feed(
    watchlist: Watchlist,
    alerts: Iterable[Alert],
    *,
    updated: str,
    app_url: str | None = None,
    feed_url: str | None = None,
) -> bytes:
    """The feed of `watchlist` with `alerts` (any order; written newest first), as UTF-8 XML.

    `updated` is when the feed last changed (ISO 8601); `app_url`, the app's root, adds a link
    to each alert's country profile; `feed_url`, where the feed is served, its `self` link
    (RFC 4287 asks for one, so readers can follow a moved feed).
    """
    app_url = delivery.check_app_url(app_url)
    feed_url = delivery.check_app_url(feed_url, "feed_url")
    root = ET.Element("feed", xmlns=ATOM)
    _text(root, "id", delivery.watchlist_uuid(watchlist).urn)
    _text(root, "title", f"Article 99 alerts: {watchlist.name}")
    _text(root, "updated", delivery.iso_time(updated))
    _text(ET.SubElement(root, "author"), "name", delivery.PUBLISHER)
    if app_url:
        ET.SubElement(root, "link", rel="alternate", type="text/html", href=f"{app_url}/")
    if feed_url:
        ET.SubElement(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    for alert in sorted(alerts, key=_newest_first):
        _entry(root, alert, watchlist, app_url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_feed(path: str | Path, data: bytes) -> Path:
    """Replace the feed file at `path` in one step (readers never see half a feed)."""
    return delivery.write_atomic(path, data)


def _entry(root: ET.Element, alert: Alert, watchlist: Watchlist, app_url: str | None) -> None:
    entry = ET.SubElement(root, "entry")
    _text(entry, "id", delivery.alert_uuid(alert).urn)
    _text(entry, "title", alert.headline)
    raised = delivery.iso_time(alert.raised_at)
    _text(entry, "published", raised)
    _text(entry, "updated", raised)
    ET.SubElement(entry, "category", term=alert.kind, label=alert.rule)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in alert.evidence)
    _text(entry, "content", f"<ul>{items}</ul>").set("type", "html")
    if app_url:
        href = delivery.country_url(app_url, alert, watchlist)
        ET.SubElement(entry, "link", rel="alternate", type="text/html", href=href)


def _newest_first(alert: Alert) -> tuple[float, int]:
    return (-delivery.timestamp(alert.raised_at).timestamp(), -(alert.id or 0))


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, name)
    element.text = text
    return element
