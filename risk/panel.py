"""The country-month panel: fatalities and event counts by violence type, zeros filled.

Every country of the reference list gets a row for every month in range. A zero means
"the source covers this country-month and recorded nothing"; where no live import covers a
country-month the values are missing (NA) and `covered` is False, so "no data" is never shown
as peace. `last_complete_month` is the latest month the data speak for in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from loaders import countries
from loaders import coverage as cov
from loaders.provenance import Coverage
from loaders.schema import VIOLENCE_TYPES
from loaders.store import Store

MEASURES = ("fatalities", "events")


def _column(measure: str, violence: str) -> str:
    return f"{measure}_{violence.replace('-', '_')}"


PANEL_COLUMNS = [
    *(_column(m, v) for m in MEASURES for v in VIOLENCE_TYPES),
    "fatalities_total",
    "events_total",
]


# The sources the panel, signals and forecast read. UCDP only until sources sit side by side:
# adding ACLED's deaths to UCDP's would count an incident both record twice.
FORECAST_SOURCES = ("ucdp",)


def monthly_counts(
    data_dir: str | Path | None = None, sources: Sequence[str] | None = FORECAST_SOURCES
) -> tuple[pd.DataFrame, list[dict]]:
    """Sums per (iso3, month, violence_type) straight from the store, and the coverage list."""
    store = Store(data_dir)
    con = duckdb.connect()
    try:
        events = store.events_relation(
            con, sources, ["iso3", "date_start", "violence_type", "fatalities_best"]
        )
        coverage = [r.provenance.coverage for r in store.records(sources)]
        if events is None:
            return _empty_counts(), coverage
        counts = con.sql(
            """
            SELECT iso3, date_trunc('month', date_start) AS month, violence_type,
                   sum(fatalities_best)::BIGINT AS fatalities, count(*)::BIGINT AS events
            FROM events WHERE violence_type IS NOT NULL GROUP BY ALL
            """
        ).to_arrow_table()
    finally:
        con.close()
    return counts.to_pandas(), coverage


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": pd.Series(dtype="str"),
            "month": pd.Series(dtype="datetime64[s]"),
            "violence_type": pd.Series(dtype="str"),
            "fatalities": pd.Series(dtype="int64"),
            "events": pd.Series(dtype="int64"),
        }
    )


def counts_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """The same sums as `monthly_counts`, from a canonical event DataFrame."""
    known = events[events["violence_type"].notna()]
    grouped = known.groupby(
        [
            known["iso3"],
            known["date_start"].dt.to_period("M").dt.start_time.rename("month"),
            known["violence_type"],
        ]
    )
    return grouped["fatalities_best"].agg(fatalities="sum", events="size").reset_index()


def country_month_panel(
    data_dir: str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    sources: Sequence[str] | None = FORECAST_SOURCES,
) -> pd.DataFrame:
    """The panel of the store's live data (`sources`; None for all); see `build_panel`."""
    counts, coverage = monthly_counts(data_dir, sources)
    return build_panel(counts, coverage, start=start, end=end)


def build_panel(
    counts: pd.DataFrame,
    coverage: list[Coverage | dict],
    *,
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """One row per (iso3, month) for every reference country and every month in range.

    Columns: iso3, country, month (first day), `fatalities_<type>` and `events_<type>` for the
    three UCDP violence types, their totals, `covered` and `complete` (covered in full: not a
    partial last month). `coverage` is the imports' coverage records; each country is covered
    by its own imports, so a country-only release extends that country's months alone. The
    range defaults to the first through the last month any import covers.

    `attrs['default_as_of']` (also `last_complete_month`) is the month the world is covered to
    (see `loaders.coverage.default_month`), the forecast's default origin; `attrs['first_covered']`
    and `attrs['last_covered']` give each covered country's first and last month (`YYYY-MM`).
    """
    reference = countries.reference()
    iso3s = sorted(set(reference["iso3"]) | set(counts["iso3"].dropna()))
    if not coverage:
        frame = pd.DataFrame(columns=["iso3", "country", "month", *PANEL_COLUMNS])
        frame.attrs.update(
            last_complete_month=None, default_as_of=None, first_covered={}, last_covered={}
        )
        return frame
    cover = cov.records_frame(coverage)
    spans = cov.by_country(cover, iso3s).assign(last_month=lambda f: cov.last_full_month(f))
    spans = spans.groupby("iso3").agg(
        first_day=("first_day", "min"), last_month=("last_month", "max")
    )
    first = cover["first_day"].min().to_period("M")
    last = cover["last_day"].max().to_period("M")
    months = pd.period_range(
        pd.Period(start, "M") if start else first, pd.Period(end, "M") if end else last, freq="M"
    )
    wide = counts.assign(month=counts["month"].dt.to_period("M")).pivot_table(
        index=["iso3", "month"],
        columns="violence_type",
        values=["fatalities", "events"],
        aggfunc="sum",
        fill_value=0,
    )
    wide.columns = [_column(m, v) for m, v in wide.columns]
    grid = pd.MultiIndex.from_product([iso3s, months], names=["iso3", "month"])
    panel = wide.reindex(grid).reindex(columns=PANEL_COLUMNS[:6]).fillna(0).astype("int64")
    panel["fatalities_total"] = panel[[_column("fatalities", v) for v in VIOLENCE_TYPES]].sum(
        axis=1
    )
    panel["events_total"] = panel[[_column("events", v) for v in VIOLENCE_TYPES]].sum(axis=1)
    panel = panel.reset_index()
    covered = _covered(panel[["iso3", "month"]], cover)
    panel[PANEL_COLUMNS] = panel[PANEL_COLUMNS].astype("Int64").where(covered)
    panel["covered"] = covered
    panel["complete"] = covered & (panel["month"] <= panel["iso3"].map(spans["last_month"]))
    names = reference.set_index("iso3")["name"]
    panel.insert(1, "country", panel["iso3"].map(names).fillna(panel["iso3"]))
    panel["month"] = panel["month"].dt.start_time
    default = cov.world_month(coverage)
    panel.attrs.update(
        last_complete_month=None if default is None else str(default),
        default_as_of=None if default is None else str(default),
        first_covered={i: f"{d:%Y-%m}" for i, d in spans["first_day"].items()},
        last_covered={i: str(m) for i, m in spans["last_month"].items()},
    )
    return panel


def _covered(keys: pd.DataFrame, cover: pd.DataFrame) -> pd.Series:
    """True where some import speaks for the country-month (zeros are real zeros there)."""
    covered = pd.Series(False, index=keys.index)
    for row in cover.itertuples():
        in_range = keys["month"].between(row.first_day.to_period("M"), row.last_day.to_period("M"))
        if row.iso3 != cov.EVERY_COUNTRY:
            in_range &= keys["iso3"] == row.iso3
        covered |= in_range
    return covered
