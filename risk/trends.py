"""Series of several countries or regions over time, for comparing them on one chart.

A series is a country (ISO3) or a region key from `risk.selection.region_options()`; a
region's value is the sum over its member countries. A month is a gap (NaN), never a zero,
when no data source covers it: for a region, when any member is not covered, because a sum
over the covered members only would look like a fall in violence. Smoothing is a trailing
rolling mean computed over the whole history before the period is cut, so the first months of
a period are smoothed like the others; a window holding a gap is itself a gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loaders import countries
from loaders.schema import VIOLENCE_TYPES
from risk.selection import Selection, countries_for, region_options

QUANTITIES = {"fatalities": "deaths", "events": "events"}
SMOOTHING = {0: "no smoothing", 3: "3-month", 6: "6-month", 12: "12-month"}
RECENT_MONTHS = 12  # "recent deaths" for the default series: the period's last 12 months
DEFAULT_SERIES = 5
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


def default_series(
    panel: pd.DataFrame, selection: Selection, *, n: int = DEFAULT_SERIES
) -> list[str]:
    """The selection's regions and countries; if it names none, the `n` deadliest countries.

    "Deadliest" counts deaths of the selection's violence types in the last 12 months of its
    period (ties broken by the whole period, then by code); countries without a death are left
    out, so a quiet period gives an empty list rather than five flat lines.
    """
    if selection.regions or selection.countries:
        return [*selection.regions, *selection.countries]
    if panel.empty:
        return []
    by_country = country_values(panel, "fatalities", selection.violence)
    if selection.start:
        by_country = by_country[by_country.index >= pd.Period(selection.start, "M").start_time]
    if selection.end:
        by_country = by_country[by_country.index <= pd.Period(selection.end, "M").start_time]
    ranking = pd.DataFrame(
        {
            "recent": by_country.tail(RECENT_MONTHS).sum(),
            "period": by_country.sum(),
        }
    )
    ranking = ranking[ranking["period"] > 0].reset_index()
    ranking = ranking.sort_values(["recent", "period", "iso3"], ascending=[False, False, True])
    return ranking["iso3"].head(n).tolist()


def wide_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The plotted values as a table: a Month column, then one column per series (by name).

    Rounded to one decimal, which only changes smoothed values (counts are whole).
    """
    if frame.empty:
        return pd.DataFrame({"Month": pd.Series(dtype="datetime64[ns]")})
    order = list(dict.fromkeys(frame["name"]))
    table = frame.pivot(index="month", columns="name", values="value")[order].round(1)
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
    first, last = frame["month"].min(), frame["month"].max()
    return f"{first:%b %Y}" if first == last else f"{first:%b %Y} – {last:%b %Y}"
