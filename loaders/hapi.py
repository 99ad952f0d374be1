"""ACLED's monthly counts as HDX HAPI publishes them ("Conflict Events"), kept as aggregates.

HDX HAPI's `conflict_event` files are built from ACLED's HDX workbooks: one row per location
(country, or admin 2 area where the country has a humanitarian response plan), month and event
type, with counts of events and fatalities. They cannot be turned back into events, so they are
stored as an aggregate import (`loaders.schema.AGGREGATE_SCHEMA`) that event readers never see.

What the counts mean. ACLED's HDX dataset descriptions (`dataset-*.json` in
`OCHA-DAP/hdx-scraper-acled` tests/fixtures/input, the workbooks the shared files were built
from) define the three types, and the shared 1997-01 and 2025-01 files agree:
* `political_violence`: ACLED's battles, explosions/remote violence and violence against
  civilians event types, plus the mob violence sub-event of riots;
* `civilian_targeting`: violence against civilians, and explosions/remote violence in which
  civilians were directly targeted, so a *subset* of political_violence that is never added to
  it (in every area-month of both files civilian_targeting ≤ political_violence, for events and
  fatalities alike: 6,791 area-months);
* `demonstration`: protests and riots except mob violence, so apart from political_violence;
  HAPI gives no fatalities for them (the column is empty in all 6,791 rows), and they are never
  armed-conflict deaths. (A count of ACLED *events* of the three violent event types leaves
  out mob violence, which political_violence includes.)
* `admin_level` 0 rows count a whole country (ACLED's `Non_HRP` sheet), level 2 rows one admin 2
  area (its `HRP` sheets); HAPI's `has_hrp` flag is today's and differs for a few countries
  (BDI, ETH and PSE are counted by admin 2 area but flagged `has_hrp` N);
* HAPI's `error` column flags rows whose p-code it could not match (2025-01: Kosovo's three
  country rows, "Non matching p-code", all zero); such rows are kept, because the counts are
  ACLED's and the error concerns HAPI's admin codes, and are listed in the provenance notes;
* rows whose admin area HAPI could not match have no p-code: ACLED's own area names are kept
  (South Sudanese provinces listed under SDN, Ukraine's seas), so their counts stay in the
  country's total.

Location codes are kept as the file writes them, territories included: a code outside the
country reference is noted in provenance, never dropped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders import countries
from loaders.acled import ATTRIBUTION, CITATION, TERMS_URL
from loaders.convert import Column, Rejected, plausible_dates
from loaders.errors import LoaderError
from loaders.files import SEPARATORS, _open_opener, _split_header, describe, read_delimited
from loaders.schema import AGGREGATE_SCHEMA

SOURCE = "acled"
DATASET = "hapi"
KIND = "aggregates"
LICENCE = 'HDX "hdx-other" with the ACLED Terms of Use (not openly licensed; no redistribution)'
DISTRIBUTOR = "HDX HAPI (OCHA Centre for Humanitarian Data), Conflict Events, from ACLED data"
EVENT_TYPES = ("political_violence", "civilian_targeting", "demonstration")
ADMIN_LEVELS = (0, 1, 2)

COLUMNS = (
    "location_code has_hrp in_gho provider_admin1_name provider_admin2_name admin1_code "
    "admin1_name admin2_code admin2_name admin_level event_type events fatalities "
    "reference_period_start reference_period_end dataset_hdx_id resource_hdx_id warning error"
).split()
# A header with these columns is a HAPI conflict-event file (acled.py refuses the same set).
SIGNATURE = ("location_code", "event_type", "events", "reference_period_start")
NEEDED = (
    "location_code",
    "admin_level",
    "event_type",
    "events",
    "fatalities",
    "reference_period_start",
    "reference_period_end",
)
# The columns that tell one row's area apart (ACLED's names where HAPI matched no p-code).
AREA = (
    "location_code",
    "admin1_code",
    "admin2_code",
    "provider_admin1_name",
    "provider_admin2_name",
)
# HAPI's flags of today's humanitarian plans: not what the counts are about, never parsed.
UNUSED = ("has_hrp", "in_gho")
HEADER_BYTES = 4096
ISO3 = r"^[A-Z]{3}$"


def is_hapi(path: Path) -> bool:
    """Whether the file's header is HDX HAPI's conflict-event header (plain, `.gz` or `.zip`).

    Only the first line is read; a file that cannot be opened is "not HAPI", so the reader the
    caller picks next gives its own message about it.
    """
    try:
        opener, _ = _open_opener(Path(path))
        with opener() as stream:
            sample = stream.read(HEADER_BYTES)
    except (LoaderError, OSError, EOFError, zipfile.BadZipFile):
        return False
    head = sample.decode("utf-8-sig", errors="ignore").splitlines()[:1]
    if not head:
        return False
    sep = max(SEPARATORS, key=head[0].count)
    fields = {f.lower() for f in _split_header(head[0], sep)}
    return set(SIGNATURE) <= fields


@dataclass
class Parsed:
    """The aggregate rows of one HAPI file plus what provenance should say about them."""

    aggregates: pa.Table
    version: str
    notes: list[str] = field(default_factory=list)
    row_offset: int = 2
    hdx: dict = field(default_factory=dict)
    rejected: Rejected | None = None  # none: this reader refuses a file on a bad row

    def coverage(self) -> dict:
        """The months from the first to the last row, for the file and for each location code
        (counts are per whole month, so each country's days are its months' first and last)."""
        spans = self.aggregates.group_by("iso3").aggregate([("month", "min"), ("month", "max")])
        by_country = {
            iso3: [f"{start:%Y-%m-%d}", str(pd.Period(end, "M").end_time.date())]
            for iso3, start, end in zip(
                *(spans[c].to_pylist() for c in ("iso3", "month_min", "month_max")), strict=True
            )
        }
        first, last = min(s for s, _ in by_country.values()), max(e for _, e in by_country.values())
        return {
            "first_month": first[:7],
            "last_month": last[:7],
            "countries": sorted(by_country),
            "first_day": first,
            "last_day": last,
            "by_country": dict(sorted(by_country.items())),
        }

    @property
    def label(self) -> str:
        coverage = self.coverage()
        first, last = (
            dt.date.fromisoformat(f"{coverage[k]}-01").strftime("%b %Y")
            for k in ("first_month", "last_month")
        )
        span = first if first == last else f"{first} – {last}"
        return f"ACLED via HDX HAPI (aggregates), {span}"

    def provenance(self) -> dict:
        return {
            "source": SOURCE,
            "dataset": DATASET,
            "kind": KIND,
            "version": self.version,
            "label": self.label,
            "licence": LICENCE,
            "terms": TERMS_URL,
            "citation": CITATION,
            "attribution": ATTRIBUTION,
            "distributor": DISTRIBUTOR,
            "event_types": list(EVENT_TYPES),
            "notes": self.notes,
            "coverage": self.coverage(),
            **self.hdx,
        }


def read_file(path: Path, version: str | None = None) -> Parsed:
    """Read an HDX HAPI conflict-event file (CSV, `.gz` or `.zip`) into aggregate rows.

    `version` (YYYY-MM or YYYY-MM-DD, e.g. the download date) replaces the default, the last
    month the file counts: a later download of the same file name and month replaces it.
    """
    if not is_hapi(path):
        _open_opener(path)  # an empty, damaged or workbook file gets its own message
        raise LoaderError(
            path.name,
            f"not an HDX HAPI conflict-event file: its header lacks some of {', '.join(SIGNATURE)}",
        )
    raw = read_delimited(
        path,
        known_columns=COLUMNS,
        include=lambda columns: [c for c in columns if c not in UNUSED],
        null_values=("",),
    )
    where = describe(path, raw.member)
    present = set(raw.columns)
    missing = [c for c in NEEDED if c not in present]
    if missing:
        raise LoaderError(
            where, f"not an HDX HAPI conflict-event file: missing columns {', '.join(missing)}"
        )
    table, off, notes = raw.table, raw.row_offset, list(raw.notes)
    n = table.num_rows

    def col(name: str) -> Column:
        return Column(table[name], name, where, off)

    def text(name: str) -> pa.ChunkedArray:
        return col(name).text() if name in present else pa.chunked_array([pa.nulls(n, pa.string())])

    iso3 = _required(col("location_code"), col("location_code").text())
    _check(
        col("location_code"), pc.invert(pc.match_substring_regex(iso3, ISO3)), "not an ISO3 code"
    )
    level = _required(col("admin_level"), col("admin_level").integers(pa.int8()))
    _check(
        col("admin_level"),
        pc.invert(pc.is_in(level, pa.array(ADMIN_LEVELS, pa.int8()))),
        "admin_level is not 0, 1 or 2",
    )
    event_type = _required(
        col("event_type"),
        col("event_type").recode(
            {t: t for t in EVENT_TYPES}, f"event_type is not one of {', '.join(EVENT_TYPES)}"
        ),
    )
    events = _counts(col("events"), required=True)
    fatalities = _counts(col("fatalities"), required=False)
    month = _months(col("reference_period_start"), col("reference_period_end"))
    _no_duplicates(table, present, where, off)
    names = {
        level_name: pc.coalesce(text(f"{level_name}_name"), text(f"provider_{level_name}_name"))
        for level_name in ("admin1", "admin2")
    }
    aggregates = pa.table(
        {
            "iso3": iso3,
            "month": month,
            "admin_level": level,
            "admin1_code": text("admin1_code"),
            "admin1_name": names["admin1"],
            "admin2_code": text("admin2_code"),
            "admin2_name": names["admin2"],
            "event_type": event_type,
            "events": events,
            "fatalities": fatalities,
            "import_id": pa.nulls(n, pa.string()),
        },
        schema=AGGREGATE_SCHEMA,
    )
    notes += _facts(aggregates, text("error"), text("warning"))
    hdx = {
        f"hdx_{kind}_ids": sorted(pc.unique(table[f"{kind}_hdx_id"]).drop_null().to_pylist())
        for kind in ("dataset", "resource")
        if f"{kind}_hdx_id" in present
    }
    last = f"{pc.max(month).as_py():%Y-%m}"
    return Parsed(aggregates, _version(version) or last, notes, off, hdx)


def _fail(column: Column, bad: pa.ChunkedArray | pa.Array, problem: str) -> LoaderError:
    """The convert module's message: file, row and column, the value, how many rows."""
    return column._fail(pc.fill_null(bad, False), problem)


