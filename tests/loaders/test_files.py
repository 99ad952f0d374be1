"""Reading whatever an analyst hands us: encodings, separators, archives, and impostors."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from loaders.convert import Rejected
from loaders.errors import LoaderError
from loaders.files import read_delimited, write_rejects
from tests.conftest import SMALL_GED

KNOWN = ("id", "country", "best", "date_start")


def test_plain_gzip_and_zip_read_the_same(tmp_path: Path) -> None:
    data = SMALL_GED.read_bytes()
    gz = tmp_path / "events.csv.gz"
    gz.write_bytes(gzip.compress(data))
    zipped = tmp_path / "events.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("GEDEvent_v25_1.csv", data)
    tables = [read_delimited(p, known_columns=KNOWN) for p in (SMALL_GED, gz, zipped)]
    assert [t.table.num_rows for t in tables] == [5, 5, 5]
    assert tables[2].member == "GEDEvent_v25_1.csv"
    assert tables[0].table["country"].to_pylist() == tables[1].table["country"].to_pylist()


def test_windows_1252_and_semicolons_are_detected_and_said(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("id;country;best\n1;Côte d'Ivoire;3\n2;Curaçao;0\n".encode("cp1252"))
    raw = read_delimited(path, known_columns=KNOWN)
    assert raw.table["country"].to_pylist() == ["Côte d'Ivoire", "Curaçao"]
    assert any("semicolon" in n for n in raw.notes)
    assert any("not UTF-8" in n for n in raw.notes)


def test_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,country,best\n1,Mali,2\n")
    raw = read_delimited(path, known_columns=KNOWN)
    assert raw.columns[0] == "id"
    assert raw.table["id"].to_pylist() == ["1"]


def test_headerless_file_takes_the_standard_columns(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text("1,Mali,2\n2,Niger,5\n", encoding="utf-8")
    raw = read_delimited(path, known_columns=KNOWN, headerless_columns=["id", "country", "best"])
    assert raw.row_offset == 1
    assert raw.table["country"].to_pylist() == ["Mali", "Niger"]
    assert "no header row" in raw.notes[0]


def _xlsx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (b"id,country,best\n", "header but no rows"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old Excel workbook"),
        (b"<!DOCTYPE html><html><body>Login</body></html>\n", "HTML or XML page"),
        (b"id country best\n1 Mali 2\n", "no column separator"),
        (b"a,b,c\n1,2,3\n", "no recognisable header row"),
        (b"id,country,best\n1,Mali,2,9\n", "different numbers of fields"),
        (b"id,\x00\x01\x02,best\n", "binary file"),
    ],
)
def test_bad_files_get_one_clear_message(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(LoaderError, match=expected) as info:
        read_delimited(path, known_columns=KNOWN)
    assert str(info.value).startswith("bad.csv")


def test_workbook_saved_as_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match=r"Excel workbook \(.xlsx\)"):
        read_delimited(_xlsx(tmp_path / "events.csv"), known_columns=KNOWN)


def test_truncated_archives_are_refused(tmp_path: Path) -> None:
    zipped = tmp_path / "ged.zip"
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GEDEvent_v25_1.csv", SMALL_GED.read_bytes() * 50)
    zipped.write_bytes(zipped.read_bytes()[:700])
    with pytest.raises(LoaderError, match="damaged or truncated"):
        read_delimited(zipped, known_columns=KNOWN)
    gz = tmp_path / "ged.csv.gz"
    gz.write_bytes(gzip.compress(SMALL_GED.read_bytes() * 50)[:900])
    with pytest.raises(LoaderError, match="damaged or truncated"):
        read_delimited(gz, known_columns=KNOWN)


def test_zip_with_several_csvs_names_them(tmp_path: Path) -> None:
    zipped = tmp_path / "many.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.csv", "id,country,best\n1,Mali,2\n")
        archive.writestr("b.csv", "id,country,best\n1,Mali,2\n")
    with pytest.raises(LoaderError, match=r"several CSV files \(a\.csv, b\.csv\)"):
        read_delimited(zipped, known_columns=KNOWN)


def test_rejects_are_written_verbatim_with_file_row_numbers(tmp_path: Path) -> None:
    """Rows found again by their file row number, past a quoted line break and a blank line,
    in a gzipped cp1252 file with semicolons; formulas made inert; Excel-friendly UTF-8."""
    text = 'id;country;best\n1;"Côte\nd\'Ivoire";3\n\n2;Curaçao;=2+2\n3;Mali;@x\n4;Sénégal;0\n'
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(text.encode("cp1252")))
    raw = read_delimited(path, known_columns=KNOWN)
    assert raw.table["id"].to_pylist() == ["1", "2", "3", "4"]  # Arrow skips the blank line
    assert (raw.encoding, raw.separator) == ("cp1252", ";")
    rejected = Rejected("export.csv.gz", 4, [3, 4], ["best", "best"], ["bad", "worse"],
                        "=2+2", raw.encoding, raw.separator, True)  # fmt: skip
    target = tmp_path / "export.csv.gz.rejects.csv"
    write_rejects(path, rejected, target)
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert target.read_text(encoding="utf-8-sig").splitlines() == [
        "row,reason,id,country,best",
        "3,best: bad,2,Curaçao,'=2+2",
        "4,best: worse,3,Mali,'@x",
    ]
