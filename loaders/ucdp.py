"""UCDP Georeferenced Event Dataset (GED): yearly releases, monthly Candidate releases,
the older 19.1-style schema and the third-party 'precise, reduced' subset, into canonical events.

The network side (bulk downloads and the API) is in `loaders.ucdp_remote`; both end here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders import countries
from loaders.convert import Column, Rejected, dates_from_parts, plausible_dates
from loaders.errors import LoaderError
from loaders.files import RawTable, describe, read_delimited
from loaders.schema import EVENT_SCHEMA

SOURCE = "ucdp"
LICENCE = "CC BY 4.0"
# Said wherever its numbers are shown (pages, exports): see `loaders.caveats`.
REDUCED_CAVEAT = (
    "a third-party 'precise, reduced' subset: only precisely located events; "
    "totals are below UCDP's"
)
CITATION_GED = (
    "Sundberg, Ralph and Erik Melander (2013). Introducing the UCDP Georeferenced Event "
    "Dataset. Journal of Peace Research 50(4)."
)
CITATION_CANDIDATE = (
    "Hegre, Håvard, Mihai Croicu, Kristine Eck and Stina Högbladh (2020). Introducing the UCDP "
    "Candidate Events Dataset. Research & Politics 7(3)."
)
# UCDP asks users to cite the yearly "Organized violence" article of the release they use.
CITATION_RELEASE = {
    "21.1": "Pettersson, Therese, Shawn Davies, Amber Deniz, Garoun Engström, Nanar Hawach, "
    "Stina Högbladh, Margareta Sollenberg and Magnus Öberg (2021). Organized violence "
    "1989-2020, with a special emphasis on Syria. Journal of Peace Research 58(4).",
    "23.1": "Davies, Shawn, Therese Pettersson and Magnus Öberg (2023). Organized violence "
    "1989-2022 and the return of conflicts between states?. Journal of Peace Research 60(4).",
    "24.1": "Davies, Shawn, Garoun Engström, Therese Pettersson and Magnus Öberg (2024). "
    "Organized violence 1989-2023, and the prevalence of organized crime groups. Journal of "
    "Peace Research.",
    "25.1": "Davies, Shawn, Therese Pettersson, Margareta Sollenberg and Magnus Öberg (2025). "
    "Organized violence 1989-2024, and the challenges of identifying civilian victims. Journal "
    "of Peace Research.",
}


# The 49 columns of GED ≥ 20.1 and of the Candidate releases, in UCDP's order.
GED_COLUMNS = (
    "id relid year active_year code_status type_of_violence conflict_dset_id conflict_new_id "
    "conflict_name dyad_dset_id dyad_new_id dyad_name side_a_dset_id side_a_new_id side_a "
    "side_b_dset_id side_b_new_id side_b number_of_sources source_article source_office "
    "source_date source_headline source_original where_prec where_coordinates where_description "
    "adm_1 adm_2 latitude longitude geom_wkt priogrid_gid country country_id region "
    "event_clarity date_prec date_start date_end deaths_a deaths_b deaths_civilians "
    "deaths_unknown best high low gwnoa gwnob"
).split()

# What the canonical table needs from a GED-layout file (also present in the 19.1 schema).
GED_NEEDED = (
    "id type_of_violence conflict_name side_a side_b source_headline where_prec adm_1 adm_2 "
    "latitude longitude country country_id date_start date_end deaths_civilians best high low"
).split()

# The third-party subset of GED 21.1 (R package `juanr`): renamed deaths, split dates.
REDUCED_COLUMNS = (
    "id year month day country type_of_violence conflict_name side_a side_b latitude longitude "
    "low_death best_death high_death"
).split()

VIOLENCE_CODES = {"1": "state-based", "2": "non-state", "3": "one-sided"}
VIOLENCE_LABELS = {
    "state-based violence": "state-based",
    "non-state violence": "non-state",
    "one-sided violence": "one-sided",
}
SOURCE_CATEGORY = {
    "state-based": "State-based violence",
    "non-state": "Non-state violence",
    "one-sided": "One-sided violence",
}


@dataclass
class Release:
    """What a file or download is: GED yearly or Candidate, and which version."""

    dataset: str  # "ged" or "candidate"
    version: str  # "25.1", "25.0.6" (one month) or "25.0.1-6" (months 1 to 6)

    @property
    def label(self) -> str:
        name = "UCDP GED" if self.dataset == "ged" else "UCDP GED Candidate"
        return f"{name} {self.version}"

    @property
    def last_month(self) -> str | None:
        """The last month a release covers (`YYYY-MM`), from its version alone."""
        year = 2000 + int(self.version.split(".")[0])
        if self.dataset == "ged":
            return f"{year - 1}-12"
        month = int(self.version.split(".")[-1].split("-")[-1])
        return f"{year}-{month:02d}"


def citation(release: Release) -> str:
    """What to cite for a release: the dataset article plus the release's own article."""
    parts = [CITATION_GED]
    if release.dataset == "candidate":
        parts.append(CITATION_CANDIDATE)
    parts.append(
        CITATION_RELEASE.get(
            release.version,
            f"and the 'Organized violence' article of UCDP release {release.version} "
            "(see ucdp.uu.se/downloads)",
        )
    )
    return " ".join(parts)