def _check(column: Column, bad: pa.ChunkedArray, problem: str) -> None:
    if pc.any(pc.fill_null(bad, False)).as_py():
        raise _fail(column, bad, problem)


def _required(column: Column, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """`values` (converted from `column`), refusing a row where the file has no value."""
    if values.null_count:
        index = pc.index(pc.is_null(values), True).as_py()
        raise LoaderError(
            f"{column.where}, row {index + column.row_offset}, column {column.name}",
            f"{column.name} is missing",
        )
    return values


def _counts(column: Column, *, required: bool) -> pa.ChunkedArray:
    """A count column as int32: whole and not negative; empty only where it may be."""
    values = column.integers()
    if required:
        _required(column, values)
    _check(column, pc.less(values, 0), "a count cannot be negative")
    return values


def _months(start: Column, end: Column) -> pa.ChunkedArray:
    """The month of each row; its reference period must be exactly one calendar month."""
    first = _required(start, start.dates())
    last = _required(end, end.dates())
    plausible_dates(first, start.name, start.where, start.row_offset)
    _check(start, pc.not_equal(pc.day(first), 1), "the reference period does not start on a 1st")
    distinct = pc.unique(first)
    month_ends = [
        d.replace(day=calendar.monthrange(d.year, d.month)[1]) for d in distinct.to_pylist()
    ]
    expected = pc.take(pa.array(month_ends, pa.date32()), pc.index_in(first, distinct))
    bad = pc.not_equal(last, expected)
    if pc.any(bad).as_py():
        index = pc.index(bad, True).as_py()
        count = pc.sum(bad).as_py()
        raise LoaderError(
            f"{end.where}, row {index + end.row_offset}, column {end.name}",
            f"the reference period {first[index].as_py()} … {last[index].as_py()} is not one "
            "calendar month" + (f" ({count} rows in all)" if count > 1 else ""),
        )
    return first


def _no_duplicates(table: pa.Table, present: set[str], where: str, off: int) -> None:
    """Each area, month and event type once: a repeated row would be counted twice."""
    parts = [c for c in (*AREA, "event_type", "reference_period_start") if c in present]
    con = duckdb.connect()
    try:
        con.register("area_rows", table.select(parts))
        distinct = con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(parts)} FROM area_rows)"  # noqa: S608
        ).fetchone()[0]
    finally:
        con.close()
    if distinct == table.num_rows:
        return
    key = pc.binary_join_element_wise(*(pc.fill_null(table[c], "") for c in parts), "\x1f")
    repeated = pd.Series(key.to_pylist()).duplicated()
    index = int(repeated.idxmax())
    area = ", ".join(v for v in key[index].as_py().split("\x1f") if v)
    raise LoaderError(
        f"{where}, row {index + off}",
        f"the same area, month and event type appears twice ({area}; "
        f"{int(repeated.sum())} repeated rows in all): its counts would be added twice",
    )


