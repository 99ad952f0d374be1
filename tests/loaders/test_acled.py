"""ACLED exports into canonical events: the mapping rules, the real files, refusals, the panel."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd
import pytest

import loaders
from loaders import acled, ucdp
from loaders.errors import LoaderError
from loaders.schema import EVENT_SCHEMA, validate_events
from risk.panel import country_month_panel
from tests.conftest import FIXTURES, SMALL_GED, tree_digest

CURRENT = FIXTURES / "acled_current_small.csv"
OLD = FIXTURES / "acled_old_small.csv"

# The real ACLED event files in the shared folder (never copied into the repo).
SHARED_EVENT_FILES = (
    "acled_benin_2009_2022.csv",
    "acled_burkina_faso_2019_2022_reduced_columns.csv.gz",
    "acledR_acled_old_dummy_argentina_326.csv",
    "acledR_acled_old_deletion_dummy_9000.csv.gz",
)
HDX_FILES = (
    "hdx_hapi_conflict_event_global_1997-01.csv.gz",
    "hdx_hapi_conflict_event_global_2025-01.csv.gz",
)


def test_current_format_mapping_rules() -> None:
    parsed = acled.read_file(CURRENT)
    events = parsed.events.to_pandas().set_index("source_event_id")
    assert parsed.events.schema == EVENT_SCHEMA
    assert validate_events(parsed.events, "x") == []
    assert events.loc["MLI101", "event_id"] == "acled:MLI101"
    assert set(events["source"]) == {"acled"} and set(events["dataset"]) == {"export"}
    # The latest timestamp, 1700003500, is 2023-11-14 (UTC).
    assert parsed.release == acled.Release("export", "2023-11-14")
    assert set(events["source_version"]) == {"2023-11-14"}
    assert events.loc["MLI101", "date_start"].isoformat() == "2023-03-03"
    assert events.loc["MLI107", "date_start"].isoformat() == "2023-03-10"  # ISO date in the file
    assert (events["date_start"] == events["date_end"]).all()
    expected_violence = {
        "MLI101": "state-based",  # Battles, inter1 = 1 (State Forces)
        "MLI102": "non-state",  # Battles, inter 4 vs 2
        "MLI103": "one-sided",  # Violence against civilians
        "MLI104": None,  # Protests, even with state forces involved and deaths
        "MLI105": None,  # Explosions/Remote violence: not mapped
        "MLI106": None,  # Riots
        "XKX201": None,  # Protests
        "MLI107": None,  # Strategic developments
    }
    got = events["violence_type"].astype(object).where(events["violence_type"].notna(), None)
    assert got.to_dict() == expected_violence
    assert events.loc["MLI104", "source_category"] == "Protests: Excessive force against protesters"
    assert events.loc["MLI104", "fatalities_best"] == 2
    assert events["fatalities_low"].isna().all() and events["fatalities_high"].isna().all()
    # Only the row flagged "Civilian targeting" has civilian deaths.
    assert events["civilian_deaths"].dropna().to_dict() == {"MLI103": 4}
    assert events.loc["MLI101", ["iso3", "gwno", "un_region"]].tolist() == ["MLI", 432, "Africa"]
    assert events.loc["XKX201", "iso3"] == "XKX"  # ACLED's iso 0: resolved by name
    assert events.loc["MLI101", ["admin1", "admin2"]].tolist() == ["Mopti", "Djenne"]
    assert events.loc["MLI107", "location_precision"] == 3
    assert events.loc["MLI101", "latitude"] == pytest.approx(14.012)
    assert events.loc["MLI101", "side_b"] == "JNIM: Group for Support of Islam and Muslims"
    assert pd.isna(events.loc["MLI107", "side_b"])  # "NA" in the file is missing
    headline = events.loc["MLI106", "headline"]
    assert len(headline) <= acled.HEADLINE_CHARS and headline.endswith("…")
    assert parsed.coverage() == {
        "first_month": "2023-03",
        "last_month": "2023-03",
        "countries": ["MLI", "XKX"],
        "first_day": "2023-03-03",
        "last_day": "2023-03-10",
        "by_country": {"MLI": ["2023-03-03", "2023-03-10"], "XKX": ["2023-03-09", "2023-03-09"]},
    }
    provenance = parsed.provenance()
    assert provenance["licence"] == acled.LICENCE
    assert "Introducing ACLED" in provenance["citation"]
    assert "Journal of Peace Research 47(5)" in provenance["citation"]
    assert provenance["attribution"] == (
        "Armed Conflict Location & Event Data (ACLED); www.acleddata.com"
    )


def test_old_upper_case_format() -> None:
    parsed = acled.read_file(OLD)
    events = parsed.events.to_pandas().set_index("source_event_id")
    assert validate_events(parsed.events, "x") == []
    assert events.loc["NIG501", "date_start"].isoformat() == "2018-05-09"  # "9-May-18"
    assert events["violence_type"].tolist()[:3] == ["state-based", "non-state", "one-sided"]
    assert pd.isna(events.loc["NIG504", "violence_type"])
    assert set(events["iso3"]) == {"NER"}
    assert events["civilian_deaths"].isna().all()  # no civilian_targeting column: never guessed
    assert events["fatalities_best"].sum() == 13


def test_version_argument_is_the_export_date() -> None:
    assert acled.read_file(CURRENT, version="2024-01-31").release.version == "2024-01-31"
    with pytest.raises(LoaderError, match="not an ACLED export date"):
        acled.read_file(CURRENT, version="25.1")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _bad(tmp_path: Path, row: int, **changes: str) -> Path:
    rows = _rows(CURRENT)
    rows[row].update(changes)
    return _write(tmp_path / "acled_bad.csv", rows)


@pytest.mark.parametrize(
    ("row", "changes", "column", "problem", "cell"),
    [
        (1, {"event_date": "31 February 2023"}, "event_date", "not a valid date",
         "31 February 2023"),
        (0, {"event_date": "2094-01-01"}, "event_date", "impossible event date", "2094-01-01"),
        (1, {"event_date": ""}, "event_date", "missing", None),
        (2, {"fatalities": "several"}, "fatalities", "not a whole number", "several"),
        (3, {"fatalities": "-1"}, "fatalities", "negative", "-1"),
        (3, {"fatalities": ""}, "fatalities", "missing", None),
        (4, {"event_type": "Skirmish"}, "event_type", "event_type is not one of", "Skirmish"),
        (0, {"inter1": "Pirates"}, "inter1", "not an ACLED actor type", "Pirates"),
        (1, {"event_id_cnty": "MLI101"}, "event_id_cnty", "duplicate event id", "acled:MLI101"),
        (1, {"event_id_cnty": ""}, "event_id_cnty", "missing, and no data_id", None),
        (5, {"latitude": "north"}, "latitude", "not a number", "north"),
        (5, {"longitude": "200.5"}, "longitude", "outside -180…180", "200.5"),
        (2, {"country": "Atlantis", "iso": "999"}, "country", "not in the country reference",
         "Atlantis"),
        (2, {"timestamp": "99999999999"}, "timestamp", "a Unix time in the future",
         "99999999999"),
    ],
)  # fmt: skip
def test_bad_rows_are_set_aside_with_row_column_and_problem(
    tmp_path: Path, store_dir: Path, row: int, changes: dict, column: str, problem: str, cell
) -> None:
    """The reader sets the row aside (the others are read); the import refuses the file, as
    one bad row in eight is over the limit, naming the row, the column and the cell."""
    path = _bad(tmp_path, row, **changes)
    parsed = acled.read_file(path)
    assert parsed.rejected.rows == [row + 2]
    assert parsed.rejected.columns == [column]
    assert problem in parsed.rejected.problems[0]
    assert parsed.events.num_rows == 7
    assert validate_events(parsed.events, path.name) == []
    with pytest.raises(LoaderError) as info:
        loaders.import_file(path, source="acled", data_dir=store_dir)
    message = str(info.value)
    assert message.startswith(f"acled_bad.csv, row {row + 2}, column {column}: "), message
    assert problem in message
    assert (f": {cell!r}; " if cell else "; ") in message
    assert message.endswith(
        "; 1 of 8 rows fail blocking checks, more than can be set aside (1% of the rows and "
        "at most 1,000)"
    ), message
    assert tree_digest(store_dir) == {}


def test_missing_column_is_named(tmp_path: Path) -> None:
    rows = _rows(CURRENT)
    path = _write(tmp_path / "acled.csv", rows, [c for c in rows[0] if c != "fatalities"])
    with pytest.raises(LoaderError, match="not an ACLED events file: missing columns fatalities"):
        acled.read_file(path)


def test_deletion_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deleted.csv"
    path.write_text("event_id_cnty,deleted_timestamp\nMLI101,1700000000\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="list of deleted ACLED events"):
        acled.read_file(path)


def test_hdx_aggregate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hdx_hapi_conflict_event_invented.csv"
    path.write_text(
        "\ufefflocation_code,has_hrp,in_gho,admin_level,event_type,events,fatalities,"
        "reference_period_start,reference_period_end\n"
        "MLI,Y,Y,0,political_violence,12,30,2024-01-01,2024-01-31\n",
        encoding="utf-8",
    )
    for reader in (acled.read_file, ucdp.read_file):
        with pytest.raises(LoaderError, match="aggregate") as info:
            reader(path)
        assert "not" in str(info.value)


def test_each_source_names_the_other(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="UCDP GED events file; import it with --source ucdp"):
        acled.read_file(SMALL_GED)
    with pytest.raises(LoaderError, match="ACLED events file; import it with --source acled"):
        ucdp.read_file(CURRENT)


def test_failed_import_leaves_store_unchanged(tmp_path: Path, store_dir: Path) -> None:
    loaders.import_file(CURRENT, source="acled", data_dir=store_dir)
    before = tree_digest(store_dir)
    with pytest.raises(LoaderError):
        loaders.import_file(
            _bad(tmp_path, 0, event_date="yesterday"), source="acled", data_dir=store_dir
        )
    assert tree_digest(store_dir) == before


def test_cli_accepts_source_acled(store_dir: Path, capsys: pytest.CaptureFixture) -> None:
    from loaders.cli import main

    assert main(["import", str(CURRENT), "--source", "acled", "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert (
        "Imported ACLED export 2023-11-14 from acled_current_small.csv: 8 events, 27 deaths" in out
    )


def test_the_forecast_panel_reads_ucdp_only_unless_told(tmp_path: Path, store_dir: Path) -> None:
    """An ACLED import never changes the UCDP panel the forecast reads: summing both sources
    would count an incident both record twice. `sources=` chooses; protests, riots, explosions
    and strategic developments (null violence_type) never enter any panel.
    """
    rows = [r | {"event_date": "4 January 2024"} for r in _rows(CURRENT)]
    acled_file = _write(tmp_path / "acled_mali_jan_2024.csv", rows)
    loaders.import_file(SMALL_GED, source="ucdp", data_dir=store_dir)
    loaders.import_file(acled_file, source="acled", data_dir=store_dir)
    events = loaders.load_events(store_dir)
    assert sorted(events["source"].value_counts().items()) == [("acled", 8), ("ucdp", 5)]

    def mali_january_2024(sources: list[str] | None) -> pd.Series:
        panel = country_month_panel(store_dir, start="2024-01", end="2024-01", sources=sources)
        return panel.set_index("iso3").loc["MLI"]

    # UCDP: one state-based event with 8 deaths in Mali, January 2024, by default too.
    assert mali_january_2024(["ucdp"])["fatalities_total"] == 8
    default = country_month_panel(store_dir, start="2024-01", end="2024-01")
    assert default.set_index("iso3").loc["MLI", "fatalities_total"] == 8
    # ACLED: battles 9 (state forces) + 5 (militias), attack 4; the protest's 2, the air
    # strike's 6 and the riot's 1 are not counted.
    only_acled = mali_january_2024(["acled"])
    assert only_acled[["fatalities_state_based", "fatalities_non_state"]].tolist() == [9, 5]
    assert only_acled["fatalities_one_sided"] == 4
    mixed = mali_january_2024(None)  # all sources: only on explicit request
    assert mixed["fatalities_state_based"] == 8 + 9
    assert mixed["events_state_based"] == 2
    assert mixed["fatalities_total"] == 8 + 18


def _raw_frame(path: Path) -> pd.DataFrame:
    """The raw file read independently of the loader (pandas, text cells)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name", SHARED_EVENT_FILES)
