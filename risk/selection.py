"""What the analyst is looking at: regions, countries, period, violence measure, source, and
the month the forecast starts from.

A `Selection` is plain data, so every page, export and link uses the same one. It turns into
URL query parameters and back (`to_query` / `from_query`), so a link reproduces the view; a
value that is not understood is dropped and reported, never guessed.

The measure (`risk.measures`) is the one choice of violence: the forecast, the risk table and
the exports count it, and the history and event tables keep its UCDP types (`violence`). Old
links with `?violence=` still open: one type, or all three, is the measure counting them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pandas as pd

from loaders import countries, reference
from risk import measures
from risk.model import HORIZONS, WINDOW

# Each view counts one source; they are never summed (see risk.sources).
SOURCES = ("ucdp", "acled")
REGION_KINDS = {
    "un": "UN region",
    "sub": "UN subregion",
    "ucdp": "UCDP region",
    "group": "Group",
    "org": "Organisation",
}
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Selection:
    """The filters shared by every view. Empty regions and countries mean the whole world."""

    regions: tuple[str, ...] = ()  # keys such as "un:Africa", "group:Sahel"
    countries: tuple[str, ...] = ()  # ISO3
    start: str | None = None  # YYYY-MM
    end: str | None = None
    measure: str = measures.DEFAULT  # one of risk.measures.MEASURES
    source: str = "ucdp"
    as_of: str | None = None  # YYYY-MM the forecast is made from; None: the store's default
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def violence(self) -> tuple[str, ...]:
        """The UCDP violence types the measure counts (history charts, event tables)."""
        return measures.TYPES[self.measure]

    def describe(self) -> str:
        """The selection in words, for titles, footers and exports."""
        labels = dict(region_options())
        where = [labels.get(r, r) for r in self.regions] + list(self.countries)
        parts = [", ".join(where) if where else "All countries"]
        if self.start or self.end:
            parts.append(f"{self.start or 'start'} to {self.end or 'latest'}")
        parts.append(measures.LABELS[self.measure])
        if self.source != "ucdp":
            parts.append(f"source {self.source.upper()}")
        if self.as_of:
            parts.append(f"forecast from data to {pd.Period(self.as_of, 'M'):%b %Y}")
        return " · ".join(parts)


def _memberships() -> dict[str, frozenset[str]]:
    """Every region key and its members; recomputed when the memberships table is replaced."""
    current = reference.path("memberships")
    return _memberships_of(str(current), current.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _memberships_of(_file: str, _mtime_ns: int) -> dict[str, frozenset[str]]:
    table = countries.reference()
    members: dict[str, set[str]] = {}
    for kind, column in (("un", "un_region"), ("sub", "un_subregion"), ("ucdp", "ucdp_region")):
        for name, group in table.groupby(column):
            members[f"{kind}:{name}"] = set(group["iso3"])
    for name, group in countries.region_groups().groupby("group"):
        members[f"group:{name}"] = set(group["iso3"])
    for name, group in _current_members().groupby("organisation"):
        members[f"org:{name}"] = set(group["iso3"])
    return {key: frozenset(value) for key, value in members.items()}


def _current_members() -> pd.DataFrame:
    """Regional organisations' members today (rows with no `left` date): a region filter is a
    set of countries, so it follows the table's latest membership, not the forecast month's."""
    table = reference.table("memberships")
    return table[table["left"].isna()]


def region_options() -> list[tuple[str, str]]:
    """(key, label) for every region the filter offers, grouped by kind."""
    order = list(REGION_KINDS)
    keys = sorted(_memberships(), key=lambda k: (order.index(k.split(":")[0]), k))
    return [(k, _label(k)) for k in keys]


def _label(key: str) -> str:
    """'Sahel (Group)'; an organisation by its name alone ('ECOWAS'), which is what fits the
    sidebar's chip and needs no kind beside it."""
    kind, name = key.split(":", 1)
    return name if kind == "org" else f"{name} ({REGION_KINDS[kind]})"


