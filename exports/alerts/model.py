"""The plain data alerts are made of: a watchlist, its rules, and an alert with its evidence.

Everything here is frozen data with no I/O, so the SQLite store (`exports.alerts.db`), the rule
evaluation (`exports.alerts.rules`) and the deliveries (`atom`, `cap`, `mail`) share one shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from risk import measures
from risk.selection import Selection

# Rule kinds: what each compares, and what its threshold means (None: it takes no threshold).
RISK, RISE, TOP, SURGE, NEW_RISK = "risk", "rise", "top", "surge", "new_risk"
RULE_KINDS = {
    RISK: "risk at or above a share (0–1)",
    RISE: "a rise of at least a share (0–1) of risk since the last snapshot",
    TOP: "entry into the top N of the watchlist's countries",
    SURGE: "a surge flag (events or deaths far above the past months)",
    NEW_RISK: "entry into the new-risk list (risk with no recent violence)",
}
LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")  # the six UN languages; only English text yet


@dataclass(frozen=True)
class Watchlist:
    """A named set of regions and countries of one violence measure, and who hears of it."""

    name: str
    selection: Selection  # regions, countries and measure; no period, no as_of
    language: str = "en"
    recipients: tuple[str, ...] = ()  # email addresses
    id: int | None = None
    created_at: str = ""

    @property
    def slug(self) -> str:
        """A file-name form of the id, stable when the watchlist is renamed."""
        return f"watchlist-{self.id}"


@dataclass(frozen=True)
class Rule:
    """One condition of a watchlist; `threshold` per RULE_KINDS (risk and rise as shares)."""

    watchlist_id: int
    kind: str
    threshold: float | None = None
    id: int | None = None

    def describe(self) -> str:
        """'risk ≥ 50%', 'a rise of ≥ 20 points', 'entry into the top 5', …"""
        if self.kind == RISK:
            return f"risk ≥ {self.threshold * 100:.0f}%"
        if self.kind == RISE:
            return f"a rise of ≥ {self.threshold * 100:.0f} points"
        if self.kind == TOP:
            return f"entry into the top {self.threshold:.0f}"
        return {SURGE: "a surge flag", NEW_RISK: "entry into the new-risk list"}[self.kind]


@dataclass(frozen=True)
class Alert:
    """A rule met by a country in one forecast month, with the evidence to check it.

    Raised once per (rule, country, as_of): a later update of the same month raises nothing.
    """

    watchlist_id: int
    watchlist: str  # its name when raised
    rule_id: int
    rule: str  # Rule.describe()
    kind: str
    iso3: str
    country: str
    as_of: str  # YYYY-MM: data to this month; the forecast covers the three months after
    period: str  # 'Jan–Mar 2021'
    measure: str  # risk.measures key
    risk: float  # P(at least one month ≥ 25 deaths in `period`)
    risk_before: float | None  # in the earlier snapshot (or last month's forecast)
    before: str  # what risk_before is: 'the snapshot of data to Jun 2020', …
    rank: int | None  # among the watchlist's countries
    deaths_median: float  # deaths in `period`, the forecast's median
    deaths_low: float  # its 90% interval
    deaths_high: float
    deaths_expected: float  # the mean
    headline: str  # one sentence: country, what was met, the numbers
    drivers: tuple[str, ...] = ()  # driver sentences of the forecast, strongest first
    sources: tuple[str, ...] = ()  # 'UCDP GED 21.1 (events to 2020-12)', …
    citations: tuple[str, ...] = ()
    snapshot_sha256: str = ""  # table_sha256 of the snapshot it was raised from
    raised_at: str = ""  # ISO 8601 UTC
    id: int | None = None
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None

    @property
    def measure_label(self) -> str:
        return measures.LABELS[self.measure]

    @property
    def evidence(self) -> list[str]:
        """The alert's evidence as lines, beside its headline: the risk before, the deaths
        expected, the rank, the drivers, the sources and their vintage."""
        lines = []
        if self.risk_before is not None:
            lines.append(
                f"Risk in {self.before}: {self.risk_before * 100:.0f}% "
                f"(now {self.risk * 100:.0f}%)."
            )
        lines.append(
            f"Deaths in {self.period}: most likely {self.deaths_median:,.0f} (90% interval "
            f"{self.deaths_low:,.0f}–{self.deaths_high:,.0f}; "
            f"expected {self.deaths_expected:,.0f})."
        )
        if self.rank is not None:
            lines.append(f"Rank {self.rank} in the watchlist {self.watchlist}.")
        lines += [f"Driver: {text}" for text in self.drivers]
        lines += [f"Source: {source}" for source in self.sources]
        return lines
