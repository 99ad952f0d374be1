"""The Data page: refresh from a UCDP mirror (loopback) and clear errors that change nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loaders import ucdp_remote
from tests.conftest import REPO, SMALL_GED, tree_digest
from tests.loopback import LoopbackServer
from ui.text import escape_markdown


def _ged_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("GEDEvent_v25_1.csv", SMALL_GED.read_bytes())
    return buffer.getvalue()


@pytest.fixture
def page(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    return AppTest.from_file(str(REPO / "app_pages" / "data.py"), default_timeout=60)


def test_refresh_downloads_and_imports_from_the_mirror(
    page: AppTest, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LoopbackServer() as server:
        server.serve_bytes("/downloads/ged/ged251-csv.zip", _ged_zip(), "application/zip")
        monkeypatch.setenv(ucdp_remote.BASE_URL_ENV, server.url)
        page.run()
        assert "The local store is empty" in page.info[0].value
        page.text_input[0].set_value("25.1")
        page.button[0].click().run()
    assert not page.exception
    assert page.success[0].value == ("Imported UCDP GED 25.1: 5 events, 2024-01-04 … 2024-03-15.")
    page.run()
    assert page.dataframe[0].value["Events"].tolist() == [5]


def test_refresh_failure_says_so_and_changes_nothing(
    page: AppTest, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LoopbackServer() as server:  # serves nothing: 404 for the release
        monkeypatch.setenv(ucdp_remote.BASE_URL_ENV, server.url)
        page.run()
        before = tree_digest(store_dir)
        page.text_input[0].set_value("25.1")
        page.button[0].click().run()
    assert not page.exception
    assert page.error[0].value.startswith("Nothing was changed.")
    assert "404" in page.error[0].value or "no such release" in page.error[0].value
    assert {k: v for k, v in tree_digest(store_dir).items() if "downloads" not in k} == before


def test_markdown_in_data_text_is_escaped() -> None:
    assert escape_markdown("[x](http://evil) *b* <i>") == r"\[x\]\(http\://evil\) \*b\* \<i\>"
