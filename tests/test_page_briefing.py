"""AppTest of the briefing page with the global GED 21.1 store: the Sahel, one slide at a time.

The page runs inside `app.py` (its links need the app's navigation), opened as from a shared
link: the filters and the slide number come from the URL. What each slide must say is what
`exports.slides.briefing_slides()` says for the same snapshot: the page adds no numbers.
The model is trained in the fixture, outside the AppTest timeout; the fit is cached in the store.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from exports.slides import NO_GAP, NOT_ENOUGH_DATA, Slide, briefing_slides
from exports.snapshot import Snapshot, build_snapshot
from loaders import reference
from risk.selection import Selection
from tests.conftest import REPO, open_page

SAHEL = Selection(regions=("group:Sahel",))
PAGE = "app_pages/briefing.py"
TIMEOUT = 300


@pytest.fixture(scope="module")
def store(global_app_store: Path) -> Path:
    return global_app_store


@pytest.fixture(scope="module")
def sahel_deck(store: Path) -> list[Slide]:
    """The slides the page must show for the Sahel: the title slide, then Nigeria, Mali, …"""
    return briefing_slides(build_snapshot(store, SAHEL))


def _briefing(**query: str) -> AppTest:
    """app.py opened on the briefing page with these URL parameters."""
    return open_page(PAGE, TIMEOUT, **query)


def _plain(text: str) -> str:
    """Shown text without the backslashes that escape markdown."""
    return text.replace("\\", "")


def _shown(at: AppTest) -> dict:
    """The slide as the page shows it."""
    main = at.main
    return {
        "title": _plain(main.title[0].value),
        "risk": [_plain(h.value) for h in main.header],
        "interval": [_plain(h.value) for h in main.subheader],
        "position": next(m.value for m in main.markdown if m.value.startswith("Slide ")),
        "charts": [json.loads(c.proto.spec) for c in at.get("plotly_chart")],
        "footer": _plain(main.caption[-1].value),
    }


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_sahel_opens_on_the_title_slide_with_the_map(store: Path, sahel_deck) -> None:
    at = _briefing(region="group:Sahel")
    shown = _shown(at)
    assert shown["title"] == "Risk briefing: Sahel (Group) · all organised violence"
    assert shown["title"] == sahel_deck[0].title
    assert shown["position"] == f"Slide 1 of {len(sahel_deck)}" == "Slide 1 of 12"
    assert shown["interval"] == [sahel_deck[0].interval]
    assert f"1. Nigeria: {sahel_deck[1].risk}" in _plain(at.main.markdown[1].value)
    assert at.query_params["slide"] == "1"
    assert _button(at, "Previous").disabled
    (chart,) = at.get("plotly_chart")
    assert json.loads(chart.proto.spec)["data"][0]["type"] == "choropleth"
    assert json.loads(chart.proto.config)["topojsonURL"] == "/app/static/topojson/"
    assert chart.proto.theme == ""  # theme=None: the chart's own colours in every theme
    assert shown["footer"] == sahel_deck[0].footer
    assert "UCDP GED 21.1" in shown["footer"]


def test_next_goes_to_nigeria_then_mali_and_back(store: Path, sahel_deck) -> None:
    at = _briefing(region="group:Sahel")
    _button(at, "Next").click().run()
    shown = _shown(at)
    nigeria = sahel_deck[1]
    assert shown["title"] == nigeria.title == "Nigeria"
    assert shown["risk"][0] == nigeria.risk
    assert shown["interval"] == [nigeria.interval]
    assert nigeria.interval.startswith("Deaths from all organised violence Jan–Mar 2021: median ")
    assert shown["position"] == "Slide 2 of 12"
    assert at.query_params == {"region": "group:Sahel", "slide": "2"}
    (spec,) = shown["charts"]
    assert "Nigeria" in spec["layout"]["title"]["text"]
    assert spec["layout"]["height"] >= 560
    drivers = _plain(at.main.markdown[1].value).splitlines()
    assert drivers == [f"- {point}" for point in nigeria.points]

    _button(at, "Next").click().run()
    assert _shown(at)["title"] == sahel_deck[2].title == "Mali"
    assert _shown(at)["risk"][0] == sahel_deck[2].risk
    assert at.query_params["slide"] == "3"
    _button(at, "Previous").click().run()
    assert _shown(at)["title"] == "Nigeria"


def test_a_measure_in_the_link_briefs_on_that_measure(store: Path) -> None:
    deck = briefing_slides(build_snapshot(store, replace(SAHEL, measure="one_sided")))
    at = _briefing(region="group:Sahel", measure="one_sided", slide="2")
    shown = _shown(at)
    first = deck[1]
    assert (shown["title"], shown["risk"][0]) == (first.title, first.risk)
    assert shown["interval"] == [first.interval]
    assert first.interval.startswith("Deaths from one-sided violence against civilians ")
    assert (
        "from one-sided violence against civilians" in shown["charts"][0]["layout"]["title"]["text"]
    )
    assert "forecast of deaths from one-sided violence against civilians" in shown["footer"]
    assert at.query_params["measure"] == "one_sided"


@pytest.mark.parametrize(
    ("wanted", "number"), [("3", 3), ("99", 12), ("0", 1), ("-4", 1), ("two", 1), ("", 1)]
)
def test_the_link_reopens_the_slide_and_clamps_the_number(
    store: Path, sahel_deck, wanted: str, number: int
) -> None:
    at = _briefing(region="group:Sahel", slide=wanted)
    shown = _shown(at)
    assert shown["title"] == sahel_deck[number - 1].title
    assert shown["position"] == f"Slide {number} of 12"
    assert at.query_params["slide"] == str(number)
    assert _button(at, "Next").disabled == (number == 12)


def test_chosen_countries_come_in_the_chosen_order(store: Path) -> None:
    at = _briefing(region="group:Sahel")
    at.multiselect(key="briefing_countries").set_value(["TCD", "NGA"]).run()
    assert at.query_params["brief"] == "TCD,NGA"
    assert _shown(at)["position"] == "Slide 1 of 4"
    _button(at, "Next").click().run()
    assert _shown(at)["title"] == "Chad"
    _button(at, "Next").click().run()
    assert _shown(at)["title"] == "Nigeria"
    _button(at, "Next").click().run()
    assert _shown(at)["title"].startswith("Prevention gap: ")  # the selection's, always
    assert _button(at, "Next").disabled
    # A shared link with the list and the slide opens the same slide.
    again = _briefing(region="group:Sahel", brief="TCD,NGA", slide="2")
    assert _shown(again)["title"] == "Chad"
    assert again.multiselect(key="briefing_countries").value == ["TCD", "NGA"]


def test_sidebar_filter_changes_the_slides(store: Path, sahel_deck) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["slide"] = "2"
    at.run()
    at.switch_page(PAGE).run()
    assert _shown(at)["title"] == "Afghanistan"  # the world's riskiest country
    at.sidebar.multiselect(key="filter_regions").set_value(["group:Sahel"]).run()
    assert not at.exception
    assert _shown(at)["title"] == "Nigeria"
    assert at.query_params == {"region": "group:Sahel", "slide": "2"}


@pytest.fixture
def without_mali(store: Path, monkeypatch: pytest.MonkeyPatch) -> Snapshot:
    """The Sahel with Mali's forecast taken away (every GED 21.1 country has one), served to
    the page in place of the real snapshot."""
    snapshot = build_snapshot(store, SAHEL)
    countries = snapshot.countries.copy()
    mali = countries["iso3"] == "MLI"
    countries.loc[mali, ["status", "reason"]] = ["insufficient data", "too few months of data"]
    countries.loc[mali, "risk"] = float("nan")
    countries["rank"] = countries["rank"].where(~mali)
    thin = replace(snapshot, countries=countries)

    def only_thin(selection: Selection, as_of: str | None = None) -> Snapshot:
        return thin

    monkeypatch.setattr("ui.cache.snapshot", only_thin)
    return thin


def test_countries_without_a_forecast_are_named_on_the_last_slide(without_mali) -> None:
    deck = briefing_slides(without_mali)
    assert "Mali" not in [slide.title for slide in deck]  # no slide of its own
    at = _briefing(region="group:Sahel")
    assert "1 of 10 countries: not enough data to forecast (named on the last slide)" in _plain(
        at.main.markdown[1].value
    )
    at = _briefing(region="group:Sahel", slide="12")
    shown = _shown(at)
    assert shown["position"] == "Slide 12 of 12"
    assert shown["title"] == deck[-1].title == "No forecast for 1 country"
    assert shown["interval"] == [f"{NOT_ENOUGH_DATA}: not ranked, no slide of their own"]
    assert _plain(at.main.markdown[1].value) == "- Mali: too few months of data"
    assert not shown["charts"]
    assert not at.main.header  # no risk number
    assert _button(at, "Next").disabled


def test_a_country_without_a_forecast_picked_by_the_analyst_gets_its_slide(without_mali) -> None:
    at = _briefing(region="group:Sahel", brief="NGA,MLI", slide="3")
    shown = _shown(at)
    assert (shown["title"], shown["position"]) == ("Mali", "Slide 3 of 4")
    assert _plain(at.main.info[0].value) == f"{NOT_ENOUGH_DATA}: too few months of data"
    assert not shown["charts"]
    assert not at.main.header  # no risk number


def test_the_gap_slide_lists_the_gap_its_rule_cost_and_sources(store: Path, sahel_deck) -> None:
    """After the ten country slides: the Sahel's prevention gap, as the deck words it."""
    (gap,) = [slide for slide in sahel_deck if slide.kind == "gap"]
    number = sahel_deck.index(gap) + 1
    assert number == 12  # the last: every Sahel country has a forecast
    at = _briefing(region="group:Sahel", slide=str(number))
    shown = _shown(at)
    assert shown["title"] == gap.title == "Prevention gap: 3 countries"
    assert shown["interval"] == [gap.interval]
    assert "31 Dec 2020" in gap.interval
    assert _plain(at.main.markdown[1].value).splitlines() == [f"- {p}" for p in gap.points]
    assert [p.split(":")[0] for p in gap.points] == ["Nigeria", "Cameroon", "Burkina Faso"]
    assert _plain(at.main.markdown[2].value) == gap.notes[0]
    captions = [_plain(c.value) for c in at.main.caption]
    citations, warning = gap.sources[:3], gap.sources[3:]
    assert captions[0] == " ".join(["Reference tables: " + "; ".join(citations) + ".", *warning])
    assert "; UN presence: un_presence.csv (shipped), as of " in captions[0]
    assert shown["footer"] == gap.footer
    assert not shown["charts"] and not at.main.header


