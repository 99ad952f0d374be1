"""Briefing slides: one content model for the app's briefing page and the PowerPoint deck.

`briefing_slides()` turns a snapshot into plain words, slide by slide: a title slide (the
selection and its violence measure, what "risk" means, the top countries), then one slide per
country with its risk, the deaths over 3 months as its chart draws them (the median with its
90% interval, then the average, explained where it lies outside that interval), the chart to
show and up to three drivers; then the prevention gap (issue 18): the selection's countries at
high or rising risk with no UN field mission or envoy, with the rule, the cost of waiting and
the reference tables read, a few countries a slide. Countries the data cannot speak for get
no slide of their own by default: one slide names them all, with why (an analyst who picks one
gets its slide).
Nothing here renders, so the page and the deck cannot drift apart.

`briefing_pptx()` lays those slides out on a 16:9 deck (python-pptx) with the charts as PNG,
the snapshot's source line at the foot of every slide and a closing slide of citations (the
reference tables' among them) and caveats.
Text from the data goes in as plain text runs (python-pptx escapes XML) after
`plain_text()` has removed the control characters XML cannot hold. The deck's metadata says
"Article 99" and the snapshot's date; python-pptx's template leftovers (its author, a
thumbnail, printer settings) are removed, and nothing names a local path.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.parts.image import Image
from pptx.util import Emu, Inches, Pt

from exports import images as chart_images
from exports.charts import (
    average_in_words,
    count,
    deaths_in_words,
    interval,
    percent,
    points,
    risk_definition,
    risk_period,
)
from exports.snapshot import Snapshot
from risk import profile

MAX_COUNTRIES = 20  # country slides in a deck by default: a briefing, not the whole table
PROPERTY_CHARS = 255  # the longest text a core document property may hold
TOP_COUNTRIES = 5  # ranked countries listed on the title slide
MAX_DRIVERS = 3
RAISES = "▲ Raises risk: "
LOWERS = "▼ Lowers risk: "
NOT_ENOUGH_DATA = "Not enough data to forecast"
NO_STRONG_DRIVER = "No single driver moves this forecast noticeably"
AUTHOR = "Article 99"
KINDS = ("title", "country", "gap", "insufficient", "no_forecast")
GAP_PER_SLIDE = 4  # prevention-gap countries a slide holds at presenting size
NO_GAP = "No country of the selection has high or rising risk without a UN field mission or envoy"


@dataclass(frozen=True)
class Slide:
    """One briefing slide in words. Every text is plain (no markup, no control characters).

    On the title slide `interval` holds what "risk" means and `points` the top-ranked countries;
    on an "insufficient" slide (a country the data cannot speak for) `points` holds the reason;
    on the "no_forecast" slide `points` names the countries without a forecast, by reason; on a
    "gap" slide `interval` holds the rule, `points` the countries, `notes` the cost of waiting
    and `sources` the reference tables' citations.
    """

    kind: str  # one of KINDS
    iso3: str | None
    title: str  # "Mali"
    risk: str  # "77% risk"; empty on title and insufficient slides
    # "Deaths from all organised violence Jan–Mar 2021: median 120 (90% interval 11–517);
    # average 198"
    interval: str
    chart: str | None  # key in images.snapshot_figures: "forecast_MLI" or "risk_map"
    points: tuple[str, ...]  # drivers "▲ Raises risk: …" / "▼ Lowers risk: …", or the reason
    footer: str  # snapshot.footer
    notes: tuple[str, ...] = ()  # sentences after the points
    sources: tuple[str, ...] = ()  # what the slide's words were read from, besides the footer


# --- text -------------------------------------------------------------------------------------

_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
# C0 and C1 controls, DEL, lone surrogates and the two non-characters XML 1.0 rejects.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def plain_text(value: object) -> str:
    """Data text safe for a slide: line breaks and tabs become a space, other controls go.

    lxml refuses control characters and python-pptx would write them as "_x0007_"; missing
    values become "".
    """
    return _clean(value).strip()


def _clean(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _CONTROLS.sub("", _BREAKS.sub(" ", str(value)))


# --- the content model ------------------------------------------------------------------------


def _chosen(snapshot: Snapshot, iso3s: Sequence[str] | None) -> list[str]:
    """The countries to give a slide: by default the ranked ones, riskiest first."""
    countries = snapshot.countries
    if iso3s is None:
        ranked = countries[countries["status"] == "ok"].sort_values("rank", kind="stable")
        return list(ranked["iso3"][:MAX_COUNTRIES])
    chosen = list(dict.fromkeys(iso3s))
    unknown = [c for c in chosen if c not in set(countries["iso3"])]
    if unknown:
        raise ValueError(f"not in the snapshot's selection: {', '.join(map(str, unknown))}")
    if len(chosen) > MAX_COUNTRIES:
        raise ValueError(f"a briefing has at most {MAX_COUNTRIES} countries, not {len(chosen)}")
    return chosen


def _title_slide(snapshot: Snapshot, shown: int, default: bool) -> Slide:
    """`default`: the deck of the riskiest countries, the others named on the last slide."""
    countries, forecast = snapshot.countries, snapshot.ranked
    top = forecast.sort_values("rank", kind="stable").head(TOP_COUNTRIES)
    points = [
        f"{int(row.rank)}. {plain_text(row.name)}: {percent(row.risk)} risk"
        for row in top.itertuples(index=False)
    ]
    missing = len(countries) - len(forecast)
    if forecast.empty:
        points.append("No country in the selection has enough data to forecast")
    elif missing:
        where = " (named on the last slide)" if default else ""
        points.append(f"{missing} of {len(countries)} countries: {NOT_ENOUGH_DATA.lower()}{where}")
    if default and shown < len(forecast):
        points.append(
            f"Slides follow for the {shown} riskiest of the {len(forecast)} countries forecast"
        )
    elif not default and shown < len(countries):
        points.append(f"Slides follow for {shown} of the {len(countries)} countries")
    return Slide(
        kind="title",
        iso3=None,
        title=plain_text(f"Risk briefing: {snapshot.selection.describe()}"),
        risk="",
        interval=plain_text(f"Risk: {risk_definition(snapshot.as_of, snapshot.measure)}"),
        chart="risk_map",
        points=tuple(points),
        footer=plain_text(snapshot.footer),
    )


def driver_points(drivers: pd.DataFrame, iso3: str, n: int = MAX_DRIVERS) -> tuple[str, ...]:
    """The country's `n` strongest drivers in words, marked as raising or lowering the risk.

    Drivers too small to have a direction (profile.driver_table's "negligible") are left out.
    """
    table = profile.driver_table(drivers, iso3)
    strong = table[~table["marker"].str.contains("negligible")].head(n)
    return tuple(
        f"{RAISES if effect > 0 else LOWERS}{plain_text(text)} ({points(effect / 100)})"
        for text, effect in zip(strong["text"], strong["effect"], strict=True)
    )


def _country_slide(snapshot: Snapshot, row: pd.Series) -> Slide:
    iso3 = str(row["iso3"])
    footer = plain_text(snapshot.footer)
    if row["status"] != "ok":
        reason = plain_text(row.get("reason"))
        return Slide(
            kind="insufficient",
            iso3=iso3,
            title=plain_text(row["name"]),
            risk="",
            interval="",
            chart=None,
            points=(f"{NOT_ENOUGH_DATA}: {reason}" if reason else NOT_ENOUGH_DATA,),
            footer=footer,
        )
    deaths = (
        f"{profile.deaths_of(snapshot.measure).capitalize()} {risk_period(snapshot.as_of)}: "
        f"median {deaths_in_words(row)}; {average_in_words(row)}"
    )
    return Slide(
        kind="country",
        iso3=iso3,
        title=plain_text(row["name"]),
        risk=f"{percent(row['risk'])} risk",
        interval=deaths,
        chart=f"forecast_{iso3}",
        points=driver_points(snapshot.drivers, iso3) or (NO_STRONG_DRIVER,),
        footer=footer,
    )


def gap_point(row: pd.Series) -> str:
    """'Nigeria: 99% risk · median 529 deaths (90% 103–2,528) · UNOWAS': the level (and the
    rise, when that is why it is listed), the deaths and the UN's regional cover."""
    deaths = f"median {count(row['median_fatalities'])} deaths"
    cover = plain_text(row["regional"]) or "no UN regional office or envoy"
    return plain_text(
        f"{row['name']}: {percent(row['risk'])} risk{_rise(row['why'])} · {deaths} "
        f"(90% {interval(row['fatalities_low'], row['fatalities_high'])}) · {cover}"
    )


def _rise(why: str) -> str:
    """' (+21 pts since last month)' when a rise is why the country is listed; the risk
    itself is already on the line."""
    points = next((part for part in why.split() if part.startswith("+")), None)
    return f" ({points} pts since last month)" if points else ""


def _gap_slides(snapshot: Snapshot) -> list[Slide]:
    """The prevention-gap list, `GAP_PER_SLIDE` countries a slide; one slide saying so when
    no country is on it."""
    gap = snapshot.gap
    lines = [gap_point(row) for _, row in gap.iterrows()] or [NO_GAP]
    pages = [lines[k : k + GAP_PER_SLIDE] for k in range(0, len(lines), GAP_PER_SLIDE)]
    counted = f"{len(gap)} {'country' if len(gap) == 1 else 'countries'}" if len(gap) else "none"
    notes = (plain_text(snapshot.cost_of_waiting),) if len(gap) else ()
    return [
        Slide(
            kind="gap",
            iso3=None,
            title=f"Prevention gap: {counted}"
            + (f" ({number} of {len(pages)})" if len(pages) > 1 else ""),
            risk="",
            interval=plain_text(snapshot.gap_rule),
            chart=None,
            points=tuple(page),
            footer=plain_text(snapshot.footer),
            notes=notes,
            sources=tuple(map(plain_text, snapshot.reference_lines)),
        )
        for number, page in enumerate(pages, 1)
    ]


def _no_forecast_slide(snapshot: Snapshot) -> Slide | None:
    """One slide naming the countries without a forecast, by reason, A to Z (None if none)."""
    countries = snapshot.countries
    missing = countries[countries["status"] != "ok"]
    if missing.empty:
        return None
    names, reasons = missing["name"].map(plain_text), missing["reason"].map(plain_text)
    points = tuple(
        f"{', '.join(sorted(group))}: {reason}" if reason else ", ".join(sorted(group))
        for reason, group in names.groupby(reasons, sort=False)
    )
    count = f"{len(missing)} {'country' if len(missing) == 1 else 'countries'}"
    return Slide(
        kind="no_forecast",
        iso3=None,
        title=f"No forecast for {count}",
        risk="",
        interval=f"{NOT_ENOUGH_DATA}: not ranked, no slide of their own",
        chart=None,
        points=points,
        footer=plain_text(snapshot.footer),
    )


def briefing_slides(snapshot: Snapshot, iso3s: Sequence[str] | None = None) -> list[Slide]:
    """The briefing in words: the title slide, one slide per country in `iso3s` order, then
    the selection's prevention gap.

    `iso3s` defaults to the snapshot's ranked countries, riskiest first, up to
    `MAX_COUNTRIES` (the title slide says when some are left out), then, after the gap, one
    "no_forecast" slide naming every country without a forecast and why. A country without a
    forecast named in `iso3s` gets its own "insufficient" slide with the reason. Raises ValueError
    for a code outside the snapshot or more than `MAX_COUNTRIES` codes.
    """
    chosen = _chosen(snapshot, iso3s)
    rows = snapshot.countries.set_index("iso3", drop=False)
    listing = _no_forecast_slide(snapshot) if iso3s is None else None
    return [
        _title_slide(snapshot, len(chosen), iso3s is None),
        *(_country_slide(snapshot, rows.loc[iso3]) for iso3 in chosen),
        *_gap_slides(snapshot),
        *([listing] if listing else []),
    ]


# --- the deck ---------------------------------------------------------------------------------

WIDTH, HEIGHT = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in, PowerPoint's 16:9
MARGIN = Inches(0.5)
CONTENT_WIDTH = WIDTH - 2 * MARGIN
BODY_BOTTOM = Inches(6.85)
CHART_WIDTH = Inches(7.9)
GAP = Inches(0.3)
CHART_SIZE = (1000, 540)  # px: the chart box's shape (7.9 × 4.25 in), text ≈ 8 pt on the slide
TITLE_SIZE, RISK_SIZE, LEAD_SIZE, BODY_SIZE, FOOTER_SIZE = Pt(36), Pt(40), Pt(20), Pt(18), Pt(12)
INK = RGBColor(0x1A, 0x1A, 0x1A)
GREY = RGBColor(0x44, 0x44, 0x44)  # 9.7:1 on white
# Okabe-Ito vermillion and blue, always with an arrow and words, never colour alone.
MARKS = {RAISES: RGBColor(0xD5, 0x5E, 0x00), LOWERS: RGBColor(0x00, 0x72, 0xB2)}
TITLE_ONLY_LAYOUT = 5  # python-pptx's default template: Title Only
APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<PresentationFormat>Widescreen</PresentationFormat><Slides>{slides}</Slides>"
    "<Application>Article 99</Application></Properties>"
)