def test_shared_files_import_with_raw_counts_and_totals(
    shared_data: Path, store_dir: Path, name: str
) -> None:
    path = shared_data / "acled" / name
    raw = _raw_frame(path)
    record = loaders.import_file(path, source="acled", data_dir=store_dir)
    events = loaders.load_events(store_dir)
    fatalities = pd.to_numeric(raw["fatalities"]).sum()
    assert record.provenance.rows == len(raw) == len(events)
    assert record.provenance.fatalities_best == fatalities == events["fatalities_best"].sum()
    assert record.provenance.licence == acled.LICENCE
    assert record.provenance.warnings == ()
    # Per event type, totals survive the mapping; only battles and attacks get a UCDP type.
    by_type = raw.assign(f=pd.to_numeric(raw["fatalities"])).groupby("event_type")["f"].sum()
    mapped = events.assign(t=events["source_category"].str.split(": ").str[0])
    assert mapped.groupby("t")["fatalities_best"].sum().to_dict() == by_type.to_dict()
    typed = events[events["violence_type"].notna()]
    assert set(typed["source_category"].str.split(": ").str[0]) <= {
        "Battles",
        "Violence against civilians",
    }
    assert events["iso3"].notna().all()
    if "inter1" in raw:
        battles = raw[raw["event_type"] == "Battles"]
        state = battles[(battles["inter1"] == "1") | (battles["inter2"] == "1")]
        got = events.set_index("source_event_id").loc[state["event_id_cnty"], "violence_type"]
        assert len(got) == len(state) and set(got) <= {"state-based"}
    else:  # reduced file: the actor types come from `interaction` (1x = state forces involved)
        battles = raw[raw["event_type"] == "Battles"]
        state = battles["interaction"].str.match(r"^1\d$")
        typed_battles = events[events["source_category"].str.startswith("Battles")]
        assert (typed_battles["violence_type"] == "state-based").sum() == state.sum() > 0
    protests = events[events["source_category"].str.startswith("Protests")]
    assert protests["violence_type"].isna().all()


