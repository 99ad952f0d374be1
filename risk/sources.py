"""Each source on its own: per-source country-month columns, and where UCDP and ACLED disagree.

UCDP and ACLED record many of the same incidents under different rules, so their counts are
never added together and no event is matched across sources by guesswork. Each source keeps
its own columns, and a comparison only sets them side by side.

What each source's column counts (deaths are best estimates; events are rows):

* `ucdp`: UCDP GED's three violence types (state-based, non-state, one-sided), the panel's
  `fatalities_total`. UCDP counts a conflict only once it passes 25 battle-related deaths in a
  year, and codes each death to one violence type.
* `acled`: ACLED's own "political violence": its event types Battles, Explosions/Remote
  violence and Violence against civilians, and the riots it files as mob violence (the grouping
  of ACLED's HDX data). Protests, other riots and strategic developments are left out, as they
  are from UCDP's types. Where an ACLED events import covers the country-month the
  events are counted; else the HDX HAPI aggregates' `political_violence` rows (which already
  include civilian targeting, so that row is never added to it). `basis_acled` says which.

A country-month a source does not cover is missing (NA), never zero: "no data" is not peace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from loaders import acled, coverage
from loaders.countries import reference
from loaders.store import Store
from risk.selection import SOURCES

SOURCE_LABELS = {"ucdp": "UCDP GED", "acled": "ACLED"}
ACLED_POLITICAL_VIOLENCE = ("Battles", "Explosions/Remote violence", "Violence against civilians")
ACLED_MOB_VIOLENCE = "Riots: Mob violence"  # in ACLED's political violence, as in HDX HAPI's
HAPI_POLITICAL_VIOLENCE = "political_violence"
# A month is a disagreement when one source records at least twice the other's deaths and the
# larger is at least 25 (the forecast's own threshold): small counts differ by noise alone.
DISAGREE_RATIO = 2.0
DISAGREE_MIN_DEATHS = 25
COMPARE_MONTHS = 36
COMPARISON_LABELS = {
    "month": "Month",
    "ucdp": "UCDP deaths",
    "acled": "ACLED deaths",
    "events_ucdp": "UCDP events",
    "events_acled": "ACLED events",
    "ratio": "Larger / smaller",
    "larger": "Larger",
    "disagree": "Disagree",
    "basis_acled": "ACLED from",
    "partial": "Part of the month",
}


def _months(first: str, last: str) -> pd.PeriodIndex:
    return pd.period_range(pd.Period(first, "M"), pd.Period(last, "M"), freq="M")


def _coverage_frame(cover: pd.DataFrame, iso3s: Sequence[str], basis: str) -> pd.DataFrame:
    """(iso3, month, basis, partial) for every country-month some import of the source speaks
    for (`Store.coverage`: each country over its own days). A month is partial when every
    import covering it covers it only in part (an export ending on the 23rd)."""
    parts = []
    for row in cover.itertuples():
        codes = list(iso3s) if row.iso3 == coverage.EVERY_COUNTRY else [row.iso3]
        codes = [c for c in codes if c in iso3s]
        first, last = row.first_day.to_period("M"), row.last_day.to_period("M")
        months = pd.period_range(first, last, freq="M")
        partial = (months == first) & row.first_month_partial
        partial |= (months == last) & row.last_month_partial
        parts += [pd.DataFrame({"iso3": c, "month": months, "partial": partial}) for c in codes]
    if not parts:
        return pd.DataFrame(
            {"iso3": [], "month": pd.PeriodIndex([], freq="M"), "partial": [], "basis": []}
        )
    months = pd.concat(parts, ignore_index=True).groupby(["iso3", "month"], as_index=False)
    return months["partial"].all().assign(basis=basis)


def _event_sums(store: Store, source: str, countries: Sequence[str] | None) -> pd.DataFrame:
    """Deaths and events per (iso3, month) of a source's events, as the docstring defines."""
    columns = ["iso3", "date_start", "violence_type", "source_category", "fatalities_best"]
    if source == "ucdp":
        where = "violence_type IS NOT NULL"
    else:
        kinds = ", ".join(f"'{kind}'" for kind in ACLED_POLITICAL_VIOLENCE)
        where = (
            f"split_part(source_category, ':', 1) IN ({kinds}) "
            f"OR source_category = '{ACLED_MOB_VIOLENCE}'"
        )
    con = duckdb.connect()
    try:
        events = store.events_relation(con, (source,), columns, countries)
        if events is None:
            return pd.DataFrame(columns=["iso3", "month", "fatalities", "events"])
        sums = con.sql(
            f"""
            SELECT iso3, date_trunc('month', date_start) AS month,
                   sum(fatalities_best)::BIGINT AS fatalities, count(*)::BIGINT AS events
            FROM events WHERE {where} GROUP BY ALL
            """  # noqa: S608 - `where` is built from the constants above
        ).df()
    finally:
        con.close()
    return sums.assign(month=pd.to_datetime(sums["month"]).dt.to_period("M"))


