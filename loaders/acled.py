"""ACLED event exports (export tool, API CSV, acledR data, older ≤2022 files) into canonical events.

Formats read, recognised by their columns (names compared case-insensitively, so pre-2019
upper-case headers work; `ALLY_ACTOR_1/2` are read as `assoc_actor_1/2`):
* current 31 columns (`event_id_cnty` … `timestamp`), `event_date` as `28 December 2022` or ISO;
* older exports with `data_id`, `event_id_no_cnty`, `iso3`, dates like `9-May-20`;
* reduced third-party extracts without ids, actors or coordinates (e.g. 15 columns: region,
  country, year, event_date, …, interaction, fatalities, timestamp): the event id is then a
  hash of the row's contents, and the actor types come from `interaction`.
Refused with a message: HDX/HDX HAPI country-month aggregates, ACLED deletion lists (ids and
deletion times only) and UCDP files.

Mapping (the data is in `FIELD_MAP`, `VIOLENCE_BY_EVENT_TYPE` and `INTER_LABELS` below):

canonical column      from ACLED
--------------------  -----------------------------------------------------------------------
event_id              `acled:<event_id_cnty>` (files without ids: `acled:row-<hash of the row>`)
source, dataset       `acled`, `export`
source_version        the `version` given (the export date), else the latest `timestamp`
                      (ACLED's last edit) in the file as a UTC date `YYYY-MM-DD`
date_start, date_end  `event_date` (both)
country, iso3         `country`; ISO3 from the numeric `iso` (ISO 3166) through
                      country_converter's table, else from the name (Kosovo has `iso` 0)
admin1, admin2        `admin1`, `admin2`
latitude, longitude   `latitude`, `longitude`
location_precision    `geo_precision` (1 town … 3 larger region)
source_category       `<event_type>: <sub_event_type>` (always kept)
violence_type         Battles: `state-based` if `inter1` or `inter2` is 1 (State Forces), else
                      `non-state` (files without inter1/inter2 use `interaction`, without
                      either the battle stays null); Violence against civilians: `one-sided`;
                      all other event types null
side_a, side_b        `actor1`, `actor2`
conflict_name         null (ACLED has no conflict)
fatalities_best       `fatalities` (low and high null: ACLED gives one figure)
civilian_deaths       `fatalities` where `civilian_targeting` is `Civilian targeting`, else null
headline              `notes`, cut at a word boundary to 300 characters

Why Explosions/Remote violence is null: ACLED files air strikes between armies, IEDs against
civilians and unclaimed blasts (no second actor) under the same type; the battles actor rule
would call a government air strike on a village "state-based" where UCDP says one-sided, and
an unclaimed bomb "non-state". Protests, Riots and Strategic developments are never UCDP
armed-conflict categories, so their fatalities never enter UCDP-style violence counts; the
source's own category stays in `source_category` for ACLED-specific views.

`civilian_deaths`: ACLED does not split fatalities by victim. Events it flags with
`civilian_targeting` are those whose victims are civilians, so their fatalities are counted
as civilian deaths; where the column is absent or empty (older files, acledR data) the value
is null, never guessed from the event type.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders import countries
from loaders.convert import Column, plausible_dates
from loaders.errors import LoaderError
from loaders.files import RawTable, describe, read_delimited
from loaders.schema import EVENT_SCHEMA

SOURCE = "acled"
DATASET = "export"
LICENCE = "ACLED Terms of Use (not openly licensed; no redistribution)"
TERMS_URL = "https://acleddata.com/terms-of-use/"
ATTRIBUTION = "Armed Conflict Location & Event Data (ACLED); www.acleddata.com"
CITATION = (
    "Raleigh, Clionadh, Andrew Linke, Håvard Hegre and Joakim Karlsen (2010). Introducing "
    "ACLED: An Armed Conflict Location and Event Dataset. Journal of Peace Research 47(5) 651-660."
)
HEADLINE_CHARS = 300

CURRENT_COLUMNS = (
    "event_id_cnty event_date year time_precision disorder_type event_type sub_event_type "
    "actor1 assoc_actor_1 inter1 actor2 assoc_actor_2 inter2 interaction civilian_targeting "
    "iso region country admin1 admin2 admin3 location latitude longitude geo_precision source "
    "source_scale notes fatalities tags timestamp"
).split()
OLDER_COLUMNS = ("data_id", "event_id_no_cnty", "iso3", "gwno", "ally_actor_1", "ally_actor_2")
# Older upper-case exports named the associated actors differently.
RENAMED = {"ally_actor_1": "assoc_actor_1", "ally_actor_2": "assoc_actor_2"}

# The least a file needs to be read as events; everything else is optional.
NEEDED = ("event_date", "event_type", "country", "fatalities")

# Canonical text column -> ACLED column, copied as trimmed text when present (else null).
FIELD_MAP = {
    "admin1": "admin1",
    "admin2": "admin2",
    "side_a": "actor1",
    "side_b": "actor2",
}

# ACLED event type -> UCDP violence type. "battles" is decided by the actors (see docstring).
VIOLENCE_BY_EVENT_TYPE = {
    "Battles": "by actors",
    "Violence against civilians": "one-sided",
    "Explosions/Remote violence": None,
    "Protests": None,
    "Riots": None,
    "Strategic developments": None,
}
STATE_FORCES = 1
# `inter1/inter2` as text (API `inter_num=0`), from acledR's `acled_interaction_codes`.
INTER_LABELS = {
    "state forces": 1,
    "rebel forces": 2,
    "rebel groups": 2,
    "militia groups": 3,
    "political militias": 3,
    "communal / identity groups": 4,
    "identity militias": 4,
    "rioters": 5,
    "protesters": 6,
    "protestors": 6,
    "civilians": 7,
    "foreign / others": 8,
    "external/other forces": 8,
}
CIVILIAN_TARGETING = "civilian targeting"

# Tables people may mistake for ACLED events, recognised by their columns.
NOT_EVENT_DATA = {
    "an HDX HAPI conflict-event aggregate (events and fatalities per location and month), not "
    "ACLED events; importing ACLED aggregates is not supported yet": (
        "location_code",
        "event_type",
        "events",
        "reference_period_start",
    ),
    "an ACLED/HDX country-month aggregate (events per country and month), not ACLED events; "
    "importing ACLED aggregates is not supported yet": ("country", "month", "year", "events"),
    "a list of deleted ACLED events (event ids and deletion times), not events; apply it to "
    "an import instead (not supported yet)": ("event_id_cnty", "deleted_timestamp"),
    "a UCDP GED events file; import it with --source ucdp": ("type_of_violence", "side_a"),
}
ALL_KNOWN = [
    *CURRENT_COLUMNS,
    *OLDER_COLUMNS,
    *(c for cols in NOT_EVENT_DATA.values() for c in cols),
]


@dataclass
class Release:
    """What an ACLED file is: always an export, versioned by its last edit date."""

    dataset: str
    version: str  # YYYY-MM-DD

    @property
    def label(self) -> str:
        return f"ACLED export {self.version}"


@dataclass
class Parsed:
    """Canonical events from one ACLED file plus what provenance should say about them."""

    events: pa.Table
    release: Release
    notes: list[str] = field(default_factory=list)
    row_offset: int = 2
    complete: bool = False  # ACLED exports are always a selection (countries, dates)

    def coverage(self) -> dict:
        """The months from the first to the last event, for the countries in the file."""
        first = pc.min(self.events["date_start"]).as_py()
        last = pc.max(self.events["date_start"]).as_py()
        return {
            "first_month": f"{first:%Y-%m}",
            "last_month": f"{last:%Y-%m}",
            "countries": sorted(set(pc.unique(self.events["iso3"]).to_pylist())),
        }

    def provenance(self) -> dict:
        return {
            "source": SOURCE,
            "dataset": self.release.dataset,
            "version": self.release.version,
            "label": self.release.label,
            "licence": LICENCE,
            "terms": TERMS_URL,
            "citation": CITATION,
            "attribution": ATTRIBUTION,
            "notes": self.notes,
            "coverage": self.coverage(),
        }


# The columns the mapping reads: the rest (assoc. actors, admin3, location, source, tags, …)
# is never parsed, which saves a quarter of the memory of a large export.
USED_COLUMNS = frozenset(
    (
        *NEEDED,
        *FIELD_MAP.values(),
        *"event_id_cnty sub_event_type inter1 inter2 interaction civilian_targeting iso".split(),
        *"latitude longitude geo_precision notes timestamp".split(),
    )
)


def _include(columns: list[str]) -> list[str]:
    return [c for c in columns if c.lower() in USED_COLUMNS]


def read_file(path: Path, version: str | None = None) -> Parsed:
    """Read an ACLED export (CSV, `.gz` or `.zip`) into canonical events.

    `version` (YYYY-MM-DD, the export date) replaces the date of the latest `timestamp`.
    """
    raw = read_delimited(
        path,
        known_columns=[*ALL_KNOWN, *(c.upper() for c in ALL_KNOWN)],
        include=_include,
        null_values=("", "NA"),
    )
    where = describe(path, raw.member)
    columns = {c.lower() for c in raw.columns}
    for what, signature in NOT_EVENT_DATA.items():
        if set(signature) <= columns:
            raise LoaderError(where, f"is {what}")
    missing = [c for c in NEEDED if c not in columns]
    if missing:
        raise LoaderError(where, f"not an ACLED events file: missing columns {', '.join(missing)}")
    table = raw.table.rename_columns(
        [RENAMED.get(c.lower(), c.lower()) for c in raw.table.column_names]
    )
    raw = RawTable(table, table.column_names, raw.row_offset, raw.notes, raw.member)
    return _parsed(raw, where, version)


def _parsed(raw: RawTable, where: str, version: str | None) -> Parsed:
    table, off, notes = raw.table, raw.row_offset, raw.notes
    present = set(table.column_names)
    n = table.num_rows

    def col(name: str) -> Column:
        return Column(table[name], name, where, off)

    def text(name: str) -> pa.ChunkedArray:
        return col(name).text() if name in present else pa.chunked_array([pa.nulls(n, pa.string())])

    dates = _dates(col("event_date"))
    plausible_dates(dates, "event_date", where, off)
    event_type = col("event_type").recode(
        {k: k for k in VIOLENCE_BY_EVENT_TYPE},
        f"event_type is not one of {', '.join(VIOLENCE_BY_EVENT_TYPE)}",
    )
    fatalities = col("fatalities").integers()
    if "event_id_cnty" in present:
        ids = col("event_id_cnty").text()
    else:
        ids = _content_ids(table)
        notes.append(
            "no event_id_cnty column: event ids are hashes of each row's contents, so "
            "re-imports of edited events are not recognised as the same event"
        )
    state = _state_forces_involved(table, where, off)
    violence = _violence(event_type, state)
    sub_type = text("sub_event_type")
    category = pc.binary_join_element_wise(event_type, pc.fill_null(sub_type, ""), ": ")
    category = pc.if_else(pc.is_null(sub_type), event_type, category)
    if "civilian_targeting" in present:
        targeted = pc.equal(pc.utf8_lower(text("civilian_targeting")), CIVILIAN_TARGETING)
        civilians = pc.if_else(
            pc.fill_null(targeted, False), fatalities, pa.scalar(None, pa.int32())
        )
    else:
        civilians = pa.chunked_array([pa.nulls(n, pa.int32())])
    country = col("country").text()
    geo = _countries(country, text("iso"), where)
    release = Release(DATASET, _version(version, table, where, off))
    if "latitude" not in present:
        notes.append("no latitude/longitude columns: events are located by admin areas only")
    arrays = {
        "event_id": pc.binary_join_element_wise(pa.scalar(f"{SOURCE}:"), ids, ""),
        "source": pa.array([SOURCE] * n, pa.string()),
        "dataset": pa.array([DATASET] * n, pa.string()),
        "source_version": pa.array([release.version] * n, pa.string()),
        "source_event_id": ids if "event_id_cnty" in present else pa.nulls(n, pa.string()),
        "date_start": dates,
        "date_end": dates,
        "country": country,
        **geo,
        **{canonical: text(acled) for canonical, acled in FIELD_MAP.items()},
        "latitude": _optional(col, present, "latitude", n, lambda c: c.numbers(), pa.float64()),
        "longitude": _optional(col, present, "longitude", n, lambda c: c.numbers(), pa.float64()),
        "location_precision": _optional(
            col, present, "geo_precision", n, lambda c: c.integers(pa.int8()), pa.int8()
        ),
        "violence_type": violence,
        "source_category": category,
        "conflict_name": pa.nulls(n, pa.string()),
        "fatalities_best": fatalities,
        "fatalities_low": pa.nulls(n, pa.int32()),
        "fatalities_high": pa.nulls(n, pa.int32()),
        "civilian_deaths": civilians,
        "headline": _headlines(text("notes")),
        "import_id": pa.nulls(n, pa.string()),
    }
    events = pa.table(
        {f.name: _chunked(arrays[f.name], f.type) for f in EVENT_SCHEMA}, schema=EVENT_SCHEMA
    )
    return Parsed(events, release, notes, off)


def _optional(
    col: Callable[[str], Column],
    present: set[str],
    name: str,
    n: int,
    convert: Callable[[Column], pa.ChunkedArray],
    type_: pa.DataType,
) -> pa.ChunkedArray | pa.Array:
    """A converted column, or nulls where the file does not have it (reduced exports)."""
    return convert(col(name)) if name in present else pa.nulls(n, type_)


def _chunked(values: pa.Array | pa.ChunkedArray, type_: pa.DataType) -> pa.ChunkedArray:
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    return values.cast(type_)


# Date formats seen in ACLED files: API/acledR ISO, export tool, ≤2022 exports, codebook.
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%b-%y", "%d-%B-%Y", "%d-%b-%Y", "%d/%m/%Y")


def _parse_date(value: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _dates(column: Column) -> pa.ChunkedArray:
    """Event dates in any ACLED format; distinct values are parsed once, strictly."""
    values = pc.utf8_slice_codeunits(column.text(), 0, 20)
    distinct = pc.unique(values)
    parsed = [_parse_date(v) if v is not None else None for v in distinct.to_pylist()]
    dates = pc.take(pa.array(parsed, pa.date32()), pc.index_in(values, distinct))
    bad = pc.fill_null(pc.and_(pc.is_null(dates), pc.is_valid(column.values)), False)
    if pc.any(bad).as_py() or column.values.null_count:
        missing = pc.is_null(dates)
        index = pc.index(missing, True).as_py()
        value = column.values[index].as_py()
        raise LoaderError(
            f"{column.where}, row {index + column.row_offset}, column {column.name}",
            f"not a valid date (28 December 2022, 2022-12-28 or 28-Dec-22): {value!r}"
            if value is not None
            else "event_date is missing",
        )
    return dates


def _inter_codes(values: pa.ChunkedArray, name: str, where: str, off: int) -> pa.ChunkedArray:
    """inter1/inter2 as numbers, whether the file has codes (1…8) or labels (State Forces)."""
    text = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    labels = pc.take(
        pa.array(list(INTER_LABELS.values()), pa.int32()),
        pc.index_in(text, pa.array(list(INTER_LABELS))),
    )
    numeric = pc.match_substring_regex(text, r"^\d+(\.0*)?$")
    codes = pc.if_else(
        pc.fill_null(numeric, False),
        pc.cast(
            pc.cast(pc.if_else(pc.fill_null(numeric, False), text, "0"), pa.float64()), pa.int32()
        ),
        labels,
    )
    bad = pc.fill_null(pc.and_(pc.is_null(codes), pc.is_valid(text)), False)
    if pc.any(bad).as_py():
        raise Column(values, name, where, off)._fail(bad, "not an ACLED actor type (0-8)")
    return codes


def _state_forces_involved(table: pa.Table, where: str, off: int) -> pa.ChunkedArray:
    """True where either actor is State Forces (inter code 1), from inter1/2 or interaction.

    `interaction` puts the smaller code first (13 = state forces vs militia, 10 = state forces
    alone), so its tens digit is 1 exactly when one side is state forces.
    """
    present = set(table.column_names)
    if {"inter1", "inter2"} <= present:
        a = _inter_codes(table["inter1"], "inter1", where, off)
        b = _inter_codes(table["inter2"], "inter2", where, off)
        return pc.or_(pc.equal(a, STATE_FORCES), pc.equal(b, STATE_FORCES))
    if "interaction" in present:
        codes = Column(table["interaction"], "interaction", where, off).integers()
        return pc.equal(pc.divide(codes, 10), STATE_FORCES)
    return pa.chunked_array([pa.nulls(table.num_rows, pa.bool_())])


def _violence(event_type: pa.ChunkedArray, state: pa.ChunkedArray) -> pa.ChunkedArray:
    fixed = pc.take(
        pa.array(list(VIOLENCE_BY_EVENT_TYPE.values()), pa.string()),
        pc.index_in(event_type, pa.array(list(VIOLENCE_BY_EVENT_TYPE))),
    )
    by_actors = pc.if_else(state, "state-based", "non-state")
    return pc.if_else(pc.equal(fixed, "by actors"), by_actors, fixed)


def _content_ids(table: pa.Table) -> pa.ChunkedArray:
    """Stable ids for files without `event_id_cnty`: a hash of the row, numbered if repeated."""
    frame = table.drop_columns([c for c in table.column_names if c.startswith("column_")])
    rows = frame.to_pandas().astype("string").fillna("").agg("\x1f".join, axis=1)
    hashes = rows.map(lambda r: hashlib.sha1(r.encode()).hexdigest()[:16])  # noqa: S324
    repeat = hashes.groupby(hashes).cumcount()
    ids = "row-" + hashes + repeat.map(lambda k: f"-{k}" if k else "")
    return pa.chunked_array([pa.array(ids.tolist(), pa.string())])


def _version(version: str | None, table: pa.Table, where: str, off: int) -> str:
    """The export date given, else the latest `timestamp` (Unix seconds or a date) as UTC date."""
    if version:
        try:
            return dt.date.fromisoformat(version).isoformat()
        except ValueError:
            raise LoaderError(
                "version", f"{version!r} is not an ACLED export date (YYYY-MM-DD)"
            ) from None
    if "timestamp" not in table.column_names:
        raise LoaderError(
            where, "no timestamp column to date the export; pass --version YYYY-MM-DD"
        )
    stamps = Column(table["timestamp"], "timestamp", where, off)
    if pc.all(pc.match_substring_regex(stamps.values, r"^\s*\d+\s*$")).as_py():
        latest = pc.max(stamps.integers(pa.int64())).as_py()
        return dt.datetime.fromtimestamp(latest, dt.UTC).date().isoformat()
    return pc.max(stamps.dates()).as_py().isoformat()


def _headlines(notes: pa.ChunkedArray) -> pa.ChunkedArray:
    """Notes longer than HEADLINE_CHARS cut at the last whole word, with "…" (in Arrow: a
    Python loop over millions of notes cost seconds and a gigabyte)."""
    long = pc.greater(pc.utf8_length(notes), HEADLINE_CHARS)
    cut = pc.utf8_slice_codeunits(notes, 0, HEADLINE_CHARS - 1)
    cut = pc.replace_substring_regex(cut, pattern=" [^ ]*$", replacement="")
    cut = pc.replace_substring_regex(cut, pattern="[,;:]+$", replacement="")
    cut = pc.binary_join_element_wise(cut, pa.scalar("…"), "")
    return pc.if_else(long, cut, notes)


def _countries(
    country: pa.ChunkedArray, iso: pa.ChunkedArray, where: str
) -> dict[str, pa.ChunkedArray]:
    """Resolve each distinct (country, numeric iso) once: the ISO 3166 code, else the name."""
    key = pc.binary_join_element_wise(pc.fill_null(country, ""), pc.fill_null(iso, ""), "\x1f")
    distinct = pc.unique(key)
    pairs = [k.split("\x1f") for k in distinct.to_pylist()]
    frame = pd.DataFrame(pairs, columns=["country", "iso_numeric"]).replace("", None)
    frame["gwno"] = None
    resolved = countries.resolve(frame, where)
    index = pc.index_in(key, distinct)
    out = {}
    for name, type_ in (
        ("iso3", pa.string()),
        ("gwno", pa.int16()),
        ("un_region", pa.string()),
        ("un_subregion", pa.string()),
    ):
        values = resolved[name].astype(object).where(resolved[name].notna(), None).tolist()
        out[name] = pc.take(pa.array(values, type_), index)
    return out