def test_shared_benin_details(shared_data: Path) -> None:
    path = shared_data / "acled" / "acled_benin_2009_2022.csv"
    raw = _raw_frame(path)
    parsed = acled.read_file(path)
    events = parsed.events.to_pandas()
    assert set(events["iso3"]) == {"BEN"}
    targeted = raw[raw["civilian_targeting"] == "Civilian targeting"]
    assert events["civilian_deaths"].sum() == pd.to_numeric(targeted["fatalities"]).sum()
    assert events["civilian_deaths"].notna().sum() == len(targeted)
    latest = pd.to_numeric(raw["timestamp"]).max()
    assert parsed.release.version == pd.Timestamp(latest, unit="s").date().isoformat()


def test_shared_multi_country_file_resolves_every_country(shared_data: Path) -> None:
    path = shared_data / "acled" / "acledR_acled_old_deletion_dummy_9000.csv.gz"
    raw = _raw_frame(path)
    events = acled.read_file(path).events.to_pandas()
    assert events["iso3"].nunique() == raw["country"].nunique()
    assert (events["country"] == raw["country"]).all()
    assert events.loc[events["country"] == "Kosovo", "iso3"].unique().tolist() == ["XKX"]


@pytest.mark.parametrize("name", HDX_FILES)
def test_shared_hdx_aggregates_are_refused(shared_data: Path, store_dir: Path, name: str) -> None:
    """The events reader refuses them; the import takes them as aggregates (test_hapi.py)."""
    with pytest.raises(LoaderError, match="HDX HAPI conflict-event aggregate"):
        acled.read_file(shared_data / "acled" / name)
    assert tree_digest(store_dir) == {}


