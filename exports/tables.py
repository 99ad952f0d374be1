"""The risk table as people read it: human labels, formatted intervals, flags and drivers in words.

The page shows these frames and the exports write them, so a number reads the same on screen,
in a spreadsheet and in a briefing pack. Numbers stay numbers where a reader sorts by them
(risk, deaths); what is read, not sorted (interval, trend, flags) becomes text. Deaths are the
median of the 3-month total, the statistic the forecast chart draws, with its 90% interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from exports.charts import count, deaths_of, interval, month_label, points
from risk import drivers as driver_text
from risk.model import THRESHOLD

RANK = "Rank"
COUNTRY = "Country"
RISK = "Risk"
TREND = "Trend vs last month"
DEATHS = "Deaths, 3 months (median)"
INTERVAL = "90% interval"
FLAGS = "Flags"
DRIVER = "Top driver"
STATUS = "Status"
VINTAGE = "Data"
RISK_COLUMNS = (RANK, COUNTRY, RISK, TREND, DEATHS, INTERVAL, FLAGS, DRIVER, STATUS, VINTAGE)
NEW_RISK_COLUMNS = (COUNTRY, RISK, DEATHS, INTERVAL, DRIVER)
RISK_WATCH = 0.5  # the headline counts countries at or above this risk


@dataclass(frozen=True)
class Headline:
    """One headline number: a label, the formatted value and what it means."""

    label: str
    value: str
    help: str


def _flagged(value: object) -> bool:
    """A nullable flag: missing (no signal computed) counts as not raised."""
    return bool(pd.notna(value) and value)


def flag_badges(row: pd.Series) -> str:
    """Surge and spread flags as short badges ('Events surge · Deaths surge')."""
    badges = []
    if _flagged(row["surge_events"]):
        badges.append("Events surge")
    if _flagged(row["surge_fatalities"]):
        badges.append("Deaths surge")
    spread = row["new_admin1_count"]
    if pd.notna(spread) and spread > 0:
        badges.append(f"Spread to {int(spread):,} new area{'s' if spread > 1 else ''}")
    return " · ".join(badges)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def top_driver(table: pd.DataFrame, drivers: pd.DataFrame | None = None) -> pd.Series:
    """The strongest driver per country in words, with its direction when `drivers` is given.

    `drivers` is `RiskForecast.drivers`; without it (or for a country whose only driver is the
    admin1 spread) the first sentence of the table's `drivers` column is used.
    """
    first = table["drivers"].fillna("").str.split("; ").str[0].map(_sentence)
    first.index = table["iso3"]
    if drivers is not None and not drivers.empty:
        strongest = driver_text.top_drivers(drivers, n=1).set_index("iso3")
        worded = (
            strongest["direction"].map(_sentence)
            + " risk ("
            + strongest["effect"].map(points)
            + "): "
            + strongest["text"]
        )
        first = worded.reindex(first.index).fillna(first)
    return first


def risk_table(table: pd.DataFrame, drivers: pd.DataFrame | None = None) -> pd.DataFrame:
    """`RiskForecast.table` (filtered, ranked) for display, indexed by ISO3.

    Countries without a forecast stay in, last, with their reason in the status column.
    """
    ranked = table.sort_values(
        ["risk", "expected_fatalities"], ascending=False, na_position="last"
    ).reset_index(drop=True)
    ok = ranked["status"] == "ok"
    trend = ranked["trend"].fillna("") + " " + ranked["risk_change"].map(points)
    status = [
        "Forecast" if good else f"Not enough data ({reason})" if reason else "Not enough data"
        for good, reason in zip(ok, ranked["reason"].fillna(""), strict=True)
    ]
    display = pd.DataFrame(
        {
            RANK: pd.array(range(1, len(ranked) + 1), dtype="Int64"),
            COUNTRY: ranked["name"],
            RISK: (ranked["risk"] * 100).round(1),
            TREND: trend.str.strip().where(ok, ""),
            DEATHS: ranked["median_fatalities"].round().astype("Int64"),
            INTERVAL: [
                interval(lo, hi) if good else ""
                for lo, hi, good in zip(
                    ranked["fatalities_low"], ranked["fatalities_high"], ok, strict=True
                )
            ],
            FLAGS: ranked.apply(flag_badges, axis=1) if len(ranked) else pd.Series(dtype="str"),
            DRIVER: top_driver(ranked, drivers).to_numpy(),
            STATUS: status,
            VINTAGE: ranked["data_vintage"],
        }
    )
    display[RANK] = display[RANK].where(ok.to_numpy(), pd.NA)
    display.index = pd.Index(ranked["iso3"], name="ISO3")
    return display


def new_risk_table(quiet: pd.DataFrame, drivers: pd.DataFrame | None = None) -> pd.DataFrame:
    """`risk.forecast.new_risk(...)` for display: the quiet countries' risk, deaths and driver."""
    return risk_table(quiet, drivers)[list(NEW_RISK_COLUMNS)]


def headline(table: pd.DataFrame, measure: str) -> list[Headline]:
    """The four numbers above the table, formatted with thousands separators; "No forecast"
    instead of the forecast's figures where no country in `table` has one.

    The deaths are a sum of the countries' averages: averages add up, medians do not."""
    ok = table[table["status"] == "ok"]
    flagged = (
        ok["surge_events"].fillna(False).astype(bool)
        | ok["surge_fatalities"].fillna(False).astype(bool)
        | (ok["new_admin1_count"].fillna(0) > 0)
    )
    insufficient = int((table["status"] != "ok").sum())
    # Nothing forecast: a sum or count of no forecasts is not 0, it is no figure at all.
    none = "No forecast" if ok.empty else None
    return [
        Headline(
            f"Countries with risk ≥ {RISK_WATCH:.0%}",
            none or count((ok["risk"] >= RISK_WATCH).sum()),
            f"Countries with at least an even chance of a month with ≥ {THRESHOLD} "
            f"{deaths_of(measure)} in the next three months.",
        ),
        Headline(
            "Countries with a surge flag",
            none or count(flagged.sum()),
            "Events or deaths in the last month far above the country's own recent months, "
            "or violence reaching new provinces.",
        ),
        Headline(
            "Deaths, sum of averages",
            none or count(ok["expected_fatalities"].sum()),
            f"{deaths_of(measure).capitalize()} over the next 3 months: the sum of the "
            "countries' averages (means), which add up where medians do not; the table gives "
            "each country's median. Their intervals do not add up either, so none is given "
            "for the sum.",
        ),
        Headline(
            "Countries with insufficient data",
            count(insufficient),
            "Listed in the table with the reason; no risk is given for them.",
        ),
    ]


def as_of_line(as_of: str, vintage: str) -> str:
    """'Forecast from data to Dec 2020 · UCDP GED 21.1 (events to 2020-12)'."""
    return f"Forecast from data to {month_label(as_of)} · {vintage}"


def no_forecast_line(table: pd.DataFrame) -> str | None:
    """'No forecast: …' with each reason and how many countries it holds for, when no country
    in `table` has a forecast; None when some do."""
    if (table["status"] == "ok").any():
        return None
    reasons = table["reason"].fillna("").replace("", "not enough data").value_counts()
    said = "; ".join(
        f"{reason} ({n:,} {'country' if n == 1 else 'countries'})" for reason, n in reasons.items()
    )
    return f"No forecast for the {len(table):,} countries selected: {said}."
