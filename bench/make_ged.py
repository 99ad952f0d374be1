"""Write a UCDP GED-format CSV of N events, resampled (seeded) from the real GED files.

Benchmarks need files the size of a real GED release (385,918 events in 25.1), but the full
release is not available offline. Resampling real events keeps what drives import cost real:
row widths, text cardinality, quoting, value distributions. The pool is

* every row of the three full-schema (49-column) files in the shared data (Myanmar 24.1,
  Central African Republic 23.1, a 1,000-event global sample of 23.1), and
* every row of the global 'precise, reduced' GED 21.1 subset (14 columns, 121 countries),
  mapped into the 49-column layout, so the output covers the world and not three countries.

The reduced file lacks the source, location-text and precision columns; those come from a
*donor* full-schema event of the same violence type located at where_prec 1-2 (the subset's
own precision), so rows have a real width. Their admin/location text therefore does not
describe the event's place: the file is for timing, not for analysis.

`--global-only` resamples the 21.1 subset alone and names the file 21.1, so the store's coverage
(to Dec 2020) matches its events: the dashboard benchmark then forecasts from the data's last
month, as in real use, not from years of empty months.

Each output row gets id 1..N, its own relid, and its dates moved to a random day of the same
month (the event's span kept). Quoting is minimal, as in UCDP's CSV; dates look like
`2013-01-03 00:00:00.000`.

    python bench/make_ged.py --events 400000 --seed 7 --out bench/out/GEDEvent_v25_1_bench400k.csv
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make `loaders` importable
    sys.path.insert(0, str(REPO))

from loaders import countries  # noqa: E402
from loaders.ucdp import GED_COLUMNS, REDUCED_COLUMNS, release_from_name  # noqa: E402

FULL_FILES = (
    "ucdp_ged_v24_1_myanmar.csv.gz",
    "ucdp_ged_v23_1_central_african_republic.csv.gz",
    "ucdp_ged_v23_1_sample1000.csv",
)
REDUCED_FILE = "ucdp_ged_v21_1_global_precise_reduced.csv.gz"
DEFAULT_VERSION = "25.1"
GLOBAL_VERSION = "21.1"  # the release REDUCED_FILE comes from
VIOLENCE_CODES = {"State-based violence": 1, "Non-state violence": 2, "One-sided violence": 3}
# Columns a reduced row borrows from its donor (the subset has no equivalent).
DONOR_COLUMNS = (
    "active_year code_status number_of_sources source_article source_office source_date "
    "source_headline source_original where_prec where_coordinates where_description adm_1 adm_2 "
    "event_clarity date_prec"
).split()
DEATH_PARTS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")
BATCH_ROWS = 250_000
SYNTHETIC_ID_BASE = 900_000  # ids for actor/conflict names absent from the full files


def shared_data_dir() -> Path:
    """`ARTICLE99_SHARED_DATA`, else `../shared/data` beside the checkout."""
    chosen = os.environ.get("ARTICLE99_SHARED_DATA")
    return Path(chosen) if chosen else REPO.parent / "shared" / "data"


def default_name(events: int, seed: int, version: str = DEFAULT_VERSION) -> str:
    """A name the importer reads the version from (`GEDEvent_v25_1_…`), keyed on size and seed."""
    return f"GEDEvent_v{version.replace('.', '_')}_bench{events}_seed{seed}.csv"


def read_as_text(path: Path, columns: Sequence[str]) -> pa.Table:
    """Every column as text (blank = null), so values are written back exactly as published."""
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            include_columns=list(columns),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def read_full(data_dir: Path) -> pd.DataFrame:
    """The full-schema rows of all three files, as text, in UCDP's column order."""
    tables = [read_as_text(data_dir / name, GED_COLUMNS) for name in FULL_FILES]
    return pa.concat_tables(tables).to_pandas()


def _name_ids(names: pd.Series, known: pd.Series) -> pd.Series:
    """UCDP ids for names, taken from the full files where the name occurs there.

    Names only the reduced file has get stable synthetic ids, one per distinct name.
    """
    lookup = known.groupby(level=0).first()
    ids = names.map(lookup)
    unknown = names[ids.isna()]
    codes, _ = pd.factorize(unknown)
    ids[ids.isna()] = (SYNTHETIC_ID_BASE + codes).astype(str)
    return ids


def _country_ids(names: pd.Series, full: pd.DataFrame) -> pd.Series:
    """Gleditsch-Ward codes: as the full files give them, else from the country reference."""
    known = full.drop_duplicates("country").set_index("country")["country_id"]
    distinct = pd.Series(names.unique())
    codes = distinct.map(known)
    missing = distinct[codes.isna()]
    if not missing.empty:
        frame = pd.DataFrame({"country": missing.to_numpy(), "gwno": None})
        resolved = countries.resolve(frame, REDUCED_FILE)
        codes[codes.isna()] = resolved["gwno"].astype(str).to_numpy()
    return names.map(pd.Series(codes.to_numpy(), index=distinct))