def test_a_replaced_presence_table_changes_the_gap_slide(store: Path) -> None:
    """A test row (an envoy for Nigeria, which had none) put in through the Data page's own
    function: the next run of the page reads it, not the cached snapshot."""
    assert _shown(_briefing(region="group:Sahel", slide="12"))["title"] == (
        "Prevention gap: 3 countries"
    )
    shipped = (REPO / "data" / "un_presence.csv").read_bytes()
    envoy = (
        b"NGA,Nigeria,TEST,Test envoy,envoy,country,2019-01-01,,S/TEST,"
        b"https://example.org/test,2025-01-31\n"
    )
    reference.replace("un_presence", shipped + envoy, "un_presence.csv", store)
    try:
        at = _briefing(region="group:Sahel", slide="12")
        assert _shown(at)["title"] == "Prevention gap: 2 countries"
        assert "Nigeria" not in _plain(at.main.markdown[1].value)
        assert "UN presence: un_presence.csv (replaced)" in _plain(at.main.caption[0].value)
    finally:
        reference.restore("un_presence", store)


def test_an_empty_gap_is_a_slide_that_says_so(store: Path, monkeypatch) -> None:
    snapshot = build_snapshot(store, SAHEL)
    covered = replace(snapshot, presence=snapshot.presence.assign(field=True))
    monkeypatch.setattr("ui.cache.snapshot", lambda selection, as_of=None: covered)
    at = _briefing(region="group:Sahel", slide="12")
    assert _shown(at)["title"] == "Prevention gap: none"
    assert _plain(at.main.markdown[1].value) == f"- {NO_GAP}"
    assert not at.exception


def test_selection_without_countries_says_so(store: Path) -> None:
    at = AppTest.from_file(str(REPO / PAGE), default_timeout=TIMEOUT)
    at.session_state["selection"] = Selection(countries=("XXX",))
    at.run()
    assert not at.exception
    assert "Nothing to brief on: no country matches the filters" in _plain(at.info[0].value)
    assert not at.get("plotly_chart")


def test_empty_store_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "store"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "The store is empty" in at.info[0].value
    assert [e.proto.label for e in at.get("page_link")] == ["Load data"]
