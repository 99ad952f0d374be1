"""Every format at once: the files a briefing takes away, none holding a path or a secret."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from exports import bundle
from exports.changes import what_changed
from exports.snapshot import build_snapshot
from loaders import reference
from risk.selection import from_query
from tests.conftest import shared_data_dir
from tests.exports.conftest import SAHEL

SECRET = "s3cr3t-token-value-0042"


@pytest.fixture(scope="module")
def files(global_store: Path, sahel_snapshot) -> dict[str, bytes]:
    earlier = build_snapshot(global_store, SAHEL, "2020-06").to_json()
    moved = what_changed(earlier, sahel_snapshot)
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("UCDP_API_TOKEN", "ACLED_PASSWORD", "ACLED_API_KEY"):
            patch.setenv(variable, SECRET)
        return bundle.export_files(sahel_snapshot, bundle.FORMATS, changes=moved)


def _texts(name: str, data: bytes) -> list[bytes]:
    """The file's bytes, and every part of it when it is a zip (xlsx, pptx)."""
    if name.endswith((".xlsx", ".pptx")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [archive.read(part) for part in archive.namelist()]
    return [data]


def test_every_format_is_there(files: dict[str, bytes]) -> None:
    stem = "article99_sahel-group-all-organised-violence_2020-12"
    assert {f"{stem}.{ext}" for ext in ("csv", "xlsx", "pdf", "pptx", "json")} <= set(files)
    charts = sorted(n for n in files if n.startswith("charts/"))
    assert len(charts) == 2 * 11  # the map and ten fan charts, PNG and SVG
    assert files["charts/risk_map.png"].startswith(b"\x89PNG")
    assert b"<svg" in files["charts/forecast_NGA.svg"][:400]
    assert json.loads(files[f"{stem}.json"])["countries"][0]["name"] == "Nigeria"
    assert files[f"{stem}_prevention_gap.csv"].startswith(b"ISO3,Country,Risk,Why listed")


def test_the_json_carries_the_gap_and_the_reference_tables(
    files: dict[str, bytes], sahel_snapshot, sahel_gap
) -> None:
    payload = json.loads(files["article99_sahel-group-all-organised-violence_2020-12.json"])
    gap = payload["prevention_gap"]
    assert [row["iso3"] for row in gap["countries"]] == list(sahel_gap["iso3"])
    assert gap["rule"] == sahel_snapshot.gap_rule and gap["presence_on"] == "2020-12-31"
    assert gap["cost_of_waiting"] == sahel_snapshot.cost_of_waiting
    tables = {t["table"]: t for t in payload["reference_tables"]}
    assert sorted(tables) == sorted(reference.NAMES)
    for name, table in tables.items():
        info = reference.info(name, sahel_snapshot.data_dir)
        assert (table["file"], table["as_of"]) == (f"{name}.csv", f"{info.as_of:%Y-%m-%d}")
        assert table["sources"] and all(url.startswith("http") for url in table["sources"])
    mali = next(row for row in payload["countries"] if row["iso3"] == "MLI")
    assert "MINUSMA" in mali["un_presence"]


def test_a_membership_group_names_the_files_and_their_filters(global_store: Path) -> None:
    snapshot = build_snapshot(global_store, from_query({"region": "org:ECOWAS"}))
    files = bundle.export_files(snapshot, ["json", "csv"])
    (name,) = [n for n in files if n.endswith(".json")]
    assert "ecowas" in name
    payload = json.loads(files[name])
    assert payload["filters"]["query"]["region"] == "org:ECOWAS"
    assert "ECOWAS" in payload["filters"]["description"]
    assert payload["filters"]["description"] == snapshot.selection.describe()


def test_no_export_holds_a_local_path_or_a_secret(
    files: dict[str, bytes], global_store: Path
) -> None:
    forbidden = [str(global_store), str(shared_data_dir()), "/tmp/", "/work/", "/home/", SECRET]
    for name, data in files.items():
        for part in _texts(name, data):
            for text in forbidden:
                assert text.encode() not in part, (name, text)


def test_the_zip_holds_every_file(files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(bundle.zip_files(files))) as archive:
        assert sorted(archive.namelist()) == sorted(files)


def test_formats_are_checked() -> None:
    assert bundle.parse_formats("json, CSV") == ["csv", "json"]
    with pytest.raises(ValueError, match="unknown export format docx"):
        bundle.parse_formats("docx")