# An area in the aggregate table: codes, else ACLED's names where HAPI matched no p-code.
AREA_COLUMNS = ("admin1_code", "admin1_name", "admin2_code", "admin2_name")
AREA_SELECT = ", ".join(f"coalesce({c}, '') AS {c}" for c in AREA_COLUMNS)
AREA_JOIN = ", ".join(("iso3", "month", *AREA_COLUMNS))


def _facts(aggregates: pa.Table, errors: pa.ChunkedArray, warnings: pa.ChunkedArray) -> list[str]:
    """What provenance records about the file: the semantics, HAPI's flags, unknown codes.

    Run in DuckDB: a full HAPI download has millions of rows.
    """
    rows = aggregates.append_column("error", errors).append_column("warning", warnings)
    con = duckdb.connect()
    try:
        con.register("rows", rows)
        notes = [
            "counts, not events: political_violence is battles, explosions/remote violence, "
            "violence against civilians and mob violence; civilian_targeting is a subset of it "
            "(never add them up); demonstrations (protests, riots other than mob violence) have "
            "no fatalities and are never armed-conflict deaths",
        ]
        larger = con.execute(
            f"""
            WITH pv AS (SELECT iso3, month, {AREA_SELECT}, events, fatalities FROM rows
                        WHERE event_type = 'political_violence'),
                 ct AS (SELECT iso3, month, {AREA_SELECT}, events, fatalities FROM rows
                        WHERE event_type = 'civilian_targeting')
            SELECT count(*) FROM pv JOIN ct USING ({AREA_JOIN})
            WHERE ct.events > pv.events OR coalesce(ct.fatalities, 0) > coalesce(pv.fatalities, 0)
            """  # noqa: S608 - AREA_SELECT/AREA_JOIN are built from the constant column names above
        ).fetchone()[0]
        if larger:
            notes.append(
                f"{larger} area-months count more civilian_targeting than political_violence, "
                "which should contain it: check the file"
            )
        for error, count, events, codes in con.execute(
            "SELECT error, count(*), sum(events), string_agg(DISTINCT iso3, ', ' ORDER BY iso3) "
            "FROM rows WHERE error IS NOT NULL GROUP BY error ORDER BY error"
        ).fetchall():
            notes.append(
                f"{count} rows carry an HDX HAPI error ({error!r} × {count}) in {codes}; kept "
                f"with their {events} events: the error is about HAPI's admin codes, the counts "
                "are ACLED's"
            )
        warned = rows["warning"].length() - rows["warning"].null_count
        if warned:
            notes.append(f"{warned} rows carry an HDX HAPI warning (p-code corrections); kept")
        count, events, codes = con.execute(
            "SELECT count(*), sum(events), string_agg(DISTINCT iso3, ', ' ORDER BY iso3) "
            "FROM rows WHERE admin_level > 0 AND admin1_code IS NULL"
        ).fetchone()
        if count:
            notes.append(
                f"{count} admin rows have no HDX p-code ({codes}): ACLED's area names kept, "
                f"their {events} events count in the country's total"
            )
        demonstrated = con.execute(
            "SELECT count(*) FROM rows "
            "WHERE event_type = 'demonstration' AND fatalities IS NOT NULL"
        ).fetchone()[0]
        if demonstrated:
            notes.append(
                f"{demonstrated} demonstration rows give fatalities: kept, never armed-conflict "
                "deaths"
            )
        # civilian_targeting is left out: it is counted again inside political_violence.
        per_code = dict(
            con.execute(
                "SELECT iso3, sum(events) FILTER (WHERE event_type <> 'civilian_targeting') "
                "FROM rows GROUP BY iso3"
            ).fetchall()
        )
    finally:
        con.close()
    return notes + _country_notes({code: int(n or 0) for code, n in per_code.items()})


def _country_notes(events: dict[str, int]) -> list[str]:
    """Location codes outside the reference are kept and named, never dropped."""
    codes = set(events)
    notes = []
    known = set(countries.country_table()["ISO3"].astype(str))
    unknown = sorted(codes - known)
    if unknown:
        notes.append(
            f"{len(unknown)} location codes are not ISO 3166 codes the country reference knows "
            f"(kept, {sum(events[c] for c in unknown)} events): {', '.join(unknown)}"
        )
    states = set(countries.reference()["iso3"])
    territories = sorted((codes & known) - states)
    if territories:
        notes.append(
            f"{len(territories)} location codes are territories or areas outside the panel's "
            f"country list (kept, {sum(events[c] for c in territories)} events): "
            f"{', '.join(territories)}"
        )
    notes.append(
        f"{len(codes)} location codes: {len(codes & states)} in the country list, "
        f"{len(territories)} territories, {len(unknown)} unknown"
    )
    return notes


def _version(version: str | None) -> str | None:
    if version is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", version):
        raise LoaderError("version", f"{version!r} is not a HAPI version (YYYY-MM or YYYY-MM-DD)")
    return version
