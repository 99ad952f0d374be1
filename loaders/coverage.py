"""Coverage: which days each import speaks for, per source and per country.

An import's provenance records its coverage (see the importers' `coverage()`): the first and
last day, the countries (`["*"]` for a whole release, which speaks for every country) and, for
files whose countries end on different days (ACLED exports, HDX HAPI counts), each country's
own first and last day. A month is partial when the coverage starts after its first day or
ends before its last: an ACLED export that ends on 23 September says nothing about the rest
of September, so that month is never compared with a source that covers it in full.

Everything here is pure: `Store.coverage()` builds the frame, the panel, the forecast, the
source comparison and the pages read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from loaders import countries
from loaders.provenance import EVERY_COUNTRY, Coverage

COLUMNS = [
    "source",
    "dataset",
    "label",
    "import_id",
    "rank",
    "iso3",
    "first_day",
    "last_day",
    "first_month_partial",
    "last_month_partial",
]
# Beyond this many countries ending on the same day a vintage line counts them.
NAMED_COUNTRIES = 3


def import_rows(cover: Coverage | Mapping[str, Any], **meta: object) -> list[dict]:
    """The coverage rows of one import's coverage: one per country, or one `*` row for a
    whole release; `meta` (source, dataset, label, import_id, rank) is copied to each."""
    cover = Coverage.of(cover)
    common = {"source": None, "dataset": None, "label": None, "import_id": None, "rank": 0}
    common.update(meta)
    rows = []
    for iso3 in cover.countries:
        start, end = cover.days(iso3)
        rows.append({**common, "iso3": iso3, "first_day": start, "last_day": end})
    return rows


def frame(rows: Iterable[dict]) -> pd.DataFrame:
    """The coverage table (COLUMNS) from `import_rows`, with the partial-month flags."""
    table = pd.DataFrame(list(rows), columns=COLUMNS[:8])
    table["first_day"] = pd.to_datetime(table["first_day"]).astype("datetime64[s]")
    table["last_day"] = pd.to_datetime(table["last_day"]).astype("datetime64[s]")
    table["first_month_partial"] = table["first_day"].dt.day > 1
    table["last_month_partial"] = ~table["last_day"].dt.is_month_end
    return table.astype({"rank": "int64"})[COLUMNS]


def records_frame(records: Iterable[Coverage | Mapping[str, Any]]) -> pd.DataFrame:
    """The coverage table of bare `coverage` records (no source or label: panels, signals)."""
    return frame(row for cover in records for row in import_rows(cover))


def world_month(records: Iterable[Coverage | Mapping[str, Any]]) -> pd.Period | None:
    """`default_month` of the reference countries under these `coverage` records."""
    spans = by_country(records_frame(records), list(countries.reference()["iso3"]))
    spans = spans.assign(month=last_full_month(spans)).groupby("iso3")["month"].max()
    return default_month(spans)


def by_country(cover: pd.DataFrame, iso3s: Sequence[str] | None = None) -> pd.DataFrame:
    """Per source and country: the first and last day any import covers, and whether those
    months are partial. `*` rows are spread over `iso3s` (default: the reference countries).

    Columns: source, iso3, first_day, last_day, first_month_partial, last_month_partial.
    """
    codes = list(iso3s) if iso3s is not None else list(countries.reference()["iso3"])
    whole = cover[cover["iso3"] == EVERY_COUNTRY]
    spread = whole.drop(columns="iso3").merge(pd.DataFrame({"iso3": codes}), how="cross")
    named = cover[cover["iso3"] != EVERY_COUNTRY]
    if iso3s is not None:
        named = named[named["iso3"].isin(codes)]
    rows = pd.concat([named, spread[COLUMNS]], ignore_index=True)
    columns = ["source", "iso3", "first_day", "first_month_partial"]
    columns += ["last_day", "last_month_partial"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    # A month is partial only if no import covers it in full: take the earliest start (a full
    # first month wins a tie) and the latest end (likewise).
    keys = ["source", "iso3"]
    first = rows.sort_values(["first_day", "first_month_partial"]).groupby(keys, dropna=False)
    last = rows.sort_values(["last_day", "last_month_partial"], ascending=[False, True])
    last = last.groupby(keys, dropna=False)
    out = first[columns[2:4]].first().join(last[columns[4:]].first())
    return out.reset_index()[columns]


def last_full_month(countries_cover: pd.DataFrame) -> pd.Series:
    """Each row's last month covered in full (the month before a partial last month)."""
    month = countries_cover["last_day"].dt.to_period("M")
    return month.where(~countries_cover["last_month_partial"].astype(bool), month - 1)


def default_month(last_months: pd.Series) -> pd.Period | None:
    """The month the world is covered to: the latest month that at least half of the covered
    countries are covered to in full (`last_months`: each country's `last_full_month`).

    A country-only release (Myanmar to 2023 beside a global file to 2020) extends that
    country's history but cannot move the month for the others; a whole release moves it.
    """
    if last_months.empty:
        return None
    months = last_months.sort_values(ascending=False).reset_index(drop=True)
    return months.iloc[(len(months) + 1) // 2 - 1]


def _day_label(day: pd.Timestamp, partial: bool) -> str:
    return f"{day.day} {day:%b %Y}" if partial else f"{day:%b %Y}"


def vintage_line(cover: pd.DataFrame) -> str | None:
    """Which countries each import covers to when, where imports end on different days, e.g.
    'UCDP GED 21.1: all countries to Dec 2020; UCDP GED 24.1: Myanmar to Dec 2023'.

    None when every import ends on the same day: a line per import says it all then.
    """
    if cover.empty or cover["last_day"].nunique() == 1:
        return None
    names = countries.reference().set_index("iso3")["name"]
    parts = []
    for _, rows in cover.sort_values(["source", "rank"]).groupby("import_id", sort=False):
        groups = []
        for (day, partial), same in rows.groupby(["last_day", "last_month_partial"]):
            codes = list(same["iso3"])
            if codes == [EVERY_COUNTRY]:
                who = "all countries"
            elif len(codes) > NAMED_COUNTRIES:
                who = f"{len(codes):,} countries"
            else:
                who = ", ".join(names.get(c, c) for c in codes)
            groups.append(f"{who} to {_day_label(day, partial)}")
        parts.append(f"{rows['label'].iloc[0]}: {', '.join(groups)}")
    return "; ".join(parts)


def table(cover: pd.DataFrame) -> pd.DataFrame:
    """The coverage for people: one row per import and last day, countries named."""
    names = countries.reference().set_index("iso3")["name"]
    rows = []
    for (_, day), same in cover.sort_values(["source", "rank"]).groupby(
        ["import_id", "last_day"], sort=False
    ):
        codes = list(same["iso3"])
        first = same.iloc[0]
        partial = [
            f"{names.get(c, c)}: {what}"
            for c, start, end in zip(
                codes, same["first_month_partial"], same["last_month_partial"], strict=True
            )
            for what, flag in (("first month", start), ("last month", end))
            if flag
        ]
        rows.append(
            {
                "Source": first["label"],
                "Countries": "all countries"
                if codes == [EVERY_COUNTRY]
                else ", ".join(names.get(c, c) for c in codes),
                "From": same["first_day"].min().date(),
                "To": day.date(),
                "Partial months": "; ".join(partial),
            }
        )
    return pd.DataFrame(rows, columns=["Source", "Countries", "From", "To", "Partial months"])
