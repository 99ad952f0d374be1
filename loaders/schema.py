"""The canonical event table: one schema for every source, documented and validated here.

| column | type | meaning |
|---|---|---|
| event_id | string | unique across sources: `<source>:<source_event_id>`, e.g. `ucdp:48528` |
| source | string | producer: `ucdp` or `acled` |
| dataset | string | the producer's product: `ged` (yearly), `candidate` (monthly), `acled` |
| source_version | string | release, e.g. `24.1` (GED), `25.0.6` (Candidate) |
| source_event_id | string | the producer's own id |
| date_start, date_end | date32 | first and last possible day of the event (end may be null) |
| country | string | the source's country name |
| iso3 | string | ISO 3166-1 alpha-3 (Kosovo: XKX) |
| gwno | int16 | Gleditsch-Ward code (UCDP's `country_id`) |
| un_region, un_subregion | string | UN M49 region (Africa, Americas, …) and subregion |
| admin1, admin2 | string | first and second administrative level, as the source writes them |
| latitude, longitude | float64 | WGS84 degrees |
| location_precision | int8 | UCDP `where_prec` 1 (exact) … 7; ACLED `geo_precision` 1 … 3 |
| violence_type | string | `state-based`, `non-state`, `one-sided` (UCDP's categories) or null |
| source_category | string | the source's own category (UCDP violence label, ACLED event type) |
| side_a, side_b | string | the two sides / actors |
| conflict_name | string | UCDP conflict name (null for sources without one) |
| fatalities_best, _low, _high | int32 | fatality estimates (best is never null) |
| civilian_deaths | int32 | civilian deaths where the source records them, else null |
| headline | string | the source's headline or notes |
| import_id | string | the store import the row came from (for provenance) |

The aggregate table (`AGGREGATE_SCHEMA`): counts a source published per area and month, kept
apart from events because they cannot be turned back into events (ACLED via HDX HAPI):

| column | type | meaning |
|---|---|---|
| iso3 | string | ISO 3166-1 alpha-3 as the source writes it (territories included) |
| month | date32 | first day of the calendar month counted |
| admin_level | int8 | 0 (whole country) … 2: the level the row counts |
| admin1_code, admin1_name | string | first administrative level (p-code, name); null at level 0 |
| admin2_code, admin2_name | string | second administrative level; null above level 2 |
| event_type | string | the source's own category, e.g. HAPI `political_violence`, |
| | | `civilian_targeting` (a subset of political_violence), `demonstration` |
| events | int32 | events counted (never null) |
| fatalities | int32 | fatalities counted; null where the source gives none (demonstrations) |
| import_id | string | the store import the row came from |

Rows of different event types overlap (civilian targeting is counted again inside political
violence), so a consumer picks one type; it never adds them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from loaders.errors import LoaderError

VIOLENCE_TYPES = ("state-based", "non-state", "one-sided")

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("source", pa.string()),
        ("dataset", pa.string()),
        ("source_version", pa.string()),
        ("source_event_id", pa.string()),
        ("date_start", pa.date32()),
        ("date_end", pa.date32()),
        ("country", pa.string()),
        ("iso3", pa.string()),
        ("gwno", pa.int16()),
        ("un_region", pa.string()),
        ("un_subregion", pa.string()),
        ("admin1", pa.string()),
        ("admin2", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("location_precision", pa.int8()),
        ("violence_type", pa.string()),
        ("source_category", pa.string()),
        ("side_a", pa.string()),
        ("side_b", pa.string()),
        ("conflict_name", pa.string()),
        ("fatalities_best", pa.int32()),
        ("fatalities_low", pa.int32()),
        ("fatalities_high", pa.int32()),
        ("civilian_deaths", pa.int32()),
        ("headline", pa.string()),
        ("import_id", pa.string()),
    ]
)

REQUIRED = ("event_id", "source", "dataset", "source_version", "date_start", "fatalities_best")


@dataclass(frozen=True)
class Check:
    """A data check declared as data: `failing(table)` returns a boolean mask of bad rows."""

    name: str
    blocking: bool
    failing: Callable[[pa.Table], pa.Array]
    problem: str


def _outside(column: str, low: float, high: float) -> Callable[[pa.Table], pa.Array]:
    def failing(table: pa.Table) -> pa.Array:
        values = table[column]
        # "NaN" in a file parses as a float that no comparison catches: it is no coordinate.
        outside = pc.or_(pc.or_(pc.less(values, low), pc.greater(values, high)), pc.is_nan(values))
        return pc.fill_null(outside, False)

    return failing


def _negative(column: str) -> Callable[[pa.Table], pa.Array]:
    return lambda table: pc.fill_null(pc.less(table[column], 0), False)


CHECKS = (
    Check(
        "latitude", True, _outside("latitude", -90, 90), "latitude outside -90…90 or not a number"
    ),
    Check(
        "longitude",
        True,
        _outside("longitude", -180, 180),
        "longitude outside -180…180 or not a number",
    ),
    *(
        Check(c, True, _negative(c), f"{c} is negative")
        for c in ("fatalities_best", "fatalities_low", "fatalities_high", "civilian_deaths")
    ),
    Check(
        "date_order",
        True,
        lambda t: pc.fill_null(pc.greater(t["date_start"], t["date_end"]), False),
        "date_end is before date_start",
    ),
    Check(
        "violence_type",
        True,
        # Null is allowed (ACLED protests, riots, …); is_in would call it "not in the list".
        lambda t: pc.and_(
            pc.is_valid(t["violence_type"]),
            pc.invert(pc.is_in(t["violence_type"], pa.array(VIOLENCE_TYPES))),
        ),
        f"violence_type is not one of {', '.join(VIOLENCE_TYPES)}",
    ),
    # UCDP's low/best/high ordering is broken in ~1% of its own events: record, never block.
    Check(
        "low_best_high",
        False,
        lambda t: pc.fill_null(
            pc.or_(
                pc.greater(t["fatalities_low"], t["fatalities_best"]),
                pc.greater(t["fatalities_best"], t["fatalities_high"]),
            ),
            False,
        ),
        "fatalities not ordered low ≤ best ≤ high",
    ),
)


def validate_events(table: pa.Table, where: str, row_offset: int = 2) -> list[str]:
    """Check a canonical table; raise `LoaderError` on the first blocking problem.

    `row_offset` converts a 0-based table index to the row number a person sees in the file
    (2 for a CSV with a header). Returns the warn-only findings as sentences.
    """
    if table.schema != EVENT_SCHEMA:
        raise LoaderError(
            where, f"internal: events do not match the canonical schema ({table.schema})"
        )
    for column in REQUIRED:
        nulls = table[column].null_count
        if nulls:
            row = _first_true(pc.is_null(table[column]))
            raise LoaderError(
                f"{where}, row {row + row_offset}", f"{column} is missing ({nulls} rows in all)"
            )
    ids = table["event_id"]
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pc.value_counts(ids)
        duplicated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        first = duplicated[0].as_py()
        row = _first_true(pc.equal(ids, first))
        raise LoaderError(
            f"{where}, row {row + row_offset}",
            f"duplicate event id {first!r} ({len(duplicated)} ids appear more than once)",
        )
    warnings = []
    for check in CHECKS:
        mask = check.failing(table)
        bad = pc.sum(mask).as_py() or 0
        if not bad:
            continue
        if check.blocking:
            row = _first_true(mask)
            raise LoaderError(
                f"{where}, row {row + row_offset}", f"{check.problem} ({bad} rows in all)"
            )
        warnings.append(f"{bad} events: {check.problem}")
    return warnings


def _first_true(mask: pa.Array | pa.ChunkedArray) -> int:
    return pc.index(mask, True).as_py()


AGGREGATE_SCHEMA = pa.schema(
    [
        ("iso3", pa.string()),
        ("month", pa.date32()),
        ("admin_level", pa.int8()),
        ("admin1_code", pa.string()),
        ("admin1_name", pa.string()),
        ("admin2_code", pa.string()),
        ("admin2_name", pa.string()),
        ("event_type", pa.string()),
        ("events", pa.int32()),
        ("fatalities", pa.int32()),
        ("import_id", pa.string()),
    ]
)
AGGREGATE_REQUIRED = ("iso3", "month", "admin_level", "event_type", "events")


def validate_aggregates(table: pa.Table, where: str, row_offset: int = 2) -> list[str]:
    """Check an aggregate table before it is stored; raise `LoaderError` on the first problem.

    The readers check the file's values with messages of their own; this is the store's last
    line, so that no reader can make negative or missing counts live. Returns no warnings.
    """
    if table.schema != AGGREGATE_SCHEMA:
        raise LoaderError(
            where, f"internal: aggregates do not match the aggregate schema ({table.schema})"
        )
    for column in AGGREGATE_REQUIRED:
        if table[column].null_count:
            row = _first_true(pc.is_null(table[column]))
            raise LoaderError(f"{where}, row {row + row_offset}", f"{column} is missing")
    for column in ("events", "fatalities"):
        negative = pc.fill_null(pc.less(table[column], 0), False)
        if pc.any(negative).as_py():
            row = _first_true(negative)
            raise LoaderError(f"{where}, row {row + row_offset}", f"{column} is negative")
    not_first = pc.not_equal(pc.day(table["month"]), 1)
    if pc.any(not_first).as_py():
        row = _first_true(not_first)
        raise LoaderError(f"{where}, row {row + row_offset}", "month is not a month's first day")
    return []
