"""The country profile as data: every table the profile page (and a briefing export) shows.

Plain rules an analyst can check by hand. Windows end at the as-of month (the last complete
month of the data, the forecast's origin) and count an event to the month of its `date_start`;
deaths are `fatalities_best`. Events after the as-of month (a month still running) appear only
among the latest events.

* Admin1 trend: events and deaths in the last 3 months (as-of month and the 2 before) against
  the 3 before those. The arrow follows deaths (events where neither period has deaths): ▲ up
  by at least 25% (or from none), ▼ down by at least 25%, ▶ otherwise. Events without an admin1
  form one row, "(not recorded)"; names are compared trimmed and single-spaced.
* Actors: the sides of the last 12 months' events; civilians, protesters and rioters are not
  armed actors and are left out, but dyads keep them ("JNIM – Civilians").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loaders.schema import VIOLENCE_TYPES
from risk import drivers as driver_rules
from risk import measures
from risk.forecast import RISK_MONTHS, RiskForecast
from risk.model import THRESHOLD
from risk.signals import NON_ARMED_ACTORS

NOT_RECORDED = "(not recorded)"
HISTORY_MONTHS = 36
TREND_MONTHS = 3
RECENT_MONTHS = 12
TOP = 10
LATEST = 20
TREND_CHANGE = 0.25
DYAD_JOIN = " – "

LABELS = {
    "admin1": "Admin1",
    "events_recent": "Events, last 3 months",
    "deaths_recent": "Deaths, last 3 months",
    "events_before": "Events, 3 months before",
    "deaths_before": "Deaths, 3 months before",
    "events_change_pct": "Events change %",
    "deaths_change_pct": "Deaths change %",
    "trend": "Trend",
    "actor": "Actor",
    "dyad": "Dyad",
    "events": "Events",
    "deaths": "Deaths",
    "violence": "Violence type",
    "date": "Date",
    "violence_type": "Violence type",
    "category": "Category (source)",
    "fatalities_best": "Deaths (best)",
    "side_a": "Side A",
    "side_b": "Side B",
    "headline": "Headline (source)",
    "marker": "Direction",
    "label": "Data",
    "text": "What the data say",
    "effect": "Share of the risk (points)",
    "deaths_effect": "Share of the average deaths",
}
ADMIN1_SIGNAL_LABELS = {
    "admin1": "Admin1",
    "events": "Events",
    "fatalities": "Deaths",
    "fatalities_change_pct": "Deaths vs 3-month mean, %",
    "surge_events": "Surge in events",
    "surge_fatalities": "Surge in deaths",
    "newly_violent": "Newly violent",
    "new_actors_12m": "New actors (12 months)",
}
SERIES_LABELS = {
    "month": "Month",
    "fatalities_total": "All organised violence deaths",
    "fatalities_state_based": "State-based deaths",
    "fatalities_non_state": "Non-state deaths",
    "fatalities_one_sided": "One-sided deaths",
    "horizon": "Months ahead",
    "p_ge25": "P(≥ 25 deaths)",
    "mean": "Forecast average",
    "q05": "Forecast 5%",
    "q25": "Forecast 25%",
    "q50": "Forecast median",
    "q75": "Forecast 75%",
    "q95": "Forecast 95%",
}
FORECAST_COLUMNS = ["horizon", "p_ge25", "mean", "q05", "q25", "q50", "q75", "q95"]
ARROW_WORDS = {"▲": "▲ rising", "▼": "▼ falling", "▶": "▶ steady", "": "–"}


@dataclass
class CountryProfile:
    """Everything the profile shows for one country, as plain tables and sentences."""

    iso3: str
    name: str
    as_of: str | None
    status: str  # "ok", "insufficient data" or "no forecast"
    reason: str
    headline: dict = field(default_factory=dict)  # the risk table's row (empty: no forecast)
    risk_text: str = ""
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)  # why this level
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)  # why it changed since last month
    signals: pd.DataFrame = field(default_factory=pd.DataFrame)
    admin1_signals: pd.DataFrame = field(default_factory=pd.DataFrame)
    map_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    admin1: pd.DataFrame = field(default_factory=pd.DataFrame)
    admin1_recorded: bool = False
    actors: pd.DataFrame = field(default_factory=pd.DataFrame)
    dyads: pd.DataFrame = field(default_factory=pd.DataFrame)
    latest: pd.DataFrame = field(default_factory=pd.DataFrame)
    events_total: int = 0


def clean_names(names: pd.Series) -> pd.Series:
    """Trimmed, single-spaced names ("Magway  region" → "Magway region"); blank → missing."""
    cleaned = names.map(lambda n: " ".join(str(n).split()) or None, na_action="ignore")
    return cleaned.astype("str")


def _month_index(dates: pd.Series) -> np.ndarray:
    """Months since 1970-01 (the ordinal of a monthly Period) of each date."""
    return pd.to_datetime(dates).to_numpy("datetime64[M]").astype("int64")


def _window(events: pd.DataFrame, as_of: str, months: int, skip: int = 0) -> pd.DataFrame:
    """Events of the `months` months ending `skip` months before the as-of month."""
    end = pd.Period(as_of, "M").ordinal - skip
    month = _month_index(events["date_start"])
    return events[(month > end - months) & (month <= end)]


def _arrow(now: pd.Series, before: pd.Series) -> pd.Series:
    up = (now > before) & (now >= before * (1 + TREND_CHANGE))
    down = (now < before) & (now <= before * (1 - TREND_CHANGE))
    return pd.Series(np.select([up, down], ["▲", "▼"], "▶"), index=now.index)


def _change_pct(now: pd.Series, before: pd.Series) -> pd.Series:
    change = (now - before) / before.where(before > 0) * 100
    return change.astype("Float64")


def admin1_trend(events: pd.DataFrame, as_of: str, months: int = TREND_MONTHS) -> pd.DataFrame:
    """Per admin1: events and deaths in the last `months` months and the `months` before.

    Units with no event in either period are left out; rows sorted by recent deaths, then
    recent events, then name.
    """
    frames = []
    for period, skip in (("recent", 0), ("before", months)):
        window = _window(events, as_of, months, skip)
        admin1 = clean_names(window["admin1"]).fillna(NOT_RECORDED)
        grouped = window.groupby(admin1.rename("admin1"))["fatalities_best"]
        frames.append(
            grouped.agg(["size", "sum"]).set_axis([f"events_{period}", f"deaths_{period}"], axis=1)
        )
    table = pd.concat(frames, axis=1).fillna(0).astype("int64")
    table = table.reindex(
        columns=["events_recent", "deaths_recent", "events_before", "deaths_before"], fill_value=0
    )
    table["events_change_pct"] = _change_pct(table["events_recent"], table["events_before"])
    table["deaths_change_pct"] = _change_pct(table["deaths_recent"], table["deaths_before"])
    no_deaths = (table["deaths_recent"] == 0) & (table["deaths_before"] == 0)
    table["trend"] = _arrow(table["deaths_recent"], table["deaths_before"]).where(
        ~no_deaths, _arrow(table["events_recent"], table["events_before"])
    )
    table = table.reset_index().rename(columns={"index": "admin1"})
    table = table[["admin1", "trend", *[c for c in table.columns if c not in ("admin1", "trend")]]]
    table = table.sort_values(
        ["deaths_recent", "events_recent", "admin1"], ascending=[False, False, True]
    )
    return table.reset_index(drop=True)


def _is_armed(actor: pd.Series) -> pd.Series:
    return ~actor.str.lower().str.startswith(NON_ARMED_ACTORS).fillna(True)


def top_actors(
    events: pd.DataFrame, as_of: str, months: int = RECENT_MONTHS, n: int = TOP
) -> pd.DataFrame:
    """The `n` armed actors with most events in the last `months` months (then most deaths)."""
    window = _window(events, as_of, months)
    sides = pd.concat(
        [
            pd.DataFrame(
                {
                    "event_id": window["event_id"],
                    "actor": clean_names(window[side]),
                    "deaths": window["fatalities_best"],
                }
            )
            for side in ("side_a", "side_b")
        ]
    )
    sides = sides[sides["actor"].notna() & _is_armed(sides["actor"])]
    sides = sides.drop_duplicates(["event_id", "actor"])
    table = sides.groupby("actor")["deaths"].agg(events="size", deaths="sum").reset_index()
    return _ranked(table, "actor", n)


def top_dyads(
    events: pd.DataFrame, as_of: str, months: int = RECENT_MONTHS, n: int = TOP
) -> pd.DataFrame:
    """The `n` pairs of sides with most events in the last `months` months (then most deaths)."""
    window = _window(events, as_of, months)
    window = window[window["side_a"].notna() | window["side_b"].notna()]
    side_a = clean_names(window["side_a"]).fillna(NOT_RECORDED)
    side_b = clean_names(window["side_b"]).fillna(NOT_RECORDED)
    frame = pd.DataFrame(
        {
            "dyad": side_a + DYAD_JOIN + side_b,
            "deaths": window["fatalities_best"],
            "violence": window["violence_type"],
        }
    )
    grouped = frame.groupby("dyad")
    table = grouped["deaths"].agg(events="size", deaths="sum")
    table["violence"] = grouped["violence"].agg(lambda v: ", ".join(sorted(set(v.dropna()))))
    return _ranked(table.reset_index(), "dyad", n)


def _ranked(table: pd.DataFrame, name: str, n: int) -> pd.DataFrame:
    table = table.astype({"events": "int64", "deaths": "int64"})
    table = table.sort_values(["events", "deaths", name], ascending=[False, False, True])
    return table.head(n).reset_index(drop=True)


def latest_events(events: pd.DataFrame, n: int = LATEST) -> pd.DataFrame:
    """The `n` newest events (ties on the day broken by event id, newest id first).

    A text the source left empty reads "(not recorded)"; a column the source never fills for
    these events (e.g. headlines in a release without them) is left out: `unrecorded` names it.
    """
    newest = events.sort_values(["date_start", "event_id"], ascending=False).head(n)
    table = pd.DataFrame(
        {
            "date": pd.to_datetime(newest["date_start"]).dt.date,
            "admin1": clean_names(newest["admin1"]),
            "violence_type": newest["violence_type"],
            "category": newest["source_category"],
            "fatalities_best": newest["fatalities_best"].astype("Int64"),
            "side_a": clean_names(newest["side_a"]),
            "side_b": clean_names(newest["side_b"]),
            "headline": newest["headline"],
        }
    ).reset_index(drop=True)
    text = ["admin1", "violence_type", "category", "side_a", "side_b", "headline"]
    empty = [c for c in text if len(table) and table[c].isna().all()]
    table[text] = table[text].astype("object").fillna(NOT_RECORDED)
    return table.drop(columns=empty)


def unrecorded(latest: pd.DataFrame) -> list[str]:
    """The labels of the `latest_events` columns its source never filled (left out)."""
    every = ["admin1", "violence_type", "category", "side_a", "side_b", "headline"]
    return [LABELS[c] for c in every if c not in latest.columns] if len(latest) else []


def map_events(events: pd.DataFrame, as_of: str, months: int = RECENT_MONTHS) -> pd.DataFrame:
    """Located events of the last `months` months, for the hotspot map."""
    window = _window(events, as_of, months)
    window = window[window["latitude"].notna() & window["longitude"].notna()]
    columns = ["date_start", "admin1", "violence_type", "fatalities_best", "side_a", "side_b"]
    out = window[[*columns, "latitude", "longitude"]].copy()
    out["admin1"] = clean_names(out["admin1"]).fillna(NOT_RECORDED)
    out["fatalities_best"] = out["fatalities_best"].astype("int64")
    return out.sort_values("date_start").reset_index(drop=True)


def _column(violence: str) -> str:
    return f"fatalities_{violence.replace('-', '_')}"


def history_columns(measure: str) -> list[str]:
    """The panel's columns a measure's history shows: its own, then for all organised
    violence the three types it sums (drawn beside the total)."""
    own = measures.COLUMNS[measures.check(measure)]
    if measure != measures.ALL:
        return [own]
    return [own, *(_column(v) for v in VIOLENCE_TYPES)]


def fan_series(
    panel: pd.DataFrame,
    monthly: pd.DataFrame | None,
    iso3: str,
    as_of: str,
    measure: str = measures.DEFAULT,
    months: int = HISTORY_MONTHS,
) -> pd.DataFrame:
    """Monthly deaths of the measure (last `months` to as-of) joined with its forecast.

    One row per month: the measure's `history_columns` (NA where no source covers the month,
    and in forecast months), then the forecast's horizon, p_ge25, mean and q05…q95 (NA in
    history months). `monthly` is the forecast of the same measure.
    """
    origin = pd.Period(as_of, "M").start_time
    first = origin - pd.DateOffset(months=months - 1)
    chosen = history_columns(measure)
    rows = panel[(panel["iso3"] == iso3) & panel["month"].between(first, origin)]
    history = rows[["month", *chosen]].copy()
    history["month"] = pd.to_datetime(history["month"]).astype("datetime64[s]")
    if monthly is None:
        forecast = pd.DataFrame(columns=["month", *FORECAST_COLUMNS])
    else:
        forecast = monthly.loc[monthly["iso3"] == iso3, ["month", *FORECAST_COLUMNS]].copy()
    forecast["month"] = pd.to_datetime(forecast["month"]).astype("datetime64[s]")
    series = pd.concat([history, forecast], ignore_index=True) if len(forecast) else history
    series = series.reindex(columns=["month", *chosen, *FORECAST_COLUMNS])
    series[chosen] = series[chosen].astype("Int64")
    series[FORECAST_COLUMNS] = series[FORECAST_COLUMNS].astype("Float64")
    return series.sort_values("month").reset_index(drop=True)


def chart_numbers(series: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`fan_series` as two labelled tables, the history and the forecast, so that neither has
    cells for what the other holds. A history cell stays NA where no source covers the month."""
    ahead = series["horizon"].notna()
    history = series.loc[~ahead].drop(columns=FORECAST_COLUMNS)
    forecast = series.loc[ahead, ["month", *FORECAST_COLUMNS]].astype({"horizon": "Int64"})
    return (
        history.rename(columns=SERIES_LABELS).reset_index(drop=True),
        forecast.rename(columns=SERIES_LABELS).reset_index(drop=True),
    )