@dataclass
class Parsed:
    """Canonical events from one file plus what provenance should say about them."""

    events: pa.Table
    release: Release
    notes: list[str] = field(default_factory=list)
    row_offset: int = 2
    complete: bool = False  # a whole release (all countries), not a subset
    caveats: list[str] = field(default_factory=list)  # what every figure from it must say
    rejected: Rejected | None = None  # none: this reader refuses a file on a bad row

    def coverage(self) -> dict:
        """Which country-months this file speaks for, zeros included.

        A whole release speaks for every country (`*`), a subset only for its countries, each
        over the release's whole span (UCDP releases whole months, so no month is partial).
        GED starts in January 1989 unless the file starts later (special releases); the end is
        the release's last month, or the last event's month when that is later.
        """
        first = pc.min(self.events["date_start"]).as_py()
        last = pc.max(self.events["date_start"]).as_py()
        start = f"{first:%Y-%m}"
        if self.release.dataset == "ged" and first.year <= 1990:
            start = "1989-01"
        end = max(self.release.last_month or "", f"{last:%Y-%m}")
        countries = (
            ["*"] if self.complete else sorted(set(pc.unique(self.events["iso3"]).to_pylist()))
        )
        return {
            "first_month": start,
            "last_month": end,
            "countries": countries,
            "first_day": f"{start}-01",
            "last_day": str(pd.Period(end, "M").end_time.date()),
        }

    def provenance(self) -> dict:
        """The source-specific part of the provenance record."""
        return {
            "source": SOURCE,
            "dataset": self.release.dataset,
            "version": self.release.version,
            "label": self.release.label,
            "licence": LICENCE,
            "citation": citation(self.release),
            "notes": self.notes,
            "caveats": self.caveats,
            "coverage": self.coverage(),
        }


# UCDP's own file names: a file so named is a whole release (every country), multi-month
# Candidate files (`GEDEvent_v25_01_25_06.csv`) included.
OFFICIAL_NAMES = re.compile(
    r"^(ged\d\d1-csv\.zip|GEDEvent_v\d\d_1\.csv|GEDEvent_v\d\d_0_\d+\.csv"
    r"|GEDEvent_v\d\d_01_\d\d_\d\d\.csv)$"
)


_VERSION_PATTERNS = (
    (re.compile(r"v(\d\d)_01_(\d\d)_(\d\d)", re.I), "candidate-range"),
    (re.compile(r"v(\d\d)_0_(\d{1,2})(?!\d)", re.I), "candidate"),
    (re.compile(r"ged(\d\d)1", re.I), "ged"),
    (re.compile(r"v(\d\d)_1(?!\d)", re.I), "ged"),
)


def parse_release(version: str) -> Release:
    """Release from a version string: `25.1` (yearly), `25.0.6` or `25.0.1-6` (Candidate)."""
    if re.fullmatch(r"\d\d\.1", version):
        return Release("ged", version)
    match = re.fullmatch(r"(\d\d)\.0\.(\d{1,2})(?:-(\d{1,2}))?", version)
    if match and all(1 <= int(m) <= 12 for m in match.groups()[1:] if m):
        return Release("candidate", version)
    raise LoaderError(
        "version", f"{version!r} is not a UCDP GED version (e.g. 25.1, 25.0.6, 25.0.1-6)"
    )