def _priogrid(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """PRIO-GRID cell id of a point (0.5° cells numbered row by row from (-90, -180), 1-based)."""
    row = np.floor((lat + 90) / 0.5).clip(0, 359).astype(np.int64)
    col = np.floor((lon + 180) / 0.5).clip(0, 719).astype(np.int64)
    return row * 720 + col + 1


def _donors(full: pd.DataFrame, violence: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each reduced row, a full-schema row of the same violence type at where_prec 1-2."""
    precise = full["where_prec"].isin(["1", "2"]).to_numpy()
    full_type = full["type_of_violence"].astype(int).to_numpy()
    donors = np.empty(len(violence), dtype=np.int64)
    for code in np.unique(violence):
        candidates = np.flatnonzero(precise & (full_type == code))
        rows = np.flatnonzero(violence == code)
        donors[rows] = rng.choice(candidates, size=len(rows))
    return donors


def _split_deaths(best: np.ndarray, donor: pd.DataFrame) -> dict[str, np.ndarray]:
    """Split `best` into the four death columns in the donor's proportions (they sum to best)."""
    parts = donor[list(DEATH_PARTS)].astype(int).to_numpy()
    total = parts.sum(axis=1, keepdims=True)
    share = np.divide(parts, total, out=np.zeros(parts.shape), where=total > 0)
    split = np.floor(share * best[:, None]).astype(np.int64)
    split[:, 3] += best - split.sum(axis=1)  # the rounding remainder (or all) is 'unknown'
    return dict(zip(DEATH_PARTS, split.T, strict=True))


def donor_span(frame: pd.DataFrame) -> np.ndarray:
    """Days from date_start to date_end of each row (0 for an exactly dated event)."""
    start = frame["date_start"].str.slice(0, 10).to_numpy("datetime64[D]")
    end = frame["date_end"].str.slice(0, 10).to_numpy("datetime64[D]")
    return (end - start).astype("timedelta64[D]")


def reduced_as_ged(data_dir: Path, full: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The reduced 21.1 subset mapped into the 49 GED columns, as text."""
    red = read_as_text(data_dir / REDUCED_FILE, REDUCED_COLUMNS).to_pandas()
    violence = red["type_of_violence"].map(VIOLENCE_CODES).to_numpy()
    donor = full.iloc[_donors(full, violence, rng)].reset_index(drop=True)
    best = red["best_death"].astype(int).to_numpy()
    lat, lon = red["latitude"].astype(float), red["longitude"].astype(float)
    gwno = _country_ids(red["country"], full)
    start = pd.to_datetime(red[["year", "month", "day"]].astype(int), errors="raise").to_numpy(
        "datetime64[D]"
    )
    span = donor_span(donor)
    dyad = red["side_a"] + " - " + red["side_b"]
    gov_of_country = red["side_a"] == "Government of " + red["country"]
    out = pd.DataFrame(
        {
            "id": red["id"],
            "relid": None,
            "year": red["year"],
            "type_of_violence": violence.astype(str),
            "conflict_name": red["conflict_name"],
            "dyad_name": dyad,
            "side_a": red["side_a"],
            "side_b": red["side_b"],
            "latitude": red["latitude"],
            "longitude": red["longitude"],
            "geom_wkt": "POINT (" + red["longitude"] + " " + red["latitude"] + ")",
            "priogrid_gid": _priogrid(lat.to_numpy(), lon.to_numpy()).astype(str),
            "country": red["country"],
            "country_id": gwno,
            "region": gwno.astype(int).map(countries.ucdp_region),
            "date_start": _ucdp_dates(start).to_pandas(),
            "date_end": _ucdp_dates(start + span).to_pandas(),
            "best": red["best_death"],
            "high": red["high_death"],
            "low": red["low_death"],
            "gwnoa": gwno.where(gov_of_country, None),
            "gwnob": None,
            **{c: donor[c] for c in DONOR_COLUMNS},
            **{c: v.astype(str) for c, v in _split_deaths(best, donor).items()},
        }
    )
    for ids, names in (
        (("conflict_dset_id", "conflict_new_id"), "conflict_name"),
        (("dyad_dset_id", "dyad_new_id"), "dyad_name"),
        (("side_a_dset_id", "side_a_new_id"), "side_a"),
        (("side_b_dset_id", "side_b_new_id"), "side_b"),
    ):
        known = full.set_index(names)[ids[1]]
        out[ids[0]] = out[ids[1]] = _name_ids(out[names], known)
    return out[list(GED_COLUMNS)]


def _ucdp_dates(days: np.ndarray) -> pa.Array:
    """Dates as UCDP's CSV writes them: `2013-01-03 00:00:00.000`."""
    iso = pc.cast(pa.array(days.astype("datetime64[D]")), pa.string())
    return pc.binary_join_element_wise(iso, " 00:00:00.000", "")


def build_pool(data_dir: Path, rng: np.random.Generator, global_only: bool = False) -> pa.Table:
    """All real events in the 49-column layout, as text.

    `global_only` keeps just the GED 21.1 subset (the full files only lend their text columns),
    so every event falls within 21.1's coverage (to Dec 2020) and the file can be named 21.1.
    """
    full = read_full(data_dir)
    reduced = reduced_as_ged(data_dir, full, rng)
    pool = reduced if global_only else pd.concat([full, reduced], ignore_index=True)
    schema = pa.schema([(c, pa.string()) for c in GED_COLUMNS])
    return pa.Table.from_pandas(pool, schema=schema, preserve_index=False)


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def resample(pool: pa.Table, first_id: int, rows: int, rng: np.random.Generator) -> pa.Table:
    """`rows` events drawn with replacement, ids from `first_id`, dates moved within month."""
    picks = rng.integers(0, pool.num_rows, size=rows)
    table = pool.take(pa.array(picks))
    start = pc.utf8_slice_codeunits(table["date_start"], 0, 10).to_numpy().astype("datetime64[D]")
    end = pc.utf8_slice_codeunits(table["date_end"], 0, 10).to_numpy().astype("datetime64[D]")
    month = start.astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    new_start = first + rng.integers(0, length).astype("timedelta64[D]")
    new_end = new_start + (end - start)
    year = _text(new_start.astype("datetime64[Y]").astype(np.int64) + 1970)
    ids = _text(np.arange(first_id, first_id + rows))
    country_code = pc.utf8_upper(pc.utf8_slice_codeunits(table["country"], 0, 3))
    relid = pc.binary_join_element_wise(
        country_code, year, table["type_of_violence"], table["dyad_new_id"], ids, "-"
    )
    replaced = {
        "id": ids,
        "relid": relid,
        "year": year,
        "date_start": _ucdp_dates(new_start),
        "date_end": _ucdp_dates(new_end),
    }
    for name, values in replaced.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


def batches(pool: pa.Table, events: int, rng: np.random.Generator) -> Iterator[pa.RecordBatch]:
    """The output in batches, so memory stays flat whatever the size."""
    for first in range(0, events, BATCH_ROWS):
        rows = min(BATCH_ROWS, events - first)
        yield from resample(pool, first + 1, rows, rng).to_batches()


def write_csv(schema: pa.Schema, stream: Iterator[pa.RecordBatch], out: Path) -> None:
    """Write with minimal quoting (DuckDB's writer; pyarrow's quotes every string).

    Written to a temporary name and renamed, so a cached file is never half-written.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    target = str(tmp).replace("'", "''")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("events", pa.RecordBatchReader.from_batches(schema, stream))
        con.execute(f"COPY events TO '{target}' (FORMAT csv, HEADER true)")
        os.replace(tmp, out)
    finally:
        con.close()
        tmp.unlink(missing_ok=True)


def generate(
    events: int, seed: int, out: Path, data_dir: Path | None = None, global_only: bool = False
) -> Path:
    """Write `events` resampled GED events to `out` (the same file for the same seed)."""
    rng = np.random.default_rng(seed)
    pool = build_pool(data_dir or shared_data_dir(), rng, global_only)
    write_csv(pool.schema, batches(pool, events, rng), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True, help="number of rows to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--out", type=Path, help="default: bench/out/GEDEvent_v25_1_bench<N>_seed<S>.csv"
    )
    parser.add_argument("--data-dir", type=Path, help="shared data (default: ../shared/data)")
    parser.add_argument(
        "--global-only",
        action="store_true",
        help=f"resample only {REDUCED_FILE} (events to Dec 2020; named GED {GLOBAL_VERSION})",
    )
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")
    version = GLOBAL_VERSION if args.global_only else DEFAULT_VERSION
    out = args.out or REPO / "bench" / "out" / default_name(args.events, args.seed, version)
    began = time.perf_counter()
    generate(args.events, args.seed, out, args.data_dir, args.global_only)
    size = out.stat().st_size / 2**20
    print(f"{out}: {args.events:,} events, {size:,.0f} MiB, {time.perf_counter() - began:.1f} s")
    if release_from_name(out.name) is None:
        print(f"note: the name carries no GED version; import with --version {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
