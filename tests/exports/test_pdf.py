"""The PDF briefing pack, read back with pypdf: what a reader of the printed pack would see."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

from exports import images as drawing
from exports import pdf
from exports.changes import Changes, what_changed
from exports.charts import count, interval, month_label, percent, points, risk_definition
from exports.pdf import VERIFY_COMMAND, PdfExportError, briefing_pdf, clean
from exports.snapshot import Snapshot, build_snapshot
from risk import profile
from risk.drivers import REFERENCE
from risk.selection import from_query
from tests.exports.conftest import SAHEL, covered

TABLE_HEADING = (
    "Rank Country UN presence Risk Trend vs last month Deaths, 3 months (median) 90% interval "
    "Flags Top driver"
)
GAP_PAGE = 2  # cover, ranked table, prevention gap, (what changed,) countries, citations


def words(text: str) -> str:
    """Text with every run of blanks (line breaks included) made one space."""
    return " ".join(text.split())


def read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [words(page.extract_text()) for page in read(data).pages]


def with_countries(snapshot: Snapshot, countries: pd.DataFrame, **changes) -> Snapshot:
    return replace(snapshot, countries=countries, **changes)


@pytest.fixture(scope="module")
def images(sahel_snapshot: Snapshot) -> dict[str, bytes]:
    """The Sahel charts as PNG, drawn once for the module."""
    return drawing.render_all(drawing.snapshot_figures(sahel_snapshot))


@pytest.fixture(scope="module")
def pack(sahel_snapshot: Snapshot, images: dict[str, bytes]) -> bytes:
    return briefing_pdf(sahel_snapshot, images=images)


@pytest.fixture(scope="module")
def pages(pack: bytes) -> list[str]:
    return page_texts(pack)


@pytest.fixture(scope="module")
def changes(global_store: Path, sahel_snapshot: Snapshot) -> Changes:
    """Since June 2020, with the top cut at 3 so that countries enter and leave it."""
    earlier = build_snapshot(global_store, SAHEL, "2020-06")
    return what_changed(earlier.to_json(), sahel_snapshot, top=3)


def test_cover_says_what_was_forecast_from_which_data_and_model(
    sahel_snapshot: Snapshot, pack: bytes, pages: list[str]
) -> None:
    cover = pages[0]
    source = sahel_snapshot.sources[0]
    assert cover.startswith("Article 99 risk briefing")
    assert "Sahel (Group) · all organised violence: 10 countries, 10 with a forecast" in cover
    assert "Deaths from all organised violence, forecast from data to Dec 2020" in cover
    assert risk_definition("2020-12", "all")[1:] in cover  # capitalised on the cover
    assert sahel_snapshot.generated_at in cover
    assert "UCDP GED 21.1" in cover
    assert f"File: {source['file']}" in cover
    assert f"Accessed: {source['fetched_at'][:10]}" in cover
    assert source["sha256"] in cover
    assert sahel_snapshot.model["model"] in cover
    assert sahel_snapshot.inputs_sha256 in cover
    assert len(read(pack).pages[0].images) == 1  # the risk map


def test_cover_holds_three_sources_and_a_caveat_on_one_page(
    sahel_snapshot: Snapshot, images: dict[str, bytes]
) -> None:
    """A mixed store's snapshot (global, Myanmar and CAR releases) ran off the cover before."""
    first = sahel_snapshot.sources[0]
    sources = [{**first, "version": v, "label": f"UCDP GED {v}"} for v in ("21.1", "23.1", "24.1")]
    snapshot = replace(sahel_snapshot, sources=sources)  # each with the subset's caveat
    assert len(snapshot.caveats) == 3
    cover, ranked = page_texts(briefing_pdf(snapshot, images=images))[:2]
    last_caveat = snapshot.caveats[-1].split(": ", 1)[1][:60]
    for text in ("UCDP GED 24.1", last_caveat, snapshot.model["model"], snapshot.inputs_sha256):
        assert text in cover
    assert ranked.startswith("Ranked countries")