def release_from_name(name: str) -> Release | None:
    """Infer the release from UCDP's file names (`ged251-csv.zip`, `GEDEvent_v25_0_6.csv`, …)."""
    for pattern, kind in _VERSION_PATTERNS:
        match = pattern.search(name)
        if not match:
            continue
        if kind == "candidate-range":
            year, _, month = match.groups()
            return parse_release(f"{year}.0.1-{int(month)}")
        if kind == "candidate":
            year, month = match.groups()
            return parse_release(f"{year}.0.{int(month)}")
        return Release("ged", f"{match.group(1)}.1")
    return None


# Other UCDP and UCDP-derived tables people may try to import, recognised by their columns.
NOT_EVENT_DATA = {
    "the UCDP/PRIO Armed Conflict Dataset (one row per conflict-year)": (
        "conflict_id",
        "intensity_level",
        "type_of_conflict",
        "gwno_loc",
    ),
    "the UCDP Battle-Related Deaths dataset (one row per dyad-year)": (
        "dyad_id",
        "bd_best",
        "bd_low",
        "bd_high",
    ),
    "the UCDP Actor Dataset (one row per actor)": ("ActorId", "NameData", "Org"),
    "a country-year aggregate (Our World in Data)": ("Entity", "Year", "Deaths"),
}


# Files of other sources given to this reader: what they are, what to do instead.
OTHER_SOURCES = {
    "an ACLED events file; import it with --source acled": ("event_date", "event_type"),
    "an HDX HAPI conflict-event aggregate of ACLED data (events per location and month), not "
    "UCDP events; import it with --source hapi, which keeps it as aggregates": (
        "location_code",
        "event_type",
        "events",
        "reference_period_start",
    ),
}


def _include(columns: list[str]) -> list[str]:
    wanted = set(GED_NEEDED) | set(REDUCED_COLUMNS)
    return [c for c in columns if c in wanted]


def read_file(path: Path, version: str | None = None) -> Parsed:
    """Read a GED or Candidate CSV (plain, `.gz` or `.zip`) into canonical events."""
    signatures = [c for d in (NOT_EVENT_DATA, OTHER_SOURCES) for cols in d.values() for c in cols]
    raw = read_delimited(
        path,
        known_columns=[*GED_COLUMNS, *REDUCED_COLUMNS, *signatures],
        headerless_columns=GED_COLUMNS,
        include=_include,
    )
    where = describe(path, raw.member)
    for what, signature in NOT_EVENT_DATA.items():
        if set(signature) <= set(raw.columns):
            raise LoaderError(
                where, f"is {what}, not event data; import a GED or Candidate events file"
            )
    for what, signature in OTHER_SOURCES.items():
        if set(signature) <= set(raw.columns):
            raise LoaderError(where, f"looks like {what}")
    release = parse_release(version) if version else release_from_name(raw.member or path.name)
    if release is None:
        raise LoaderError(
            where, "cannot tell the UCDP release from the file name; pass --version (e.g. 25.1)"
        )
    columns = set(raw.columns)
    if {"best_death", "year", "month", "day"} <= columns:
        parsed = _parsed(raw, where, release, reduced=True)
        parsed.complete = True  # a global file, reduced by location precision, not by country
        parsed.caveats.append(REDUCED_CAVEAT)
        return parsed
    missing = [c for c in GED_NEEDED if c not in columns]
    if missing:
        raise LoaderError(where, f"not a UCDP GED file: missing columns {', '.join(missing)}")
    if "relid" not in columns:
        raw.notes.append("older GED schema (19.1 style, without relid/code_status) imported")
    parsed = _parsed(raw, where, release, reduced=False)
    parsed.complete = bool(OFFICIAL_NAMES.match(raw.member or path.name))
    return parsed


def table_from_records(records: list[dict], where: str, release: Release) -> Parsed:
    """Canonical events from UCDP API records (the same field names as the CSV)."""
    if not records:
        raise LoaderError(where, "the API returned no events")
    missing = [c for c in GED_NEEDED if c not in records[0]]
    if missing:
        raise LoaderError(where, f"API records lack fields: {', '.join(missing)}")
    arrays = {
        name: pa.chunked_array([pa.array([_as_text(r.get(name)) for r in records], pa.string())])
        for name in GED_NEEDED
    }
    raw = RawTable(pa.table(arrays), list(GED_NEEDED), row_offset=0)
    return _parsed(raw, where, release, reduced=False)


