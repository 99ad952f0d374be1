"""AppTest of the Compare and trends page on UCDP GED 21.1 (the precisely located subset).

The expected figures were counted from the raw file with pandas, outside the project's code:
Syria, March 2016: 2,094 deaths (1,546 state-based, 502 non-state, 46 one-sided); Syria's
state-based deaths Nov 2015 … Mar 2016: 2,501, 2,420, 3,110, 3,368, 1,546; Afghanistan, March
2016: 499 deaths; Central Sahel (Burkina Faso 73 + Mali 178 + Niger 26), June 2019: 277 deaths;
Central Sahel, 2019: Mali 1,072, Burkina Faso 1,036, Niger 369. The Sahel group, Jan 2011 … Dec
2020 (the file's last 10 years): Nigeria 31,989, Mali 5,492, Cameroon 4,497, Burkina Faso 2,249,
Niger 2,015, Chad 747, Guinea 79, Senegal 59, Mauritania 11, Gambia 1; June 2020: 454 (Nigeria
239, Mali 118, Cameroon 49, Burkina Faso 46, Guinea 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import loaders
from risk.selection import Selection
from tests.conftest import REPO, shared_data_dir
from ui.text import escape_markdown

GLOBAL_GED = "ucdp_ged_v21_1_global_precise_reduced.csv.gz"
PAGE = str(REPO / "app_pages" / "compare.py")


@pytest.fixture(scope="module")
def global_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = shared_data_dir() / GLOBAL_GED
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    store = tmp_path_factory.mktemp("compare") / "store"
    loaders.import_file(path, data_dir=store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        yield store


SAHEL = ["NGA", "MLI", "CMR", "BFA", "NER", "TCD", "GIN", "SEN", "MRT"]


def _page(selection: Selection, **query: str) -> AppTest:
    page = AppTest.from_file(PAGE, default_timeout=120)
    page.session_state["selection"] = selection
    for name, value in query.items():
        page.query_params[name] = value
    return page.run()


def _widget(elements, label: str):
    return next(element for element in elements if element.label == label)


def _value(page: AppTest, name: str, month: str) -> float:
    table = page.dataframe[0].value
    return table.set_index("Month").loc[pd.Timestamp(month), name]


def _layout(page: AppTest, chart: int = 0) -> dict:
    return json.loads(page.get("plotly_chart")[chart].proto.spec)["layout"]


def _title(page: AppTest, chart: int = 0) -> str:
    return _layout(page, chart)["title"]["text"]


def _captions(page: AppTest) -> str:
    return "\n".join(caption.value for caption in page.caption)


@pytest.mark.shared_data
def test_two_countries_per_month_smoothed_and_cumulative(global_store: Path) -> None:
    page = _page(Selection(countries=("SYR", "AFG"), start="2016-01", end="2016-12"))
    assert not page.exception
    assert page.multiselect[0].value == ["SYR", "AFG"]
    assert page.dataframe[0].value.columns.tolist() == ["Month", "Syria", "Afghanistan"]
    assert len(page.dataframe[0].value) == 12
    assert _value(page, "Syria", "2016-03") == 2094
    assert _value(page, "Afghanistan", "2016-03") == 499
    assert _title(page) == "All deaths per month, Jan 2016 – Dec 2016"
    assert _title(page, 1) == _title(page)  # the small multiples
    assert escape_markdown("Source: UCDP GED 21.1, events to Dec 2020") in _captions(page)
    assert "Shown: Jan 2016 – Dec 2016, the period set in the sidebar." in _captions(page)

    _widget(page.selectbox, "Violence type").set_value("state-based")
    _widget(page.selectbox, "Smoothing").set_value(3)
    page.run()
    assert not page.exception
    # The 3-month mean of January uses November and December 2015, before the period.
    assert _value(page, "Syria", "2016-01") == round((2501 + 2420 + 3110) / 3, 1)
    assert _value(page, "Syria", "2016-03") == round((3110 + 3368 + 1546) / 3, 1)
    assert _title(page) == (
        "State-based deaths per month, 3-month rolling mean, Jan 2016 – Dec 2016"
    )

    _widget(page.radio, "Show").set_value(True)
    page.run()
    assert _widget(page.selectbox, "Smoothing").disabled
    assert _value(page, "Syria", "2016-03") == 3110 + 3368 + 1546
    assert _title(page) == "State-based deaths, cumulative total, Jan 2016 – Dec 2016"
    assert not page.warning  # this store covers every country: no gaps


@pytest.mark.shared_data
def test_the_measure_chosen_in_the_sidebar_is_counted(global_store: Path) -> None:
    page = _page(Selection(countries=("SYR",), start="2016-01", end="2016-12", measure="one_sided"))
    assert not page.exception
    assert _value(page, "Syria", "2016-03") == 46  # one-sided deaths only
    assert _widget(page.selectbox, "Violence type").options == ["One-sided"]
    assert _title(page) == "One-sided deaths per month, Jan 2016 – Dec 2016"


@pytest.mark.shared_data
def test_a_region_brings_its_member_countries_and_its_total_only_when_asked(
    global_store: Path,
) -> None:
    page = _page(Selection(regions=("group:Central Sahel",), start="2019-01", end="2019-12"))
    assert not page.exception
    assert page.multiselect[0].value == ["MLI", "BFA", "NER"]  # most deaths in 2019 first
    assert "Central Sahel (Group)" not in page.dataframe[0].value.columns
    assert not [c for c in page.caption if c.value.startswith("Also in")]  # every member drawn

    _widget(page.toggle, "Add the region's total").set_value(True)
    page.run()
    assert page.multiselect[0].value == ["group:Central Sahel", "MLI", "BFA", "NER"]
    assert _value(page, "Central Sahel (Group)", "2019-06") == 277
    _widget(page.radio, "Measure").set_value("events")
    page.run()
    assert _value(page, "Central Sahel (Group)", "2019-06") == 40
    assert _title(page) == "All events per month, Jan 2019 – Dec 2019"


@pytest.mark.shared_data
def test_small_multiples_of_a_region_one_panel_per_member_and_the_rest_named(
    global_store: Path,
) -> None:
    page = _page(Selection(regions=("group:Sahel",)), view="Small multiples")
    assert not page.exception
    assert page.multiselect[0].value == SAHEL  # the nine deadliest of ten, largest first
    panels = [a["text"] for a in _layout(page, 1)["annotations"]]
    assert panels == [
        "Nigeria", "Mali", "Cameroon", "Burkina Faso", "Niger", "Chad", "Guinea", "Senegal",
        "Mauritania",
    ]  # fmt: skip
    assert escape_markdown(
        "Also in Sahel (Group), not drawn (deaths Jan 2011 – Dec 2020): Gambia 1."
    ) in _captions(page)
    assert _value(page, "Nigeria", "2020-06") == 239

    page = _page(Selection(regions=("group:Sahel",)), total="true")
    assert page.multiselect[0].value == ["group:Sahel", *SAHEL]
    assert _value(page, "Sahel (Group)", "2020-06") == 454
    assert [a["text"] for a in _layout(page, 1)["annotations"]][:2] == ["Sahel (Group)", "Nigeria"]


@pytest.mark.shared_data
def test_the_default_is_the_last_ten_years_and_the_deadliest_countries(
    global_store: Path,
) -> None:
    page = _page(Selection())
    assert not page.exception
    # The five with most deaths in 2020, the last 12 months of the data.
    assert page.multiselect[0].value == ["AFG", "MEX", "SYR", "COD", "ETH"]
    table = page.dataframe[0].value
    assert table.columns.tolist()[1:3] == ["Afghanistan", "Mexico"]
    assert (table["Month"].min(), table["Month"].max(), len(table)) == (
        pd.Timestamp("2011-01-01"),
        pd.Timestamp("2020-12-01"),
        120,
    )
    assert _title(page) == "All deaths per month, Jan 2011 – Dec 2020"
    assert (
        "Shown: Jan 2011 – Dec 2020, the last 10 years of the data, which start in Jan 1989; "
        "set the Period in the sidebar for other months." in _captions(page)
    )
    assert _widget(page.selectbox, "Smoothing").value == 0
    # The whole history is one switch away (the sidebar's full range means "not set").
    everything = _page(Selection(), all_months="true")
    assert _title(everything) == "All deaths per month, Jan 1989 – Dec 2020"
    assert len(everything.dataframe[0].value) == 32 * 12
    assert "Shown: Jan 1989 – Dec 2020, all the months of the data." in _captions(everything)
    sidebar = _page(Selection(start="2016-01", end="2016-12"))
    assert not [t for t in sidebar.toggle if t.label == "All months of the data"]
    assert "None" not in _widget(page.selectbox, "Smoothing").options


@pytest.mark.shared_data
def test_a_log_scale_keeps_zero_months_and_labels_values(global_store: Path) -> None:
    page = _page(Selection(countries=("SYR", "AFG"), start="2016-01", end="2016-12"))
    assert "ticktext" not in _layout(page)["yaxis"]
    _widget(page.radio, "Scale").set_value("log")
    page.run()
    assert not page.exception
    axis = _layout(page)["yaxis"]
    assert axis["title"]["text"] == "All deaths per month<br>log scale of 1 + value, so 0 shows"
    # Syria's largest month of 2016 has 2,094 … thousands of deaths: ticks up to 10,000.
    assert axis["ticktext"] == ["0", "10", "100", "1,000", "10,000"]
    assert "log scale of 1 + value" in _layout(page, 1)["title"]["subtitle"]["text"]
    assert _value(page, "Syria", "2016-03") == 2094  # the table keeps the values
    # A link opens on the log scale: the choice is bound to the URL (?scale=Log).
    linked = _page(Selection(countries=("SYR",)), scale="Log")
    assert _widget(linked.radio, "Scale").value == "log"
    assert _layout(linked)["yaxis"]["ticktext"][0] == "0"


def test_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "store"))
        page = _page(Selection(countries=("SYR",)))
    assert not page.exception
    assert page.info[0].value.startswith("No data loaded yet, so there is nothing to compare.")
    assert not page.get("plotly_chart")


@pytest.mark.shared_data
def test_months_without_data_are_gaps_and_the_page_says_so(tmp_path: Path) -> None:
    # GED 21.1 speaks for every country to Dec 2020; the Myanmar file for Myanmar to Dec 2023.
    store = tmp_path / "store"
    for name in (GLOBAL_GED, "ucdp_ged_v24_1_myanmar.csv.gz"):
        if not (shared_data_dir() / name).exists():
            pytest.skip(f"shared data not found: {name}")
        loaders.import_file(shared_data_dir() / name, data_dir=store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(store))
        page = _page(Selection(countries=("MMR", "THA"), start="2020-11", end="2021-02"))
        # By default the last 10 years end where the whole world is covered, not with Myanmar.
        default = _page(Selection())
    assert _title(default) == "All deaths per month, Jan 2011 – Dec 2020"
    assert "(some to Dec 2023)" in _captions(default) and not default.warning
    assert not page.exception
    table = page.dataframe[0].value.set_index("Month")
    # Thailand's column says why its last two cells are empty; Myanmar's stays numbers.
    assert table["Thailand"].iloc[2:].tolist() == ["no data", "no data"]
    assert table["Thailand"].iloc[:2].str.fullmatch(r"\d+").all()
    assert pd.api.types.is_numeric_dtype(table["Myanmar"]) and table["Myanmar"].notna().all()
    assert "No data: a month no data source covers" in page.caption[-1].value
    assert "breaks, not zeros" in page.warning[0].value
    assert [t.value for t in page.text] == ["Thailand: 2 months without data (Jan 2021 … Feb 2021)"]
    subtitle = json.loads(page.get("plotly_chart")[0].proto.spec)["layout"]["title"]["subtitle"]
    assert "no data, not zero" in subtitle["text"]
