"""The store: atomic imports, replacement of a release, precedence of yearly over Candidate."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

import loaders
from loaders.errors import LoaderError
from loaders.store import Store
from tests.conftest import SMALL_GED, ged_rows, tree_digest, write_ged


def test_import_keeps_raw_file_provenance_and_events(store_dir: Path) -> None:
    record = loaders.import_file(SMALL_GED, data_dir=store_dir)
    raw = record.folder / "raw" / SMALL_GED.name
    assert raw.read_bytes() == SMALL_GED.read_bytes()
    provenance = json.loads((record.folder / "provenance.json").read_text())
    assert provenance["rows"] == 5
    assert provenance["fatalities_best"] == 43
    assert provenance["licence"] == "CC BY 4.0"
    assert "Sundberg" in provenance["citation"]
    assert provenance["label"] == "UCDP GED 25.1"
    assert provenance["first_date"] == "2024-01-04"
    assert len(provenance["sha256"]) == 64
    assert provenance["coverage"] == {
        "first_month": "2024-01",
        "last_month": "2024-12",
        "countries": ["MLI", "SRB", "YEM"],
        "first_day": "2024-01-01",
        "last_day": "2024-12-31",
    }
    events = loaders.load_events(store_dir)
    assert len(events) == 5
    assert events["date_start"].dtype.kind == "M"
    assert str(events["civilian_deaths"].dtype) == "Int32"
    assert set(events["import_id"]) == {record.import_id}


def test_reimporting_a_release_replaces_it(store_dir: Path, tmp_path: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    rows = ged_rows()
    rows[0]["best"] = "80"
    changed = write_ged(tmp_path / SMALL_GED.name, rows)
    loaders.import_file(changed, data_dir=store_dir)
    events = loaders.load_events(store_dir)
    assert len(events) == 5
    assert events["fatalities_best"].sum() == 43 - 8 + 80
    assert len(Store(store_dir).records()) == 1


def test_failed_import_leaves_the_store_byte_for_byte(store_dir: Path, tmp_path: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    before = tree_digest(store_dir)
    rows = ged_rows()
    rows[2]["best"] = "-1"
    bad = write_ged(tmp_path / SMALL_GED.name, rows)
    with pytest.raises(LoaderError, match="negative"):
        loaders.import_file(bad, data_dir=store_dir)
    assert tree_digest(store_dir) == before
    assert not list((store_dir / "staging").iterdir())


def test_candidate_months_covered_by_the_yearly_release_are_not_counted_twice(
    store_dir: Path, tmp_path: Path
) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)  # GED 25.1: Mali, Yemen, Serbia to 2024-12
    rows = ged_rows()
    candidate = []
    for new_id, (row, date) in enumerate(
        [(rows[0], "2024-01-20"), (rows[3], "2025-01-03"), (rows[0], "2025-01-09")], start=9001
    ):
        candidate.append({**row, "id": str(new_id), "date_start": date, "date_end": date})
    path = write_ged(tmp_path / "GEDEvent_v25_0_1.csv", candidate)
    loaders.import_file(path, data_dir=store_dir)
    events = loaders.load_events(store_dir).set_index("source_event_id")
    # 9001 (January 2024) is in the yearly release's months; the 2025 events are new.
    assert sorted(events.index) == ["1001", "1002", "1003", "2001", "3001", "9002", "9003"]
    assert events.loc["9002", "dataset"] == "candidate"


def test_the_same_event_in_two_files_is_kept_once(store_dir: Path, tmp_path: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    subset = write_ged(tmp_path / "GEDEvent_v24_1_mali.csv", ged_rows()[:2])
    loaders.import_file(subset, data_dir=store_dir)
    events = loaders.load_events(store_dir)
    assert len(events) == 5
    # The newer release wins an id present in both.
    assert set(events["source_version"]) == {"25.1"}


def test_events_of_chosen_countries_only(store_dir: Path, tmp_path: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    subset = write_ged(tmp_path / "GEDEvent_v24_1_mali.csv", ged_rows()[:2])
    loaders.import_file(subset, data_dir=store_dir)  # overlapping ids are still kept once
    mali = loaders.load_events(store_dir, countries=["MLI"])
    assert sorted(mali["event_id"]) == ["ucdp:1001", "ucdp:1002", "ucdp:1003"]
    both = loaders.load_events(store_dir, countries=["YEM", "SRB"], columns=["iso3"])
    assert sorted(both["iso3"]) == ["SRB", "YEM"]
    assert loaders.load_events(store_dir, countries=[]).empty
    with pytest.raises(ValueError, match="not ISO3 codes"):
        loaders.load_events(store_dir, countries=["MLI' OR 1=1 --"])


def test_empty_store_reads_as_an_empty_table(store_dir: Path) -> None:
    events = loaders.load_events(store_dir, columns=["iso3", "fatalities_best"])
    assert list(events.columns) == ["iso3", "fatalities_best"]
    assert events.empty


def _hold_lock(data_dir: str, ready, release) -> None:
    with Store(data_dir).lock():
        ready.set()
        release.wait(20)


def test_a_second_import_waits_then_is_refused(store_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr("loaders.store.LOCK_WAIT_SECONDS", 0.3)
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(store_dir), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LoaderError, match="another import is writing"):
            loaders.import_file(SMALL_GED, data_dir=store_dir)
    finally:
        release.set()
        holder.join(10)
    assert loaders.import_file(SMALL_GED, data_dir=store_dir).provenance.rows == 5


def test_data_dir_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "env-store"))
    loaders.import_file(SMALL_GED)
    assert (tmp_path / "env-store" / "manifest.json").exists()
    assert len(loaders.load_events()) == 5


def test_a_newer_yearly_release_supersedes_the_older_for_the_countries_it_covers(
    store_dir: Path, tmp_path: Path
) -> None:
    """GED 25.1 for Mali deletes event 1002 and re-codes 1003 as 1013 (one-sided, 9 deaths):
    neither lives on from 24.1, whose Yemen and Serbia events (not in 25.1's file) stay."""
    rows = ged_rows()
    loaders.import_file(write_ged(tmp_path / "GEDEvent_v24_1_pair.csv", rows), data_dir=store_dir)
    recoded = {**rows[2], "id": "1013", "type_of_violence": "3", "best": "9"}
    newer = write_ged(tmp_path / "GEDEvent_v25_1_mali.csv", [rows[0], recoded])
    loaders.import_file(newer, data_dir=store_dir)
    events = loaders.load_events(store_dir).set_index("source_event_id")
    assert sorted(events.index) == ["1001", "1013", "2001", "3001"]
    assert events.loc["1013", ["violence_type", "fatalities_best"]].tolist() == ["one-sided", 9]
    assert events.loc["1001", "source_version"] == "25.1"
    assert events.loc["2001", "source_version"] == "24.1"
    mali = loaders.load_events(store_dir, countries=["MLI"])
    assert sorted(mali["source_event_id"]) == ["1001", "1013"]


def test_coverage_per_import_and_country(store_dir: Path, tmp_path: Path) -> None:
    whole = write_ged(tmp_path / "GEDEvent_v25_1.csv", ged_rows())  # UCDP's name: every country
    loaders.import_file(whole, data_dir=store_dir)
    acled_file = SMALL_GED.parent / "acled_current_small.csv"
    loaders.import_file(acled_file, data_dir=store_dir, source="acled")
    cover = Store(store_dir).coverage().set_index(["source", "iso3"])
    ged = cover.loc[("ucdp", "*")]
    assert (str(ged["first_day"].date()), str(ged["last_day"].date())) == (
        "2024-01-01",
        "2024-12-31",
    )
    assert not ged["first_month_partial"] and not ged["last_month_partial"]
    mali = cover.loc[("acled", "MLI")]
    assert (str(mali["first_day"].date()), str(mali["last_day"].date())) == (
        "2023-03-03",
        "2023-03-10",
    )
    assert mali["first_month_partial"] and mali["last_month_partial"]
    assert cover.loc[("ucdp", "*"), "rank"] > cover.loc[("acled", "MLI"), "rank"]
