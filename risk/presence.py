"""The UN's own tools beside the risk: what was in force in each country on a day, and the
prevention gap (high or rising risk with no UN field presence and no envoy).

Reads the reference tables of `loaders.reference`; `docs/methodology.md` says what they cover
and what the gap rule does not say.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from loaders import countries, reference
from risk import measures

GAP_RISK = 0.5  # risk of a month with 25+ deaths in the next three at or above 50% …
GAP_RISE = 0.20  # … or up 20 percentage points or more since last month's forecast
STALE_MONTHS = 6  # a reference table checked longer ago than this is flagged
FIELD_KINDS = ("peacekeeping", "political mission")
PRESENCE_FILTERS = ("Field mission", "Envoy", "Regional office only", "None")
KINDS = ("peacekeeping", "political mission", "envoy", "regional office")  # strongest first
GAP_COLUMNS = (
    "iso3", "name", "risk", "risk_change", "why", "median_fatalities", "fatalities_low",
    "fatalities_high", "expected_fatalities", "regional", "organisations", "sanctions",
)  # fmt: skip


def day_of(as_of: str) -> pd.Timestamp:
    """The day presence is read for a forecast from month `as_of`: its last day."""
    return pd.Period(as_of, "M").end_time.normalize()


def in_force(frame: pd.DataFrame, day: pd.Timestamp, start: str, end: str) -> pd.DataFrame:
    """The rows in force on `day`: begun on or before it (or undated), not ended before it."""
    started = frame[start].isna() | (frame[start] <= day)
    return frame[started & (frame[end].isna() | (frame[end] >= day))]


def _joined(groups: pd.core.groupby.SeriesGroupBy, sep: str = "; ") -> pd.Series:
    return groups.agg(lambda values: sep.join(dict.fromkeys(values)))


def on(day: str | pd.Timestamp, data_dir: str | Path | None = None) -> pd.DataFrame:
    """What was in force on `day`, one row per reference country (index `iso3`).

    Columns: `un_presence` (each mission, envoy or office with its kind and start), `short`
    (acronyms, for a table column), `presence` (the strongest: one of PRESENCE_FILTERS),
    `field`, `envoy` (a country envoy), `regional` (regional offices and envoys),
    `organisations` and `sanctions` ("" when none).
    """
    day = pd.Timestamp(day)
    index = pd.Index(sorted(countries.reference()["iso3"]), name="iso3")
    out = pd.DataFrame(index=index)

    presence = in_force(reference.table("un_presence", data_dir), day, "start", "end")
    strength = presence["kind"].map({kind: i for i, kind in enumerate(KINDS)})
    presence = presence.assign(strength=strength).sort_values(["iso3", "strength", "start"])
    since = presence["start"].dt.strftime("%b %Y")
    described = presence["mission"] + " (" + presence["kind"]
    described += (presence["mandate"] == "regional").map({True: ", regional", False: ""})
    out["un_presence"] = _joined((described + ", since " + since + ")").groupby(presence["iso3"]))
    regional_row = (presence["kind"] == "regional office") | (presence["mandate"] == "regional")
    regional_row &= ~presence["kind"].isin(FIELD_KINDS)
    short = presence["mission"] + regional_row.map({True: " (regional)", False: ""})
    out["short"] = _joined(short.groupby(presence["iso3"]), " · ")
    field = presence["kind"].isin(FIELD_KINDS)
    envoy = (presence["kind"] == "envoy") & (presence["mandate"] == "country")
    out["field"] = index.isin(presence.loc[field, "iso3"])
    out["envoy"] = index.isin(presence.loc[envoy, "iso3"])
    out["regional"] = _joined(presence.loc[regional_row, "mission"].groupby(presence["iso3"]))

    members = in_force(reference.table("memberships", data_dir), day, "joined", "left")
    out["organisations"] = _joined(members["organisation"].groupby(members["iso3"]), ", ")

    sanctions = in_force(reference.table("sanctions", data_dir), day, "start", "end")
    regimes = sanctions["regime"] + " (" + sanctions["committee"] + "), since "
    regimes += sanctions["start"].dt.strftime("%b %Y")
    out["sanctions"] = _joined(regimes.groupby(sanctions["iso3"]))

    text = ["un_presence", "short", "regional", "organisations", "sanctions"]
    out[text] = out[text].fillna("")
    out["presence"] = "None"
    out.loc[out["regional"] != "", "presence"] = "Regional office only"
    out.loc[out["envoy"], "presence"] = "Envoy"
    out.loc[out["field"], "presence"] = "Field mission"
    out.loc[out["short"] == "", "short"] = "none"
    return out


def gap(table: pd.DataFrame, presence: pd.DataFrame) -> pd.DataFrame:
    """The prevention-gap list: countries with a forecast whose risk is at least GAP_RISK or
    rose by GAP_RISE or more since last month's forecast, with neither a UN field mission nor
    a country envoy in `presence` (from `on`). Regional offices and regional envoys do not
    close the gap: they are listed beside it. Sorted by risk, highest first."""
    rows = table[table["risk"].notna()].copy()
    change = rows["risk_change"].astype("float64")
    high = rows["risk"] >= GAP_RISK - 1e-9
    rising = change.fillna(0) >= GAP_RISE - 1e-9
    here = presence.reindex(rows["iso3"])
    uncovered = ~(here["field"].fillna(False).to_numpy() | here["envoy"].fillna(False).to_numpy())
    rows = rows[(high | rising).to_numpy() & uncovered]
    here = presence.reindex(rows["iso3"])
    rows["why"] = [_why(r, c) for r, c in zip(rows["risk"], rows["risk_change"], strict=True)]
    for column in ("regional", "organisations", "sanctions"):
        rows[column] = here[column].to_numpy()
    rows = rows.sort_values(["risk", "expected_fatalities"], ascending=False)
    return rows[list(GAP_COLUMNS)].reset_index(drop=True)


def rule(day: pd.Timestamp) -> str:
    """The prevention-gap rule in one sentence, with the day presence is read on."""
    return (
        f"Listed: a risk of {GAP_RISK:.0%} or more, or up {GAP_RISE * 100:.0f} points or more "
        "since last month's forecast, with neither a UN field mission nor an envoy with a "
        f"country mandate on {day:%-d %b %Y}."
    )


def _why(risk: float, rise: float) -> str:
    """Which half of the rule a country meets, short enough for a table cell: 'risk ≥ 50%',
    '+23 pts since last month', or 'risk ≥ 50% and +23 pts' (the Risk column gives the level)."""
    high = risk >= GAP_RISK - 1e-9
    rising = not pd.isna(rise) and rise >= GAP_RISE - 1e-9
    points = f"+{round(rise * 100)} pts" if rising else ""
    if high and rising:
        return f"risk ≥ {GAP_RISK:.0%} and {points}"
    return f"risk ≥ {GAP_RISK:.0%}" if high else f"{points} since last month"


def cost_of_waiting(gap_rows: pd.DataFrame, as_of: str, measure: str = measures.ALL) -> str:
    """The expected deaths over the next three months in the gap countries, in plain words.

    The sum is of each country's average (means add up; medians and intervals do not), and the
    sentence says what the forecast cannot: what prevention would achieve.
    """
    first = pd.Period(as_of, "M") + 1
    period = f"{first:%b}–{first + 2:%b %Y}"
    if gap_rows.empty:
        return f"No country meets the prevention-gap rule for {period}."
    total = gap_rows["expected_fatalities"].sum()
    n = len(gap_rows)
    where = "this country" if n == 1 else f"these {n} countries"
    how = (
        "its average; its median and 90% interval are in the list"
        if n == 1
        else "the sum of each country's average; each country's median and 90% interval are in "
        "the list"
    )
    return (
        "Managing conflict costs more than preventing it. If nothing changes, the forecast "
        f"expects about {total:,.0f} deaths from {measures.LABELS[measure]} in {where} in "
        f"{period} ({how}). This is what the forecast expects to happen, not what action would "
        "prevent: the forecast does not say what prevention would achieve."
    )


def sources(data_dir: str | Path | None = None) -> list[str]:
    """One line per reference table: title, file, shipped or replaced, as-of date, rows."""
    return [reference.info(name, data_dir).citation() for name in reference.NAMES]


def stale(data_dir: str | Path | None = None, *, months: int = STALE_MONTHS) -> str | None:
    """A warning naming the reference tables checked more than `months` months before today,
    or None when every table is newer."""
    limit = pd.Timestamp.today().normalize() - pd.DateOffset(months=months)
    infos = (reference.info(name, data_dir) for name in reference.NAMES)
    old = [f"{i.title} (as of {i.as_of:%-d %b %Y})" for i in infos if i.as_of < limit]
    if not old:
        return None
    return (
        f"Checked more than {months} months ago: {'; '.join(old)}. The UN's tools change: check "
        "each table against its sources and replace it on the Data page."
    )