def test_ranked_table_lists_the_countries_in_rank_order(
    sahel_snapshot: Snapshot, pages: list[str]
) -> None:
    table = pages[1]
    assert table.startswith("Ranked countries")
    assert TABLE_HEADING in table
    names = list(sahel_snapshot.ranked["name"])
    assert names[:2] == ["Nigeria", "Mali"]
    where = [table.index(f"{rank} {name} ") for rank, name in enumerate(names, 1)]
    assert where == sorted(where)


def test_nigeria_reads_as_the_snapshot_formats_it(
    sahel_snapshot: Snapshot, pages: list[str]
) -> None:
    nigeria = sahel_snapshot.ranked.set_index("iso3").loc["NGA"]
    risk = percent(nigeria["risk"])
    assert nigeria["risk"] > 0.9  # Nigeria: ≥ 25 deaths in every month of 2020
    presence = sahel_snapshot.presence.loc["NGA", "short"]
    assert f"1 Nigeria {words(presence)} {risk} " in pages[1]
    page = pages[3]
    assert page.startswith("1. Nigeria ")
    assert profile.risk_sentence(nigeria.to_dict(), "2020-12", "all") in page
    assert page.count(f"{risk} chance of at least 25 deaths from all organised violence") == 1
    # The table gives the median, as the country's chart draws it; the page names both.
    assert f" {count(nigeria['median_fatalities'])} {interval_of(nigeria)} " in pages[1]
    assert f"median {count(nigeria['median_fatalities'])} (90% interval" in page
    assert f"average {count(nigeria['expected_fatalities'])}" in page


def interval_of(row) -> str:
    return interval(row["fatalities_low"], row["fatalities_high"])


def test_every_page_is_footed_with_the_source_and_page_of_total(
    sahel_snapshot: Snapshot, pages: list[str]
) -> None:
    total = len(pages)
    for number, text in enumerate(pages, 1):
        assert sahel_snapshot.footer in text, number
        assert text.endswith(f"page {number} of {total}"), number


def test_pages_are_cover_table_one_per_country_and_citations(
    sahel_snapshot: Snapshot, pack: bytes, pages: list[str]
) -> None:
    ranked = list(sahel_snapshot.ranked.itertuples())
    table_pages = [text for text in pages if TABLE_HEADING in text]
    assert len(table_pages) == 1  # ten rows fit one page
    assert len(pages) == 1 + len(table_pages) + 1 + len(ranked) + 1 == 14
    assert pages[GAP_PAGE].startswith("Prevention gap: ")
    country_pages = pages[2 + len(table_pages) : -1]
    for row, text in zip(ranked, country_pages, strict=True):
        assert text.startswith(f"{row.rank}. {row.name} ")
    reader = read(pack)
    assert all(len(reader.pages[3 + k].images) == 1 for k in range(len(ranked)))
    assert pages[-1].startswith("Citations")


def test_country_pages_give_surge_flags_and_the_three_strongest_drivers(
    sahel_snapshot: Snapshot, pages: list[str]
) -> None:
    by_name = {text.split(" ")[1]: text for text in pages[3:-1]}
    niger, nigeria = by_name["Niger"], by_name["Nigeria"]
    assert "Surge flags (last month): deaths." in niger
    assert "Surge flags (last month): none." in nigeria
    # Why this level: the three largest shares, in order, each with its points of risk. The
    # model only rises with violence, so against the quiet reference every share raises the risk.
    heading = "Why this level: the largest shares of the risk"
    drivers = profile.driver_table(sahel_snapshot.drivers, "NGA").head(3)
    assert len(drivers) == 3 and (drivers["effect"] >= 0.5).all()
    lines = [f"▲ raises risk ({points(d.effect / 100)}): {d.text}" for d in drivers.itertuples()]
    where = [nigeria.index(text) for text in [heading, *lines, f"Against {REFERENCE}."]]
    assert where == sorted(where)
    assert "lowers risk" not in nigeria and "1,819 deaths in months 4–12 before" in lines[0]
    change = points(sahel_snapshot.ranked.set_index("iso3").loc["NER", "risk_change"])
    assert f"Risk change since last month's forecast: {change}." in niger


