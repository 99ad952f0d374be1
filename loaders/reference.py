"""Reference tables of the UN's own tools: regional organisations, UN presence, sanctions.

Each row is a sourced fact with the date it was checked (`as_of`). The shipped tables are in
`data/` (see `data/README.md`); an analyst may replace one for a store, from the Data page or
`replace()`, and the replacement (in `<store>/reference/`) wins. A replacement is validated
like an import: unknown ISO3 codes, dates that are not ISO, rows without a source or an as-of
date, and duplicates are refused with the row named, and the previous table stays.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from loaders import countries
from loaders.errors import LoaderError
from loaders.files import FORMULA_STARTS, read_delimited
from loaders.store import resolve_data_dir

DATA_DIR = countries.DATA_DIR
FOLDER = "reference"
MAX_BYTES = 5 << 20  # a reference table is a few hundred rows


@dataclass(frozen=True)
class Schema:
    title: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]  # one row per key
    starts: tuple[str, ...] = ()  # dates read as the first day of a partial date
    ends: tuple[str, ...] = ()  # dates read as the last day ("2023" ends on 31 Dec)
    allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()


SCHEMAS = {
    "memberships": Schema(
        "Regional organisations",
        ("organisation", "iso3", "country", "joined", "left", "source", "as_of", "note"),
        ("organisation", "iso3", "source", "as_of"),
        ("organisation", "iso3"),
        starts=("joined", "as_of"),
        ends=("left",),
    ),
    "un_presence": Schema(
        "UN presence",
        tuple("iso3 country mission name kind mandate start end document source as_of".split()),
        ("iso3", "mission", "name", "kind", "mandate", "start", "source", "as_of"),
        ("iso3", "mission", "start"),
        starts=("start", "as_of"),
        ends=("end",),
        allowed=(
            ("kind", ("peacekeeping", "political mission", "envoy", "regional office")),
            ("mandate", ("country", "regional")),
        ),
    ),
    "sanctions": Schema(
        "Security Council sanctions",
        ("iso3", "country", "regime", "committee", "start", "end", "document", "source", "as_of"),
        ("iso3", "regime", "start", "document", "source", "as_of"),
        ("iso3", "regime", "start"),
        starts=("start", "as_of"),
        ends=("end",),
    ),
}
NAMES = tuple(SCHEMAS)
TITLES = {name: schema.title for name, schema in SCHEMAS.items()}
# ISO dates at day, month or year precision; a spreadsheet may add a midnight time.
ISO_DATE = r"\d{4}(-\d{2}(-\d{2}( 00:00(:00)?)?)?)?"


@dataclass(frozen=True)
class TableInfo:
    """Where a reference table comes from and how current it is."""

    name: str
    title: str
    rows: int
    as_of: pd.Timestamp  # the oldest row's check: the whole table is current to this date
    origin: str  # "shipped" or "replaced"
    path: Path
    sources: tuple[str, ...]

    def citation(self) -> str:
        """E.g. 'UN presence: un_presence.csv (shipped), as of 31 Jan 2025, 91 rows'."""
        return (
            f"{self.title}: {self.path.name} ({self.origin}), as of {self.as_of:%-d %b %Y}, "
            f"{self.rows:,} rows"
        )


def _schema(name: str) -> Schema:
    if name not in SCHEMAS:
        raise LoaderError(name, f"not a reference table; choose one of {', '.join(NAMES)}")
    return SCHEMAS[name]


def replacement_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Where a store keeps its replacement of table `name`."""
    return resolve_data_dir(data_dir) / FOLDER / f"{name}.csv"


def path(name: str, data_dir: str | Path | None = None) -> Path:
    """The file in use: the store's replacement if there is one, else the shipped table."""
    _schema(name)
    replaced = replacement_path(name, data_dir)
    return replaced if replaced.exists() else DATA_DIR / f"{name}.csv"


