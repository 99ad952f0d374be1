"""Write an ACLED export-format CSV of N events, resampled (seeded) from the real ACLED files.

The ACLED import is benchmarked on files of 2.5 million events, far more than the real files
in the shared data. Resampling real events keeps what drives import cost real: row widths, the
`notes` text (commas, quotes), actor and location cardinality, value distributions. The pool is
every row of the full 31-column ACLED files in the shared data:

* `acled_benin_2009_2022.csv` (811 events, the export tool's own file),
* `acledR_acled_old_deletion_dummy_9000.csv.gz` (9,000 events, 169 countries, 2022),
* `acledR_acled_old_dummy_argentina_326.csv` (326 events).

The Burkina Faso extract (15 columns, no ids, actors or coordinates) is left out.

Each output row gets its own `event_id_cnty` (the source row's country prefix and the row
number, `BEN17`), its `event_date` moved to a random day of the same month and written as the
export tool writes it (`28 December 2022`), `year` from that date; every other field, `timestamp`
included, is the source row's. Columns are the current export's 31, in order, with a header;
missing values are blank; fields are quoted only when they hold a comma, quote or newline.

    python bench/make_acled.py --events 400000 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make `loaders` and `bench` importable
    sys.path.insert(0, str(REPO))

from bench.make_ged import shared_data_dir, write_csv  # noqa: E402
from loaders.acled import CURRENT_COLUMNS  # noqa: E402

POOL_FILES = (
    "acled_benin_2009_2022.csv",
    "acledR_acled_old_deletion_dummy_9000.csv.gz",
    "acledR_acled_old_dummy_argentina_326.csv",
)
BATCH_ROWS = 250_000
DATE_FORMAT = "%d %B %Y"  # the export tool's `28 December 2022`


def default_name(events: int, seed: int) -> str:
    return f"acled_bench{events}_seed{seed}.csv"


def read_as_text(path: Path) -> pa.Table:
    """The 31 columns as text; blank and `NA` (the Benin file's missing value) are null."""
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(CURRENT_COLUMNS, pa.string()),
            include_columns=list(CURRENT_COLUMNS),
            null_values=["", "NA"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def build_pool(data_dir: Path) -> tuple[pa.Table, np.ndarray, pa.Array]:
    """All pool events as text, their dates (datetime64[D]) and their id prefixes (`BEN`)."""
    pool = pa.concat_tables([read_as_text(data_dir / name) for name in POOL_FILES])
    text = pd.Series(pool["event_date"].to_pylist())
    dates = pd.to_datetime(text, format="mixed", dayfirst=False).to_numpy("datetime64[D]")
    prefix = pc.extract_regex(pool["event_id_cnty"], r"^(?P<prefix>[A-Z]+)").combine_chunks()
    return pool, dates, prefix.field("prefix")


def resample(
    pool: tuple[pa.Table, np.ndarray, pa.Array], first_id: int, rows: int, rng: np.random.Generator
) -> pa.Table:
    """`rows` events drawn with replacement, numbered from `first_id`, dates moved in month."""
    table, dates, prefixes = pool
    picks = rng.integers(0, table.num_rows, size=rows)
    out = table.take(pa.array(picks))
    month = dates[picks].astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    day = first + rng.integers(0, length).astype("timedelta64[D]")
    numbers = pc.cast(pa.array(np.arange(first_id, first_id + rows)), pa.string())
    replaced = {
        "event_id_cnty": pc.binary_join_element_wise(prefixes.take(pa.array(picks)), numbers, ""),
        "event_date": pc.strftime(pa.array(day).cast(pa.timestamp("s")), format=DATE_FORMAT),
        "year": pc.cast(pa.array(day.astype("datetime64[Y]").astype(np.int64) + 1970), pa.string()),
    }
    for name, values in replaced.items():
        out = out.set_column(out.schema.get_field_index(name), name, values)
    return out


def batches(
    pool: tuple[pa.Table, np.ndarray, pa.Array], events: int, rng: np.random.Generator
) -> Iterator[pa.RecordBatch]:
    for first in range(0, events, BATCH_ROWS):
        rows = min(BATCH_ROWS, events - first)
        yield from resample(pool, first + 1, rows, rng).to_batches()


def generate(events: int, seed: int, out: Path, data_dir: Path | None = None) -> Path:
    """Write `events` resampled ACLED events to `out` (the same file for the same seed)."""
    rng = np.random.default_rng(seed)
    pool = build_pool(data_dir or shared_data_dir())
    write_csv(pool[0].schema, batches(pool, events, rng), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True, help="number of rows to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="default: bench/out/acled_bench<N>_seed<S>.csv")
    parser.add_argument("--data-dir", type=Path, help="shared data (default: ../shared/data)")
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")
    out = args.out or REPO / "bench" / "out" / default_name(args.events, args.seed)
    data_dir = (args.data_dir or shared_data_dir()) / "acled"
    began = time.perf_counter()
    generate(args.events, args.seed, out, data_dir)
    size = out.stat().st_size / 2**20
    print(f"{out}: {args.events:,} events, {size:,.0f} MiB, {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