def slide_images(snapshot: Snapshot, slides: Sequence[Slide]) -> dict[str, bytes]:
    """The PNG of every chart the slides show, keyed `<chart>.png`, drawn for the slide.

    Drawn at `CHART_SIZE` rather than the export's 1400 × 800 so that the charts' 14 px text
    is not shrunk to unreadable on the slide. Needs Chromium (`images.ImageExportError`).
    """
    wanted = list(dict.fromkeys(s.chart for s in slides if s.chart))
    if not wanted:
        return {}
    iso3s = [c.removeprefix("forecast_") for c in wanted if c.startswith("forecast_")]
    # plotly.js fails on a control character in a title: the charts get the cleaned names.
    countries = snapshot.countries.assign(name=snapshot.countries["name"].map(plain_text))
    figures = chart_images.snapshot_figures(replace(snapshot, countries=countries), iso3s)
    width, height = CHART_SIZE
    return {
        f"{chart}.png": chart_images.render(figures[chart], "png", width=width, height=height)
        for chart in wanted
    }


def _pictures(
    snapshot: Snapshot, slides: list[Slide], given: Mapping[str, bytes] | None
) -> dict[str, bytes]:
    """PNG bytes by chart key: from `given` (`<chart>.png`), the others drawn."""
    given = dict(given or {})
    missing = [s for s in slides if s.chart and f"{s.chart}.png" not in given]
    given.update(slide_images(snapshot, missing))
    return {s.chart: given[f"{s.chart}.png"] for s in slides if s.chart}