def table(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Table `name`, validated, with dates as Timestamps (NaT when empty)."""
    current = path(name, data_dir)
    return _read_cached(name, str(current), current.stat().st_mtime_ns).copy()


@lru_cache(maxsize=16)
def _read_cached(name: str, file: str, _mtime_ns: int) -> pd.DataFrame:
    return validate(name, Path(file))


def info(name: str, data_dir: str | Path | None = None) -> TableInfo:
    """Rows, as-of date, origin and sources of the table in use."""
    current = path(name, data_dir)
    frame = table(name, data_dir)
    return TableInfo(
        name=name,
        title=TITLES[name],
        rows=len(frame),
        as_of=frame["as_of"].min(),
        origin="shipped" if current.parent == DATA_DIR else "replaced",
        path=current,
        sources=tuple(dict.fromkeys(frame["source"])),
    )


def validate(name: str, file: Path, label: str | None = None) -> pd.DataFrame:
    """Read and check a table file; LoaderError names the first bad row, column and value."""
    where = label or file.name
    return _checked(name, _text(name, file, where), where)


def _text(name: str, file: Path, where: str) -> pd.DataFrame:
    """The table's columns as stripped text (NA when empty), in the schema's order."""
    schema = _schema(name)
    try:
        raw = read_delimited(file, known_columns=schema.columns).table.to_pandas()
    except LoaderError as exc:  # name the uploaded file, not the temporary copy
        raise LoaderError(exc.where.replace(file.name, where, 1), exc.problem) from None
    missing = [c for c in schema.columns if c not in raw.columns]
    if missing:
        raise LoaderError(where, f"missing columns: {', '.join(missing)} (a {name} table has "
                          f"{', '.join(schema.columns)})")  # fmt: skip
    frame = raw[list(schema.columns)].astype("string").apply(lambda c: c.str.strip())
    if frame.empty:
        raise LoaderError(where, "has no rows")
    return frame.replace("", pd.NA).reset_index(drop=True)


def _checked(name: str, written: pd.DataFrame, where: str) -> pd.DataFrame:
    schema = SCHEMAS[name]
    frame = written.copy()

    def refuse(rows: pd.Series, column: str, problem: str) -> None:
        first = rows[rows].index[0]
        value = written.at[first, column]
        shown = "empty" if pd.isna(value) else repr(str(value)[:80])
        count = int(rows.sum())
        more = f" (and {count - 1} more rows)" if count > 1 else ""
        line = first + 2  # the header is line 1
        raise LoaderError(f"{where}, line {line}, column {column}", f"{shown}: {problem}{more}")

    for column in schema.columns:  # the table is downloaded and opened in spreadsheets
        formula = frame[column].str.startswith(FORMULA_STARTS).fillna(False)
        if formula.any():
            refuse(formula, column, "a cell starting with = + - @ would run as a formula")
    for column in schema.required:
        if frame[column].isna().any():
            refuse(frame[column].isna(), column, "required in every row")
    frame["iso3"] = frame["iso3"].str.upper()
    unknown = ~frame["iso3"].isin(set(countries.reference()["iso3"]))
    if unknown.any():
        refuse(unknown, "iso3", "not an ISO3 code of the country reference")
    for column, values in schema.allowed:
        bad = frame[column].notna() & ~frame[column].isin(values)
        if bad.any():
            refuse(bad, column, f"must be one of {', '.join(values)}")
    for column in schema.starts + schema.ends:
        text = frame[column]
        periods = text.map(_period, na_action="ignore")
        bad = text.notna() & periods.isna()
        if bad.any():
            refuse(bad, column, "not a date: write YYYY-MM-DD (or YYYY-MM, YYYY)")
        edge = (lambda p: p.start_time) if column in schema.starts else _last_day
        frame[column] = pd.to_datetime(periods.map(edge, na_action="ignore"))
    first, last = schema.starts[0], (schema.ends or (None,))[0]
    if last is not None:
        backwards = frame[last].notna() & (frame[last] < frame[first])
        if backwards.any():
            refuse(backwards, last, f"before {first}")
    dupes = frame.duplicated(list(schema.key), keep="first")
    if dupes.any():
        keys = ", ".join(schema.key)
        refuse(dupes, schema.key[-1], f"duplicate of an earlier row with the same {keys}")
    names = countries.reference().set_index("iso3")["name"]
    frame["country"] = frame["country"].fillna(frame["iso3"].map(names))
    return frame


def _period(text: str) -> pd.Period | None:
    """An ISO date at day, month or year precision (a spreadsheet's midnight time allowed);
    None when it is not one or does not exist (30 February)."""
    if not re.fullmatch(ISO_DATE, text):
        return None
    day = text[:10]
    try:
        return pd.Period(day, {4: "Y", 7: "M"}.get(len(day), "D"))
    except ValueError:  # pandas' DateParseError is a ValueError
        return None


def _last_day(period: pd.Period) -> pd.Timestamp:
    return period.end_time.normalize()


def replace(
    name: str, content: bytes, filename: str, data_dir: str | Path | None = None
) -> TableInfo:
    """Replace table `name` for this store with `content`, after validating it. The table is
    stored as plain UTF-8 CSV (whatever encoding, separator or compression it came in), and
    atomically, so a refused or interrupted replacement leaves the previous table in use."""
    _schema(name)
    if len(content) > MAX_BYTES:
        raise LoaderError(filename, f"is {len(content) / 1024 / 1024:,.1f} MB; a reference table "
                          f"is at most {MAX_BYTES >> 20} MB")  # fmt: skip
    target = replacement_path(name, data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    upload = _temporary(target, content)
    try:
        text = _text(name, upload, filename)
        _checked(name, text, filename)
    finally:
        upload.unlink(missing_ok=True)
    staged = _temporary(target, text.to_csv(index=False, lineterminator="\n").encode())
    try:
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return info(name, data_dir)


def _temporary(target: Path, content: bytes) -> Path:
    """`content` in a new hidden file beside `target` (same file system: `os.replace` is atomic)."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".csv")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    return Path(name)


def restore(name: str, data_dir: str | Path | None = None) -> None:
    """Go back to the shipped table."""
    _schema(name)
    replacement_path(name, data_dir).unlink(missing_ok=True)
