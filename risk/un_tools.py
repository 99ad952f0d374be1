"""What the pages say beside the risk about the UN's own tools: one country's UN presence,
regional organisations and sanctions in force on a day (each row with its document and
source), whether it is on the prevention-gap list and why, and why the list is empty.

Built on `risk.presence` (the summary and the rule) and `loaders.reference` (the tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loaders import reference
from risk import presence as un_presence

# Display columns per table: (column in the reference table, label on the page).
COLUMNS = {
    "un_presence": {
        "mission": "Mission",
        "name": "Name",
        "kind": "Kind",
        "mandate": "Mandate",
        "start": "Since",
        "end": "Until",
        "document": "Mandate document",
        "source": "Source",
    },
    "memberships": {
        "organisation": "Organisation",
        "joined": "Member since",
        "left": "Until",
        "note": "Note",
        "source": "Source",
    },
    "sanctions": {
        "regime": "Regime",
        "committee": "Committee",
        "start": "Since",
        "end": "Until",
        "document": "Document",
        "source": "Source",
    },
}
PERIODS = {
    "un_presence": ("start", "end"),
    "memberships": ("joined", "left"),
    "sanctions": ("start", "end"),
}


def day_label(day: pd.Timestamp) -> str:
    """'31 Dec 2020', as the reference tables' citations write a date."""
    return f"{day:%-d %b %Y}"


def is_url(value: object) -> bool:
    """An http(s) address: the only text from a table the page turns into a link."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class CountryTable:
    """One reference table's rows for a country on a day, ready to show."""

    info: reference.TableInfo
    rows: pd.DataFrame  # labelled columns, dates as text
    links: tuple[str, ...]  # the columns whose every value is an http(s) URL: shown as links

    def none_line(self, country: str) -> str:
        """What an empty table says: never an empty box."""
        return (
            f"None recorded for {country} in {self.info.title} as of {day_label(self.info.as_of)}."
        )


def country_tables(
    iso3: str, day: pd.Timestamp, data_dir: str | Path | None = None
) -> dict[str, CountryTable]:
    """Each reference table's rows in force for `iso3` on `day`, by table name."""
    tables = {}
    for name, columns in COLUMNS.items():
        rows = reference.table(name, data_dir)
        start, end = PERIODS[name]
        shown = un_presence.in_force(rows[rows["iso3"] == iso3], day, start, end)[list(columns)]
        shown = shown.assign(
            **{
                start: shown[start].dt.strftime("%Y-%m-%d").fillna("not recorded"),
                end: shown[end].dt.strftime("%Y-%m-%d").fillna("in force"),
            }
        ).fillna("")
        links = tuple(
            columns[c]
            for c in ("document", "source")
            if c in columns and len(shown) and shown[c].map(is_url).all()
        )
        info = reference.info(name, data_dir)
        tables[name] = CountryTable(info, shown.rename(columns=columns), links)
    return tables


def gap_line(iso3: str, table: pd.DataFrame, presence: pd.DataFrame) -> str:
    """One line: whether the country (a row of the risk table `table`) is on the
    prevention-gap list, and why or why not."""
    rows = table[table["iso3"] == iso3]
    if rows.empty or rows["status"].iloc[0] != "ok" or pd.isna(rows["risk"].iloc[0]):
        return "Not on the prevention-gap list: there is no forecast for this country."
    row = rows.iloc[0]
    listed = un_presence.gap(rows, presence)
    if not listed.empty:
        return (
            f"On the prevention-gap list: {listed['why'].iloc[0]}, and no UN field mission "
            "or envoy with a country mandate."
        )
    tools = presence.loc[iso3]
    if tools["field"] or tools["envoy"]:
        kind = "a field mission" if tools["field"] else "an envoy with a country mandate"
        return f"Not on the prevention-gap list: the UN has {kind} there."
    risk = f"risk {_percent(row['risk'])}"
    rule = f"below {un_presence.GAP_RISK:.0%}"
    change = row["risk_change"]
    if pd.isna(change):
        return f"Not on the prevention-gap list: {risk} is {rule} (no forecast a month earlier)."
    return (
        f"Not on the prevention-gap list: {risk} is {rule} and its change since last month "
        f"({_points(change)}) below +{un_presence.GAP_RISE * 100:.0f}."
    )


def _digits(points: float, limit: float) -> int:
    """One decimal where a value under the rule's limit would round up to it (49.6 is not
    '50, below 50'), else none."""
    return 1 if round(points) >= round(limit * 100) else 0


def _percent(risk: float) -> str:
    """'12%'; '<1%' rather than a false '0%', as the pages write a risk."""
    points = risk * 100
    if 0 < points < 0.5:
        return "<1%"
    return f"{points:.{_digits(points, un_presence.GAP_RISK)}f}%"


def _points(change: float) -> str:
    """A change of risk in signed points: '+12 points', '−3 points', '0 points'."""
    points = change * 100
    digits = _digits(points, un_presence.GAP_RISE)
    if round(points, digits) == 0:
        return "0 points"
    return f"{points:+.{digits}f} points".replace("-", "−")


def empty_gap_reason(table: pd.DataFrame, presence: pd.DataFrame) -> str:
    """Why no country of the risk table `table` is on the prevention-gap list, in one line."""
    # The rule's risk half alone: as if no country had a field mission or envoy.
    high = un_presence.gap(table, presence.assign(field=False, envoy=False))
    if high.empty:
        return (
            f"No country in the selection meets the rule: none has a risk of "
            f"{un_presence.GAP_RISK:.0%} or more or rose {un_presence.GAP_RISE * 100:.0f} points "
            "or more since last month."
        )
    names = ", ".join(high["name"])
    return (
        "No country in the selection meets the rule: every one with high or rising risk has a "
        f"UN field mission or envoy ({names})."
    )