def _text_box(slide, left, top, width, height, *, anchor=MSO_ANCHOR.TOP):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # PowerPoint shrinks an overlong text
    frame.vertical_anchor = anchor
    for side in ("margin_left", "margin_right"):
        setattr(frame, side, 0)
    return box


def _write(paragraph, text: str, size: Pt, *, bold=False, color=INK) -> None:
    run = paragraph.add_run()
    run.text = _clean(text)  # not stripped: "▲ Raises risk: " keeps its space
    run.font.size = size
    run.font.bold = bold
    run.font.color.rgb = color


def _lines(frame, lines: Sequence[str], size: Pt, *, bold=False, color=INK, space=None) -> None:
    """Each line a paragraph; a driver's "▲ Raises risk:" label bold and in its colour."""
    for k, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        paragraph.alignment = PP_ALIGN.LEFT
        paragraph.space_after = space or Pt(0)
        mark = next((m for m in MARKS if line.startswith(m)), None)
        if mark:
            _write(paragraph, mark, size, bold=True, color=MARKS[mark])
            line = line[len(mark) :]
        _write(paragraph, line, size, bold=bold, color=color)


def _title(slide, text: str) -> None:
    """The layout's title placeholder (so outline view and screen readers find it), restyled."""
    shape = slide.shapes.title
    shape.left, shape.top = MARGIN, Inches(0.3)
    shape.width, shape.height = CONTENT_WIDTH, Inches(0.85)
    frame = shape.text_frame
    frame.clear()
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    _lines(frame, [text], TITLE_SIZE, bold=True)