def test_last_page_cites_licenses_and_says_how_to_verify(
    sahel_snapshot: Snapshot, pages: list[str]
) -> None:
    last = pages[-1]
    for citation in sahel_snapshot.citations:
        assert words(citation) in last
    assert "UCDP GED 21.1: CC BY 4.0" in last
    assert VERIFY_COMMAND in last
    assert sahel_snapshot.table_sha256 in last


def test_metadata_carry_the_title_and_the_snapshot_date(
    sahel_snapshot: Snapshot, pack: bytes
) -> None:
    meta = read(pack).metadata
    assert meta.title == (
        "Article 99 risk briefing: Sahel (Group) · all organised violence, data to Dec 2020"
    )
    assert meta.creation_date == datetime.fromisoformat(sahel_snapshot.generated_at)


def test_the_same_snapshot_gives_the_same_bytes(
    sahel_snapshot: Snapshot, images: dict[str, bytes], pack: bytes
) -> None:
    assert briefing_pdf(sahel_snapshot, images=images) == pack


def test_what_changed_page_follows_the_table(
    sahel_snapshot: Snapshot, images: dict[str, bytes], changes: Changes
) -> None:
    texts = page_texts(briefing_pdf(sahel_snapshot, images=images, changes=changes))
    assert len(texts) == 14 + 1
    page = texts[3]
    assert page.startswith(f"What changed since {month_label('2020-06')} ")
    assert words(changes.summary) in page
    moved = changes.table.set_index("iso3")
    # The moves, worked out from the two snapshots' ranks and risks (top 3, 10 points).
    top_now, top_before = moved["rank_now"] <= 3, moved["rank_before"] <= 3
    improved = moved[moved["change"] <= -0.1]
    counts = (
        (top_now & ~top_before).sum(),
        (top_before & ~top_now).sum(),
        (moved["change"] >= 0.1).sum(),
        len(improved),
    )
    assert counts[:3] == (1, 1, 0) and counts[3] >= 1
    assert (
        "{} entered the top, {} left the top, {} deteriorated, {} improved".format(*counts) in page
    )
    assert f"Improved (risk down by at least 10 points): {len(improved)} " in page
    for row in improved.itertuples():
        risks = f"{percent(row.risk_before)} → {percent(row.risk_now)}"
        ranks = f"{int(row.rank_before)} → {int(row.rank_now)}"
        line = f"↓ {row.name} {ranks} {risks} {points(row.change)}"
        assert line in page.split("Improved (risk down")[1]
    mali, burkina = moved.loc["MLI"], moved.loc["BFA"]
    assert "Entered the top 3: 1" in page and "Left the top 3: 1" in page
    assert f"↑ Mali 4 → 2 {percent(mali['risk_before'])} → {percent(mali['risk_now'])}" in page
    risk_moved = f"{percent(burkina['risk_before'])} → {percent(burkina['risk_now'])}"
    ranks = f"{int(burkina['rank_before'])} → {int(burkina['rank_now'])}"
    assert f"↓ Burkina Faso {ranks} {risk_moved} {points(burkina['change'])}" in page
    assert page.count("↓ Burkina Faso") == 2  # left the top, and improved
    assert "Deteriorated (risk up by at least 10 points): 0 None." in page
    assert texts[4].startswith("1. Nigeria ")
    with pytest.raises(ValueError, match="data to 2020-11"):
        briefing_pdf(sahel_snapshot, images=images, changes=replace(changes, as_of="2020-11"))


