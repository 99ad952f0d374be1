"""ACLED's HDX HAPI conflict-event counts imported as aggregates, never as events.

The small fixture (`tests/fixtures/hapi_conflict_event_small.csv`, January 2024, UTF-8 BOM):
Mali counted by admin 2 area (Gao, Ansongo, and Tidermène, which HAPI matched to no p-code),
Senegal as a whole country (admin level 0), Kosovo with HAPI's "Non matching p-code" error.
"""

from __future__ import annotations

import csv
import gzip
import json
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

import loaders
from loaders import hapi
from loaders.cli import main
from loaders.errors import LoaderError
from loaders.schema import AGGREGATE_SCHEMA
from loaders.store import Store
from tests.conftest import FIXTURES, SMALL_GED, tree_digest

SMALL = FIXTURES / "hapi_conflict_event_small.csv"
REAL_FILES = {
    # file: (rows, location codes) as FORMATS.md states them
    "hdx_hapi_conflict_event_global_2025-01.csv.gz": (14373, 243),
    "hdx_hapi_conflict_event_global_1997-01.csv.gz": (6000, 48),
}


def _raw_rows(path: Path) -> list[dict[str, str]]:
    """The file as the csv module reads it: independent of the loader's parsing."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _with_cell(tmp_path: Path, row: int, column: str, value: str) -> Path:
    """The small fixture with the cell at file row `row` (header = row 1) replaced."""
    rows = _raw_rows(SMALL)
    rows[row - 2][column] = value
    path = tmp_path / "hapi_bad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- recognising the file --------------------------------------------------------------------


def test_is_hapi_reads_the_header_of_plain_gz_and_zip_files(tmp_path: Path) -> None:
    content = SMALL.read_bytes()
    gz = tmp_path / "hapi.csv.gz"
    gz.write_bytes(gzip.compress(content))
    packed = tmp_path / "hapi.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("hapi_conflict_event.csv", content)
    no_bom = tmp_path / "no_bom.csv"
    no_bom.write_bytes(content.removeprefix(b"\xef\xbb\xbf"))
    assert all(hapi.is_hapi(p) for p in (SMALL, gz, packed, no_bom))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    others = (FIXTURES / "acled_current_small.csv", SMALL_GED, empty, tmp_path / "missing.csv")
    assert not any(hapi.is_hapi(p) for p in others)


# --- the small fixture, computed by hand -----------------------------------------------------


def test_small_fixture_sums_admin_rows_per_country_month_and_type(store_dir: Path) -> None:
    """Mali: political violence 5 + 3 + 1 = 9 events, 12 + 0 + 3 = 15 deaths; civilian
    targeting 2 + 1 + 0 = 3 and 4 + 0 + 0 = 4; demonstrations 1 + 0 + 0 = 1 and no deaths
    (null, not 0). Senegal's and Kosovo's single rows stand as they are."""
    record = loaders.import_file(SMALL, source="acled", data_dir=store_dir)
    assert record.kind == "aggregates" and record.provenance.kind == "aggregates"
    got = Store(store_dir).load_aggregates()
    expected = pd.DataFrame(
        [
            ("MLI", "civilian_targeting", 3, 4),
            ("MLI", "demonstration", 1, None),
            ("MLI", "political_violence", 9, 15),
            ("SEN", "civilian_targeting", 1, 1),
            ("SEN", "demonstration", 4, None),
            ("SEN", "political_violence", 2, 1),
            ("XKX", "civilian_targeting", 0, 0),
            ("XKX", "demonstration", 0, None),
            ("XKX", "political_violence", 0, 0),
        ],
        columns=["iso3", "event_type", "events", "fatalities"],
    )
    assert list(got.columns) == [
        "iso3",
        "month",
        "event_type",
        "events",
        "fatalities",
        "source",
        "import_id",
    ]
    assert (got["month"] == pd.Timestamp("2024-01-01")).all()
    assert set(got["source"]) == {"acled"} and set(got["import_id"]) == {record.import_id}
    pd.testing.assert_frame_equal(
        got[expected.columns].reset_index(drop=True),
        expected.astype({"events": "Int32", "fatalities": "Int32"}),
        check_dtype=False,
    )
    assert str(got["events"].dtype) == "Int32" and str(got["fatalities"].dtype) == "Int32"


def test_small_fixture_rows_and_provenance(store_dir: Path) -> None:
    record = loaders.import_file(SMALL, source="hapi", data_dir=store_dir)
    stored = pq.read_table(record.table_path)
    assert record.table_path.name == "aggregates.parquet"
    assert not (record.folder / "events.parquet").exists()
    assert stored.schema == AGGREGATE_SCHEMA and stored.num_rows == 15
    rows = stored.to_pandas().set_index(["iso3", "event_type", "admin2_name"], drop=False)
    gao = rows.loc[("MLI", "political_violence", "Gao")]
    assert (gao["admin_level"], gao["admin1_code"], gao["admin2_code"]) == (2, "ML07", "ML0701")
    # HAPI matched no p-code: ACLED's own names are kept, the codes stay empty.
    tidermene = rows.loc[("MLI", "political_violence", "Tidermène")]
    assert tidermene["admin1_name"] == "Ménaka" and pd.isna(tidermene["admin1_code"])
    senegal = stored.to_pandas().query("iso3 == 'SEN'")
    assert (senegal["admin_level"] == 0).all() and senegal["admin1_name"].isna().all()
    p = record.provenance
    assert (p.source, p.dataset, p.version) == ("acled", "hapi", "2024-01")
    assert p.label == "ACLED via HDX HAPI (aggregates), Jan 2024"
    assert p.coverage.to_dict() == {
        "first_month": "2024-01",
        "last_month": "2024-01",
        "countries": ["MLI", "SEN", "XKX"],
        "first_day": "2024-01-01",
        "last_day": "2024-01-31",
        "by_country": {c: ["2024-01-01", "2024-01-31"] for c in ("MLI", "SEN", "XKX")},
    }
    assert "hdx-other" in p.licence and p.attribution.startswith("Armed Conflict Location")
    assert p.terms == "https://acleddata.com/terms-of-use/" and "Raleigh" in p.citation
    assert p.rows == 15 and p.countries == 3
    assert p.totals["demonstration"] == {"events": 5, "fatalities": None}
    assert p.totals["political_violence"] == {"events": 11, "fatalities": 16}
    assert p.sha256 and p.fetched_at and p.origin == str(SMALL.resolve())
    assert (record.folder / "raw" / SMALL.name).read_bytes() == SMALL.read_bytes()
    notes = " ".join(p.notes)
    assert "civilian_targeting is a subset of it (never add them up)" in notes
    assert "3 rows carry an HDX HAPI error ('Non matching p-code' × 3) in XKX" in notes
    assert "3 admin rows have no HDX p-code (MLI)" in notes
    assert "3 location codes: 3 in the country list, 0 territories, 0 unknown" in notes


def test_version_given_replaces_the_month(tmp_path: Path) -> None:
    assert hapi.read_file(SMALL, "2025-02-10").version == "2025-02-10"
    with pytest.raises(LoaderError, match="not a HAPI version"):
        hapi.read_file(SMALL, "v2")


# --- bad input: one clear message naming file, row and column --------------------------------


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (3, "location_code", "Mali", "row 3, column location_code: not an ISO3 code: 'Mali'"),
        (4, "location_code", "", "row 4, column location_code: location_code is missing"),
        (12, "events", "2.5", "row 12, column events: not a whole number: '2.5'"),
        (12, "events", "many", "row 12, column events: not a whole number: 'many'"),
        (13, "events", "-1", "row 13, column events: a count cannot be negative: '-1'"),
        (14, "fatalities", "-3", "row 14, column fatalities: a count cannot be negative: '-3'"),
        (15, "events", "", "row 15, column events: events is missing"),
        (
            5,
            "reference_period_end",
            "2024-02-29",
            "row 5, column reference_period_end: the reference period 2024-01-01 … 2024-02-29 "
            "is not one calendar month",
        ),
        (
            6,
            "reference_period_start",
            "2024-01-15",
            "row 6, column reference_period_start: the reference period does not start on a 1st: "
            "'2024-01-15'",
        ),
        (
            7,
            "event_type",
            "riots",
            "row 7, column event_type: event_type is not one of political_violence, "
            "civilian_targeting, demonstration: 'riots'",
        ),
        (8, "admin_level", "3", "row 8, column admin_level: admin_level is not 0, 1 or 2: '3'"),
        (
            9,
            "reference_period_start",
            "1024-01-01",
            "row 9, column reference_period_start: impossible event date 1024-01-01 (before "
            "1900 or in the future)",
        ),
    ],
)
def test_bad_values_are_refused_and_the_store_is_unchanged(
    tmp_path: Path, store_dir: Path, row: int, column: str, value: str, message: str
) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    loaders.import_file(SMALL, source="acled", data_dir=store_dir)
    before = tree_digest(store_dir)
    bad = _with_cell(tmp_path, row, column, value)
    with pytest.raises(LoaderError) as info:
        loaders.import_file(bad, source="acled", data_dir=store_dir)
    assert str(info.value) == f"hapi_bad.csv, {message}"
    assert tree_digest(store_dir) == before


def test_a_repeated_area_month_and_type_is_refused(tmp_path: Path) -> None:
    bad = _with_cell(tmp_path, 3, "admin2_code", "ML0701")
    rows = _raw_rows(bad)
    rows[1].update({"provider_admin2_name": "Gao", "admin2_name": "Gao"})
    with bad.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(LoaderError, match=r"hapi_bad.csv, row 3: the same area, month and event"):
        hapi.read_file(bad)


def test_source_hapi_names_what_is_missing(store_dir: Path) -> None:
    acled_file = FIXTURES / "acled_current_small.csv"
    with pytest.raises(LoaderError, match="not an HDX HAPI conflict-event file: its header lacks"):
        loaders.import_file(acled_file, source="hapi", data_dir=store_dir)
    assert tree_digest(store_dir) == {}


def test_ucdp_import_of_a_hapi_file_says_which_source(store_dir: Path) -> None:
    with pytest.raises(LoaderError, match=r"HDX HAPI .*, not UCDP events; import it with --source"):
        loaders.import_file(SMALL, data_dir=store_dir)
    assert tree_digest(store_dir) == {}


# --- events and aggregates kept apart ---------------------------------------------------------


def test_event_readers_never_see_aggregates(store_dir: Path, tmp_path: Path) -> None:
    only_events = tmp_path / "only_events"
    loaders.import_file(SMALL_GED, data_dir=only_events)
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    loaders.import_file(SMALL, source="acled", data_dir=store_dir)
    loaders.import_file(FIXTURES / "acled_current_small.csv", source="acled", data_dir=store_dir)
    store = Store(store_dir)
    assert [r.kind for r in store.records()] == ["events", "events"]
    assert [r.provenance.dataset for r in store.records(["acled"])] == ["export"]
    assert {r.kind for r in store.records(kinds=None)} == {"events", "aggregates"}
    assert [r.provenance.dataset for r in store.records(kinds=("aggregates",))] == ["hapi"]
    ucdp = store.load_events(sources=["ucdp"])
    pd.testing.assert_frame_equal(ucdp, Store(only_events).load_events())
    everything = store.load_events()
    assert set(everything["dataset"]) == {"ged", "export"} and len(everything) == 5 + 8
    con = duckdb.connect()
    try:
        relation = store.events_relation(con)
        assert relation is not None and len(relation.fetchall()) == 13
    finally:
        con.close()
    status = main(["status", "--json", "--data-dir", str(store_dir)])
    assert status == 0


def test_status_lists_aggregates_apart(store_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["import", str(SMALL), "--source", "hapi", "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "Imported ACLED via HDX HAPI (aggregates), Jan 2024: 15 rows (counts, not events)" in out
    assert main(["status", "--json", "--data-dir", str(store_dir)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["imports"] == []
    assert [a["label"] for a in payload["aggregates"]] == [
        "ACLED via HDX HAPI (aggregates), Jan 2024"
    ]
    assert main(["status", "--data-dir", str(store_dir)]) == 0
    text = capsys.readouterr().out
    assert "is empty" not in text and "political_violence 11 events / 16 deaths" in text


def test_old_imports_without_kind_are_events(store_dir: Path) -> None:
    """Provenance written before aggregates (no "kind") and before its schema version."""
    record = loaders.import_file(SMALL_GED, data_dir=store_dir)
    path = record.folder / "provenance.json"
    old = json.loads(path.read_text())
    del old["kind"], old["schema_version"]
    path.write_text(json.dumps(old))
    (again,) = Store(store_dir).records()
    assert again.kind == "events" and again.table_path == record.folder / "events.parquet"
    assert again.provenance == record.provenance


def test_overlapping_imports_count_each_country_month_once(store_dir: Path, tmp_path: Path) -> None:
    """A second file (another name) for the same month: its newer counts replace the older."""
    loaders.import_file(SMALL, source="acled", data_dir=store_dir)
    revised = _with_cell(tmp_path, 15, "events", "7")  # SEN political violence 2 -> 7
    newer = loaders.import_file(revised, source="acled", data_dir=store_dir)
    store = Store(store_dir)
    assert len(store.records(kinds=("aggregates",))) == 2
    got = store.load_aggregates().set_index(["iso3", "event_type"])
    assert got.loc[("SEN", "political_violence"), "events"] == 7
    assert got.loc[("MLI", "political_violence"), "events"] == 9
    assert set(got["import_id"]) == {newer.import_id}
    again = loaders.import_file(SMALL, source="acled", data_dir=store_dir)  # the first, re-read
    got = Store(store_dir).load_aggregates().set_index(["iso3", "event_type"])
    assert got.loc[("SEN", "political_violence"), "events"] == 2
    assert set(got["import_id"]) == {again.import_id}


def test_countries_filter_and_empty_store(store_dir: Path) -> None:
    empty = Store(store_dir).load_aggregates()
    assert empty.empty and list(empty.columns)[:3] == ["iso3", "month", "event_type"]
    loaders.import_file(SMALL, source="acled", data_dir=store_dir)
    store = Store(store_dir)
    assert set(store.load_aggregates(countries=["SEN"])["iso3"]) == {"SEN"}
    assert store.load_aggregates(sources=["ucdp"]).empty
    with pytest.raises(ValueError, match="not ISO3 codes"):
        store.load_aggregates(countries=["Mali"])


# --- the real files ---------------------------------------------------------------------------


def _raw_totals(rows: list[dict[str, str]]) -> dict[str, tuple[int, int | None]]:
    events: Counter[str] = Counter()
    deaths: dict[str, int | None] = {}
    for row in rows:
        kind = row["event_type"]
        events[kind] += int(row["events"])
        if row["fatalities"] != "":
            deaths[kind] = (deaths.get(kind) or 0) + int(row["fatalities"])
        else:
            deaths.setdefault(kind, None)
    return {kind: (events[kind], deaths[kind]) for kind in events}


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_imports_whole(shared_data: Path, store_dir: Path, name: str) -> None:
    path = shared_data / "acled" / name
    rows = _raw_rows(path)
    expected_rows, expected_codes = REAL_FILES[name]
    assert len(rows) == expected_rows
    record = loaders.import_file(path, source="acled", data_dir=store_dir)
    assert record.kind == "aggregates"
    assert record.provenance.rows == expected_rows
    codes = sorted({r["location_code"] for r in rows})
    assert len(codes) == expected_codes == record.provenance.countries
    assert list(record.provenance.coverage.countries) == codes
    totals = _raw_totals(rows)
    assert {k: (v["events"], v["fatalities"]) for k, v in record.provenance.totals.items()} == (
        totals
    )
    got = Store(store_dir).load_aggregates()
    assert got["iso3"].nunique() == expected_codes
    assert len(got) == 3 * expected_codes  # every location, every event type
    for kind, (events, deaths) in totals.items():
        part = got[got["event_type"] == kind]
        assert part["events"].sum() == events
        if deaths is None:
            assert part["fatalities"].isna().all()
        else:
            assert part["fatalities"].sum() == deaths
    assert Store(store_dir).load_events().empty


def test_real_files_semantics(shared_data: Path) -> None:
    """What the docstring of loaders.hapi says, checked on the raw rows."""
    for name in REAL_FILES:
        rows = _raw_rows(shared_data / "acled" / name)
        by_area: dict[tuple, dict[str, tuple[int, int]]] = defaultdict(dict)
        for row in rows:
            area = tuple(row[c] for c in (*hapi.AREA, "reference_period_start"))
            deaths = int(row["fatalities"]) if row["fatalities"] else None
            by_area[area][row["event_type"]] = (int(row["events"]), deaths)
        for counts in by_area.values():
            pv, ct = counts["political_violence"], counts["civilian_targeting"]
            assert ct[0] <= pv[0] and ct[1] <= pv[1]  # civilian targeting within violence
            assert counts["demonstration"][1] is None  # demonstrations: no fatalities
        errors = [r for r in rows if r["error"]]
        assert all(r["location_code"] == "XKX" and r["events"] == "0" for r in errors)
        assert len(errors) == (3 if "2025" in name else 0)


def test_both_real_months_are_live_and_reimport_replaces(
    shared_data: Path, store_dir: Path
) -> None:
    for name in sorted(REAL_FILES):
        loaders.import_file(shared_data / "acled" / name, source="acled", data_dir=store_dir)
    first = {r.import_id for r in Store(store_dir).records(kinds=("aggregates",))}
    loaders.import_file(
        shared_data / "acled" / "hdx_hapi_conflict_event_global_2025-01.csv.gz",
        source="acled",
        data_dir=store_dir,
    )
    store = Store(store_dir)
    assert {r.import_id for r in store.records(kinds=("aggregates",))} == first
    got = store.load_aggregates()
    assert sorted(got["month"].dt.strftime("%Y-%m").unique()) == ["1997-01", "2025-01"]
    assert len(got) == 3 * (243 + 48)
    violence = got[got["event_type"] == "political_violence"].groupby(got["month"].dt.year)
    assert violence["fatalities"].sum().to_dict() == {1997: 3429, 2025: 5639}


def test_real_file_notes_count_codes_and_flags(shared_data: Path) -> None:
    parsed = hapi.read_file(shared_data / "acled" / "hdx_hapi_conflict_event_global_2025-01.csv.gz")
    notes = "\n".join(parsed.notes)
    assert "243 location codes: 195 in the country list, 48 territories, 0 unknown" in notes
    assert "3 rows carry an HDX HAPI error ('Non matching p-code' × 3) in XKX" in notes
    assert "30 admin rows have no HDX p-code (SDN, UKR, VEN)" in notes
    assert "PSE" in notes  # a territory for the country list, with events: kept and named
    assert parsed.version == "2025-01"
    assert "more civilian_targeting than political_violence" not in notes


def test_civilian_targeting_above_political_violence_is_noted(tmp_path: Path) -> None:
    """Gao: civilian targeting 6 events against political violence's 5 (row 2 is Gao's)."""
    parsed = hapi.read_file(_with_cell(tmp_path, 2, "events", "6"))
    assert "1 area-months count more civilian_targeting than political_violence" in " ".join(
        parsed.notes
    )
    assert not any("more civilian" in n for n in hapi.read_file(SMALL).notes)


def test_zipped_real_file_imports(shared_data: Path, store_dir: Path, tmp_path: Path) -> None:
    source = shared_data / "acled" / "hdx_hapi_conflict_event_global_1997-01.csv.gz"
    packed = tmp_path / "hapi_1997.zip"
    with gzip.open(source, "rb") as raw, zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("hdx_hapi_conflict_event_global_1997-01.csv", raw.read())
    record = loaders.import_file(packed, source="acled", data_dir=store_dir)
    assert record.provenance.rows == 6000
    assert record.provenance.totals["political_violence"] == {"events": 180, "fatalities": 3429}
