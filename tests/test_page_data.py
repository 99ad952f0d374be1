"""The Data page: refresh from a UCDP mirror (loopback) and clear errors that change nothing."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loaders import acled_remote, ucdp_remote
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
    label = escape_markdown("UCDP GED 25.1")
    assert page.success[0].value == f"Imported {label}: 5 events, 2024-01-04 … 2024-03-15."
    # The import is followed by its forecast: three months are too few, which is said, and
    # the import is kept.
    (forecast,) = page.status
    assert (forecast.label, forecast.state) == ("No forecast", "error")
    assert "could not be made" in forecast.markdown[0].value
    assert "not enough history" in forecast.markdown[0].value
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


def test_acled_fetch_without_credentials_says_what_to_set(
    page: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(acled_remote.USERNAME_ENV, raising=False)
    monkeypatch.delenv(acled_remote.PASSWORD_ENV, raising=False)
    page.run()
    assert not page.exception
    hint = " ".join(i.value.replace("\\", "") for i in page.info)  # unescaped
    assert "ACLED_USERNAME and ACLED_PASSWORD: not set" in hint
    assert [b.label for b in page.button] == ["Download and import", "Import", "Replace"]


def test_acled_fetch_imports_from_the_api_with_progress(
    page: AppTest, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.loaders import test_acled_remote as fake

    monkeypatch.setenv(acled_remote.USERNAME_ENV, fake.USERNAME)
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, fake.PASSWORD)
    with fake.AcledServer() as server:
        site = fake.FakeAcled(server)
        monkeypatch.setenv(acled_remote.BASE_URL_ENV, server.url)
        page.run()
        page.text_input[2].set_value("Benin")
        page.date_input[0].set_value(dt.date(2025, 1, 1))
        page.date_input[1].set_value(dt.date(2025, 12, 31))
        page.button[1].click().run()
    assert not page.exception
    assert page.success[0].value.startswith("Imported ACLED")
    assert ": 7 events, 2025-03-01 … 2025-03-07." in page.success[0].value
    kinds = (page.markdown, page.caption, page.text, page.success, page.info, page.error)
    shown = " ".join(str(e.value) for kind in kinds for e in kind)
    assert not any(secret in shown for secret in (fake.PASSWORD, *fake.secrets(site)))
    page.run()
    listed = page.dataframe[0].value
    assert listed["Events"].tolist() == [7]
    assert any("Armed Conflict Location & Event Data" in t.value for t in page.text)


def test_upload_with_a_row_set_aside_says_so(page: AppTest) -> None:
    """The import goes through, a warning names the rejects file, the table counts the row;
    with the strict box ticked the same file is refused."""
    from tests.loaders.test_uploads import _acled_with_one_bad_row_in_200

    data = _acled_with_one_bad_row_in_200()
    page.run()
    (strict,) = [c for c in page.checkbox if c.label.startswith("Refuse the file")]
    strict.check()
    page.file_uploader[0].set_value(("acled.csv", data, "text/csv"))
    page.radio[0].set_value("acled")
    next(b for b in page.button if b.label == "Import").click().run()
    assert not page.exception
    assert "a strict import sets none aside" in page.error[0].value
    page.file_uploader[0].set_value(("acled.csv", data, "text/csv"))
    page.radio[0].set_value("acled")
    next(c for c in page.checkbox if c.label.startswith("Refuse the file")).uncheck()
    next(b for b in page.button if b.label == "Import").click().run()
    assert not page.exception
    assert ": 199 events," in page.success[0].value
    assert "1 row failed a check and was set aside" in page.warning[0].value
    assert "acled.csv.rejects.csv" in page.warning[0].value
    page.run()
    assert page.dataframe[0].value["Rows set aside"].tolist() == [1]


def test_counts_per_source_without_double_counting(
    page: AppTest, store_dir: Path, tmp_path: Path
) -> None:
    """GED 24.1 (5 events) and GED 25.1 for Mali (2 events; it drops 1002 and re-codes 1003):
    4 UCDP events are in use, not 7. ACLED's 9 events are shown apart, never added to them."""
    import loaders
    from tests.conftest import ged_rows, write_ged

    rows = ged_rows()
    loaders.import_file(write_ged(tmp_path / "GEDEvent_v24_1_pair.csv", rows), data_dir=store_dir)
    recoded = {**rows[2], "id": "1013", "type_of_violence": "3"}
    newer = write_ged(tmp_path / "GEDEvent_v25_1_mali.csv", [rows[0], recoded])
    loaders.import_file(newer, data_dir=store_dir)
    acled_file = SMALL_GED.parent / "acled_current_small.csv"
    acled_events = loaders.import_file(acled_file, source="acled", data_dir=store_dir)
    page.run()
    assert not page.exception
    metrics = {m.label: m.value for m in page.metric}
    assert metrics == {
        "UCDP GED events in use": "4",
        "ACLED events in use": f"{acled_events.provenance.rows:,}",
    }
    ucdp = next(m for m in page.metric if m.label.startswith("UCDP"))
    assert "(3 of the files' rows)" in ucdp.help
    assert page.dataframe[0].value["Events"].tolist() == [
        acled_events.provenance.rows,
        5,
        2,
    ]
    coverage = page.dataframe[1].value
    assert coverage["Source"].tolist()[-2:] == ["UCDP GED 24.1", "UCDP GED 25.1"]
    assert "The sources end on different days" in page.caption[0].value


def test_a_reference_table_is_replaced_or_refused_with_nothing_changed(
    page: AppTest, store_dir: Path
) -> None:
    """A bad file is refused with its row named and the shipped table stays; a good one
    replaces it (the table of tables says so) until the analyst goes back to the shipped one."""
    from loaders import reference

    shipped = (reference.DATA_DIR / "un_presence.csv").read_text(encoding="utf-8")
    page.run()
    tables = page.dataframe[-1].value.set_index("Table")
    assert tables.loc["UN presence", "In use"] == "shipped with Article 99"
    assert tables.loc["UN presence", "Rows"] == 91
    assert any("Checked more than 6 months ago" in w.value.replace("\\", "") for w in page.warning)

    def upload(text: str) -> None:
        chooser = next(s for s in page.selectbox if s.label == "Table to replace")
        chooser.set_value("un_presence")
        uploader = next(u for u in page.file_uploader if u.label.startswith("Its new version"))
        uploader.set_value(("presence.csv", text.encode(), "text/csv"))
        next(b for b in page.button if b.label == "Replace").click().run()

    before = tree_digest(store_dir)
    upload(shipped.replace("MLI,Mali,MINUSMA", "XXX,Mali,MINUSMA"))
    assert not page.exception
    assert page.error[0].value.startswith(
        "Nothing was changed. " + escape_markdown("presence.csv, line 19, column iso3: 'XXX':")
    )
    assert tree_digest(store_dir) == before

    extra = "NGA,Nigeria,TEST,Test envoy,envoy,country,2020-01,,,https://example.org/x,2025-11-30\n"
    upload(shipped + extra)
    assert not page.exception and not page.error
    done = "Replaced. UN presence: un_presence.csv (replaced), as of 31 Jan 2025, 92 rows"
    assert page.success[0].value == escape_markdown(done + ".")
    tables = page.dataframe[-1].value.set_index("Table")
    assert tables.loc["UN presence", "In use"] == "replaced here"
    assert reference.info("un_presence", store_dir).rows == 92
    next(b for b in page.button if b.label == "Go back to the shipped table: UN presence").click()
    page.run()
    assert page.dataframe[-1].value.set_index("Table").loc["UN presence", "Rows"] == 91
