"""Uploads: the same import as the CLI, with a size limit and a safe file name."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import loaders
from loaders.errors import LoaderError
from loaders.uploads import MAX_UPLOAD_MB, import_upload, safe_name
from tests.conftest import FIXTURES, SMALL_GED, tree_digest


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("GEDEvent_v25_1.csv", "GEDEvent_v25_1.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\GEDEvent_v25_1.csv", "GEDEvent_v25_1.csv"),
        ("ged 25.1 (final).csv", "ged_25.1_final_.csv"),
        ("..", "upload.csv"),
    ],
)
def test_safe_names(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def test_upload_imports_like_the_cli(store_dir: Path) -> None:
    data = SMALL_GED.read_bytes()
    record = import_upload(
        "GEDEvent_v25_1.csv", io.BytesIO(data), size=len(data), data_dir=store_dir
    )
    assert record.provenance.rows == 5
    assert record.provenance.origin == "uploaded file GEDEvent_v25_1.csv"
    assert len(loaders.load_events(store_dir)) == 5
    assert not list((store_dir / "uploads").iterdir())


def test_too_large_empty_and_bad_uploads_change_nothing(store_dir: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    before = tree_digest(store_dir)
    with pytest.raises(LoaderError, match=f"over the {MAX_UPLOAD_MB} MB upload limit"):
        import_upload(
            "big.csv", io.BytesIO(b""), size=(MAX_UPLOAD_MB + 1) << 20, data_dir=store_dir
        )
    with pytest.raises(LoaderError, match="the file is empty"):
        import_upload("GEDEvent_v25_1.csv", io.BytesIO(b""), size=0, data_dir=store_dir)
    workbook = b"PK\x03\x04" + b"\x00" * 100
    with pytest.raises(LoaderError, match="damaged or truncated"):
        import_upload("GEDEvent_v25_1.csv", io.BytesIO(workbook), size=104, data_dir=store_dir)
    after = {k: v for k, v in tree_digest(store_dir).items() if not k.startswith("uploads")}
    assert after == before


def _acled_with_one_bad_row_in_200() -> bytes:
    lines = (FIXTURES / "acled_current_small.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.replace("MLI10", f"MLI{copy}-", 1).replace("XKX20", f"XKX{copy}-", 1)
            for copy in range(25) for line in lines[1:]]  # fmt: skip
    rows[9] = rows[9].replace(",5,NA,1700000500", ",five,NA,1700000500")
    return ("\n".join([lines[0], *rows]) + "\n").encode()


def test_upload_sets_a_bad_row_aside_or_refuses_it_when_strict(store_dir: Path) -> None:
    data = _acled_with_one_bad_row_in_200()
    with pytest.raises(LoaderError, match="row 11, column fatalities: not a whole number: 'five'"):
        import_upload("acled.csv", io.BytesIO(data), size=len(data), source="acled",
                      data_dir=store_dir, strict=True)  # fmt: skip
    assert loaders.load_events(store_dir).empty
    record = import_upload(
        "acled.csv", io.BytesIO(data), size=len(data), source="acled", data_dir=store_dir
    )
    assert (record.provenance.rows, record.provenance.rejected_rows) == (199, 1)
    assert (record.folder / "raw" / "acled.csv.rejects.csv").is_file()
