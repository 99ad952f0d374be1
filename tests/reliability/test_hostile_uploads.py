"""Hostile uploads: through `import_upload` and through the Data page (issue #7, item 4).

An upload is refused with one message (shown on the page as "Nothing was changed. …", never as
an exception) or imported correctly; the store is byte for byte as before a refusal; an upload
over the limit is refused before it is read, and one that lies about its size is stopped at the
limit while it is copied; a file name never places a file outside the store.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import loaders
from loaders import uploads
from loaders.errors import LoaderError
from loaders.pipeline import import_file
from loaders.uploads import MAX_UPLOAD_MB, import_upload
from tests.conftest import REPO, SMALL_GED, tree_digest
from tests.reliability.hostile import (
    HOSTILE_TEXTS,
    SMALL_ACLED,
    csv_text,
    ged_text,
    rows_of,
    symlink_member,
    zip_bomb,
    zipped,
)
from tests.reliability.ledger import LEDGER
from ui.text import escape_markdown

GED_NAME = "GEDEvent_v25_1.csv"
LIMIT = MAX_UPLOAD_MB * 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    import_file(SMALL_GED, data_dir=root)
    return root


class Rows(io.RawIOBase):
    """A CSV stream of `rows` GED rows made on the fly (never on disk), counting what is read."""

    def __init__(self, rows: int) -> None:
        header, line = (ged_text().splitlines()[i].encode() + b"\n" for i in (0, 1))
        self.size = len(header) + rows * len(line)
        self._header, self._block = header, line * 20_000
        self._left = rows * len(line)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._header:
            chunk, self._header = self._header, b""
        else:
            chunk = self._block[: min(size if size > 0 else len(self._block), self._left)]
            self._left -= len(chunk)
        self.read_bytes += len(chunk)
        return chunk


def _refused(name: str, call, store: Path) -> str:
    """Run an upload that must be refused; record it; the store must not change."""
    before = tree_digest(store)
    with pytest.raises(LoaderError) as caught:
        call()
    intact = tree_digest(store) == before
    LEDGER.hostile(name, refused=True, store_intact=intact)
    assert intact
    return str(caught.value)


# --- import_upload ---------------------------------------------------------------------------


def test_millions_of_rows_over_the_limit_are_refused_unread(store: Path) -> None:
    stream = Rows(3_000_000)
    assert stream.size > LIMIT
    message = _refused(
        "upload: 3 million rows over the limit",
        lambda: import_upload(GED_NAME, stream, size=stream.size, data_dir=store),
        store,
    )
    assert message == (
        f"{GED_NAME}: is {stream.size / 2**20:,.0f} MB, over the {MAX_UPLOAD_MB} MB upload "
        "limit; import it from the command line: python -m loaders import FILE"
    )
    assert stream.read_bytes == 0


def test_a_stream_longer_than_it_claims_is_stopped_at_the_limit(store: Path) -> None:
    stream = Rows(3_000_000)
    message = _refused(
        "upload: 3 million rows claiming 6 KB",
        lambda: import_upload(GED_NAME, stream, size=6_000, data_dir=store),
        store,
    )
    assert re.fullmatch(
        rf"{GED_NAME}: is \d{{3}} MB or more, over the {MAX_UPLOAD_MB} MB upload limit; .*",
        message,
    )
    assert LIMIT < stream.read_bytes <= LIMIT + (8 << 20)
    assert not any((store / "uploads").iterdir())


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("../../etc/" + GED_NAME, GED_NAME),
        ("/tmp/elsewhere/" + GED_NAME, GED_NAME),
        ("C:\\Users\\x\\..\\..\\" + GED_NAME, GED_NAME),
        (f"{GED_NAME}\x00.exe", "GEDEvent_v25_1.csv_.exe"),
        (
            "<img src=x onerror=alert(1)> " + GED_NAME,
            "img_src_x_onerror_alert_1_GEDEvent_v25_1.csv",
        ),
    ],
)
def test_file_names_never_leave_the_store(
    name: str, saved: str, store: Path, tmp_path: Path
) -> None:
    """The name is cut to a safe base name; the import goes ahead under it (the release is
    still read from it), and nothing is written outside the store."""
    data = SMALL_GED.read_bytes()
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(store)}
    record = import_upload(name, io.BytesIO(data), size=len(data), version="25.1", data_dir=store)
    LEDGER.hostile(f"upload name {name!r}", refused=False)
    assert record.provenance.file == saved
    assert record.provenance.origin == f"uploaded file {saved}"
    assert record.provenance.rows == 5
    assert {p for p in tmp_path.rglob("*") if not p.is_relative_to(store)} == before
    assert not Path("/tmp/elsewhere").exists()
    assert (record.folder / "raw" / saved).read_bytes() == data


def test_a_very_long_name_is_cut_and_named_in_the_message(store: Path) -> None:
    data = SMALL_GED.read_bytes()
    message = _refused(
        "upload: 10,000-character name",
        lambda: import_upload(
            "a" * 10_000 + ".csv", io.BytesIO(data), size=len(data), data_dir=store
        ),
        store,
    )
    assert message == (
        f"{'a' * 120}: cannot tell the UCDP release from the file name; pass --version (e.g. 25.1)"
    )


# --- the Data page ---------------------------------------------------------------------------


@pytest.fixture
def page(store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store))
    for name in ("ACLED_USERNAME", "ACLED_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    at = AppTest.from_file(str(REPO / "app_pages" / "data.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, content: bytes, *, source: str = "ucdp") -> AppTest:
    (uploader,) = [u for u in at.file_uploader if u.label.startswith("An events file")]
    uploader.set_value((name, content, "text/csv"))
    (choice,) = [r for r in at.radio if r.label == "Source"]
    choice.set_value(source)
    (button,) = [b for b in at.button if b.label == "Import"]
    button.click()
    return at.run()


def _unescaped(text: str) -> str:
    """What a person reads: markdown's backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", text)


