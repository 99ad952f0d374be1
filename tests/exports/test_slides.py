"""Briefing slides: the words on each slide, and the PowerPoint deck built from them.

The Sahel snapshot (GED 21.1, Dec 2020) gives real numbers; an insufficient-data country and
a name with a control character are made by editing a copy of it. The charts are drawn once
for the module and handed to the deck, so only one test waits for Chromium.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest
from pptx import Presentation
from pptx.parts.image import Image
from pptx.util import Pt

from exports import images, slides
from exports.charts import points
from exports.slides import LOWERS, RAISES, Slide, briefing_pptx, briefing_slides, plain_text
from risk import presence
from risk.drivers import MIN_EFFECT
from tests.exports.conftest import covered

SAHEL = {"NGA", "MLI", "CMR", "BFA", "NER", "TCD", "GIN", "SEN", "MRT", "GMB"}
GAMBIA_REASON = "fewer than 12 months of data up to 2020-12"
WIDESCREEN = (12192000, 6858000)


@pytest.fixture(scope="module")
def sahel_order(sahel_snapshot) -> list[str]:
    """The snapshot's ranking (Mauritania and Senegal are a draw or two apart: not hard-coded)."""
    order = list(sahel_snapshot.countries["iso3"])
    assert set(order) == SAHEL and order[:2] == ["NGA", "MLI"] and order[-1] == "GMB"
    return order


@pytest.fixture(scope="module")
def sahel_slides(sahel_snapshot) -> list[Slide]:
    return briefing_slides(sahel_snapshot)


@pytest.fixture(scope="module")
def chart_pngs(sahel_snapshot, sahel_slides) -> dict[str, bytes]:
    """Every chart of the Sahel briefing, drawn once (Chromium needed)."""
    try:
        return slides.slide_images(sahel_snapshot, sahel_slides)
    except images.ImageExportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def sahel_deck(sahel_snapshot, chart_pngs) -> bytes:
    return briefing_pptx(sahel_snapshot, images=chart_pngs)


def _kind(briefing: list[Slide], kind: str) -> list[Slide]:
    return [s for s in briefing if s.kind == kind]


def _gambia_without_data(snapshot):
    """The Sahel snapshot with Gambia (ranked last) turned into an insufficient-data country."""
    countries = snapshot.countries.copy()
    gambia = countries["iso3"] == "GMB"
    countries.loc[gambia, ["status", "reason"]] = ["insufficient data", GAMBIA_REASON]
    countries.loc[gambia, ["risk", "expected_fatalities", "fatalities_low"]] = np.nan
    countries["rank"] = countries["rank"].where(~gambia)
    return dataclasses.replace(snapshot, countries=countries)


def _texts(slide) -> dict[str, str]:
    return {shape.name: shape.text_frame.text for shape in slide.shapes if shape.has_text_frame}