def _aggregate_sums(store: Store, countries: Sequence[str] | None) -> pd.DataFrame:
    """ACLED political-violence deaths and events per (iso3, month) from HDX HAPI aggregates."""
    found = store.load_aggregates(sources=("acled",), countries=countries)
    found = found[found["event_type"] == HAPI_POLITICAL_VIOLENCE]
    return pd.DataFrame(
        {
            "iso3": found["iso3"].astype(str),
            "month": pd.to_datetime(found["month"]).dt.to_period("M"),
            "fatalities": found["fatalities"].astype("Int64"),
            "events": found["events"].astype("Int64"),
        }
    )


def _source_columns(
    store: Store, source: str, iso3s: Sequence[str], countries: Sequence[str] | None
) -> pd.DataFrame:
    """One source's (iso3, month, fatalities, events, basis) over the months it covers."""
    covered = _coverage_frame(store.coverage((source,)), iso3s, "events")
    sums = _event_sums(store, source, countries)
    merged = covered.merge(sums, on=["iso3", "month"], how="left")
    merged[["fatalities", "events"]] = merged[["fatalities", "events"]].fillna(0)
    if source == "acled":
        aggregate_cover = store.coverage((source,), kinds=("aggregates",))
        extra = _coverage_frame(aggregate_cover, iso3s, "aggregates")
        extra = extra.merge(covered[["iso3", "month"]], how="left", indicator=True)
        extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge")
        if not extra.empty:
            extra = extra.merge(_aggregate_sums(store, countries), on=["iso3", "month"], how="left")
            merged = pd.concat([merged, extra], ignore_index=True)
    return merged.astype({"fatalities": "Int64", "events": "Int64", "partial": "bool"})


def source_panel(
    data_dir: str | Path | None = None,
    *,
    countries: Sequence[str] | None = None,
    sources: Sequence[str] = SOURCES,
) -> pd.DataFrame:
    """Per-source country-month columns: `fatalities_<source>`, `events_<source>`.

    One row per (iso3, month) that any of `sources` covers (first day of the month); NA where a
    source does not cover the country-month, each country over its own coverage.
    `basis_acled` is "events" or "aggregates"; `partial_<source>` is True where the source
    covers the month only in part (its first or last month for that country), False where in
    full and NA where not at all.
    `countries` (ISO3) limits the read to those countries.
    """
    store = Store(data_dir)
    merged: pd.DataFrame | None = None
    with store.pinned():  # every source read from one version of the store
        wanted = list(countries) if countries is not None else _all_iso3(store, sources)
        for source in sources:
            part = _source_columns(store, source, wanted, countries).rename(
                columns={
                    "fatalities": f"fatalities_{source}",
                    "events": f"events_{source}",
                    "basis": f"basis_{source}",
                    "partial": f"partial_{source}",
                }
            )
            merged = (
                part if merged is None else merged.merge(part, on=["iso3", "month"], how="outer")
            )
    assert merged is not None
    merged = merged.drop(columns=[c for c in ("basis_ucdp",) if c in merged.columns])
    for flag in (f"partial_{source}" for source in sources):
        merged[flag] = merged[flag].astype("boolean")
    merged = merged.sort_values(["iso3", "month"]).reset_index(drop=True)
    merged["month"] = merged["month"].dt.start_time
    return merged


def _all_iso3(store: Store, sources: Sequence[str]) -> list[str]:
    """Every country a source's imports name, or the reference list for whole-world imports."""
    codes: set[str] = set()
    for record in store.records(sources, kinds=None):
        listed = record.provenance.coverage.countries
        if record.provenance.coverage.everywhere:
            codes |= set(reference()["iso3"])
        else:
            codes |= set(listed)
    return sorted(codes)


@dataclass
class Comparison:
    """UCDP and ACLED for one country, over the months both cover."""

    iso3: str
    name: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    status: str = "both"  # "both", or what is missing, in words
    summary: str = ""

    @property
    def disagreements(self) -> pd.DataFrame:
        return self.table[self.table["disagree"]] if not self.table.empty else self.table