def _footer(slide, text: str) -> None:
    box = _text_box(
        slide, MARGIN, Inches(6.95), CONTENT_WIDTH, Inches(0.4), anchor=MSO_ANCHOR.BOTTOM
    )
    box.name = "Footer"
    _lines(box.text_frame, [text], FOOTER_SIZE, color=GREY)


def _picture(slide, png: bytes, left, top, width, height, alt: str) -> None:
    """The image as large as fits the box, aspect kept, with alt text."""
    px_width, px_height = Image.from_blob(png).size
    scale = min(width / px_width, height / px_height)
    picture = slide.shapes.add_picture(
        io.BytesIO(png), left, top, Emu(round(px_width * scale)), Emu(round(px_height * scale))
    )
    picture.name = "Chart"
    picture._element.nvPicPr.cNvPr.set("descr", plain_text(alt))


def _alt_text(slide: Slide) -> str:
    if slide.kind == "title":
        return f"Map of the selection's countries coloured by risk. {slide.interval}"
    return f"Chart: {slide.title}, deaths per month and the forecast median with its bands"


def _add_slide(prs, slide: Slide, png: bytes | None) -> None:
    page = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    _title(page, slide.title)
    top = Inches(1.2)
    if slide.risk:
        box = _text_box(page, MARGIN, top, CONTENT_WIDTH, Inches(0.75))
        box.name = "Risk"
        _lines(box.text_frame, [slide.risk], RISK_SIZE, bold=True)
        top += Inches(0.75)
    if slide.interval:
        box = _text_box(page, MARGIN, top, CONTENT_WIDTH, Inches(0.5))
        box.name = "Interval"
        _lines(box.text_frame, [slide.interval], LEAD_SIZE)
        top += Inches(0.5)
    top += Inches(0.15)
    height = BODY_BOTTOM - top
    left, width, size = MARGIN, CONTENT_WIDTH, BODY_SIZE
    if png is not None:
        _picture(page, png, MARGIN, top, CHART_WIDTH, height, _alt_text(slide))
        left, width = MARGIN + CHART_WIDTH + GAP, CONTENT_WIDTH - CHART_WIDTH - GAP
    elif slide.kind == "insufficient":
        size = Pt(24)
    if slide.points:
        box = _text_box(page, left, top, width, height)
        box.name = "Points"
        _lines(box.text_frame, slide.points, size, space=Pt(10))
    _footer(page, slide.footer)


