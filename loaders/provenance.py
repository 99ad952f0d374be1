"""Provenance: what an import is and where it came from, as one typed, versioned record.

Every import keeps a `provenance.json` beside its raw file (see `loaders.store`). Readers build
the source-specific part (`Parsed.provenance()`: source, release, licence, citation, coverage),
the pipeline adds where the file came from, and the store adds what it counted. Everything
else reads the record's attributes, never dict keys, so a renamed field fails loudly.

`SCHEMA_VERSION` is written into the JSON. Files of version 1 (before this module) had the
same keys without it and are read as they are. What a source adds of its own (an API pull's
pages and filters, HDX ids) is kept in `details` and written at the top level of the JSON,
where earlier versions had it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SCHEMA_VERSION = 2
EVERY_COUNTRY = "*"


@dataclass(frozen=True)
class Coverage:
    """The days an import speaks for, zeros included, and the countries it speaks for.

    `countries` is `("*",)` for a whole release (every country), else the ISO3 codes it holds.
    `by_country` gives a country's own first and last day where a file's countries end apart
    (ACLED exports, HDX HAPI counts); records written before days were kept have only months,
    read as the months' first and last days.
    """

    first_month: str  # YYYY-MM
    last_month: str
    countries: tuple[str, ...]
    first_day: str | None = None  # YYYY-MM-DD
    last_day: str | None = None
    by_country: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def everywhere(self) -> bool:
        return self.countries == (EVERY_COUNTRY,)

    def days(self, iso3: str) -> tuple[str, str]:
        """The first and last day covered for a country of `countries` (or `*`)."""
        first = self.first_day or f"{self.first_month}-01"
        last = self.last_day or str(pd.Period(self.last_month, "M").end_time.date())
        return self.by_country.get(iso3, (first, last))

    @classmethod
    def of(cls, record: Coverage | Mapping[str, Any]) -> Coverage:
        """A coverage from itself or its JSON record (the pure functions take either)."""
        return record if isinstance(record, Coverage) else cls.from_dict(record)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coverage:
        return cls(
            data["first_month"],
            data["last_month"],
            tuple(data["countries"]),
            data.get("first_day"),
            data.get("last_day"),
            {iso3: tuple(span) for iso3, span in (data.get("by_country") or {}).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "first_month": self.first_month,
            "last_month": self.last_month,
            "countries": list(self.countries),
        }
        if self.first_day is not None:
            out.update(first_day=self.first_day, last_day=self.last_day)
        if self.by_country:
            out["by_country"] = {iso3: list(span) for iso3, span in self.by_country.items()}
        return out


@dataclass(frozen=True)
class Provenance:
    """One import's record: the release, the file, the checks and the counts."""

    # What the source says about the release (from the reader).
    source: str
    dataset: str
    version: str
    label: str
    licence: str
    citation: str
    coverage: Coverage
    # Where the file came from (from the pipeline).
    file: str
    origin: str
    fetched_at: str
    sha256: str
    bytes: int
    kind: str = "events"  # or "aggregates" (counts, never read as events)
    terms: str | None = None
    attribution: str | None = None
    notes: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()  # what every figure from it must say (see loaders.caveats)
    # What the store counted and checked when it committed the import.
    import_id: str = ""
    rows: int = 0
    countries: int = 0
    warnings: tuple[str, ...] = ()
    rejected_rows: int = 0  # rows set aside (see `loaders.convert`), listed in `rejects_file`
    rejects_file: str | None = None  # beside the raw file, in `raw/`
    rejects_sha256: str | None = None
    fatalities_best: int | None = None  # events
    first_date: str | None = None  # events: YYYY-MM-DD
    last_date: str | None = None
    totals: Mapping[str, Any] | None = None  # aggregates: events and deaths per event type
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def remarks(self) -> tuple[str, ...]:
        """The reader's notes and the store's warnings, for display."""
        return (*self.notes, *self.warnings)

    def with_counts(self, **counts: Any) -> Provenance:
        """A copy with the store's counts and checks added."""
        return dataclasses.replace(self, **counts)

    @classmethod
    def create(cls, **fields: Any) -> Provenance:
        """A record from keyword fields; unknown keywords are the source's own `details`."""
        known = {f.name for f in dataclasses.fields(cls)}
        extra = {k: v for k, v in fields.items() if k not in known}
        values = {k: v for k, v in fields.items() if k in known}
        values["details"] = {**values.get("details", {}), **extra}
        if isinstance(values.get("coverage"), Mapping):
            values["coverage"] = Coverage.from_dict(values["coverage"])
        for name in ("notes", "warnings", "caveats"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """Read a `provenance.json` of any schema version so far."""
        fields = {k: v for k, v in data.items() if k != "schema_version"}
        if data.get("schema_version", 1) > SCHEMA_VERSION:
            raise ValueError(
                f"provenance schema {data['schema_version']} is newer than this program "
                f"reads ({SCHEMA_VERSION}): update Article 99"
            )
        return cls.create(**fields)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record: the fields, the source's details at the top level, the schema."""
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "details":
                continue
            if isinstance(value, Coverage):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return {**out, **self.details}