def _streamed(path: Path, version: str | None = None) -> acled.Parsed | None:
    plan = acled._stream_plan(path, version)
    assert plan is not None, f"{path.name} is not streamed"
    return acled._read_streamed(plan, version)


def _assert_same(streamed: acled.Parsed | None, whole: acled.Parsed) -> None:
    assert streamed is not None
    assert streamed.events.schema == EVENT_SCHEMA
    assert streamed.events.equals(whole.events)
    assert (streamed.release, streamed.notes, streamed.row_offset) == (
        whole.release,
        whole.notes,
        whole.row_offset,
    )


@pytest.mark.parametrize("block_bytes", [4 << 10, acled.BLOCK_BYTES])
@pytest.mark.parametrize("path", [CURRENT, OLD])
def test_streamed_blocks_equal_the_whole_file_reader(
    monkeypatch: pytest.MonkeyPatch, path: Path, block_bytes: int
) -> None:
    """The fast path changes nothing: events, release and notes as if the file were read whole,
    in one block or in many (4 KB blocks: dates, countries and timestamps met again later)."""
    monkeypatch.setattr(acled, "BLOCK_BYTES", block_bytes)
    _assert_same(_streamed(path), acled._read_whole(path, None))
    _assert_same(_streamed(path, "2024-01-31"), acled._read_whole(path, "2024-01-31"))


