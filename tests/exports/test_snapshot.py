"""Snapshots: the ranked view with provenance, JSON that regenerates to the same numbers."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

import loaders
from exports.changes import what_changed
from exports.snapshot import (
    FORMAT,
    SnapshotError,
    build_snapshot,
    compare,
    public_url,
    read_json,
    regenerate,
    selection_of,
)
from risk.forecast import risk_forecast
from tests.conftest import GLOBAL_GED, SMALL_GED, shared_data_dir
from tests.exports.conftest import SAHEL

SAHEL_ISO3 = {"BFA", "CMR", "TCD", "GMB", "GIN", "MLI", "MRT", "NER", "NGA", "SEN"}


def test_the_sahel_snapshot_ranks_its_ten_countries(sahel_snapshot) -> None:
    countries = sahel_snapshot.countries
    assert set(countries["iso3"]) == SAHEL_ISO3
    assert list(countries["iso3"][:2]) == ["NGA", "MLI"]
    assert list(countries["rank"]) == list(range(1, 11))
    assert countries["risk"].is_monotonic_decreasing
    assert sahel_snapshot.as_of == "2020-12"
    assert set(sahel_snapshot.monthly["iso3"]) == SAHEL_ISO3
    assert len(sahel_snapshot.monthly) == 10 * 15  # 15 months ahead per country
    assert set(sahel_snapshot.drivers["iso3"]) <= SAHEL_ISO3


def test_the_json_carries_filters_sources_model_and_citations(sahel_snapshot) -> None:
    payload = sahel_snapshot.to_json()
    assert payload["format"] == FORMAT
    assert payload["filters"] == {
        "query": {"region": "group:Sahel"},
        "description": "Sahel (Group) · all organised violence",
    }
    assert (payload["measure"], payload["measure_label"]) == ("all", "all organised violence")
    assert payload["risk_definition"].endswith("deaths from all organised violence, Jan–Mar 2021")
    (source,) = payload["sources"]
    raw = (shared_data_dir() / GLOBAL_GED).read_bytes()
    assert source["sha256"] == hashlib.sha256(raw).hexdigest()
    assert (source["label"], source["file"], source["url"]) == ("UCDP GED 21.1", GLOBAL_GED, None)
    assert source["last_date"] == "2020-12-31"
    assert "Organized violence 1989-2020" in payload["citations"][0]
    assert payload["model"]["seed"] == 0 and payload["model"]["threshold"] == 25
    nigeria = payload["countries"][0]
    row = sahel_snapshot.countries.iloc[0]
    assert nigeria["name"] == "Nigeria"
    assert nigeria["risk"] == pytest.approx(row["risk"])
    assert nigeria["expected_fatalities"] == pytest.approx(row["expected_fatalities"], abs=1e-6)
    assert nigeria["median_fatalities"] == pytest.approx(row["median_fatalities"], abs=1e-6)


def test_a_one_sided_snapshot_carries_that_measure_and_verifies(
    global_store: Path, tmp_path: Path
) -> None:
    chosen = dataclasses.replace(SAHEL, measure="one_sided")
    snapshot = build_snapshot(global_store, chosen)
    expected = risk_forecast(global_store, measure="one_sided").table.set_index("iso3")
    shown = snapshot.countries.set_index("iso3")
    for column in ("risk", "median_fatalities", "expected_fatalities", "fatalities_high"):
        assert shown[column].tolist() == expected.loc[shown.index, column].tolist()
    payload = read_json(snapshot.write_json(tmp_path / "one_sided.json"))
    assert payload["measure"] == "one_sided"
    assert payload["filters"]["query"] == {"region": "group:Sahel", "measure": "one_sided"}
    assert "deaths from one-sided violence against civilians" in payload["risk_definition"]
    assert "forecast of deaths from one-sided violence against civilians" in snapshot.footer
    again = regenerate(payload, global_store).to_json()
    assert again["measure"] == "one_sided"
    assert compare(payload, again) == []
    # The measure is among the inputs: the same filters of all organised violence differ.
    assert payload["inputs_sha256"] != build_snapshot(global_store, SAHEL).inputs_sha256


def test_snapshots_of_two_measures_are_not_compared_as_moves(sahel_snapshot) -> None:
    one_sided = sahel_snapshot.to_json() | {"measure": "one_sided"}
    with pytest.raises(SnapshotError, match="counts one-sided violence against civilians"):
        what_changed(one_sided, sahel_snapshot)


def test_a_snapshot_made_before_measures_counts_state_based_deaths(sahel_snapshot) -> None:
    older = sahel_snapshot.to_json() | {"format": "article99-snapshot/1"}
    del older["measure"], older["measure_label"]
    assert read_json(json.dumps(older).encode())["format"] == "article99-snapshot/1"
    assert selection_of(older).measure == "state_based"


def test_the_json_names_no_local_path(sahel_snapshot, global_store: Path, tmp_path: Path) -> None:
    text = sahel_snapshot.write_json(tmp_path / "s.json").read_text(encoding="utf-8")
    for local in (str(global_store), str(shared_data_dir()), "/tmp/", "/work/", "/home/"):
        assert local not in text


def test_a_written_snapshot_regenerates_to_the_same_numbers(
    sahel_snapshot, global_store: Path, tmp_path: Path
) -> None:
    payload = read_json(sahel_snapshot.write_json(tmp_path / "s.json"))
    again = regenerate(payload, global_store).to_json()
    assert compare(payload, again) == []
    assert again["table_sha256"] == payload["table_sha256"]
    assert again["inputs_sha256"] == payload["inputs_sha256"]


def test_compare_names_each_difference(sahel_snapshot) -> None:
    payload = sahel_snapshot.to_json()
    edited = copy.deepcopy(payload)
    edited["countries"][1]["risk"] = 0.5
    edited["countries"].pop()
    assert compare(payload, edited) == ["GMB is in only one snapshot", "MLI: risk differ"]
    edited["filters"]["query"] = {"region": "un:Africa"}
    edited["inputs_sha256"] = "0" * 64
    assert compare(payload, edited)[0] == "the inputs differ (sources, filters, month or model)"


def test_an_earlier_month_gives_different_inputs(sahel_snapshot, global_store: Path) -> None:
    earlier = build_snapshot(global_store, SAHEL, "2020-06")
    assert earlier.as_of == "2020-06"
    assert earlier.inputs_sha256 != sahel_snapshot.inputs_sha256


def test_regeneration_is_refused_without_the_same_files(sahel_snapshot, tmp_path: Path) -> None:
    other = tmp_path / "other"
    loaders.import_file(SMALL_GED, data_dir=other)
    with pytest.raises(SnapshotError, match=r"missing UCDP GED 21\.1 \(sha256 d50ad00"):
        regenerate(sahel_snapshot.to_json(), other)


def test_countries_without_a_forecast_are_kept_unranked(sahel_snapshot, global_store) -> None:
    forecast = copy.copy(sahel_snapshot.forecast)
    table = forecast.table.copy()
    mali = table["iso3"] == "MLI"
    table.loc[mali, ["status", "reason"]] = ["insufficient data", "fewer than 12 months"]
    table.loc[mali, "risk"] = float("nan")
    forecast.table = table.sort_values("risk", ascending=False, na_position="last")
    snapshot = build_snapshot(global_store, SAHEL, forecast=forecast)
    unranked = snapshot.countries[snapshot.countries["status"] != "ok"]
    assert list(unranked["iso3"]) == ["MLI"] and unranked["rank"].isna().all()
    assert list(snapshot.ranked["rank"]) == list(range(1, 10))
    assert list(snapshot.ranked["iso3"][:2]) == ["NGA", "CMR"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not a readable JSON snapshot"),
        (b'{"format": "other"}', "not an Article 99 snapshot"),
        (json.dumps({"format": FORMAT, "as_of": "2020-12"}).encode(), "lacks filters, sources"),
    ],
)
def test_bad_snapshot_files_are_named(content: bytes, message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        read_json(content)


def test_a_snapshot_with_unknown_filters_is_refused(sahel_snapshot, global_store: Path) -> None:
    payload = sahel_snapshot.to_json()
    payload["filters"]["query"] = {"region": "group:Atlantis"}
    with pytest.raises(SnapshotError, match="unknown region: group:Atlantis"):
        regenerate(payload, global_store)


@pytest.mark.parametrize(
    ("origin", "url"),
    [
        ("https://user:secret@ucdp.uu.se/downloads/ged/ged211-csv.zip?token=abc",
         "https://ucdp.uu.se/downloads/ged/ged211-csv.zip"),
        ("http://127.0.0.1:8000/api/gedevents/21.1?page=0", "http://127.0.0.1:8000/api/gedevents/21.1"),
        ("/home/analyst/Downloads/ged.csv", None),
        ("C:\\Users\\me\\ged.csv", None),
        ("", None),
    ],
)  # fmt: skip
def test_public_urls_lose_credentials_and_queries(origin: str, url: str | None) -> None:
    assert public_url(origin) == url


def test_attribution_for_acled_is_added(sahel_snapshot) -> None:
    acled = {**sahel_snapshot.sources[0], "source": "acled", "citation": "ACLED (2026)."}
    both = dataclasses.replace(sahel_snapshot, sources=[*sahel_snapshot.sources, acled])
    assert both.citations[-1] == "Armed Conflict Location & Event Data (ACLED); www.acleddata.com"
