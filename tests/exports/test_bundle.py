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
