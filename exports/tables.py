"""The risk table as people read it: human labels, formatted intervals, flags and drivers in words.

The page shows these frames and the exports write them, so a number reads the same on screen,
in a spreadsheet and in a briefing pack. Numbers stay numbers where a reader sorts by them
(risk, deaths); what is read, not sorted (interval, trend, flags) becomes text. Deaths are the
median of the 3-month total, the statistic the forecast chart draws, with its 90% interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pandas.io.formats.style import Styler
from plotly.colors import sample_colorscale, unlabel_rgb

from exports.charts import RISK_SCALE, count, deaths_of, interval, month_label, percent, points
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
WHY = "Why no forecast"
PRESENCE = "UN presence"
GAP_WHY = "Why listed"
REGIONAL = "Regional cover"
ORGANISATIONS = "Organisations"
SANCTIONS = "UN sanctions"
GAP_COLUMNS = (COUNTRY, RISK, GAP_WHY, DEATHS, INTERVAL, REGIONAL, ORGANISATIONS, SANCTIONS)
RISK_COLUMNS = (RANK, COUNTRY, RISK, TREND, DEATHS, INTERVAL, FLAGS, DRIVER)
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
    return " · ".join(badges) or "none"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


NO_DRIVER = "no share of 0.5 pts or more"
ARROWS = {"raises": "▲", "lowers": "▼"}


def top_driver(
    table: pd.DataFrame, drivers: pd.DataFrame | None = None, *, brief: bool = False
) -> pd.Series:
    """The largest share of each country's risk in words, indexed by ISO3.

    `drivers` is `RiskForecast.drivers`: "Raises risk (+44 pts): 896 deaths in …", or with
    `brief` the group's name only ("▲ +44 pts: Deaths in the 9 months before"), short enough
    for a screen-wide table (the profile quotes the data). Without `drivers` (a forecast kept
    from an older version) the first sentence of the table's `drivers` column is used.
    """
    first = table["drivers"].fillna("").str.split("; ").str[0].map(_sentence)
    first.index = table["iso3"]
    if drivers is not None and not drivers.empty:
        strongest = driver_text.top_drivers(drivers, n=1).set_index("iso3")
        shares = strongest["effect"].map(points)
        if brief:
            worded = strongest["direction"].map(ARROWS).fillna("") + " " + shares + ": "
            worded += strongest["label"]
        else:
            worded = strongest["direction"].map(_sentence) + " risk (" + shares + "): "
            worded += strongest["text"]
        first = worded.reindex(first.index).fillna(first)
    return first.replace("", _sentence(NO_DRIVER))


def risk_table(
    table: pd.DataFrame,
    drivers: pd.DataFrame | None = None,
    *,
    brief: bool = False,
    presence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The forecast countries of `RiskForecast.table` (filtered), ranked, for display and
    indexed by ISO3; `brief` as in `top_driver`. Countries without a forecast are in
    `no_forecast_table`: a ranked table has no empty rank, risk or deaths. With `presence`
    (`risk.presence.on`), a UN presence column follows the country.
    """
    ranked = (
        table[table["status"] == "ok"]
        .sort_values(["risk", "expected_fatalities"], ascending=False)
        .reset_index(drop=True)
    )
    trend = ranked["trend"].fillna("") + " " + ranked["risk_change"].map(points)
    display = pd.DataFrame(
        {
            RANK: pd.array(range(1, len(ranked) + 1), dtype="Int64"),
            COUNTRY: ranked["name"],
            RISK: ranked["risk"].astype("float64"),
            TREND: trend.str.strip(),
            DEATHS: ranked["median_fatalities"].round().astype("Int64"),
            INTERVAL: [
                interval(lo, hi)
                for lo, hi in zip(ranked["fatalities_low"], ranked["fatalities_high"], strict=True)
            ],
            FLAGS: ranked.apply(flag_badges, axis=1) if len(ranked) else pd.Series(dtype="str"),
            DRIVER: top_driver(ranked, drivers, brief=brief).to_numpy(),
        }
    )
    display.index = pd.Index(ranked["iso3"], name="ISO3")
    if presence is not None:
        display.insert(
            2, PRESENCE, presence["short"].reindex(ranked["iso3"]).fillna("none").to_numpy()
        )
    return display


def gap_table(gap: pd.DataFrame) -> pd.DataFrame:
    """`risk.presence.gap(...)` for display, indexed by ISO3: risk as a fraction (sortable),
    deaths as the median of the 3-month total with its 90% interval, "none" where empty."""
    none = gap[["regional", "organisations", "sanctions"]].replace("", "none")
    display = pd.DataFrame(
        {
            COUNTRY: gap["name"].to_numpy(),
            RISK: gap["risk"].astype("float64").to_numpy(),
            GAP_WHY: gap["why"].to_numpy(),
            DEATHS: gap["median_fatalities"].round().astype("Int64").to_numpy(),
            INTERVAL: [
                interval(lo, hi)
                for lo, hi in zip(gap["fatalities_low"], gap["fatalities_high"], strict=True)
            ],
            REGIONAL: none["regional"].to_numpy(),
            ORGANISATIONS: none["organisations"].to_numpy(),
            SANCTIONS: none["sanctions"].to_numpy(),
        },
        index=pd.Index(gap["iso3"], name="ISO3"),
    )
    return display


def no_forecast_table(table: pd.DataFrame) -> pd.DataFrame:
    """The countries of `table` without a forecast and why, by name, indexed by ISO3."""
    rows = table[table["status"] != "ok"].sort_values("name")
    why = [f"Not enough data: {r}" if r else "Not enough data" for r in rows["reason"].fillna("")]
    return pd.DataFrame(
        {COUNTRY: rows["name"].to_numpy(), WHY: why}, index=pd.Index(rows["iso3"], name="ISO3")
    )


def new_risk_table(quiet: pd.DataFrame, drivers: pd.DataFrame | None = None) -> pd.DataFrame:
    """`risk.forecast.new_risk(...)` for display: the quiet countries' risk, deaths and driver."""
    return risk_table(quiet, drivers, brief=True)[list(NEW_RISK_COLUMNS)]


def risk_colour(risk: float) -> str:
    """The map's colour for a risk (the same scale as its legend), as 'rgb(r, g, b)'."""
    return sample_colorscale(list(RISK_SCALE), [min(max(float(risk), 0.0), 1.0)])[0]


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with an 'rgb(r, g, b)' background (WCAG)."""
    channels = [c / 255 for c in unlabel_rgb(background)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#FFFFFF"  # equal contrast at 0.179


def styled(display: pd.DataFrame) -> Styler:
    """`display` (`risk_table`, `new_risk_table`) as the app shows it: risk in the words of the
    exports ("<1%", never a false 0%) on the map's colour; the numbers stay sortable."""

    def cell(risk: float) -> str:
        colour = risk_colour(risk)
        return f"background-color: {colour}; color: {text_colour(colour)}"

    return display.style.format({RISK: percent}).map(cell, subset=[RISK])


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