def countries_for(selection: Selection) -> list[str]:
    """ISO3 codes the selection covers: the regions' members plus the chosen countries."""
    members = _memberships()
    chosen = set(selection.countries)
    for region in selection.regions:
        chosen |= members.get(region, frozenset())
    if not selection.regions and not selection.countries:
        chosen = set(countries.reference()["iso3"])
    return sorted(chosen)


def forecast_months(first: str, last: str) -> list[str]:
    """The months (YYYY-MM) the model can forecast from, for data covering `first` … `last`:
    training needs a 12-month window and the 15 months it forecasts before the origin."""
    earliest = pd.Period(first, "M") + WINDOW + max(HORIZONS) - 1
    return [f"{m:%Y-%m}" for m in pd.period_range(earliest, pd.Period(last, "M"), freq="M")]


def apply(table: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Rows of a table with an `iso3` column (and optionally `month`) inside the selection."""
    keep = table["iso3"].isin(countries_for(selection))
    if "month" in table.columns:
        if selection.start:
            keep &= table["month"] >= pd.Period(selection.start, "M").start_time
        if selection.end:
            keep &= table["month"] <= pd.Period(selection.end, "M").start_time
    return table[keep]


def to_query(selection: Selection) -> dict[str, str]:
    """URL query parameters for a selection (defaults left out, so links stay short)."""
    query = {}
    if selection.regions:
        query["region"] = ",".join(selection.regions)
    if selection.countries:
        query["country"] = ",".join(selection.countries)
    if selection.start:
        query["from"] = selection.start
    if selection.end:
        query["to"] = selection.end
    if selection.measure != measures.DEFAULT:
        query["measure"] = selection.measure
    if selection.source != "ucdp":
        query["source"] = selection.source
    if selection.as_of:
        query["as_of"] = selection.as_of
    return query


def from_query(params: Mapping[str, str]) -> Selection:
    """A selection from URL query parameters; what is not understood is dropped and reported.

    `as_of` is checked as a month here; whether the store can forecast from it is the
    caller's to check (it depends on the data).
    """
    problems = []

    def listed(name: str, allowed: set[str]) -> tuple[str, ...]:
        values = [v for v in (params.get(name) or "").split(",") if v]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            problems.append(f"unknown {name}: {', '.join(unknown)}")
        return tuple(dict.fromkeys(v for v in values if v in allowed))

    def month(name: str) -> str | None:
        value = params.get(name)
        if value and not MONTH.match(value):
            problems.append(f"{name} must be a month YYYY-MM, not {value!r}")
            return None
        return value or None

    def measure() -> str:
        value = params.get("measure")
        if value:
            if value in measures.MEASURES:
                return value
            problems.append(f"unknown measure: {value}")
            return measures.DEFAULT
        # An old link's violence types: one, or all three, name a measure; two do not.
        types = listed("violence", set(measures.TYPES[measures.ALL]))
        chosen = measures.of_types(types) if types else measures.DEFAULT
        if types and set(types) != set(measures.TYPES[chosen]):
            problems.append(
                f"violence {' and '.join(types)} is not one measure; showing "
                f"{measures.LABELS[chosen]}"
            )
        return chosen

    selection = Selection(
        regions=listed("region", set(_memberships())),
        countries=listed("country", set(countries.reference()["iso3"])),
        start=month("from"),
        end=month("to"),
        measure=measure(),
        source=params.get("source", "ucdp"),
        as_of=month("as_of"),
    )
    if selection.source not in SOURCES:
        problems.append(f"unknown source: {selection.source}")
        selection = replace(selection, source="ucdp")
    if selection.start and selection.end and selection.start > selection.end:
        problems.append(f"from {selection.start} is after to {selection.end}; swapped")
        selection = replace(selection, start=selection.end, end=selection.start)
    return replace(selection, problems=tuple(problems))