def _as_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _parsed(raw: RawTable, where: str, release: Release, *, reduced: bool) -> Parsed:
    table, off = raw.table, raw.row_offset

    def col(name: str) -> Column:
        return Column(table[name], name, where, off)

    n = table.num_rows
    ids = col("id").text()
    if reduced:
        start = dates_from_parts(col("year"), col("month"), col("day"), where, off)
        end = pa.nulls(n, pa.date32())
        violence = col("type_of_violence").recode(
            VIOLENCE_LABELS, "unknown type_of_violence", lower=True
        )
        best, low, high = (col(c).integers() for c in ("best_death", "low_death", "high_death"))
        civilians = pa.nulls(n, pa.int32())
        precision = pa.nulls(n, pa.int8())
        gwno_raw = pa.nulls(n, pa.string())
        admin1 = admin2 = headline = pa.nulls(n, pa.string())
        raw.notes.append(
            "third-party subset: only precisely located events (where_prec 1-2), rows with any "
            "missing value dropped; country totals are lower than UCDP's"
        )
    else:
        start, end = col("date_start").dates(), col("date_end").dates()
        violence = col("type_of_violence").recode(
            VIOLENCE_CODES, "type_of_violence must be 1, 2 or 3"
        )
        best, low, high = (col(c).integers() for c in ("best", "low", "high"))
        civilians = col("deaths_civilians").integers()
        precision = col("where_prec").integers(pa.int8())
        gwno_raw = col("country_id").text()
        admin1, admin2 = col("adm_1").text(), col("adm_2").text()
        headline = col("source_headline").text()
    plausible_dates(start, "date_start", where, off)
    country = col("country").text()
    geo = _countries(country, gwno_raw, where)
    arrays = {
        "event_id": pc.binary_join_element_wise(pa.scalar(f"{SOURCE}:"), ids, ""),
        "source": pa.repeat(SOURCE, n) if n else pa.array([], pa.string()),
        "dataset": pa.repeat(release.dataset, n),
        "source_version": pa.repeat(release.version, n),
        "source_event_id": ids,
        "date_start": start,
        "date_end": end,
        "country": country,
        **geo,
        "admin1": admin1,
        "admin2": admin2,
        "latitude": col("latitude").numbers(),
        "longitude": col("longitude").numbers(),
        "location_precision": precision,
        "violence_type": violence,
        "source_category": _category(violence),
        "side_a": col("side_a").text(),
        "side_b": col("side_b").text(),
        "conflict_name": col("conflict_name").text(),
        "fatalities_best": best,
        "fatalities_low": low,
        "fatalities_high": high,
        "civilian_deaths": civilians,
        "headline": headline,
        "import_id": pa.nulls(n, pa.string()),
    }
    events = pa.table(
        {f.name: _chunked(arrays[f.name], f.type) for f in EVENT_SCHEMA},
        schema=EVENT_SCHEMA,
    )
    return Parsed(events, release, raw.notes, off)


def _chunked(values: pa.Array | pa.ChunkedArray | pa.Scalar, type_: pa.DataType) -> pa.ChunkedArray:
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    return values.cast(type_)


def _category(violence: pa.ChunkedArray) -> pa.ChunkedArray:
    keys = pa.array(list(SOURCE_CATEGORY))
    return pc.take(pa.array(list(SOURCE_CATEGORY.values())), pc.index_in(violence, keys))


def _countries(
    country: pa.ChunkedArray, gwno: pa.ChunkedArray, where: str
) -> dict[str, pa.ChunkedArray]:
    """Resolve each distinct (country, code) pair once, then spread the answer to all rows."""
    key = pc.binary_join_element_wise(pc.fill_null(country, ""), pc.fill_null(gwno, ""), "\x1f")
    distinct = pc.unique(key)
    pairs = [k.split("\x1f") for k in distinct.to_pylist()]
    frame = pd.DataFrame(pairs, columns=["country", "gwno"]).replace("", None)
    resolved = countries.resolve(frame, where)
    index = pc.index_in(key, distinct)
    return {
        "iso3": pc.take(pa.array(resolved["iso3"], pa.string()), index),
        "gwno": pc.take(pa.array(resolved["gwno"], pa.int16()), index),
        "un_region": pc.take(pa.array(resolved["un_region"], pa.string()), index),
        "un_subregion": pc.take(pa.array(resolved["un_subregion"], pa.string()), index),
    }