def sources_line(slide: Slide) -> str:
    """'Reference tables: UN presence: un_presence.csv (shipped), as of …; …. Checked more
    than …', one line: the citations, then the staleness warning as a sentence of its own."""
    citations = [line for line in slide.sources if not line.startswith("Checked more than")]
    warning = [line for line in slide.sources if line.startswith("Checked more than")]
    return " ".join(["Reference tables: " + "; ".join(citations) + ".", *warning])


# The prevention-gap slide's boxes: name, top, height (inches), type size and colour.
GAP_BOXES = (
    ("Interval", 1.2, 0.75, LEAD_SIZE, INK),  # the rule: two lines
    ("Points", 2.05, 2.5, BODY_SIZE, INK),  # GAP_PER_SLIDE countries, most on one line
    ("Notes", 4.6, 1.5, BODY_SIZE, INK),  # the cost of waiting: five lines
    ("Sources", 6.15, 0.75, FOOTER_SIZE, GREY),  # the reference tables (and a warning)
)


def _add_gap_slide(prs, slide: Slide) -> None:
    page = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    _title(page, slide.title)
    texts = {
        "Interval": [slide.interval],
        "Points": list(slide.points),
        "Notes": list(slide.notes),
        "Sources": [sources_line(slide)] if slide.sources else [],
    }
    for name, top, height, size, colour in GAP_BOXES:
        if texts[name]:
            box = _text_box(page, MARGIN, Inches(top), CONTENT_WIDTH, Inches(height))
            box.name = name
            _lines(box.text_frame, texts[name], size, color=colour, space=Pt(8))
    _footer(page, slide.footer)