def test_acled_layout_is_streamed_others_read_whole(tmp_path: Path) -> None:
    assert acled._stream_plan(CURRENT, None) is not None
    assert acled._stream_plan(CURRENT, "25.1") is None  # the whole reader names the version
    semicolons = tmp_path / "acled_semicolons.csv"
    semicolons.write_text(CURRENT.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    assert acled._stream_plan(semicolons, None) is None
    assert acled._stream_plan(SMALL_GED, None) is None


def test_rows_set_aside_in_a_later_block_keep_their_file_row_numbers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The streamed path sets the same rows aside as the whole-file reader, numbered as in the
    file, not in the block they were met in; with more than may be set aside, or rows only the
    whole file can tell how to read, it hands the file over."""
    monkeypatch.setattr(acled, "BLOCK_BYTES", 4 << 10)
    rows = [
        r | {"event_id_cnty": f"{r['event_id_cnty']}-{copy}"}
        for copy in range(40)
        for r in _rows(CURRENT)
    ]
    rows[250]["fatalities"] = "several"
    rows[300]["fatalities"] = "many"
    path = _write(tmp_path / "acled_long.csv", rows)
    streamed, whole = _streamed(path), acled._read_whole(path, None)
    _assert_same(streamed, whole)
    for parsed in (streamed, whole):
        assert (parsed.rejected.rows, parsed.rejected.reasons, parsed.rejected.first_cell) == (
            [252, 302],
            ["fatalities: not a whole number"] * 2,
            "several",
        )
    assert "2 of 320 rows set aside by blocking checks" in streamed.notes[-1]
    for changes in (
        {"fatalities": "lots"},  # a third and fourth: over 1% of 320
        {"latitude": "14,5"},  # decimal commas: the whole file tells
        {"event_date": "13/03/2023"},  # a numeric date: the whole file tells its order
    ):
        changed = [dict(r) for r in rows]
        changed[100].update(changes)
        changed[101].update(changes)
        assert _streamed(_write(tmp_path / "acled_changed.csv", changed)) is None, changes


@pytest.mark.parametrize("name", SHARED_EVENT_FILES)
def test_shared_files_streamed_equal_whole(
    monkeypatch: pytest.MonkeyPatch, shared_data: Path, name: str
) -> None:
    monkeypatch.setattr(acled, "BLOCK_BYTES", 64 << 10)
    path = shared_data / "acled" / name
    if "reduced_columns" in name:  # no ids: they hash the whole file, so it is read whole
        assert acled._stream_plan(path, None) is None
        return
    streamed = _streamed(path)
    assert streamed is not None and streamed.events["event_id"].num_chunks > 1
    _assert_same(streamed, acled._read_whole(path, None))


# --- files as analysts have them: other layouts, spreadsheet re-saves, rows set aside --------

EXPORT_2020 = FIXTURES / "acled_2020_export_missing_id.csv"
FRENCH_2020 = FIXTURES / "acled_2020_export_french_excel.csv"
API_2021 = FIXTURES / "acled_2021_api_iso_dates.csv"
LIBYA_IDS = [
    "acled:LBY9001",
    "acled:LBY9002",
    "acled:data-7101003",  # no event_id_cnty in the file: ACLED's data_id stands in
    "acled:LBY9004",
    "acled:LBY9005",
    "acled:LBY9006",
]


def test_2020_export_row_without_event_id_takes_its_data_id() -> None:
    parsed = acled.read_file(EXPORT_2020)
    events = parsed.events.to_pandas()
    assert events["event_id"].tolist() == LIBYA_IDS
    assert events["source_event_id"][2] == "data-7101003"
    assert parsed.rejected.rows == []
    assert "1 row has no event_id_cnty: its id is ACLED's data_id" in parsed.notes[0]
    dates = events["date_start"].astype(str).tolist()
    assert dates == [
        "2020-05-09",
        "2020-05-10",
        "2020-05-10",
        "2020-05-13",
        "2020-05-21",
        "2020-05-25",
    ]
    assert events["fatalities_best"].sum() == 13


def test_2021_api_file_with_iso_timestamps_and_extra_columns() -> None:
    parsed = acled.read_file(API_2021)
    events = parsed.events.to_pandas()
    # The day as written, whatever the time part: Z, an offset, a space, milliseconds.
    assert events["date_start"].astype(str).tolist() == [
        "2021-01-02",
        "2021-01-02",
        "2021-01-03",
        "2021-01-04",
        "2021-01-05",
    ]
    assert parsed.release.version == "2021-01-21"  # the latest ISO `timestamp`
    assert events["fatalities_best"].sum() == 118
    assert events["violence_type"].tolist()[:3] == ["one-sided", "one-sided", "state-based"]
    assert events["civilian_deaths"].sum() == 105
    assert set(events["iso3"]) == {"NER"}
    assert acled._stream_plan(API_2021, None) is not None  # still ACLED's own fast layout
    assert acled._read_streamed(acled._stream_plan(API_2021, None), None) is not None


def test_french_spreadsheet_resave_reads_as_the_original() -> None:
    original = acled.read_file(EXPORT_2020)
    resaved = acled.read_file(FRENCH_2020)
    assert resaved.rejected.rows == []
    notes = " | ".join(resaved.notes)
    for detected in (
        "separator semicolon detected",
        "decimal commas detected in latitude and longitude",
        "event_date read as day/month/year (dates such as '13/05/2020' show it)",
        "1 row has no event_id_cnty",
    ):
        assert detected in notes
    assert "encoding cp1252 detected (not UTF-8)" in notes
    same = ["event_id", "date_start", "latitude", "longitude", "fatalities_best", "iso3"]
    assert resaved.events.select(same).equals(original.events.select(same))
    assert resaved.events["side_a"][3].as_py() == "Protesters (Libya) – étudiants de Zaouïa"


def _numeric_dates(tmp_path: Path, dates: list[str]) -> Path:
    rows = _rows(CURRENT)
    for row, date in zip(rows, dates, strict=False):
        row["event_date"] = date
    return _write(tmp_path / "acled_numeric_dates.csv", rows)


def test_numeric_dates_need_a_day_or_month_above_12(tmp_path: Path) -> None:
    month_first = acled.read_file(_numeric_dates(tmp_path, ["03/13/2023", "03/04/2023"]))
    assert month_first.events["date_start"][1].as_py().isoformat() == "2023-03-04"
    assert "month/day/year (dates such as '03/13/2023' show it)" in " ".join(month_first.notes)
    day_first = acled.read_file(_numeric_dates(tmp_path, ["13.03.2023", "04.03.2023"]))
    assert day_first.events["date_start"][1].as_py().isoformat() == "2023-03-04"
    with pytest.raises(LoaderError) as info:
        acled.read_file(_numeric_dates(tmp_path, ["03/04/2023", "04/03/2023"]))
    assert str(info.value) == (
        "acled_numeric_dates.csv, column event_date: numeric dates such as '03/04/2023' could "
        "be day/month/year or month/day/year, and no day above 12 tells which; save event_date "
        "as YYYY-MM-DD (e.g. 2020-05-09) and import again"
    )


def test_real_benin_export_resaved_by_a_french_spreadsheet(
    shared_data: Path, tmp_path: Path, store_dir: Path
) -> None:
    """cp1252, `;`, decimal commas and dd/mm/yyyy: the same events, deaths and coordinates."""
    path = shared_data / "acled" / "acled_benin_2009_2022.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        date = pd.Timestamp(row["event_date"])
        row["event_date"] = f"{date:%d/%m/%Y}"
        row["latitude"] = row["latitude"].replace(".", ",")
        row["longitude"] = row["longitude"].replace(".", ",")
    resaved = tmp_path / "acled_benin_excel_fr.csv"
    with resaved.open("w", encoding="cp1252", errors="replace", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    first = loaders.import_file(path, source="acled", data_dir=store_dir / "a").provenance
    second = loaders.import_file(resaved, source="acled", data_dir=store_dir / "b").provenance
    assert second.rejected_rows == first.rejected_rows == 0
    assert (second.rows, second.fatalities_best) == (first.rows, first.fatalities_best)
    assert (second.rows, second.version) == (811, first.version)
    columns = ["event_id", "date_start", "fatalities_best", "latitude", "longitude", "iso3"]
    a = loaders.load_events(store_dir / "a")[columns]
    b = loaders.load_events(store_dir / "b")[columns]
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def _many(tmp_path: Path, copies: int = 25, **bad: dict[str, str]) -> Path:
    """CURRENT repeated with unique ids (8 × copies rows); `bad` maps a row index to changes."""
    rows = [
        r | {"event_id_cnty": f"{r['event_id_cnty']}-{copy}"}
        for copy in range(copies)
        for r in _rows(CURRENT)
    ]
    for index, changes in bad.items():
        rows[int(index.lstrip("r"))].update(changes)
    return _write(tmp_path / "acled_many.csv", rows)


def test_few_bad_rows_are_set_aside_beside_the_raw_file(tmp_path: Path, store_dir: Path) -> None:
    path = _many(
        tmp_path,
        r10={"event_date": "yesterday"},
        r150={"fatalities": "=1+1", "notes": "-cmd|' /C calc'!A0"},
    )
    record = loaders.import_file(path, source="acled", data_dir=store_dir)
    p = record.provenance
    assert (p.rows, p.rejected_rows, p.rejects_file) == (
        198,
        2,
        "acled_many.csv.rejects.csv",
    )
    rejects = record.folder / "raw" / "acled_many.csv.rejects.csv"
    assert p.rejects_sha256 == hashlib.sha256(rejects.read_bytes()).hexdigest()
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert [(r["row"], r["reason"]) for r in listed] == [
        ("12", "event_date: not a valid date (28 December 2022, 2022-12-28 or 28-Dec-22)"),
        ("152", "fatalities: not a whole number"),
    ]
    assert list(listed[0])[2:] == list(_rows(CURRENT)[0])  # the file's own columns follow
    assert listed[0]["event_id_cnty"] == "MLI103-1" and listed[0]["event_date"] == "yesterday"
    assert listed[1]["fatalities"] == "'=1+1"  # spreadsheet formulas made inert
    assert listed[1]["notes"] == "'-cmd|' /C calc'!A0"
    assert listed[1]["assoc_actor_1"] == "NA"  # cells as read, not as interpreted
    assert "2 of 200 rows set aside by blocking checks" in " ".join(p.notes)
    assert len(loaders.load_events(store_dir)) == 198


def test_too_many_bad_rows_refuse_the_file_and_keep_the_store(
    tmp_path: Path, store_dir: Path
) -> None:
    loaders.import_file(CURRENT, source="acled", data_dir=store_dir)
    before = tree_digest(store_dir)
    path = _many(
        tmp_path, r7={"event_type": "Skirmish"}, r20={"latitude": "95"}, r30={"fatalities": "-3"}
    )
    with pytest.raises(LoaderError) as info:
        loaders.import_file(path, source="acled", data_dir=store_dir)
    assert str(info.value) == (
        "acled_many.csv, row 9, column event_type: event_type is not one of Battles, Violence "
        "against civilians, Explosions/Remote violence, Protests, Riots, Strategic "
        "developments: 'Skirmish'; 3 of 200 rows fail blocking checks, more than can be set "
        "aside (1% of the rows and at most 1,000)"
    )
    assert tree_digest(store_dir) == before


def test_strict_import_refuses_a_single_bad_row(tmp_path: Path, store_dir: Path) -> None:
    path = _many(tmp_path, r3={"fatalities": "many"})
    with pytest.raises(LoaderError, match="1 of 200 rows fail blocking checks, a strict import"):
        loaders.import_file(path, source="acled", data_dir=store_dir, strict=True)
    assert tree_digest(store_dir) == {}
    assert (
        loaders.import_file(path, source="acled", data_dir=store_dir).provenance.rejected_rows == 1
    )


def test_limits_are_one_percent_and_a_thousand_rows() -> None:
    from loaders.convert import Rejected

    def refused(bad: int, total: int) -> bool:
        rows = list(range(2, bad + 2))
        rejected = Rejected("f.csv", total, rows, ["c"] * bad, ["p"] * bad, "x", "utf-8", ",", True)
        return rejected.refusal() is not None

    assert not refused(1, 100) and refused(2, 100)
    assert not refused(1_000, 200_000) and refused(1_001, 200_000)
    assert refused(1, 99)


@pytest.mark.parametrize(
    ("name", "rows", "rejected"),
    [
        ("acled_benin_2009_2022.csv", 811, 0),
        ("acled_burkina_faso_2019_2022_reduced_columns.csv.gz", 4_999, 0),
        ("acledR_acled_old_dummy_argentina_326.csv", 326, 0),
        # Events (31 columns) in an older version, not a list of deletions: imported.
        ("acledR_acled_old_deletion_dummy_9000.csv.gz", 9_000, 0),
        ("hdx_hapi_conflict_event_global_1997-01.csv.gz", 6_000, 0),  # aggregates
        ("hdx_hapi_conflict_event_global_2025-01.csv.gz", 14_373, 0),
    ],
)
def test_shared_acled_files_reject_counts(
    shared_data: Path, store_dir: Path, name: str, rows: int, rejected: int
) -> None:
    p = loaders.import_file(shared_data / "acled" / name, source="acled", data_dir=store_dir)
    assert (p.provenance.rows, p.provenance.rejected_rows) == (rows, rejected)