def _zero_below(values: pd.Series, size: float) -> pd.Series:
    return values.where(values.abs() >= size, 0.0)


def driver_table(drivers: pd.DataFrame, iso3: str, kind: str = "level") -> pd.DataFrame:
    """One explanation of the country (risk.drivers: "level" or "change"), largest share first.

    Each row: the direction its share gives (a share under `MIN_EFFECT`, half a point of
    risk, is "negligible" rather than given a direction it does not really have), the group of
    data, the data in words, and its shares of the risk (points) and of the expected deaths.
    """
    rows = drivers[(drivers["iso3"] == iso3) & (drivers["kind"] == kind)]
    rows = rows.assign(size=rows["effect"].abs()).sort_values("size", ascending=False)
    small = rows["size"] < driver_rules.MIN_EFFECT
    rows["marker"] = np.where(
        small, "• negligible", np.where(rows["effect"] > 0, "▲ raises", "▼ lowers")
    )
    # Shown to one decimal: a share that rounds to nothing is 0, so it reads 0.0, not "−0.0".
    rows["effect"] = _zero_below(rows["effect"] * 100, 0.05)
    rows["deaths_effect"] = _zero_below(rows["deaths_effect"], 0.05)
    return rows[["marker", "label", "text", "effect", "deaths_effect"]].reset_index(drop=True)