def compare_sources(
    panel: pd.DataFrame, iso3: str, name: str, *, months: int = COMPARE_MONTHS
) -> Comparison:
    """Set UCDP's and ACLED's monthly deaths side by side, in the `months` to the last both cover.

    `panel` is a `source_panel`. The table has month, ucdp, acled (deaths), events of each,
    `ratio` (the larger over the smaller, inf when the smaller is 0), `larger` (which source),
    `partial` (a source covers the month only in part: its first or last days for the country)
    and `disagree` (see DISAGREE_RATIO and DISAGREE_MIN_DEATHS; never in a partial month).
    """
    comparison = Comparison(iso3, name)
    rows = panel[panel["iso3"] == iso3]
    has = {s: rows[f"fatalities_{s}"].notna().any() if len(rows) else False for s in SOURCES}
    if not all(has.values()):
        missing = [SOURCE_LABELS[s] for s in SOURCES if not has[s]]
        comparison.status = (
            f"{' and '.join(missing)} {'do' if len(missing) > 1 else 'does'} not cover {name}"
        )
        return comparison
    both = rows[rows["fatalities_ucdp"].notna() & rows["fatalities_acled"].notna()]
    if both.empty:
        comparison.status = f"UCDP and ACLED cover {name} in different months, never the same"
        return comparison
    # The window ends at the last month both cover, so a lone month long ago is not compared.
    last = both["month"].max()
    both = both[both["month"] > last - pd.DateOffset(months=months)]
    ucdp = both["fatalities_ucdp"].astype("int64").to_numpy()
    acled_deaths = both["fatalities_acled"].astype("int64").to_numpy()
    high, low = np.maximum(ucdp, acled_deaths), np.minimum(ucdp, acled_deaths)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(high == 0, 1.0, high / low)
    table = pd.DataFrame(
        {
            "month": both["month"].to_numpy(),
            "ucdp": ucdp,
            "acled": acled_deaths,
            "events_ucdp": both["events_ucdp"].astype("int64").to_numpy(),
            "events_acled": both["events_acled"].astype("int64").to_numpy(),
            "basis_acled": both["basis_acled"].to_numpy(),
            "partial": _partial(both).to_numpy(),
            "ratio": ratio,
            "larger": np.where(
                ucdp > acled_deaths, "UCDP", np.where(ucdp < acled_deaths, "ACLED", "")
            ),
        }
    )
    # A month one source covers in part is shown, marked, and never judged.
    table["disagree"] = (
        (table["ratio"] >= DISAGREE_RATIO) & (high >= DISAGREE_MIN_DEATHS) & ~table["partial"]
    )
    comparison.table = table.reset_index(drop=True)
    comparison.summary = _summary(table, name)
    return comparison


def _partial(rows: pd.DataFrame) -> pd.Series:
    """True where either source covers the month only in part."""
    partial = pd.Series(False, index=rows.index)
    for flag in (f"partial_{s}" for s in SOURCES if f"partial_{s}" in rows):
        partial |= rows[flag].fillna(False).astype(bool)
    return partial


def _summary(table: pd.DataFrame, name: str) -> str:
    first, last = table["month"].iloc[0], table["month"].iloc[-1]
    span = f"{len(table):,} month{'s' if len(table) != 1 else ''} ({first:%b %Y} to {last:%b %Y})"
    ucdp, acled_total = int(table["ucdp"].sum()), int(table["acled"].sum())
    text = (
        f"In the {span} both sources cover {name}, UCDP records {ucdp:,} deaths and ACLED "
        f"{acled_total:,}"
    )
    more = "ACLED" if acled_total > ucdp else "UCDP"
    if ucdp and acled_total:
        factor = max(ucdp, acled_total) / min(ucdp, acled_total)
        text += f" ({more} {factor:.1f}× the other)" if factor >= 1.05 else " (about the same)"
    elif ucdp or acled_total:
        text += f" (only {more} records any)"
    flagged = int(table["disagree"].sum())
    partial = int(table["partial"].sum())
    if partial:
        text += (
            f". {partial:,} month{'s are' if partial > 1 else ' is'} covered only in part by one "
            "source (marked) and not judged"
        )
    text += (
        f". In {flagged:,} of these months one records at least {DISAGREE_RATIO:.0f}× the "
        f"other's deaths (and at least {DISAGREE_MIN_DEATHS})."
        if flagged
        else f". In no month does one record {DISAGREE_RATIO:.0f}× the other's deaths "
        f"(at {DISAGREE_MIN_DEATHS} or more)."
    )
    return text


def attribution(records: Sequence) -> list[str]:
    """ACLED's required attribution with each ACLED import's access date, one line per import."""
    lines = []
    for record in records:
        p = record.provenance
        if p.source == "acled":
            accessed = pd.Timestamp(p.fetched_at).strftime("%d %B %Y")
            lines.append(f"{acled.ATTRIBUTION} ({p.label}, accessed {accessed}).")
    return lines
