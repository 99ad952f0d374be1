"""The local store: embedded, file-based, versioned, with atomic imports.

Layout under the data directory:

    manifest.json                 the current version: which imports are live (swapped atomically)
    manifests/<n>.json            earlier versions, so readers of the previous one finish safely
    imports/<dir>/raw/<file>      the untouched raw download or file
    imports/<dir>/provenance.json source, version, origin, fetched_at, sha256, rows, licence, …
    imports/<dir>/events.parquet  the normalised canonical events (an events import)
    imports/<dir>/aggregates.parquet  counts per area and month (an aggregates import, e.g. ACLED
                                  via HDX HAPI; provenance "kind": "aggregates")
    staging/                      work in progress; never read
    readers/<n>                   leases: version n is being read, its imports are kept

An import is written to `staging/`, moved into `imports/` and only then made live by replacing
`manifest.json` (an atomic rename). A failure or a kill at any point leaves the previous
manifest, and so the previous store, exactly as it was. One import runs at a time (a lock file).
A reader that reads the store more than once (records, then events) does it inside
`Store.pinned()`, so an import swapped in between cannot mix two versions.
"""

from __future__ import annotations

import argparse
import contextvars
import copy
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loaders import coverage
from loaders.errors import LoaderError
from loaders.provenance import Provenance
from loaders.schema import AGGREGATE_SCHEMA, EVENT_SCHEMA, validate_aggregates, validate_events

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "store"
KEEP_MANIFESTS = 3
# Nullable integers stay integers in pandas (not floats with NaN).
PANDAS_TYPES = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype()}
LOCK_WAIT_SECONDS = 10.0
ISO3 = re.compile(r"[A-Z]{3}")
READERS = "readers"  # readers/<version>: a lease per version being read (see Store.pinned)
# Manifests pinned by `Store.pinned()` in this thread or task: data directory -> manifest.
_PINNED: contextvars.ContextVar[dict[Path, dict] | None] = contextvars.ContextVar(
    "pinned_manifests", default=None
)
# What an import holds, and the file that holds it. Imports from before aggregates existed
# have no "kind" in their provenance: they are events.
TABLE_FILES = {"events": "events.parquet", "aggregates": "aggregates.parquet"}
# What `Store.load_aggregates` returns: one row per country, month and event type.
AGGREGATE_SUMS_SCHEMA = pa.schema(
    [
        AGGREGATE_SCHEMA.field("iso3"),
        AGGREGATE_SCHEMA.field("month"),
        AGGREGATE_SCHEMA.field("event_type"),
        AGGREGATE_SCHEMA.field("events"),
        AGGREGATE_SCHEMA.field("fatalities"),
        ("source", pa.string()),
        AGGREGATE_SCHEMA.field("import_id"),
    ]
)


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """`--data-dir`, else `ARTICLE99_DATA_DIR`, else `data/store` in the checkout."""
    chosen = data_dir or os.environ.get("ARTICLE99_DATA_DIR") or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class ImportRecord:
    """What a live import is: its key, its folder and its provenance."""

    import_id: str
    folder: Path
    provenance: Provenance

    @property
    def kind(self) -> str:
        """`events` or `aggregates` (see TABLE_FILES)."""
        return self.provenance.kind

    @property
    def table_path(self) -> Path:
        return self.folder / TABLE_FILES[self.kind]

    @property
    def events_path(self) -> Path:
        return self.folder / TABLE_FILES["events"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def import_key(source: str, dataset: str, version: str, origin_name: str) -> str:
    """The identity of a release: importing the same key again replaces it."""
    stem = re.sub(r"(\.csv)?(\.gz|\.zip)?$", "", origin_name, flags=re.I)
    return _slug(f"{source}_{dataset}_{version}_{stem}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, ensure_ascii=False, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def copy_with_sha256(source: Path, target: Path) -> tuple[str, int]:
    """Copy a file byte for byte (kernel copy, then fsync) while a thread hashes the source."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(sha256_of, source)
        shutil.copyfile(source, target)
        with target.open("rb+") as handle:
            os.fsync(handle.fileno())
        return digest.result(), target.stat().st_size


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Store:
    """A data directory holding imports and the manifest that says which are live."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.root = resolve_data_dir(data_dir)

    # --- reading -------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict:
        """The live manifest, or the one `pinned()` holds; an empty store has version 0."""
        pinned = (_PINNED.get() or {}).get(self.root)
        if pinned is not None:
            return copy.deepcopy(pinned)
        return self._read_manifest()

    def _read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 0, "imports": {}}
        except (OSError, ValueError) as exc:
            raise LoaderError(
                str(self.manifest_path), f"the store manifest is unreadable ({exc})"
            ) from None

    @contextmanager
    def pinned(self) -> Iterator[Store]:
        """Read one version of the store for the whole block, whatever is swapped in meanwhile.

        Every `Store` of this data directory in the same thread (or task) reads the manifest
        read on entry, so a computation that reads the store several times (a cache key, then
        the records, then the events) never mixes two versions. Imports stay on disk for
        KEEP_MANIFESTS versions, so a block should not outlast several imports.
        """
        pins = _PINNED.get() or {}
        if self.root in pins:  # already pinned by an enclosing block: keep its version
            yield self
            return
        with self._lease() as manifest:
            token = _PINNED.set({**pins, self.root: manifest})
            try:
                yield self
            finally:
                _PINNED.reset(token)

    @contextmanager
    def _lease(self) -> Iterator[dict]:
        """The live manifest, its imports kept on disk until the block ends.

        A shared lock on `readers/<version>`, taken under the collector's lock, tells
        `collect_garbage` the version is still read. Without write access (a read-only store,
        or none yet) there is no lease, and no import to collect the files either.
        """
        lease = None
        try:
            with self._collector_lock(fcntl.LOCK_SH):
                manifest = self._read_manifest()
                if manifest["version"]:
                    (self.root / READERS).mkdir(exist_ok=True)
                    lease = (self.root / READERS / f"{manifest['version']:06d}").open("a")
                    fcntl.flock(lease, fcntl.LOCK_SH)
        except OSError:
            manifest = self._read_manifest()
        try:
            yield manifest
        finally:
            if lease is not None:
                lease.close()

    @contextmanager
    def _collector_lock(self, mode: int) -> Iterator[None]:
        """Readers take leases (shared) and `collect_garbage` removes files (exclusive) under it."""
        with (self.root / ".collect.lock").open("a") as handle:
            fcntl.flock(handle, mode)
            yield

    def version(self) -> str:
        """A token that changes whenever the live data change (for caches)."""
        manifest = self.manifest()
        return f"{manifest['version']}-{manifest.get('updated_at', '')}"

    def records(
        self, sources: Sequence[str] | None = None, kinds: Sequence[str] | None = ("events",)
    ) -> list[ImportRecord]:
        """The live imports, optionally only those of some sources (`ucdp`, `acled`).

        Only event imports by default, so that every reader of events stays blind to
        aggregates; `kinds=("aggregates",)` for those, `kinds=None` for every import.
        """
        out = []
        for import_id, folder in sorted(self.manifest()["imports"].items()):
            path = self.root / "imports" / folder
            provenance = Provenance.from_dict(
                json.loads((path / "provenance.json").read_text(encoding="utf-8"))
            )
            record = ImportRecord(import_id, path, provenance)
            if (sources is None or provenance.source in sources) and (
                kinds is None or record.kind in kinds
            ):
                out.append(record)
        return out

    def coverage(
        self, sources: Sequence[str] | None = None, kinds: Sequence[str] | None = ("events",)
    ) -> pd.DataFrame:
        """What each live import speaks for: one row per import and country (`*` for a whole
        release), with its first and last day and whether those months are partial.

        Columns: see `loaders.coverage.COLUMNS`; `rank` orders imports by precedence (a higher
        rank wins an overlap). `loaders.coverage.by_country` resolves overlaps per country.
        """
        return _coverage_of(self.records(sources, kinds))

    def events_relation(
        self,
        con: duckdb.DuckDBPyConnection,
        sources: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
    ) -> duckdb.DuckDBPyRelation | None:
        """The live events as a DuckDB relation, with overlaps resolved.

        `countries` (ISO3) keeps only their events, read from Parquet with the filter pushed
        down: a country profile reads its few thousand events, not the whole store.

        A yearly GED release speaks for the country-months it covers: there, the events of
        every lower-ranked UCDP import (older yearly releases, Candidate releases) are left
        out, so an event UCDP deleted or re-coded in the newer release does not live on from
        the older file. An event id present in several imports is kept once, from the
        highest-ranked import (see `_precedence`).
        """
        records = self.records(sources)
        if not records:
            return None
        wanted = list(columns) if columns else list(EVENT_SCHEMA.names)
        unknown = set(wanted) - set(EVENT_SCHEMA.names)
        if unknown:
            raise ValueError(f"not canonical event columns: {sorted(unknown)}")
        needed = set(wanted) | {"event_id", "source", "iso3", "date_start", "import_id"}
        events = con.read_parquet([str(r.events_path) for r in records]).select(*sorted(needed))
        if countries is not None:
            events = events.filter(_iso3_filter(countries))
        events.create_view("live_events")
        # Column names are checked against the schema above, so formatting them in is safe.
        select = ", ".join(f'e."{c}"' for c in wanted)
        # Each step is added only when it can change the result: most stores hold one release.
        if len(records) == 1:
            return con.sql(f"SELECT {select} FROM live_events e")  # noqa: S608
        ranks = _ranks(records)
        con.register(
            "import_rank", pd.DataFrame({"import_id": list(ranks), "rank": list(ranks.values())})
        )
        where = ""
        cover = _coverage_of(records)
        cover = cover[(cover["source"] == "ucdp") & (cover["dataset"] == "ged")]
        if not cover.empty:
            con.register("ged_cover", cover[["source", "rank", "iso3", "first_day", "last_day"]])
            where = """
                WHERE NOT EXISTS (
                    SELECT 1 FROM ged_cover c
                    WHERE c.source = e.source AND c.rank > r.rank
                      AND (c.iso3 = e.iso3 OR c.iso3 = '*')
                      AND e.date_start BETWEEN c.first_day AND c.last_day
                )"""
        sql = (
            f"SELECT {select} FROM live_events e JOIN import_rank r USING (import_id){where} "  # noqa: S608
            "QUALIFY row_number() OVER (PARTITION BY e.event_id ORDER BY r.rank DESC) = 1"
        )
        return con.sql(sql)

    def load_events(
        self,
        sources: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The canonical event table (see `loaders.schema`); empty when nothing is imported."""
        con = duckdb.connect()
        try:
            relation = self.events_relation(con, sources, columns, countries)
            if relation is None:
                table = _schema_of(columns).empty_table()
            else:
                table = relation.to_arrow_table().cast(_schema_of(columns))
            return table.to_pandas(date_as_object=False, types_mapper=PANDAS_TYPES.get)
        finally:
            con.close()

    def live_totals(self) -> pd.DataFrame:
        """Per live events import: its rows and the events and best deaths still in use once
        overlaps are resolved (`events_relation`), so no event is counted twice and a
        superseded release counts only what no newer release replaced.

        Columns: source, label, import_id, rows, events, fatalities_best. Add up within a
        source, never across: UCDP and ACLED record many of the same incidents.
        """
        records = self.records()
        con = duckdb.connect()
        try:
            live = self.events_relation(con, None, ["import_id", "fatalities_best"])
            if live is None:
                used = pd.DataFrame({"import_id": [], "events": [], "fatalities_best": []})
            else:
                used = con.sql(
                    "SELECT import_id, count(*) AS events, sum(fatalities_best) AS fatalities_best "
                    "FROM live GROUP BY import_id"
                ).df()
        finally:
            con.close()
        totals = pd.DataFrame(
            {
                "source": [r.provenance.source for r in records],
                "label": [r.provenance.label for r in records],
                "import_id": [r.import_id for r in records],
                "rows": [r.provenance.rows for r in records],
            }
        ).merge(used, on="import_id", how="left")
        return totals.fillna({"events": 0, "fatalities_best": 0}).astype(
            {"rows": "int64", "events": "int64", "fatalities_best": "int64"}
        )

    def load_aggregates(
        self, sources: Sequence[str] | None = None, countries: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Aggregate counts per country, month and event type, from the live aggregate imports.

        Admin rows are summed to one row per (iso3, month, event_type); `fatalities` is null
        where every summed row has none (demonstrations). Where several imports count the same
        country-month-type (a full download and a one-month file), only the newest import's
        rows are summed, so nothing is counted twice. Event types overlap (HAPI's
        civilian_targeting is part of political_violence): pick one, never add them up.
        Columns: iso3, month, event_type, events, fatalities, source, import_id.
        """
        records = self.records(sources, kinds=("aggregates",))
        schema = AGGREGATE_SUMS_SCHEMA
        if not records:
            return schema.empty_table().to_pandas(
                date_as_object=False, types_mapper=PANDAS_TYPES.get
            )
        # Same version fetched in the same second: the later commit (its folder's stamp) wins.
        ordered = sorted(
            records, key=lambda r: (_precedence(r.provenance), r.folder.name.rpartition("@")[2])
        )
        ranks = pd.DataFrame(
            {
                "import_id": [r.import_id for r in ordered],
                "source": [r.provenance.source for r in ordered],
                "rank": range(len(ordered)),
            }
        )
        con = duckdb.connect()
        try:
            rows = con.read_parquet([str(r.table_path) for r in records])
            if countries is not None:
                rows = rows.filter(_iso3_filter(countries))
            rows.create_view("live_aggregates")
            con.register("import_rank", ranks)
            table = con.sql(
                """
                WITH ranked AS (
                    SELECT a.*, r.source, r.rank FROM live_aggregates a
                    JOIN import_rank r USING (import_id)
                    QUALIFY r.rank = max(r.rank) OVER (PARTITION BY a.iso3, a.month, a.event_type)
                )
                SELECT iso3, month, event_type, sum(events) AS events,
                       sum(fatalities) AS fatalities, source, import_id
                FROM ranked GROUP BY iso3, month, event_type, source, import_id
                ORDER BY iso3, month, event_type
                """
            ).to_arrow_table()
        finally:
            con.close()
        return table.cast(schema).to_pandas(date_as_object=False, types_mapper=PANDAS_TYPES.get)

    # --- writing -------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's write lock; another import waits briefly, then is refused."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a+") as handle:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LoaderError(
                            str(self.root),
                            "another import is writing to this store; try again when it ends",
                        ) from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def staging_dir(self) -> Path:
        """A fresh folder for an import in progress (removed if the import fails)."""
        path = self.root / "staging" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def commit(
        self, staging: Path, events: pa.Table, provenance: Provenance, row_offset: int = 2
    ) -> ImportRecord:
        """Validate events, write them beside the raw file in `staging`, and make them live.

        Must be called with the lock held. On any failure the staging folder is removed
        and the live store is untouched.
        """
        return self._commit_table(
            staging,
            "events",
            events,
            provenance,
            lambda where: validate_events(events, where, row_offset),
            _summary,
        )

    def commit_aggregates(
        self,
        staging: Path,
        aggregates: pa.Table,
        provenance: Provenance,
        row_offset: int = 2,
    ) -> ImportRecord:
        """As `commit`, for an aggregate table (`AGGREGATE_SCHEMA`): never read as events."""
        return self._commit_table(
            staging,
            "aggregates",
            aggregates,
            provenance.with_counts(kind="aggregates"),
            lambda where: validate_aggregates(aggregates, where, row_offset),
            _aggregate_summary,
        )

    def _commit_table(
        self,
        staging: Path,
        kind: str,
        table: pa.Table,
        provenance: Provenance,
        validate: Callable[[str], list[str]],
        summary: Callable[[pa.Table], dict],
    ) -> ImportRecord:
        """The one commit path: validate, stamp the import id, write, move in, swap, collect."""
        try:
            warnings = validate(provenance.file)
            import_id = import_key(
                provenance.source, provenance.dataset, provenance.version, provenance.file
            )
            table = table.set_column(
                table.schema.get_field_index("import_id"),
                "import_id",
                pa.chunked_array([pa.repeat(import_id, table.num_rows)], pa.string())
                if table.num_rows
                else pa.chunked_array([], pa.string()),
            )
            pq.write_table(table, staging / TABLE_FILES[kind], compression="zstd")
            provenance = provenance.with_counts(
                **summary(table), warnings=tuple(warnings), import_id=import_id
            )
            _write_json_atomic(staging / "provenance.json", provenance.to_dict())
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            folder = f"{import_id}@{stamp}"
            (self.root / "imports").mkdir(exist_ok=True)
            final = self.root / "imports" / folder
            os.replace(staging, final)
            _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._swap_manifest({import_id: folder})
        self.collect_garbage()
        return ImportRecord(import_id, final, provenance)

    def _swap_manifest(self, changes: dict[str, str]) -> None:
        current = self._read_manifest()  # the file itself, even inside a reader's pinned block
        imports = {**current["imports"], **changes}
        manifest = {
            "version": current["version"] + 1,
            "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "imports": imports,
        }
        history = self.root / "manifests"
        history.mkdir(exist_ok=True)
        _write_json_atomic(history / f"{manifest['version']:06d}.json", manifest)
        _write_json_atomic(self.manifest_path, manifest)

    def collect_garbage(self) -> None:
        """Remove imports no recent or still-read manifest refers to, and abandoned work."""
        with self._collector_lock(fcntl.LOCK_EX):
            read = self._leased_versions()
            history = sorted((self.root / "manifests").glob("*.json"))
            for old in history[:-KEEP_MANIFESTS]:
                if int(old.stem) not in read:
                    old.unlink(missing_ok=True)
            referenced = set()
            for path in [self.manifest_path, *(self.root / "manifests").glob("*.json")]:
                if path.exists():
                    manifest = json.loads(path.read_text(encoding="utf-8"))
                    referenced.update(manifest["imports"].values())
            for folder in (self.root / "imports").glob("*"):
                if folder.name not in referenced:
                    shutil.rmtree(folder, ignore_errors=True)
            for folder in (self.root / "staging").glob("*"):
                shutil.rmtree(folder, ignore_errors=True)
            # Half-written manifests of a killed import (the lock is held: no write is under way).
            for leftover in [
                *self.root.glob(".*.tmp"),
                *(self.root / "manifests").glob(".*.tmp"),
            ]:
                leftover.unlink(missing_ok=True)

    def _leased_versions(self) -> set[int]:
        """Versions a reader has pinned (see `pinned`); the leases of past readers are removed.

        Called with the collector's lock held, so no reader takes a lease meanwhile.
        """
        read = set()
        for lease in (self.root / READERS).glob("*"):
            if not lease.name.isdigit():
                continue
            with lease.open("a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    read.add(int(lease.name))
                    continue
            lease.unlink(missing_ok=True)
        return read


def _iso3_filter(countries: Sequence[str]) -> str:
    """A DuckDB filter keeping `countries`, pushed down to Parquet; codes are checked first,
    so formatting them into the SQL is safe."""
    codes = [c for c in countries if ISO3.fullmatch(c)]
    if len(codes) != len(countries):
        raise ValueError(f"not ISO3 codes: {sorted(set(countries) - set(codes))}")
    return f"iso3 IN ({', '.join(repr(c) for c in codes) or 'NULL'})"


def _precedence(provenance: Provenance) -> tuple:
    """Yearly GED over Candidate, then the newer version, then the later fetch."""
    version = tuple(int(p) for p in re.findall(r"\d+", provenance.version))
    return (provenance.dataset == "ged", version, provenance.fetched_at)


def _ranks(records: Sequence[ImportRecord]) -> dict[str, int]:
    """Each import's rank by precedence: the higher rank wins an overlap."""
    ordered = sorted(records, key=lambda r: _precedence(r.provenance))
    return {r.import_id: rank for rank, r in enumerate(ordered)}


def _coverage_of(records: Sequence[ImportRecord]) -> pd.DataFrame:
    """`Store.coverage` of these records."""
    ranks = _ranks(records)
    return coverage.frame(
        row
        for r in records
        for row in coverage.import_rows(
            r.provenance.coverage,
            source=r.provenance.source,
            dataset=r.provenance.dataset,
            label=r.provenance.label,
            import_id=r.import_id,
            rank=ranks[r.import_id],
        )
    )


def _schema_of(columns: Sequence[str] | None) -> pa.Schema:
    if not columns:
        return EVENT_SCHEMA
    return pa.schema([EVENT_SCHEMA.field(c) for c in columns])


def _summary(events: pa.Table) -> dict:
    """Figures provenance records about the normalised events."""
    dates = events["date_start"]
    return {
        "rows": events.num_rows,
        "fatalities_best": int(pc.sum(events["fatalities_best"]).as_py() or 0),
        "first_date": str(pc.min(dates).as_py()),
        "last_date": str(pc.max(dates).as_py()),
        "countries": int(pc.count_distinct(events["iso3"]).as_py()),
    }


def _aggregate_summary(aggregates: pa.Table) -> dict:
    """Figures provenance records about an aggregate import: totals per event type."""
    totals = {}
    for event_type in sorted(set(pc.unique(aggregates["event_type"]).to_pylist())):
        rows = aggregates.filter(pc.equal(aggregates["event_type"], event_type))
        fatalities = pc.sum(rows["fatalities"]).as_py()
        totals[event_type] = {
            "events": int(pc.sum(rows["events"]).as_py() or 0),
            "fatalities": None if fatalities is None else int(fatalities),
        }
    return {
        "rows": aggregates.num_rows,
        "countries": int(pc.count_distinct(aggregates["iso3"]).as_py()),
        "totals": totals,
    }


def pinned_run(args: argparse.Namespace) -> object:
    """Run a CLI command (`args.run(args)`) on one version of its `--data-dir` store, if any."""
    if not hasattr(args, "data_dir"):
        return args.run(args)
    with Store(args.data_dir).pinned():
        return args.run(args)
