"""AppTest of the export page with the global GED 21.1 store: the Sahel's files and what changed.

The earlier snapshot is the Sahel forecast from June 2020, uploaded as its JSON; the page must
show what `exports.changes.what_changed()` finds against the current (December 2020) forecast.
Files are prepared in formats that need no browser (CSV, JSON); the chart path is checked with
a renderer that fails as one without Chromium does.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from exports import bundle, images
from exports.changes import IMPROVED, what_changed
from exports.snapshot import Snapshot, build_snapshot
from risk.forecast import risk_forecast
from risk.selection import Selection
from tests.conftest import REPO, open_page

SAHEL = Selection(regions=("group:Sahel",))
SAHEL_ISO3 = {"BFA", "CMR", "GIN", "GMB", "MLI", "MRT", "NER", "NGA", "SEN", "TCD"}
PAGE = "app_pages/export.py"
TIMEOUT = 300
EARLIER = "2020-06"


@pytest.fixture(scope="module")
def store(global_app_store: Path) -> Path:
    return global_app_store


@pytest.fixture(scope="module")
def june(store: Path) -> dict[str, Snapshot]:
    """Snapshots forecast from June 2020: the Sahel's and the world's (other filters)."""
    forecast = risk_forecast(store, EARLIER)
    return {
        "sahel": build_snapshot(store, SAHEL, forecast=forecast),
        "world": build_snapshot(store, Selection(), forecast=forecast),
    }


@pytest.fixture(scope="module")
def now(store: Path) -> Snapshot:
    return build_snapshot(store, SAHEL)


def _export(**query: str) -> AppTest:
    """app.py opened on the export page with these URL parameters."""
    return open_page(PAGE, TIMEOUT, **query)


def _upload(at: AppTest, snapshot: Snapshot) -> AppTest:
    content = json.dumps(snapshot.to_json(), ensure_ascii=False).encode()
    at.file_uploader[0].set_value(("earlier.json", content, "application/json"))
    at.run()
    assert not at.exception
    return at


def _plain(text: str) -> str:
    return text.replace("\\", "")


def _prepare(at: AppTest, formats: list[str]) -> AppTest:
    at.multiselect(key="export_formats").set_value(formats)
    next(b for b in at.button if b.label == "Prepare the files").click().run()
    assert not at.exception
    return at


def test_page_describes_the_view(store: Path) -> None:
    at = _export(region="group:Sahel")
    description = _plain(at.main.markdown[0].value)
    assert "**Selection:** Sahel (Group) · all organised violence" in description
    assert "**Counts:** deaths from all organised violence; deaths are the median" in description
    assert "**Forecast from data to:** Dec 2020" in description
    assert (
        "**Prevention gap** (high or rising risk, no UN field mission or envoy on 31 Dec 2020): "
        "Nigeria, Cameroon, Burkina Faso; the files give the rule" in description
    )
    assert "**Data:** UCDP GED 21.1 (events to 2020-12)" in description
    assert "**Countries:** 10 (10 ranked, 0 with not enough data to forecast)" in description
    formats = at.multiselect(key="export_formats")
    assert formats.value == ["csv", "xlsx", "pdf", "pptx", "json"]
    assert formats.options == [
        "CSV table", "Excel workbook", "PDF briefing pack", "PowerPoint slides",
        "PNG charts", "SVG charts", "JSON snapshot",
    ]  # fmt: skip
    assert not at.download_button  # nothing prepared yet


def test_the_measure_in_the_link_goes_into_the_files(store: Path) -> None:
    at = _prepare(_export(region="group:Sahel", measure="one_sided"), ["json", "csv"])
    description = _plain(at.main.markdown[0].value)
    assert "**Counts:** deaths from one-sided violence against civilians" in description
    name = "article99_sahel-group-one-sided-violence-against-civilians_2020-12"
    files = {b.proto.label: b for b in at.download_button}
    assert any(name in button.proto.help for button in files.values())
    snapshot = build_snapshot(store, Selection(regions=("group:Sahel",), measure="one_sided"))
    expected = {row.iso3: row.median_fatalities for row in snapshot.countries.itertuples()}
    prepared = at.session_state["export_prepared"]["files"]
    payload = json.loads(prepared[f"{name}.json"])
    assert payload["measure"] == "one_sided"
    medians = {r["iso3"]: r["median_fatalities"] for r in payload["countries"]}
    assert medians == pytest.approx(expected, abs=1e-6)  # the JSON keeps 6 decimals
    rows = list(csv.DictReader(io.StringIO(prepared[f"{name}.csv"].decode("utf-8"))))
    assert {r["Counts"] for r in rows} == {"deaths from one-sided violence against civilians"}


def test_earlier_snapshot_shows_what_changed(store: Path, june, now: Snapshot) -> None:
    at = _upload(_export(region="group:Sahel"), june["sahel"])
    expected = what_changed(june["sahel"].to_json(), now)
    shown = [_plain(m.value) for m in at.main.markdown]
    assert expected.summary in shown
    assert expected.summary.startswith("From the snapshot of data to 2020-06 to data to 2020-12")
    assert not at.main.warning  # same filters
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Move", "Country", "Rank before", "Rank now", "Risk before", "Risk now", "Change",
        "Movement",
    ]  # fmt: skip
    assert set(table.index) == SAHEL_ISO3
    improved = set(expected.countries(IMPROVED)["iso3"])
    assert "BFA" in improved  # Burkina Faso: 84% in June, 49% in December
    row = expected.table.set_index("iso3").loc["BFA"]
    assert table.loc["BFA", "Country"] == "Burkina Faso"
    assert table.loc["BFA", "Move"] == "↓"
    assert table.loc["BFA", "Movement"] == IMPROVED
    assert table.loc["BFA", "Risk before"] == pytest.approx(row["risk_before"])  # shown as "84%"
    assert table.loc["BFA", "Risk now"] == pytest.approx(row["risk_now"])
    assert table.loc["BFA", "Change"] == round(row["change"] * 100)  # whole points
    assert row["change"] <= -0.10
    assert set(table.index[table["Movement"] == IMPROVED]) == improved


def test_earlier_snapshot_with_other_filters_lists_only_the_selection(store: Path, june) -> None:
    at = _upload(_export(region="group:Sahel"), june["world"])
    (warning,) = at.main.warning
    assert "made with other filters (All countries · all organised violence)" in _plain(
        warning.value
    )
    table = at.dataframe[0].value
    assert set(table.index) == SAHEL_ISO3
    assert "ETH" not in table.index  # Ethiopia is in the earlier snapshot, not the selection
    # In the world view Ethiopia is listed.
    world = _upload(_export(), june["world"])
    assert not world.main.warning
    assert "ETH" in world.dataframe[0].value.index


def test_bad_upload_shows_one_clear_error(store: Path) -> None:
    at = _export(region="group:Sahel")
    at.file_uploader[0].set_value(("notes.json", b'{"format": "something else"}', "text/json"))
    at.run()
    assert not at.exception
    (error,) = at.error
    assert _plain(error.value) == (
        "Not compared: the uploaded file: not an Article 99 snapshot "
        "(expected format article99-snapshot/2)"
    )
    assert not at.dataframe


def test_prepared_files_download_without_being_built_again(
    store: Path, june, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    export_files = bundle.export_files

    def counted(*args, **kwargs):
        calls.append(args[1])
        return export_files(*args, **kwargs)

    monkeypatch.setattr(bundle, "export_files", counted)
    at = _prepare(_upload(_export(region="group:Sahel"), june["sahel"]), ["json", "csv"])
    assert calls == [["json", "csv"]]
    assert at.get("status")[0].label == "3 files ready"
    labels = [b.label for b in at.download_button]
    assert labels[0].startswith("CSV table (")
    assert labels[1].startswith("Prevention-gap list (CSV) (")
    assert labels[2].startswith("JSON snapshot (")
    assert labels[3].startswith("Download everything (.zip")
    assert len(labels) == 4
    files = at.session_state["export_prepared"]["files"]
    name = "article99_sahel-group-all-organised-violence_2020-12"
    assert list(files) == [f"{name}.json", f"{name}.csv", f"{name}_prevention_gap.csv"]
    rows = list(csv.reader(io.StringIO(files[f"{name}.csv"].decode())))
    assert rows[0][:5] == ["Rank", "ISO3", "Country", "UN presence", "Risk"]
    gap = list(csv.reader(io.StringIO(files[f"{name}_prevention_gap.csv"].decode())))
    assert [row[1] for row in gap[1:]] == ["Nigeria", "Cameroon", "Burkina Faso"]
    assert rows[1][:3] == ["1", "NGA", "Nigeria"]
    assert json.loads(files[f"{name}.json"])["as_of"] == "2020-12"

    at.download_button[0].click().run()
    at.run()
    assert calls == [["json", "csv"]]  # the reruns reused the prepared files
    assert len(at.download_button) == 4
    at.multiselect(key="export_formats").set_value(["csv"]).run()
    assert not at.download_button
    assert any("prepare them again" in c.value for c in at.caption)


def test_chart_failure_shows_the_message(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_browser(*args, **kwargs):
        raise images.ImageExportError(images.NO_BROWSER)

    monkeypatch.setattr(images, "render", no_browser)
    at = _prepare(_export(region="group:Sahel"), ["csv", "png"])
    (error,) = at.error
    assert _plain(error.value) == images.NO_BROWSER
    assert at.get("status")[0].label == "The files could not be prepared"
    assert not at.download_button


def test_selection_without_countries_says_so(store: Path) -> None:
    at = AppTest.from_file(str(REPO / PAGE), default_timeout=TIMEOUT)
    at.session_state["selection"] = Selection(countries=("XXX",))
    at.run()
    assert not at.exception
    assert "Nothing to export: no country matches the filters" in _plain(at.info[0].value)


def test_empty_store_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "store"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "The store is empty" in at.info[0].value
    assert [e.proto.label for e in at.get("page_link")] == ["Load data"]
