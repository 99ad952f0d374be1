"""Series of several countries or regions over time, for comparing them on one chart.

A series is a country (ISO3) or a region key from `risk.selection.region_options()`; a
region's value is the sum over its member countries. A region chosen in the sidebar is compared
through its member countries (the deadliest `MAX_MEMBERS` of the period shown, the rest named);
its total is a series only when asked for. A month is a gap (NaN), never a zero,
when no data source covers it: for a region, when any member is not covered, because a sum
over the covered members only would look like a fall in violence. Smoothing is a trailing
rolling mean computed over the whole history before the period is cut, so the first months of
a period are smoothed like the others; a window holding a gap is itself a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from loaders import countries
from loaders.schema import VIOLENCE_TYPES
from risk.selection import Selection, countries_for, region_options

QUANTITIES = {"fatalities": "deaths", "events": "events"}
SMOOTHING = {0: "no smoothing", 3: "3-month", 6: "6-month", 12: "12-month"}
RECENT_MONTHS = 12  # "recent deaths" for the default series: the period's last 12 months
DEFAULT_SERIES = 5
DEFAULT_YEARS = 10  # the period shown unless the sidebar sets one: recent enough to compare
NO_DATA, UNKNOWN = "no data", "unknown"  # the table's missing values, by their reason
MAX_MEMBERS = 9  # a region's member countries drawn by default: three rows of three panels
COLUMNS = ["series", "name", "month", "monthly", "value", "covered"]


def is_region(key: str) -> bool:
    """Region keys carry their kind ("un:Africa"); ISO3 codes never hold a colon."""
    return ":" in key


def series_label(key: str) -> str:
    """The human name of a series: the country's name or the region's label."""
    if is_region(key):
        return dict(region_options()).get(key, key)
    names = countries.reference().set_index("iso3")["name"]
    return str(names.get(key, key))


def members(key: str) -> list[str]:
    """The ISO3 codes a series sums: the country itself, or the region's members."""
    return countries_for(Selection(regions=(key,))) if is_region(key) else [key]


def _column(quantity: str, violence: str) -> str:
    return f"{quantity}_{violence.replace('-', '_')}"


def _check(quantity: str, violence: Sequence[str], smoothing: int) -> None:
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {list(QUANTITIES)}, not {quantity!r}")
    unknown = [v for v in violence if v not in VIOLENCE_TYPES]
    if unknown or not violence:
        raise ValueError(f"violence must be some of {VIOLENCE_TYPES}, not {list(violence)}")
    if smoothing not in SMOOTHING:
        raise ValueError(f"smoothing must be one of {list(SMOOTHING)} months, not {smoothing}")


def country_values(panel: pd.DataFrame, quantity: str, violence: Sequence[str]) -> pd.DataFrame:
    """Months × countries of the measure summed over `violence`; NaN where not covered."""
    columns = [_column(quantity, v) for v in violence]
    values = panel[columns].astype("float64").sum(axis=1, min_count=len(columns))
    values = values.where(panel["covered"].astype(bool))
    wide = pd.DataFrame({"iso3": panel["iso3"], "month": panel["month"], "v": values})
    return wide.pivot(index="month", columns="iso3", values="v").sort_index()


def _series_monthly(by_country: pd.DataFrame, key: str) -> pd.Series:
    wanted = [iso3 for iso3 in members(key) if iso3 in by_country.columns]
    if not wanted:
        return pd.Series(np.nan, index=by_country.index)
    # min_count = all members: one uncovered member makes the region's month a gap.
    return by_country[wanted].sum(axis=1, min_count=len(wanted))


def cumulative(monthly: pd.Series) -> pd.Series:
    """Running total from the first covered month; unknown (NaN) from the first gap after it.

    A total that skipped a gap would be too low without saying so. Monthly [NaN, 1, 2, NaN, 4]
    gives [NaN, 1, 3, NaN, NaN].
    """
    covered = monthly.notna()
    started = covered.cummax()
    broken = (~covered & started).cummax()
    return monthly.fillna(0).cumsum().where(started & ~broken)