def _add_citations(prs, snapshot: Snapshot) -> None:
    page = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    _title(page, "Sources and citations")
    citations = snapshot.citations or [f"No citation recorded for {snapshot.vintage}"]
    citations = [*citations, *snapshot.reference_lines]
    box = _text_box(page, MARGIN, Inches(1.35), CONTENT_WIDTH, BODY_BOTTOM - Inches(1.35))
    box.name = "Citations"
    _lines(box.text_frame, [*citations, *snapshot.caveats], BODY_SIZE, space=Pt(14))
    _footer(page, snapshot.footer)


def _generated(snapshot: Snapshot) -> datetime:
    """The snapshot's generation time as naive UTC (what core properties store)."""
    try:
        when = datetime.fromisoformat(snapshot.generated_at)
    except (TypeError, ValueError):
        when = datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _widen_template(prs) -> None:
    """Stretch the 4:3 master's and layouts' placeholders to 16:9, for slides added later."""
    ratio = WIDTH / prs.slide_width
    masters = [prs.slide_master, *prs.slide_layouts]
    for shape in (s for m in masters for s in m.placeholders):
        if shape._element.xfrm is not None:  # its own position, not the master's
            shape.left, shape.width = (
                Emu(round(shape.left * ratio)),
                Emu(round(shape.width * ratio)),
            )
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    prs._element.sldSz.attrib.pop("type", None)  # "screen4x3" otherwise; absent means custom


def _scrub(prs, snapshot: Snapshot, title: str, slides: int) -> None:
    """Metadata of our own: no python-pptx author, thumbnail, printer settings or Mac app."""
    package = prs.part.package
    for rId, rel in list(package._rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.drop_rel(rId)
        elif rel.reltype == RT.EXTENDED_PROPERTIES:
            rel.target_part.blob = APP_XML.format(slides=slides).encode()
    for rId, rel in list(prs.part.rels.items()):
        if rel.reltype == RT.PRINTER_SETTINGS:
            prs.part.drop_rel(rId)
    when = _generated(snapshot)
    core = prs.core_properties
    core.title = plain_text(title)
    core.subject = plain_text(f"Conflict risk forecast from data to {snapshot.as_of}")
    core.author = core.last_modified_by = AUTHOR
    # The caveats first: the footer (sources, month, date) is on every slide already.
    core.comments = property_text(" ".join([*snapshot.caveats, snapshot.footer]))
    core.keywords = core.category = ""
    core.revision = 1
    core.created = core.modified = when


def property_text(text: str) -> str:
    """Plain text cut to a document property's limit (PowerPoint's and python-pptx's 255
    characters) at a word, with "…": a store of several releases has a longer footer."""
    text = plain_text(text)
    if len(text) <= PROPERTY_CHARS:
        return text
    return text[: PROPERTY_CHARS - 1].rsplit(" ", 1)[0] + "…"


def briefing_pptx(
    snapshot: Snapshot,
    *,
    iso3s: Sequence[str] | None = None,
    images: Mapping[str, bytes] | None = None,
) -> bytes:
    """The briefing as a 16:9 PowerPoint deck: `briefing_slides()` then a citations slide.

    `images` are PNG bytes keyed `<chart>.png` (as `images.render_all` names them); charts not
    given are drawn with kaleido, which needs Chromium (`images.ImageExportError` otherwise).
    """
    slides = briefing_slides(snapshot, iso3s)
    pictures = _pictures(snapshot, slides, images)
    prs = Presentation()
    _widen_template(prs)
    for slide in slides:
        if slide.kind == "gap":
            _add_gap_slide(prs, slide)
        else:
            _add_slide(prs, slide, pictures.get(slide.chart) if slide.chart else None)
    _add_citations(prs, snapshot)
    _scrub(prs, snapshot, slides[0].title, len(slides) + 1)
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()