def explanation_sentence(row: dict, kind: str = "level") -> str:
    """What the shares of one explanation add up to, and against what."""
    risk = _share(row["risk"])
    if kind == "level":
        return (
            f"Reference: {driver_rules.REFERENCE}, with a risk of {_share(row['reference_risk'])}"
            f" and on average {row['reference_fatalities']:,.1f} deaths over 3 months. The "
            f"shares below add up to the difference between that and this country's risk of "
            f"{risk} (and its average deaths); each is the model's response to a group of data, "
            "not a cause."
        )
    before = row.get("risk_last_month")
    if before is None or pd.isna(before):
        return "No explanation of the change: the month before had no forecast."
    moved = f"{(row['risk'] - before) * 100:+.1f}".replace("-", "−")
    return (
        f"Against {driver_rules.CHANGE_REFERENCE}: the risk moved from {_share(before)} to "
        f"{risk} ({moved} points); these shares add up to that change."
    )


def _yes(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "not known"
    return "yes" if bool(value) else "no"


def _count_with_change(count: object, change: object) -> str:
    if count is None or pd.isna(count):
        return "not known"
    if change is None or pd.isna(change):
        return f"{int(count):,}"
    return f"{int(count):,} ({change:+,.0f}% on the 3-month mean)"


def _names(values: object) -> str:
    if values is None or (not isinstance(values, list | np.ndarray | tuple)):
        return "not known"
    return f"{len(values)}: " + ", ".join(map(str, values)) if len(values) else "none"


def signal_table(signals: pd.DataFrame, iso3: str) -> pd.DataFrame:
    """The country's escalation signals as (Signal, Value) rows in words; empty: no row."""
    rows = signals[signals["iso3"] == iso3]
    if rows.empty:
        return pd.DataFrame(columns=["Signal", "Value"])
    s = rows.iloc[0]
    share = s.get("one_sided_share")
    share_12m = s.get("one_sided_share_12m")
    share_text = "not known" if pd.isna(share) else f"{share:.0%}"
    if not pd.isna(share) and not pd.isna(share_12m):
        share_text += f" (previous 12 months {share_12m:.0%})"
    items = [
        ("Month", f"{pd.Timestamp(s['month']):%b %Y}" if not pd.isna(s["month"]) else "–"),
        ("Status", s["status"] + (f": {s['reason']}" if isinstance(s["reason"], str) else "")),
        ("Events in the month", _count_with_change(s["events"], s["events_change_pct"])),
        ("Deaths in the month", _count_with_change(s["fatalities"], s["fatalities_change_pct"])),
        ("Surge in events", _yes(s["surge_events"])),
        ("Surge in deaths", _yes(s["surge_fatalities"])),
        ("Most deaths in 12 months", _yes(s["fatalities_high_12m"])),
        ("Most deaths in 36 months", _yes(s["fatalities_high_36m"])),
        ("Admin1 units newly violent", _names(s.get("new_admin1"))),
        ("Actors new in 12 months", _names(s["new_actors_12m"])),
        ("One-sided share of events", share_text),
        ("One-sided violence rising", _yes(s["one_sided_rising"])),
    ]
    return pd.DataFrame(items, columns=["Signal", "Value"])


def admin1_signal_table(signals: pd.DataFrame, iso3: str) -> pd.DataFrame:
    """Admin1 units of the country with violence or a flag in the month, most deaths first."""
    rows = signals[signals["iso3"] == iso3].copy()
    if rows.empty:
        return pd.DataFrame(columns=list(ADMIN1_SIGNAL_LABELS))
    flags = ["surge_events", "surge_fatalities", "newly_violent"]
    flagged = rows[flags].fillna(False).astype(bool).any(axis=1)
    rows = rows[(rows["events"].fillna(0) > 0) | flagged]
    rows["admin1"] = rows["admin1"].fillna(NOT_RECORDED)
    rows["new_actors_12m"] = rows["new_actors_12m"].map(
        lambda v: ", ".join(v) if isinstance(v, list | np.ndarray) else ""
    )
    rows = rows.sort_values(["fatalities", "events", "admin1"], ascending=[False, False, True])
    return rows[list(ADMIN1_SIGNAL_LABELS)].reset_index(drop=True)


def months_label(as_of: str, months: int, *, ahead: bool = False) -> str:
    """The months in words, e.g. "Jan–Dec 2023": the `months` to as-of, or after it if `ahead`."""
    end = pd.Period(as_of, "M")
    first = end + 1 if ahead else end - months + 1
    last = first + months - 1
    if first.year == last.year:
        return f"{first:%b}–{last:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"


def _share(probability: float) -> str:
    """A probability as a whole percentage, '<1%' rather than a false '0%'."""
    whole = round(probability * 100)
    return "<1%" if whole == 0 and probability > 0 else f"{whole}%"


def deaths_of(measure: str) -> str:
    """'deaths from one-sided violence against civilians': what a measure counts."""
    return f"deaths from {measures.LABELS[measures.check(measure)]}"


# One statistic per number: the forecast chart draws the median with its bands, so the
# number beside it is the median of the 3-month total with its 90% interval; the mean, where
# it shows, is named "average" and explained when it falls outside that interval.
SKEWED = (
    "the average is {side} the 90% range because a few scenarios are far {more} violent than "
    "the rest"
)


def _whole(value: object) -> int:
    """A count as shown everywhere (exports.charts.count): Python's round, half to even."""
    return round(float(value))


def mean_outside(mean: object, low: object, high: object) -> str:
    """Why the average lies outside its 90% interval as the reader sees them (each rounded to
    a whole number); "" when it lies inside or a number is missing."""
    if any(v is None or pd.isna(v) for v in (mean, low, high)):
        return ""
    if _whole(mean) > _whole(high):
        return SKEWED.format(side="above", more="more")
    if _whole(mean) < _whole(low):
        return SKEWED.format(side="below", more="less")
    return ""


def risk_sentence(row: dict, as_of: str, measure: str) -> str:
    """The headline in words: probability, then deaths over the 3 months as the chart draws
    them (the median, with its 90% interval), then their average, named as such and explained
    when it lies outside the interval."""
    window = months_label(as_of, RISK_MONTHS, ahead=True)
    mean, low, high = row["expected_fatalities"], row["fatalities_low"], row["fatalities_high"]
    skewed = mean_outside(mean, low, high)
    return (
        f"{_share(row['risk'])} chance of at least {THRESHOLD} {deaths_of(measure)} in at least "
        f"one month of {window}. Deaths over those {RISK_MONTHS} months: median "
        f"{_whole(row['median_fatalities']):,} (90% interval {_whole(low):,}–{_whole(high):,}); "
        f"average {_whole(mean):,}" + (f" ({skewed})." if skewed else ".")
    )


def _flagged(value: object) -> bool:
    return not pd.isna(value) and bool(value)


def surge_words(row: dict) -> str:
    """The risk table's surge flags in words: "events and deaths", "deaths", "none"."""
    flags = [
        word
        for word, column in (("events", "surge_events"), ("deaths", "surge_fatalities"))
        if _flagged(row.get(column))
    ]
    return " and ".join(flags) if flags else "none"


def default_country(table: pd.DataFrame | None, candidates: Sequence[str]) -> str | None:
    """The country a profile opens on: the highest-risk candidate, else the first candidate."""
    if not candidates:
        return None
    if table is not None:
        ranked = table[table["iso3"].isin(candidates) & (table["status"] == "ok")]
        if len(ranked):
            return str(ranked.sort_values("risk", ascending=False, kind="stable").iloc[0]["iso3"])
    return sorted(candidates)[0]


def build_profile(
    iso3: str,
    name: str,
    *,
    events: pd.DataFrame,
    panel: pd.DataFrame,
    forecast: RiskForecast | None,
    signals: pd.DataFrame | None = None,
    admin1_signals: pd.DataFrame | None = None,
    measure: str = measures.DEFAULT,
    no_forecast_reason: str = "no forecast has been made yet",
    history_as_of: str | None = None,
) -> CountryProfile:
    """Assemble the profile of one country from the store's events, panel, forecast and signals.

    `events` are the country's canonical events; the event tables and history keep only the
    UCDP types the `measure` counts, and `forecast` is that measure's (signals are about all
    of the country's violence, as computed).
    Without a forecast the profile says `no_forecast_reason` instead of a number.
    `history_as_of` ends the history and event windows at another month than the forecast's
    origin (another source's last complete month); the chart then carries no forecast.
    """
    as_of = forecast.as_of if forecast is not None else panel.attrs.get("last_complete_month")
    own_history = history_as_of is not None and history_as_of != as_of
    profile = CountryProfile(iso3, name, as_of, "no forecast", no_forecast_reason)
    if forecast is not None:
        found = forecast.table[forecast.table["iso3"] == iso3]
        if found.empty:
            profile.status, profile.reason = "insufficient data", "not in the country reference"
        else:
            row = found.iloc[0].to_dict()
            profile.headline = row
            profile.status, profile.reason = row["status"], row["reason"]
            if row["status"] == "ok":
                profile.risk_text = risk_sentence(row, as_of, measure)
        profile.drivers = driver_table(forecast.drivers, iso3)
        profile.changes = driver_table(forecast.drivers, iso3, "change")
    if as_of is None:
        profile.status, profile.reason = "no forecast", "the store holds no data yet"
        return profile
    origin = pd.Period(as_of, "M").start_time
    at_origin = panel[(panel["iso3"] == iso3) & (panel["month"] == origin)]
    if profile.status != "ok" and not own_history and not at_origin["covered"].any():
        profile.status = "insufficient data"
        profile.reason = f"no source in the store covers {name} in {origin:%b %Y}"
    # Every event when no type is filtered out, so an ACLED view keeps the events UCDP's types
    # do not cover (protests, riots, explosions); UCDP events always have a type.
    violence = measures.TYPES[measure]
    every_type = set(violence) == set(VIOLENCE_TYPES)
    chosen = events if every_type else events[events["violence_type"].isin(list(violence))]
    profile.events_total = len(chosen)
    monthly = forecast.monthly if forecast is not None and not own_history else None
    if own_history:
        as_of = profile.as_of = history_as_of
    profile.series = fan_series(panel, monthly, iso3, as_of, measure)
    if signals is not None:
        profile.signals = signal_table(signals, iso3)
    if admin1_signals is not None:
        profile.admin1_signals = admin1_signal_table(admin1_signals, iso3)
    profile.admin1_recorded = bool(chosen["admin1"].notna().any())
    profile.admin1 = admin1_trend(chosen, as_of)
    profile.map_events = map_events(chosen, as_of)
    profile.actors = top_actors(chosen, as_of)
    profile.dyads = top_dyads(chosen, as_of)
    profile.latest = latest_events(chosen)
    return profile