def trend_frame(
    panel: pd.DataFrame,
    keys: Sequence[str],
    *,
    quantity: str = "fatalities",
    violence: Sequence[str] = VIOLENCE_TYPES,
    start: str | None = None,
    end: str | None = None,
    smoothing: int = 0,
    cumulative_total: bool = False,
) -> pd.DataFrame:
    """One row per (series, month) of the period: the values the compare chart plots.

    Columns: series (key), name, month, monthly (the raw monthly value, NaN for a gap), value
    (what is plotted: the monthly value, its trailing `smoothing`-month mean, or the running
    total over the period when `cumulative_total`), covered. Smoothing does not apply to
    cumulative totals.
    """
    _check(quantity, violence, smoothing)
    keys = list(dict.fromkeys(keys))
    if panel.empty or not keys:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    by_country = country_values(panel, quantity, violence)
    in_period = pd.Series(True, index=by_country.index)
    if start:
        in_period &= by_country.index >= pd.Period(start, "M").start_time
    if end:
        in_period &= by_country.index <= pd.Period(end, "M").start_time
    parts = []
    for key in keys:
        monthly = _series_monthly(by_country, key)
        if cumulative_total:
            value = cumulative(monthly[in_period])
        elif smoothing:
            value = monthly.rolling(smoothing, min_periods=smoothing).mean()[in_period]
        else:
            value = monthly[in_period]
        part = pd.DataFrame(
            {
                "series": key,
                "name": series_label(key),
                "month": value.index,
                "monthly": monthly[in_period].to_numpy(),
                "value": value.to_numpy(),
            }
        )
        part["covered"] = part["monthly"].notna()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def shown_period(
    panel: pd.DataFrame, selection: Selection, *, all_months: bool = False
) -> tuple[Selection, str]:
    """The selection with the months the page shows (start and end set), and a sentence why.

    The sidebar's Period wins when set; else every month of the data when `all_months`.
    Otherwise the last `DEFAULT_YEARS` years to the month every country is covered to
    (`attrs['default_as_of']`, else the last month), so that one month decades ago (Rwanda,
    April 1994) does not flatten every recent line and a release for one country does not leave
    years of gaps for all the others.
    """
    if panel.empty:
        return selection, ""
    first, last = pd.Period(panel["month"].min(), "M"), pd.Period(panel["month"].max(), "M")
    world = pd.Period(panel.attrs.get("default_as_of") or last, "M")
    recent = max(first, world - (12 * DEFAULT_YEARS - 1))
    if selection.start or selection.end:
        start, end = selection.start or f"{first:%Y-%m}", selection.end or f"{last:%Y-%m}"
        why = "the period set in the sidebar"
    elif all_months or (recent == first and world == last):
        start, end = f"{first:%Y-%m}", f"{last:%Y-%m}"
        why = "all the months of the data"
    else:
        start, end = f"{recent:%Y-%m}", f"{world:%Y-%m}"
        why = (
            f"the last {DEFAULT_YEARS} years of the data, which start in {first:%b %Y}"
            if recent > first
            else "all the months of the data"
        )
        if world < last:
            why += f", to the month every country is covered to (some to {last:%b %Y})"
        why += "; set the Period in the sidebar for other months"
    label = _months(pd.Period(start, "M"), pd.Period(end, "M"))
    return replace(selection, start=start, end=end), f"Shown: {label}, {why}."