def test_accented_names_and_typographic_apostrophes_come_out_as_written(
    sahel_snapshot: Snapshot, images: dict[str, bytes]
) -> None:
    names = {
        "NGA": "Côte d'Ivoire",
        "MLI": "Curaçao",
        "CMR": "São Tomé and Príncipe",
        "BFA": "Côte d’Ivoire",
    }
    countries = sahel_snapshot.countries.copy()
    countries["name"] = countries["iso3"].map(names).fillna(countries["name"])
    drivers = sahel_snapshot.drivers.copy()
    drivers["text"] = drivers["text"].str.replace("deaths", "deaths (d’après UCDP)", regex=False)
    snapshot = with_countries(sahel_snapshot, countries, drivers=drivers)
    texts = page_texts(briefing_pdf(snapshot, images=images, max_countries=4))
    for rank, iso3 in enumerate(names, 1):
        assert f"{rank} {names[iso3]} " in texts[1]
        assert texts[2 + rank].startswith(f"{rank}. {names[iso3]} ")
    assert "deaths (d’après UCDP) in months 4–12 before" in texts[3]  # Nigeria's largest share


def test_countries_without_a_forecast_are_listed_with_the_reason(
    sahel_snapshot: Snapshot, images: dict[str, bytes]
) -> None:
    countries = sahel_snapshot.countries.copy()
    gambia = countries["iso3"] == "GMB"
    countries.loc[gambia, "status"] = "insufficient data"
    countries.loc[gambia, "reason"] = "fewer than 24 months of data"
    countries.loc[gambia, ["rank", "risk", "expected_fatalities"]] = pd.NA
    snapshot = with_countries(sahel_snapshot, countries)
    texts = page_texts(briefing_pdf(snapshot, images=images))
    table = texts[1]
    assert "Not enough data to forecast" in table
    assert "Gambia Not enough data: fewer than 24 months of data" in table
    last = snapshot.ranked.iloc[-1]
    assert len(snapshot.ranked) == 9 and last["iso3"] != "GMB"
    assert table.index(f"9 {last['name']} ") < table.index("Gambia Not enough data")
    assert len(texts) == 1 + 1 + 1 + 9 + 1
    assert not any(text.startswith("10. ") for text in texts)


def test_data_text_is_written_plainly_without_control_characters(
    sahel_snapshot: Snapshot, images: dict[str, bytes]
) -> None:
    countries = sahel_snapshot.countries.copy()
    hostile = "**Bold** <b>Tag</b> {nb} [link](http://x)"
    countries.loc[countries["iso3"] == "NGA", "name"] = f"\x1b\x07{hostile}\x00\u202e\n"
    texts = page_texts(
        briefing_pdf(with_countries(sahel_snapshot, countries), images=images, max_countries=1)
    )
    risk = percent(countries.loc[countries["iso3"] == "NGA", "risk"].iloc[0])
    assert f"1 {hostile} " in texts[1] and f" {risk} " in texts[1]
    assert texts[3].startswith(f"1. {hostile} ")
    assert len(texts) == 5 and texts[-1].endswith("page 5 of 5")
    assert not any(c in text for text in texts for c in "\x1b\x00\u202e")


def test_clean_drops_control_and_format_characters() -> None:
    assert clean("Côte\td’Ivoire\x07\u200b\n") == "Côte d’Ivoire"
    assert clean(None) == "" and clean(float("nan")) == "" and clean(pd.NA) == ""
    assert clean("a\ue000b") == "ab"  # the page-count alias cannot come from data


