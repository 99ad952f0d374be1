"""UCDP GED files into canonical events: values, releases, and bad input with row numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loaders import ucdp
from loaders.errors import LoaderError
from loaders.schema import EVENT_SCHEMA, validate_events
from tests.conftest import SMALL_GED, ged_rows, write_ged


def test_small_fixture_becomes_canonical_events() -> None:
    parsed = ucdp.read_file(SMALL_GED)
    events = parsed.events.to_pandas().set_index("source_event_id")
    assert parsed.events.schema == EVENT_SCHEMA
    assert parsed.release == ucdp.Release("ged", "25.1")
    assert list(events.index) == ["1001", "1002", "1003", "2001", "3001"]
    assert events.loc["1001", "event_id"] == "ucdp:1001"
    assert events["fatalities_best"].sum() == 8 + 12 + 7 + 15 + 1
    assert events.loc["1002", "civilian_deaths"] == 12
    assert events.loc["1002", "date_end"].isoformat() == "2024-02-11"
    assert list(events["violence_type"]) == [
        "state-based",
        "one-sided",
        "non-state",
        "state-based",
        "one-sided",
    ]
    # UCDP's own Gleditsch-Ward codes for Yemen and Serbia, and their ISO3 and UN regions.
    assert events.loc["2001", ["iso3", "gwno", "un_region"]].tolist() == ["YEM", 678, "Asia"]
    assert events.loc["3001", ["iso3", "gwno", "un_subregion"]].tolist() == [
        "SRB",
        345,
        "Southern Europe",
    ]
    assert events.loc["1002", "admin1"] == "Ségou region"
    assert pd.isna(events.loc["1002", "admin2"])
    assert events.loc["1001", "headline"] == "Clashes near Mopti"
    assert events.loc["1003", "location_precision"] == 4
    assert validate_events(parsed.events, "x") == []


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("ged251-csv.zip", ucdp.Release("ged", "25.1")),
        ("GEDEvent_v24_1.csv", ucdp.Release("ged", "24.1")),
        ("GEDEvent_v25_0_6.csv", ucdp.Release("candidate", "25.0.6")),
        ("GEDEvent_v26_0_12.csv", ucdp.Release("candidate", "26.0.12")),
        ("GEDEvent_v25_01_25_06.csv", ucdp.Release("candidate", "25.0.1-6")),
        ("ucdp_ged_v19_1_syria.csv.gz", ucdp.Release("ged", "19.1")),
        ("events.csv", None),
    ],
)
def test_release_from_file_name(name: str, release: ucdp.Release | None) -> None:
    assert ucdp.release_from_name(name) == release


def test_release_coverage_months() -> None:
    assert ucdp.Release("ged", "25.1").last_month == "2024-12"
    assert ucdp.Release("candidate", "25.0.6").last_month == "2025-06"
    assert ucdp.Release("candidate", "25.0.1-6").last_month == "2025-06"
    with pytest.raises(LoaderError, match="not a UCDP GED version"):
        ucdp.parse_release("25.0.13")


def test_candidate_without_header_row(tmp_path: Path) -> None:
    path = write_ged(tmp_path / "GEDEvent_v25_0_3.csv", ged_rows()[3:], header=False)
    parsed = ucdp.read_file(path)
    assert parsed.release == ucdp.Release("candidate", "25.0.3")
    assert parsed.events["iso3"].to_pylist() == ["YEM", "SRB"]
    assert parsed.row_offset == 1
    assert any("no header row" in n for n in parsed.notes)


def test_unknown_version_asks_for_it(tmp_path: Path) -> None:
    path = write_ged(tmp_path / "events.csv", ged_rows())
    with pytest.raises(LoaderError, match="pass --version"):
        ucdp.read_file(path)
    assert ucdp.read_file(path, version="23.1").release.version == "23.1"


def _bad(tmp_path: Path, row: int, **changes: str) -> Path:
    rows = ged_rows()
    rows[row].update(changes)
    return write_ged(tmp_path / "GEDEvent_v25_1.csv", rows)


@pytest.mark.parametrize(
    ("row", "changes", "where", "problem"),
    [
        (1, {"best": "-4"}, "row 3", "fatalities_best is negative"),
        (2, {"best": "many"}, "row 4, column best", "not a whole number: 'many'"),
        (0, {"low": "1.5"}, "row 2, column low", "not a whole number: '1.5'"),
        (
            3,
            {"date_start": "2024-02-30 00:00:00.000"},
            "row 5, column date_start",
            "not a valid date",
        ),
        (0, {"date_start": "2094-01-01"}, "row 2, column date_start", "impossible event date"),
        (0, {"date_end": "2023-12-01"}, "row 2", "date_end is before date_start"),
        (4, {"latitude": "95.2"}, "row 6", "latitude outside"),
        (4, {"longitude": "east"}, "row 6, column longitude", "not a number: 'east'"),
        (1, {"id": "1001"}, "row 2", "duplicate event id 'ucdp:1001'"),
        (1, {"id": ""}, "row 3", "event_id is missing"),
        (2, {"type_of_violence": "4"}, "row 4, column type_of_violence", "must be 1, 2 or 3"),
        (2, {"country": "Atlantis", "country_id": "999"}, "", "'Atlantis' (code 999)"),
    ],
)
def test_bad_values_name_row_column_and_problem(
    tmp_path: Path, row: int, changes: dict, where: str, problem: str
) -> None:
    path = _bad(tmp_path, row, **changes)
    with pytest.raises(LoaderError) as info:
        parsed = ucdp.read_file(path)
        validate_events(parsed.events, path.name, parsed.row_offset)
    message = str(info.value)
    assert message.startswith(f"GEDEvent_v25_1.csv{', ' + where if where else ''}:"), message
    assert problem in message


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "GEDEvent_v25_1.csv"
    path.write_text("id,country,best,year\n1,Mali,3,2020\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="missing columns type_of_violence, conflict_name"):
        ucdp.read_file(path)


def test_low_best_high_disorder_is_a_warning_not_a_refusal(tmp_path: Path) -> None:
    path = _bad(tmp_path, 0, low="9", best="8", high="10")
    parsed = ucdp.read_file(path)
    assert validate_events(parsed.events, "x") == [
        "1 events: fatalities not ordered low ≤ best ≤ high"
    ]