def _deaths(panel: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Months × countries of the selection's deaths, cut to its period."""
    by_country = country_values(panel, "fatalities", selection.violence)
    if selection.start:
        by_country = by_country[by_country.index >= pd.Period(selection.start, "M").start_time]
    if selection.end:
        by_country = by_country[by_country.index <= pd.Period(selection.end, "M").start_time]
    return by_country


def ranked_members(panel: pd.DataFrame, selection: Selection) -> pd.Series:
    """Deaths over the period of every member of the selection's regions, largest first.

    Indexed by ISO3, ties by code; a member with no data counts 0 (it has no deaths to show).
    """
    codes = sorted({iso3 for key in selection.regions for iso3 in members(key)})
    if panel.empty or not codes:
        return pd.Series(dtype="float64", name="deaths")
    deaths = _deaths(panel, selection).reindex(columns=codes).sum().rename("deaths")
    return deaths.sort_values(ascending=False, kind="stable")  # codes are sorted: ties by code


def default_series(
    panel: pd.DataFrame,
    selection: Selection,
    *,
    n: int = DEFAULT_SERIES,
    region_totals: bool = False,
) -> list[str]:
    """What the page compares before the analyst edits it.

    With regions or countries in the selection: each region's total when `region_totals`,
    then its deadliest member countries (at most `MAX_MEMBERS`, only those with deaths in the
    period), then the selection's countries. With none: the `n` countries with most deaths in
    the last 12 months of the period (ties broken by the whole period, then by code), leaving
    out countries without a death, so a quiet period gives an empty list rather than flat lines.
    """
    if selection.regions or selection.countries:
        ranked = ranked_members(panel, selection)
        shown = ranked[ranked > 0].head(MAX_MEMBERS).index.tolist()
        totals = list(selection.regions) if region_totals else []
        return list(dict.fromkeys([*totals, *shown, *selection.countries]))
    if panel.empty:
        return []
    by_country = _deaths(panel, selection)
    ranking = pd.DataFrame(
        {
            "recent": by_country.tail(RECENT_MONTHS).sum(),
            "period": by_country.sum(),
        }
    )
    ranking = ranking[ranking["period"] > 0].reset_index()
    ranking = ranking.sort_values(["recent", "period", "iso3"], ascending=[False, False, True])
    return ranking["iso3"].head(n).tolist()


def members_not_shown(panel: pd.DataFrame, selection: Selection, shown: Sequence[str]) -> str:
    """A sentence naming the members of the selection's regions that are not drawn, or "".

    E.g. "Also in Sahel (Group), not drawn (deaths Jan 2011 – Dec 2020): Senegal 12; no deaths
    recorded: Gambia." Deaths are those of the selection's violence types over its period.
    """
    ranked = ranked_members(panel, selection)
    ranked = ranked[~ranked.index.isin(shown)]
    if ranked.empty:
        return ""
    where = " and ".join(series_label(key) for key in selection.regions)
    months = _deaths(panel, selection).index
    period = _months(months.min(), months.max())
    parts = [", ".join(f"{series_label(i)} {d:,.0f}" for i, d in ranked[ranked > 0].items())]
    if (ranked == 0).any():
        none = ", ".join(series_label(i) for i in ranked[ranked == 0].index)
        parts.append(f"no deaths recorded: {none}")
    listed = "; ".join(part for part in parts if part)
    return f"Also in {where}, not drawn (deaths {period}): {listed}."


def wide_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The plotted values as a table: a Month column, then one column per series (by name).

    Rounded to one decimal, which only changes smoothed values (counts are whole). A series
    with missing values comes as text, so that each such cell says why instead of a blank or
    "None": `NO_DATA` for a month no source covers, `UNKNOWN` for a mean or running total that
    would need a month without data.
    """
    if frame.empty:
        return pd.DataFrame({"Month": pd.Series(dtype="datetime64[ns]")})
    order = list(dict.fromkeys(frame["name"]))
    table = frame.pivot(index="month", columns="name", values="value")[order].round(1)
    covered = frame.pivot(index="month", columns="name", values="covered")[order].astype(bool)
    for name in table.columns[table.isna().any()]:
        text = table[name].map(lambda v: f"{v:,.1f}".removesuffix(".0"), na_action="ignore")
        text = text.astype("object")  # all-missing columns are float
        table[name] = text.fillna(covered[name].map({True: UNKNOWN, False: NO_DATA}))
    table.columns.name = None
    return table.rename_axis("Month").reset_index()


def gap_months(frame: pd.DataFrame) -> pd.DataFrame:
    """Per series with gaps: name, number of uncovered months, first and last such month."""
    gaps = frame[~frame["covered"].astype(bool)]
    summary = gaps.groupby("name", sort=False)["month"].agg(["size", "min", "max"])
    return summary.rename(columns={"size": "months", "min": "first", "max": "last"}).reset_index()


def measure_label(
    quantity: str,
    violence: Sequence[str],
    *,
    smoothing: int = 0,
    cumulative_total: bool = False,
) -> str:
    """The measure in words, for titles and axes: "State-based deaths per month, 3-month mean"."""
    if set(violence) == set(VIOLENCE_TYPES):
        kind = "All"
    elif len(violence) == 1:
        kind = violence[0].capitalize()
    else:
        kind = " and ".join(violence).capitalize()
    what = f"{kind} {QUANTITIES[quantity]}"
    if cumulative_total:
        return f"{what}, cumulative total"
    if smoothing:
        return f"{what} per month, {SMOOTHING[smoothing]} rolling mean"
    return f"{what} per month"


def period_label(frame: pd.DataFrame) -> str:
    """The months a frame spans, in words: "Jan 2016 – Dec 2016"."""
    if frame.empty:
        return ""
    return _months(frame["month"].min(), frame["month"].max())


def _months(first: pd.Timestamp | pd.Period, last: pd.Timestamp | pd.Period) -> str:
    return (
        f"{first:%b %Y}" if f"{first:%Y%m}" == f"{last:%Y%m}" else f"{first:%b %Y} – {last:%b %Y}"
    )
