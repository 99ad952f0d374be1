"""ACLED exports into canonical events: the mapping rules, the real files, refusals, the panel."""

from __future__ import annotations

import csv
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
    ("row", "changes", "where", "problem"),
    [
        (1, {"event_date": "31 February 2023"}, "row 3, column event_date", "not a valid date"),
        (0, {"event_date": "2094-01-01"}, "row 2, column event_date", "impossible event date"),
        (2, {"fatalities": "several"}, "row 4, column fatalities", "not a whole number"),
        (3, {"fatalities": "-1"}, "row 5", "fatalities_best is negative"),
        (4, {"event_type": "Skirmish"}, "row 6, column event_type", "event_type is not one of"),
        (0, {"inter1": "Pirates"}, "row 2, column inter1", "not an ACLED actor type"),
        (1, {"event_id_cnty": "MLI101"}, "row 2", "duplicate event id 'acled:MLI101'"),
        (5, {"latitude": "north"}, "row 7, column latitude", "not a number"),
        (2, {"country": "Atlantis", "iso": "999"}, "", "country not in the reference: 'Atlantis'"),
    ],
)
def test_bad_values_name_row_column_and_problem(
    tmp_path: Path, row: int, changes: dict, where: str, problem: str
) -> None:
    path = _bad(tmp_path, row, **changes)
    with pytest.raises(LoaderError) as info:
        parsed = acled.read_file(path)
        validate_events(parsed.events, path.name, parsed.row_offset)
    message = str(info.value)
    assert message.startswith(f"acled_bad.csv{', ' + where if where else ''}:"), message
    assert problem in message


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
    assert record.provenance["rows"] == len(raw) == len(events)
    assert record.provenance["fatalities_best"] == fatalities == events["fatalities_best"].sum()
    assert record.provenance["licence"] == acled.LICENCE
    assert record.provenance["warnings"] == []
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


def test_problem_in_a_later_block_names_its_row_and_whole_file_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A bad value found while streaming sends the file to the whole-file reader, so the row
    is the file's and the count covers every block, not the block the problem was met in."""
    monkeypatch.setattr(acled, "BLOCK_BYTES", 4 << 10)
    rows = [
        r | {"event_id_cnty": f"{r['event_id_cnty']}-{copy}"}
        for copy in range(40)
        for r in _rows(CURRENT)
    ]
    rows[250]["fatalities"] = "several"
    rows[300]["fatalities"] = "many"
    path = _write(tmp_path / "acled_long.csv", rows)
    assert acled._read_streamed(acled._stream_plan(path, None), None) is None
    with pytest.raises(LoaderError) as info:
        acled.read_file(path)
    assert str(info.value) == (
        "acled_long.csv, row 252, column fatalities: not a whole number: 'several' (2 rows in all)"
    )


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