BAD_DATE = ged_text().replace("2024-02-10 00:00:00.000", HOSTILE_TEXTS[1], 1)
PAGE_REFUSED = {
    # case: (file name, content, source, what the message says after "Nothing was changed. ")
    "xlsx renamed csv": (
        GED_NAME,
        zipped([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")]),
        "ucdp",
        r"GEDEvent_v25_1\.csv: is an Excel workbook \(\.xlsx\), not CSV; save it as CSV",
    ),
    "empty file": (GED_NAME, b"", "ucdp", r"GEDEvent_v25_1\.csv: the file is empty"),
    "header only": (
        GED_NAME,
        ged_text().splitlines()[0].encode() + b"\n",
        "ucdp",
        r"GEDEvent_v25_1\.csv: the file has a header but no rows",
    ),
    "path traversal in zip": (
        "ged251-csv.zip",
        zipped([("../../etc/" + GED_NAME, SMALL_GED.read_bytes())]),
        "ucdp",
        r"ged251-csv\.zip: the zip archive has a member outside its folder \('\.\./\.\./etc/",
    ),
    "symlink in zip": (
        "ged251-csv.zip",
        zipped([symlink_member(GED_NAME, "/etc/passwd")]),
        "ucdp",
        r"ged251-csv\.zip: the zip archive has a symbolic link",
    ),
    "zip bomb": (
        "ged251-csv.zip",
        zip_bomb(80 << 20),
        "ucdp",
        r"ged251-csv\.zip!GEDEvent_v25_1\.csv: decompresses to more than 64 MB",
    ),
    "markup in a date": (
        GED_NAME,
        BAD_DATE.encode(),
        "ucdp",
        r"GEDEvent_v25_1\.csv, row 3, column date_start: not a valid date \(YYYY-MM-DD\): "
        + re.escape(repr(HOSTILE_TEXTS[1])),
    ),
    "acled file as ucdp": (
        "acled_export.csv",
        SMALL_ACLED.read_bytes(),
        "ucdp",
        r"acled_export\.csv: looks like an ACLED events file",
    ),
    "ged file as acled": (
        GED_NAME,
        SMALL_GED.read_bytes(),
        "acled",
        r"GEDEvent_v25_1\.csv: is a UCDP GED events file; import it with --source ucdp",
    ),
    "duplicated id in acled": (
        "acled_export.csv",
        SMALL_ACLED.read_text(encoding="utf-8").replace("MLI102,", "MLI101,").encode(),
        "acled",
        # The second row with the id is set aside: one in eight is more than may be.
        r"acled_export\.csv, row 3, column event_id_cnty: duplicate event id: 'acled:MLI101'; "
        r"1 of 8 rows fail blocking checks",
    ),
}


@pytest.mark.parametrize("case", sorted(PAGE_REFUSED))
def test_hostile_uploads_on_the_page_are_refused_with_a_message(
    case: str, page: AppTest, store: Path
) -> None:
    name, content, source, expected = PAGE_REFUSED[case]
    before = tree_digest(store)
    _upload(page, name, content, source=source)
    intact = tree_digest(store) == before
    LEDGER.hostile(f"page upload: {case}", refused=len(page.error) == 1, store_intact=intact)
    assert not page.exception, page.exception
    assert intact
    assert not page.success
    (error,) = page.error
    assert error.value.startswith("Nothing was changed. ")
    shown = _unescaped(error.value.removeprefix("Nothing was changed. "))
    assert re.match(expected, shown), shown
    assert "Traceback" not in error.value and "\n" not in error.value


def test_markup_in_a_refused_file_is_shown_as_typed(page: AppTest) -> None:
    _upload(page, GED_NAME, BAD_DATE.encode())
    LEDGER.hostile("page upload: markup shown as typed", refused=len(page.error) == 1)
    (error,) = page.error
    assert escape_markdown(repr(HOSTILE_TEXTS[1])) in error.value
    assert HOSTILE_TEXTS[1] not in error.value  # no unescaped bold or link reaches markdown
    assert "](javascript" not in error.value


def test_an_upload_over_the_limit_is_refused_on_the_page(
    page: AppTest, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_MB", 1)
    page.run()  # the uploader's label, and so its identity, says the limit: render it anew
    rows = Rows(10_000)
    content = rows.read() + rows.read()  # the header, then 10,000 rows (4 MB)
    before = tree_digest(store)
    _upload(page, GED_NAME, content)
    intact = tree_digest(store) == before
    LEDGER.hostile("page upload: over the limit", refused=len(page.error) == 1, store_intact=intact)
    assert not page.exception and intact
    (error,) = page.error
    shown = _unescaped(error.value)
    assert shown == (
        f"Nothing was changed. {GED_NAME}: is {len(content) / 2**20:,.0f} MB, over the 1 MB "
        "upload limit; import it from the command line: python -m loaders import FILE"
    )


@pytest.mark.parametrize(
    ("case", "name", "content", "source", "success"),
    [
        (
            "latin-1 with semicolons",
            GED_NAME,
            csv_text(
                rows_of(ged_text().replace("\u201c", '"').replace("\u201d", '"')), sep=";"
            ).encode("latin-1"),
            "ucdp",
            "Imported UCDP GED 25.1: 5 events, 2024-01-04 … 2024-03-15.",
        ),
        (
            "utf-16 acled export",
            "acled_export.csv",
            SMALL_ACLED.read_text(encoding="utf-8").encode("utf-16"),
            "acled",
            "Imported ACLED export 2023-11-14: 8 events, 2023-03-03 … 2023-03-10.",
        ),
    ],
)
def test_odd_but_valid_uploads_are_imported_on_the_page(
    case: str, name: str, content: bytes, source: str, success: str, page: AppTest, store: Path
) -> None:
    before = len(loaders.load_events(store))
    _upload(page, name, content, source=source)
    LEDGER.hostile(f"page upload: {case}", refused=bool(page.error))
    assert not page.exception and not page.error
    (shown,) = page.success
    assert _unescaped(shown.value) == success
    rows = int(re.search(r": (\d+) events", success).group(1))
    assert len(loaders.load_events(store)) == before + (rows if source == "acled" else 0)
    notes = [_unescaped(c.value) for c in page.caption]
    assert any("detected" in n for n in notes), notes