def test_no_local_path_reaches_the_file(
    global_store: Path, sahel_snapshot: Snapshot, pack: bytes, pages: list[str]
) -> None:
    assert sahel_snapshot.data_dir is not None  # the snapshot knows the store; the pack must not
    reader = read(pack)
    decoded = []
    for number in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(IndirectObject(number, 0, reader))
        if isinstance(obj, StreamObject) and obj.get("/Subtype") != "/Image":
            decoded.append(obj.get_data())
        elif obj is not None:
            decoded.append(repr(obj).encode())
    texts = [*pages, str(reader.metadata)]
    for needle in (str(global_store), str(global_store.resolve()), "/tmp", "/home", "/work"):
        assert needle.encode() not in pack
        assert not any(needle.encode() in blob for blob in decoded), needle
        assert not any(needle in text for text in texts), needle


def test_missing_charts_are_drawn_and_max_countries_limits_the_pages(
    sahel_snapshot: Snapshot, images: dict[str, bytes]
) -> None:
    texts = page_texts(briefing_pdf(sahel_snapshot, images={}, max_countries=2))
    assert len(texts) == 1 + 1 + 1 + 2 + 1
    assert [texts[3].split(" ")[1], texts[4].split(" ")[1]] == ["Nigeria", "Mali"]
    assert "10 Gambia" in texts[1]  # the table keeps every country
    with pytest.raises(ValueError, match="max_countries"):
        briefing_pdf(sahel_snapshot, images=images, max_countries=-1)


def test_without_the_fonts_the_error_names_the_package(
    sahel_snapshot: Snapshot, images: dict[str, bytes], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    with pytest.raises(PdfExportError, match="fonts-dejavu-core"):
        briefing_pdf(sahel_snapshot, images=images)


# --- issue 18: UN presence and the prevention gap ---------------------------------------------


def test_the_ranked_table_gives_each_countrys_un_presence(
    sahel_snapshot: Snapshot, pages: list[str]
) -> None:
    mali = words(sahel_snapshot.presence.loc["MLI", "short"])
    assert "MINUSMA" in mali
    assert f"2 Mali {mali} " in pages[1]


def test_the_gap_page_lists_the_recomputed_gap_with_its_rule_cost_and_sources(
    sahel_snapshot: Snapshot, sahel_gap: pd.DataFrame, pages: list[str]
) -> None:
    page = pages[GAP_PAGE]
    counted = f"{len(sahel_gap)} {'country' if len(sahel_gap) == 1 else 'countries'}"
    assert page.startswith(f"Prevention gap: {counted} ")
    assert words(sahel_snapshot.gap_rule) in page
    assert words(sahel_snapshot.cost_of_waiting) in page
    where = [
        page.index(f"{name} {percent(risk)} ") for name, risk in sahel_gap[["name", "risk"]].values
    ]
    assert where == sorted(where)  # highest risk first
    assert "Mali" not in page.split(words(sahel_snapshot.cost_of_waiting))[1]  # MINUSMA: no gap
    if sahel_snapshot.reference_warning:
        assert words(sahel_snapshot.reference_warning) in page
    for table in sahel_snapshot.references:
        assert words(table["citation"]) in page
        assert table["sources"][0] in page.replace(" ", "")


def test_an_empty_gap_is_a_page_that_says_so(
    sahel_snapshot: Snapshot, images: dict[str, bytes]
) -> None:
    texts = page_texts(briefing_pdf(covered(sahel_snapshot), images=images, max_countries=0))
    page = texts[GAP_PAGE]
    assert page.startswith("Prevention gap: 0 countries ")
    assert "No country of the selection meets the rule." in page


def test_a_membership_group_is_named_in_the_pdf(
    global_store: Path, images: dict[str, bytes]
) -> None:
    snapshot = build_snapshot(global_store, from_query({"region": "org:ECOWAS"}))
    pack = briefing_pdf(snapshot, images={"risk_map.png": images["risk_map.png"]}, max_countries=0)
    description = snapshot.selection.describe()
    assert "ECOWAS" in description
    assert read(pack).metadata.title.startswith(f"Article 99 risk briefing: {description}, ")
    assert page_texts(pack)[0].startswith(f"Article 99 risk briefing {words(description)}: ")