def _pictures(slide) -> list:
    return [shape for shape in slide.shapes if shape.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE


# --- the content model ------------------------------------------------------------------------


def test_plain_text_drops_control_characters_and_keeps_the_rest() -> None:
    assert plain_text("Côte d'Ivoire\x07") == "Côte d'Ivoire"
    assert plain_text("one\ntwo\r\nthree\tfour\x0b") == "one two three four"
    assert plain_text("\x00\x1b[31mred\x7f\x9b") == "[31mred"
    assert plain_text("a\ud800b\ufffe") == "ab"
    assert plain_text("São Tomé & Príncipe <b>") == "São Tomé & Príncipe <b>"
    assert plain_text(None) == plain_text(np.nan) == ""


def test_the_title_slide_says_what_risk_means_and_lists_the_top_countries(
    sahel_snapshot, sahel_slides
) -> None:
    title = sahel_slides[0]
    assert (title.kind, title.iso3, title.chart, title.risk) == ("title", None, "risk_map", "")
    assert title.title == "Risk briefing: Sahel (Group) · all organised violence"
    assert title.interval == (
        "Risk: chance of at least one month with ≥ 25 deaths from all organised violence, "
        "Jan–Mar 2021"
    )
    top = sahel_snapshot.countries.head(slides.TOP_COUNTRIES)
    assert title.points == tuple(
        f"{k}. {row.name}: {row.risk:.0%} risk" for k, row in enumerate(top.itertuples(), 1)
    )
    assert list(top["name"][:2]) == ["Nigeria", "Mali"]
    assert top["risk"].iloc[0] == pytest.approx(0.98, abs=0.01)  # ≥ 25 deaths every month of 2020
    assert top["risk"].is_monotonic_decreasing


def test_one_slide_per_country_in_rank_order_with_the_snapshots_numbers(
    sahel_snapshot, sahel_slides, sahel_order
) -> None:
    countries = sahel_slides[1 : 1 + len(sahel_order)]
    assert [s.iso3 for s in countries] == sahel_order
    assert {s.kind for s in countries} == {"country"}
    nigeria = sahel_snapshot.countries.set_index("iso3").loc["NGA"]
    first = countries[0]
    assert (first.title, first.chart) == ("Nigeria", "forecast_NGA")
    assert first.risk == f"{nigeria['risk']:.0%} risk"
    # The median as the slide's chart draws it, with its interval; then the average, named.
    assert first.interval == (
        f"Deaths from all organised violence Jan–Mar 2021: median "
        f"{nigeria['median_fatalities']:,.0f} (90% interval {nigeria['fatalities_low']:,.0f}–"
        f"{nigeria['fatalities_high']:,.0f}); average {nigeria['expected_fatalities']:,.0f}"
    )
    mali = sahel_snapshot.countries.set_index("iso3").loc["MLI"]
    assert countries[1].title == "Mali" and countries[1].risk == f"{mali['risk']:.0%} risk"
    for slide in sahel_slides:
        assert slide.footer == sahel_snapshot.footer
        assert "UCDP GED 21.1" in slide.footer and "2020-12" in slide.footer


def test_drivers_are_the_three_strongest_in_words_with_their_direction(
    sahel_snapshot, sahel_slides
) -> None:
    """Why this level: the largest shares of the risk, each with its points (the share ×100)."""
    drivers = sahel_snapshot.drivers
    assert set(drivers["kind"]) == {"level", "change"}
    level = drivers[(drivers["kind"] == "level") & (drivers["effect"].abs() >= MIN_EFFECT)]
    for slide in _kind(sahel_slides, "country"):
        rows = level[level["iso3"] == slide.iso3]
        rows = rows.iloc[np.argsort(-rows["effect"].abs().to_numpy(), kind="stable")].head(3)
        expected = tuple(
            f"{RAISES if effect > 0 else LOWERS}{text} ({points(effect)})"
            for text, effect in zip(rows["text"], rows["effect"], strict=True)
        )
        assert slide.points == (expected or (slides.NO_STRONG_DRIVER,)), slide.iso3
        assert len(slide.points) <= 3
    nigeria, mali = sahel_slides[1], sahel_slides[2]
    # Nigeria's largest share: its deaths of Jan–Sep 2020, all of those months serious.
    assert nigeria.points[0].startswith(
        "▲ Raises risk: 1,819 deaths in months 4–12 before, 9 of those 9 with ≥ 25 (+"
    )
    assert len(mali.points) == 3
    # Gambia: no death in 2020 nor nearby worth a share of half a point.
    gambia = _kind(sahel_slides, "country")[-1]
    assert gambia.iso3 == "GMB"
    assert gambia.points == (slides.NO_STRONG_DRIVER,)


def test_countries_without_a_forecast_are_named_together_on_the_last_slide(
    sahel_snapshot, sahel_order
) -> None:
    """By default a country the data cannot speak for gets no slide of its own: one slide at
    the end names every such country with its reason."""
    thin = _gambia_without_data(sahel_snapshot)
    briefing = briefing_slides(thin)
    assert [s.iso3 for s in _kind(briefing, "country")] == sahel_order[:-1]  # Gambia: no slide
    assert [s.kind for s in briefing[len(sahel_order) :]] == ["gap", "no_forecast"]
    assert briefing[-1] == Slide(
        kind="no_forecast",
        iso3=None,
        title="No forecast for 1 country",
        risk="",
        interval=("Not enough data to forecast: not ranked, no slide of their own"),
        chart=None,
        points=(f"Gambia: {GAMBIA_REASON}",),
        footer=sahel_snapshot.footer,
    )
    assert briefing[0].points[-1] == (
        "1 of 10 countries: not enough data to forecast (named on the last slide)"
    )
    assert not any("Gambia" in point for point in briefing[0].points)


def test_countries_without_a_forecast_are_grouped_by_reason(sahel_snapshot) -> None:
    thin = _gambia_without_data(sahel_snapshot)
    countries = thin.countries.copy()
    for iso3, reason in (("SEN", GAMBIA_REASON), ("MRT", "not in the country reference")):
        row = countries["iso3"] == iso3
        countries.loc[row, ["status", "reason"]] = ["insufficient data", reason]
        countries.loc[row, "risk"] = np.nan
    thinner = dataclasses.replace(thin, countries=countries)
    briefing = briefing_slides(thinner)
    assert len(briefing) == 1 + 7 + len(_kind(briefing, "gap")) + 1
    listing = briefing[-1]
    assert listing.title == "No forecast for 3 countries"
    names = dict(point.split(": ", 1)[::-1] for point in listing.points)
    assert names == {
        GAMBIA_REASON: "Gambia, Senegal",  # A to Z
        "not in the country reference": "Mauritania",
    }
    assert "nan" not in " ".join(listing.points).lower()


def test_a_country_without_a_forecast_picked_by_the_analyst_gets_its_slide(
    sahel_snapshot,
) -> None:
    briefing = briefing_slides(_gambia_without_data(sahel_snapshot), ["NGA", "GMB"])
    assert [s.kind for s in briefing] == ["title", "country", "insufficient", "gap"]
    assert briefing[2] == Slide(
        kind="insufficient",
        iso3="GMB",
        title="Gambia",
        risk="",
        interval="",
        chart=None,
        points=(f"Not enough data to forecast: {GAMBIA_REASON}",),
        footer=sahel_snapshot.footer,
    )
    assert briefing[0].points[-2:] == (
        "1 of 10 countries: not enough data to forecast",
        "Slides follow for 2 of the 10 countries",
    )


def test_a_store_of_many_releases_still_makes_a_deck(sahel_snapshot, chart_pngs) -> None:
    """Several releases make a footer longer than a document property may hold (255
    characters): the deck is made, its comments cut at a word, the caveats kept first."""
    (source,) = sahel_snapshot.sources
    releases = [{**source, "label": f"UCDP GED 2{k}.1 Country {k}"} for k in range(1, 6)]
    many = dataclasses.replace(sahel_snapshot, sources=releases)
    assert len(many.footer) > 255
    deck = Presentation(io.BytesIO(briefing_pptx(many, images=chart_pngs)))
    comments = deck.core_properties.comments
    assert len(comments) <= 255 and comments.endswith("…")
    assert comments.startswith(many.caveats[0][:100])


def test_chosen_countries_keep_their_order_and_the_deck_is_capped(
    sahel_snapshot, sahel_order, monkeypatch
) -> None:
    chosen = briefing_slides(sahel_snapshot, ["MLI", "NGA", "MLI"])
    assert [s.title for s in chosen[:3]] == [
        "Risk briefing: Sahel (Group) · all organised violence",
        "Mali",
        "Nigeria",
    ]
    assert {s.kind for s in chosen[3:]} == {"gap"}  # the selection's gap, whoever is chosen
    assert chosen[0].points[-1] == "Slides follow for 2 of the 10 countries"
    assert [s.kind for s in briefing_slides(sahel_snapshot, [])] == ["title", "gap"]
    with pytest.raises(ValueError, match="FRA"):
        briefing_slides(sahel_snapshot, ["MLI", "FRA"])
    monkeypatch.setattr(slides, "MAX_COUNTRIES", 3)
    capped = briefing_slides(sahel_snapshot)
    assert [s.iso3 for s in _kind(capped, "country")] == sahel_order[:3]
    assert capped[0].points[-1] == "Slides follow for the 3 riskiest of the 10 countries forecast"
    with pytest.raises(ValueError, match="at most 3"):
        briefing_slides(sahel_snapshot, sahel_order[:4])


# --- the deck ---------------------------------------------------------------------------------


def test_charts_are_drawn_at_the_slide_size(sahel_snapshot, chart_pngs) -> None:
    assert sorted(chart_pngs) == sorted(
        ["risk_map.png", *(f"forecast_{iso3}.png" for iso3 in sorted(SAHEL))]
    )
    assert Image.from_blob(chart_pngs["forecast_NGA.png"]).size == slides.CHART_SIZE


def test_the_deck_has_a_slide_per_briefing_slide_and_a_citations_slide(
    sahel_snapshot, sahel_slides, sahel_deck
) -> None:
    prs = Presentation(io.BytesIO(sahel_deck))
    assert (prs.slide_width, prs.slide_height) == WIDESCREEN
    pages = list(prs.slides)
    assert len(pages) == len(sahel_slides) + 1 == 13  # one prevention-gap slide
    assert [page.shapes.title.text for page in pages] == [
        *(s.title for s in sahel_slides),
        "Sources and citations",
    ]
    for page in pages:
        assert _texts(page)["Footer"] == sahel_snapshot.footer
    assert len(_pictures(pages[0])) == 1  # the map
    for page, slide in zip(pages[1:11], sahel_slides[1:11], strict=True):
        assert len(_pictures(page)) == 1, slide.iso3
        texts = _texts(page)
        assert texts["Risk"] == slide.risk
        assert texts["Interval"] == slide.interval
        assert texts["Points"].split("\n") == list(slide.points)
    nigeria = _texts(pages[1])
    assert nigeria["Risk"].endswith("% risk") and int(nigeria["Risk"].split("%")[0]) >= 90
    assert nigeria["Points"].startswith("▲ Raises risk: 1,819 deaths in months 4–12 before")
    citations = _texts(pages[-1])["Citations"]
    assert sahel_snapshot.citations and all(c in citations for c in sahel_snapshot.citations)
    assert all(line in citations for line in sahel_snapshot.reference_lines)
    assert "Sundberg, Ralph and Erik Melander (2013)" in citations
    assert not _pictures(pages[-1])


def test_the_deck_uses_large_type_and_alt_text(sahel_deck) -> None:
    prs = Presentation(io.BytesIO(sahel_deck))
    for page in prs.slides:
        for shape in page.shapes:
            if shape.shape_type == 13:
                assert shape._element.nvPicPr.cNvPr.get("descr")
                continue
            runs = [r for p in shape.text_frame.paragraphs for r in p.runs]
            smallest = min(r.font.size for r in runs)
            if shape == page.shapes.title:
                assert smallest >= Pt(32)
            elif shape.name not in ("Footer", "Sources"):  # source lines, as on every slide
                assert smallest >= Pt(18), shape.name


def test_the_deck_metadata_is_ours_and_names_no_local_path(
    sahel_snapshot, sahel_deck, global_store
) -> None:
    prs = Presentation(io.BytesIO(sahel_deck))
    core = prs.core_properties
    assert core.title == "Risk briefing: Sahel (Group) · all organised violence"
    assert core.author == core.last_modified_by == "Article 99"
    generated = datetime.fromisoformat(sahel_snapshot.generated_at)
    assert core.created == core.modified == generated.astimezone(UTC).replace(tzinfo=None)
    with zipfile.ZipFile(io.BytesIO(sahel_deck)) as archive:
        names = archive.namelist()
        parts = {name: archive.read(name) for name in names}
    assert not [n for n in names if "thumbnail" in n or "printerSettings" in n]
    assert b"<Application>Article 99</Application>" in parts["docProps/app.xml"]
    for needle in (str(global_store), "/tmp", "/home", "/work", "python-pptx", "Steve Canny"):
        leaks = [name for name, blob in parts.items() if needle.encode() in blob]
        assert not leaks, f"{needle!r} in {leaks}"


def test_control_characters_are_dropped_and_accents_kept(sahel_snapshot, chart_pngs) -> None:
    countries = sahel_snapshot.countries.copy()
    countries.loc[countries["iso3"] == "MLI", "name"] = "Côte d'Ivoire\x07"
    drivers = sahel_snapshot.drivers.copy()
    earlier = (drivers["iso3"] == "MLI") & (drivers["driver"] == "earlier")
    drivers.loc[earlier, "text"] = "896 deaths\x1b in months\n4–12 before"
    edited = dataclasses.replace(sahel_snapshot, countries=countries, drivers=drivers)
    slide = briefing_slides(edited, ["MLI"])[1]
    assert slide.title == "Côte d'Ivoire"
    share = drivers.loc[earlier & (drivers["kind"] == "level"), "effect"].item()
    first = f"▲ Raises risk: 896 deaths in months 4–12 before ({points(share)})"
    assert slide.points[0] == first  # Mali's largest share
    deck = briefing_pptx(edited, iso3s=["MLI"], images=chart_pngs)
    page = Presentation(io.BytesIO(deck)).slides[1]
    assert page.shapes.title.text == "Côte d'Ivoire"
    assert _texts(page)["Points"].split("\n")[0] == first
    with zipfile.ZipFile(io.BytesIO(deck)) as archive:
        xml = archive.read("ppt/slides/slide2.xml").decode()
    assert "Côte d'Ivoire" in xml and "_x00" not in xml


def test_the_deck_names_countries_without_a_forecast_on_one_slide(
    sahel_snapshot, chart_pngs
) -> None:
    deck = briefing_pptx(_gambia_without_data(sahel_snapshot), images=chart_pngs)
    pages = list(Presentation(io.BytesIO(deck)).slides)
    titles = [page.shapes.title.text for page in pages]
    assert len(pages) == 1 + 9 + 1 + 1 + 1 and "Gambia" not in titles
    assert titles[-2:] == ["No forecast for 1 country", "Sources and citations"]
    listing = pages[-2]
    assert not _pictures(listing)
    texts = _texts(listing)
    assert texts["Interval"] == "Not enough data to forecast: not ranked, no slide of their own"
    assert texts["Points"] == f"Gambia: {GAMBIA_REASON}"
    assert texts["Footer"] == sahel_snapshot.footer


def test_the_insufficient_slide_has_no_chart_and_the_reason(sahel_snapshot, chart_pngs) -> None:
    deck = briefing_pptx(_gambia_without_data(sahel_snapshot), iso3s=["GMB"], images=chart_pngs)
    page = Presentation(io.BytesIO(deck)).slides[1]
    assert page.shapes.title.text == "Gambia"
    assert not _pictures(page)
    texts = _texts(page)
    assert texts["Points"] == f"Not enough data to forecast: {GAMBIA_REASON}"
    assert "Risk" not in texts and "Interval" not in texts


def test_a_chart_not_given_is_drawn(sahel_snapshot, chart_pngs) -> None:
    given = {k: v for k, v in chart_pngs.items() if k != "forecast_MLI.png"}
    deck = briefing_pptx(sahel_snapshot, iso3s=["MLI"], images=given)
    page = Presentation(io.BytesIO(deck)).slides[1]
    (picture,) = _pictures(page)
    assert picture.image.content_type == "image/png"
    assert Image.from_blob(picture.image.blob).size == slides.CHART_SIZE


# --- issue 18: the prevention gap -------------------------------------------------------------


def test_the_gap_slide_follows_the_countries_with_the_recomputed_gap(
    sahel_snapshot, sahel_slides, sahel_gap, global_store
) -> None:
    (gap,) = _kind(sahel_slides, "gap")
    assert sahel_slides.index(gap) == 11  # after the title and the ten country slides
    assert list(sahel_gap["iso3"]) == ["NGA", "CMR", "BFA"]  # Mali has MINUSMA, Niger no 50%
    assert gap.title == "Prevention gap: 3 countries"
    assert [point.split(":")[0] for point in gap.points] == ["Nigeria", "Cameroon", "Burkina Faso"]
    nigeria = sahel_gap.iloc[0]
    assert gap.points[0] == (
        f"Nigeria: {nigeria['risk']:.0%} risk · median "
        f"{nigeria['median_fatalities']:,.0f} deaths (90% {nigeria['fatalities_low']:,.0f}–"
        f"{nigeria['fatalities_high']:,.0f}) · UNOWAS"
    )
    assert gap.interval == sahel_snapshot.gap_rule
    assert gap.notes == (presence.cost_of_waiting(sahel_gap, "2020-12"),)
    assert gap.notes[0].startswith("Managing conflict costs more than preventing it.")
    warning = presence.stale(global_store)
    assert gap.sources == (*presence.sources(global_store), *([warning] if warning else []))
    assert gap.footer == sahel_snapshot.footer and gap.chart is None


def test_an_empty_gap_is_a_slide_that_says_so(sahel_snapshot) -> None:
    (gap,) = _kind(briefing_slides(covered(sahel_snapshot)), "gap")
    assert (gap.title, gap.points, gap.notes) == ("Prevention gap: none", (slides.NO_GAP,), ())
    assert gap.sources and gap.interval == sahel_snapshot.gap_rule


def test_a_long_gap_runs_over_several_slides(sahel_snapshot, monkeypatch) -> None:
    monkeypatch.setattr(slides, "GAP_PER_SLIDE", 2)
    gaps = _kind(briefing_slides(sahel_snapshot), "gap")
    assert [s.title for s in gaps] == [
        "Prevention gap: 3 countries (1 of 2)",
        "Prevention gap: 3 countries (2 of 2)",
    ]
    assert [len(s.points) for s in gaps] == [2, 1]


def test_the_deck_shows_the_gap_slide_with_its_sources(sahel_slides, sahel_deck) -> None:
    (gap,) = _kind(sahel_slides, "gap")
    page = Presentation(io.BytesIO(sahel_deck)).slides[sahel_slides.index(gap)]
    assert page.shapes.title.text == gap.title
    assert not _pictures(page)
    texts = _texts(page)
    assert texts["Interval"] == gap.interval
    assert texts["Points"].split("\n") == list(gap.points)
    assert texts["Notes"] == gap.notes[0]
    citations, warning = gap.sources[:3], gap.sources[3:]
    assert texts["Sources"] == " ".join(
        ["Reference tables: " + "; ".join(citations) + ".", *warning]
    )
    assert texts["Footer"] == gap.footer
