"""What the three deliveries (Atom feed, CAP messages, email digests) share: stable ids, the
app's link to a country, the forecast period as times, and files replaced atomically.

Ids are UUIDs derived from the store's id *and* the moment the thing was made, so they never
change for one alert, yet a database rebuilt from scratch (whose ids start at 1 again) cannot
hand a feed reader an id it has already marked as read.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pandas as pd

from exports.alerts.model import Alert, Watchlist
from risk.forecast import RISK_MONTHS
from risk.selection import Selection, to_query

PUBLISHER = "Article 99"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:article99:alerts")  # fixed: ids never change


def alert_uuid(alert: Alert) -> uuid.UUID:
    """The alert's lasting id (feed entry, CAP identifier, Message-ID); it must be stored."""
    if alert.id is None:
        raise ValueError(f"alert for {alert.country}: no id yet (store it before delivering)")
    return uuid.uuid5(_NAMESPACE, f"alert:{alert.id}:{alert.raised_at}")


def watchlist_uuid(watchlist: Watchlist) -> uuid.UUID:
    """The watchlist's lasting id: by its id, so a rename keeps its feed."""
    if watchlist.id is None:
        raise ValueError(f"watchlist {watchlist.name!r}: no id yet (store it before delivering)")
    return uuid.uuid5(_NAMESPACE, f"watchlist:{watchlist.id}:{watchlist.created_at}")


def check_app_url(url: str | None, name: str = "app_url") -> str | None:
    """An http(s) URL without a trailing slash (only those go into messages), or None."""
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"{name} must be an http(s) address such as https://host/, not {url!r}")
    return url.strip().rstrip("/")


def country_url(app_url: str, alert: Alert, watchlist: Watchlist | None = None) -> str:
    """The country profile as the alert saw it: its measure and forecast month, and the
    watchlist's regions in the sidebar when known."""
    selection = watchlist.selection if watchlist else Selection()
    selection = replace(selection, start=None, end=None, measure=alert.measure, as_of=alert.as_of)
    query = {**to_query(selection), "iso3": alert.iso3}
    return f"{check_app_url(app_url)}/country?{urlencode(query)}"


def timestamp(value: str | datetime) -> datetime:
    """An ISO 8601 time as an aware datetime to the second (a naive one is UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.replace(microsecond=0)


def iso_time(value: str | datetime) -> str:
    """'2021-01-05T06:00:00+00:00': the form both RFC 3339 (Atom) and CAP 1.2 accept (CAP
    forbids 'Z' and fractions of a second)."""
    return timestamp(value).isoformat()


def forecast_period(as_of: str) -> tuple[datetime, datetime]:
    """The start of the forecast period and the moment it ends (UTC), for data to `as_of`."""
    first = pd.Period(as_of, "M") + 1
    after = first + RISK_MONTHS
    return (
        first.start_time.to_pydatetime().replace(tzinfo=UTC),
        after.start_time.to_pydatetime().replace(tzinfo=UTC),
    )


def month_label(month: str) -> str:
    """'2020-12' → 'Dec 2020'."""
    return f"{pd.Period(month, 'M'):%b %Y}"


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file beside it, so a reader (a web server,
    a feed reader) sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide the file from a web server
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path
