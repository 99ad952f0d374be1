"""The briefing pack: a snapshot as an A4 landscape PDF to print, send or hand round a table.

Pages: a cover (what was forecast, from which data, with which model, and the risk map); the
ranked table with each country's UN presence, its heading row repeated on every page, then the
countries the data cannot speak for with the reason; the prevention-gap list (high or rising
risk, no UN field mission or envoy) with its rule, the cost of waiting and the reference tables
it was read from, with their public sources; what changed since an earlier snapshot (when one
is given); one page per country (its risk in words, surge flags, fan chart and three strongest
drivers); and the citations, licences and how to check the numbers. Every page is footed with
the snapshot's source line and "page N of M".

Text from the data (names, drivers, reasons) is written as plain text, never through fpdf2's
markdown or HTML, with control and format characters removed; the page-count alias is made of
private-use characters, which are removed too, so no data can be taken for it. Sources carry
only file names and public URLs, so no local path reaches the file. Given the same snapshot and
images the bytes are the same: the creation date is the snapshot's, not the clock's.
"""

from __future__ import annotations

import io
import os
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.enums import Align, TableCellFillMode
from fpdf.fonts import FontFace

from exports import tables
from exports.changes import ARROWS, DETERIORATED, ENTERED, IMPROVED, LEFT, Changes
from exports.charts import count, month_label, percent, points, risk_definition
from exports.snapshot import Snapshot, public_url
from risk import drivers as driver_rules
from risk import profile

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "DejaVuSans"
NO_FONT = (
    "PDF export needs the DejaVu Sans fonts ({missing} not found in {where}): install Debian's "
    "`fonts-dejavu-core` (./run.sh does)."
)
TITLE = "Article 99 risk briefing"
VERIFY_COMMAND = "python -m exports verify snapshot.json"
# The total page count's placeholder: private-use characters, which `clean` removes from data.
PAGES_ALIAS = "\ue000\ue001\ue002"  # three characters reserve room for a three-digit count
ASPECT = 1000 / 540  # width / height of a chart whose PNG header cannot be read
MARGIN = 12  # mm
FOOT = 16  # mm kept free at the foot of each page for the footer
INK, GREY, RULE = (20, 20, 20), (90, 90, 90), (200, 200, 200)
HEADING_FILL, ROW_FILL = (225, 225, 225), (245, 245, 245)
DRIVERS_SHOWN = 3
HASH_SIZE = 7.5  # pt: a sha256 fits on one line of the cover's text column
RANKED_COLUMNS = (
    # heading, width (relative), alignment
    (tables.RANK, 12, "RIGHT"),
    (tables.COUNTRY, 32, "LEFT"),
    (tables.PRESENCE, 37, "LEFT"),
    (tables.RISK, 12, "RIGHT"),
    (tables.TREND, 24, "LEFT"),
    (tables.DEATHS, 20, "RIGHT"),
    (tables.INTERVAL, 22, "RIGHT"),
    (tables.FLAGS, 30, "LEFT"),
    (tables.DRIVER, 84, "LEFT"),
)
GAP_COLUMNS = (
    (tables.COUNTRY, 32, "LEFT"),
    (tables.RISK, 12, "RIGHT"),
    (tables.GAP_WHY, 34, "LEFT"),
    (tables.DEATHS, 20, "RIGHT"),
    (tables.INTERVAL, 22, "RIGHT"),
    (tables.REGIONAL, 56, "LEFT"),
    (tables.ORGANISATIONS, 40, "LEFT"),
    (tables.SANCTIONS, 57, "LEFT"),
)
_UNSAFE = {"Cc", "Cf", "Co", "Cs", "Cn"}  # control, format, private-use, surrogate, unassigned


class PdfExportError(RuntimeError):
    """The briefing could not be written (no Unicode font installed)."""


def clean(value: object) -> str:
    """Data as one line of plain text: control and format characters dropped, blanks single.

    Missing values become empty text. Line breaks and tabs count as spaces.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(
        " " if c in "\t\n\r\x0b\x0c\x85\u2028\u2029" else c
        for c in text
        if c in "\t\n\r\x0b\x0c\x85\u2028\u2029" or unicodedata.category(c) not in _UNSAFE
    )
    return re.sub(r"\s+", " ", text).strip()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fonts() -> dict[str, Path]:
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    missing = [path.name for path in paths.values() if not path.is_file()]
    if missing:
        raise PdfExportError(NO_FONT.format(missing=" and ".join(missing), where=FONT_DIR))
    return paths


def _created(generated_at: str) -> datetime:
    """The snapshot's generation time (UTC when it names no zone)."""
    try:
        moment = datetime.fromisoformat(generated_at)
    except (TypeError, ValueError):
        return datetime(1970, 1, 1, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Briefing(FPDF):
    """A4 landscape in DejaVu Sans with the snapshot's footer and page numbers on every page."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        for style, path in _fonts().items():
            self.add_font(FONT, style=style, fname=str(path))
        self.footer_text = clean(footer_text)
        self.alias_nb_pages(PAGES_ALIAS, align=Align.L)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=FOOT)
        self.set_text_color(*INK)
        self.set_font(FONT, size=10)

    def footer(self) -> None:
        self.set_y(-FOOT + 4)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_y(self.get_y() + 1.5)
        self.set_text_color(*GREY)
        number_width = 30
        text_width = self.epw - number_width
        size = 8.0
        self.set_font(FONT, size=size)
        while size > 5.5 and self.get_string_width(self.footer_text) > text_width - 2:
            size -= 0.5
            self.set_font(FONT, size=size)
        top = self.get_y()
        self.multi_cell(text_width, 3.5, self.footer_text, align="L")
        self.set_font(FONT, size=8)
        self.set_xy(self.l_margin + text_width, top)
        self.cell(number_width, 3.5, f"page {self.page_no()} of {PAGES_ALIAS}", align="R")
        self.set_text_color(*INK)

    # Writing helpers: every text goes through `clean`, none through markdown or HTML.

    def heading(self, text: str, size: float = 18) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_font(FONT, size=10)

    def paragraph(
        self, text: str, *, size: float = 10, bold: bool = False, width: float = 0, gap: float = 2
    ) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        x = self.get_x()
        self.multi_cell(width, size * 0.5, clean(text), align="L", new_x="LEFT", new_y="NEXT")
        self.set_x(x)
        self.ln(gap)
        self.set_font(FONT, size=10)

    def labelled(
        self,
        label: str,
        lines: str | Sequence[str],
        *,
        width: float = 0,
        size: float = 10,
        dry: bool = False,
    ) -> float:
        """A bold label above its text, one paragraph per line given, at the current x; its
        height in mm. With `dry` it is only measured: nothing is written, nothing moves."""
        x, y = self.get_x(), self.get_y()
        texts = [lines] if isinstance(lines, str) else list(lines)
        paragraphs = [(label, "B", 10, 5.0), *((t, "", size, size * 0.5) for t in texts)]
        height = 0.0
        for text, style, font_size, line_height in paragraphs:
            self.set_font(FONT, style, font_size)
            self.set_x(x)
            if dry:
                height += self.multi_cell(
                    width, line_height, clean(text), dry_run=True, output="HEIGHT"
                )
            else:
                self.multi_cell(
                    width, line_height, clean(text), align="L", new_x="LEFT", new_y="NEXT"
                )
        self.set_font(FONT, size=10)
        if dry:
            return height + 1.5
        self.ln(1.5)
        self.set_x(x)
        return self.get_y() - y

    def png(self, data: bytes, *, x: float, y: float, width: float, height: float) -> None:
        """An image scaled to fit the box, keeping its aspect ratio, centred horizontally."""
        self.image(io.BytesIO(data), x=x, y=y, w=width, h=height, keep_aspect_ratio=True)

    def grid(
        self,
        rows: Iterable[Sequence[str]],
        columns: Sequence[tuple[str, float, str]],
        *,
        size: float = 8.5,
        width: float | None = None,
    ) -> None:
        """A table with its heading row repeated on each page it runs over.

        Column widths are relative; the table spans `width` mm (the page's width by default).
        """
        self.set_font(FONT, size=size)
        with self.table(
            width=width,
            align="LEFT",
            col_widths=[share for _, share, _ in columns],
            text_align=[align for _, _, align in columns],
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            cell_fill_color=ROW_FILL,
            cell_fill_mode=TableCellFillMode.ROWS,
            line_height=size * 0.5,
            padding=(1, 1.5),
            markdown=False,
            repeat_headings=1,
            borders_layout="HORIZONTAL_LINES",
            first_row_as_headings=True,
        ) as table:
            table.row([heading for heading, _, _ in columns])
            for row in rows:
                table.row([clean(value) for value in row])
        self.set_font(FONT, size=10)


def _aspect(png: bytes) -> float:
    """A PNG's width / height, read from its header."""
    if png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR":
        width, height = struct.unpack(">II", png[16:24])
        if width and height:
            return width / height
    return ASPECT


def _missing_images(images: dict[str, bytes], iso3s: list[str]) -> list[str]:
    wanted = ["risk_map.png", *(f"forecast_{iso3}.png" for iso3 in iso3s)]
    return [name for name in wanted if name not in images]


def _render(snapshot: Snapshot, names: list[str]) -> dict[str, bytes]:
    """Draw the named charts with exports.images (imported here: it starts a browser)."""
    from exports import images as drawing

    iso3s = [n.removeprefix("forecast_").removesuffix(".png") for n in names if n != "risk_map.png"]
    figures = drawing.snapshot_figures(snapshot, iso3s)
    return drawing.render_all({k: v for k, v in figures.items() if f"{k}.png" in names}, "png")


def _source_lines(source: dict) -> list[str]:
    """A source in words: label and version, where it came from, when it was fetched."""
    label = clean(source.get("label")) or clean(source.get("source")) or "Source"
    version = clean(source.get("version"))
    lines = [label if not version or version in label else f"{label}, version {version}"]
    file_name = clean(os.path.basename(str(source.get("file") or "")))
    url = public_url(str(source.get("url") or ""))
    if file_name:
        lines.append(f"File: {file_name}")
    if url:
        lines.append(f"URL: {clean(url)}")
    fetched = clean(source.get("fetched_at"))
    if fetched:
        lines.append(f"Accessed: {fetched[:10]}")
    first, last = clean(source.get("first_date")), clean(source.get("last_date"))
    if first and last:
        lines.append(f"Events from {first} to {last}")
    return lines


def _model_words(model: dict) -> str:
    """The model and its settings in words."""
    words = [clean(model.get("model")) or "Article 99 forecast model"]
    if model.get("trained_to"):
        rows = model.get("training_rows")
        words.append(
            f"trained on data to {clean(model['trained_to'])}"
            + (f" ({count(rows)} training rows)" if rows is not None else "")
        )
    for key, label in (("seed", "seed"), ("format", "model format")):
        if model.get(key) not in (None, ""):
            words.append(f"{label} {clean(model[key])}")
    return "; ".join(words)


def _cover(pdf: _Briefing, snapshot: Snapshot, images: dict[str, bytes]) -> None:
    pdf.add_page()
    pdf.heading(TITLE, size=24)
    selection = clean(snapshot.selection.describe())
    ranked, total = len(snapshot.ranked), len(snapshot.countries)
    pdf.paragraph(
        f"{selection}: {total:,} countries, {ranked:,} with a forecast",
        size=14,
        bold=True,
        gap=1,
    )
    pdf.paragraph(
        f"{_capital(profile.deaths_of(snapshot.measure))}, forecast from data to "
        f"{month_label(snapshot.as_of)}",
        size=14,
        gap=4,
    )
    top = pdf.get_y()
    text_width = 120
    map_x = pdf.l_margin + text_width + 6
    map_width = pdf.w - pdf.r_margin - map_x
    # Under the map: the caveats, the model and the inputs' hash; the map gives up height so
    # that they fit (three sources and a caveat ran off the page when all were on the left).
    notes = [
        ("Caveat", snapshot.caveats, 10),
        ("Model", _model_words(snapshot.model), 10),
        ("Inputs sha256", snapshot.inputs_sha256, HASH_SIZE),
    ]
    notes = [(label, lines, size) for label, lines, size in notes if lines]
    below = sum(pdf.labelled(*note[:2], width=map_width, size=note[2], dry=True) for note in notes)
    room = pdf.h - FOOT - top - 4 - below
    map_height = min(map_width / _aspect(images["risk_map.png"]), room)
    pdf.png(images["risk_map.png"], x=map_x, y=top, width=map_width, height=map_height)
    pdf.set_xy(map_x, top + map_height + 2)
    for label, lines, size in notes:
        pdf.labelled(label, lines, width=map_width, size=size)
    pdf.set_xy(pdf.l_margin, top)
    risk = risk_definition(snapshot.as_of, snapshot.measure)
    pdf.labelled("Risk", _capital(risk) + ".", width=text_width)
    pdf.labelled("Generated", clean(snapshot.generated_at), width=text_width)
    for number, source in enumerate(snapshot.sources, 1):
        label = "Source" if len(snapshot.sources) == 1 else f"Source {number}"
        lines = _source_lines(source)
        size = 10 if len(snapshot.sources) < 3 else 8.5  # three or more: all on the cover
        pdf.labelled(label, lines, width=text_width, size=size)
        if source.get("sha256"):
            pdf.labelled("File sha256", source["sha256"], width=text_width, size=HASH_SIZE)


def _ranked_rows(snapshot: Snapshot) -> tuple[list[list[str]], list[list[str]]]:
    """The ranked table's rows in the snapshot's order, and the countries without a forecast."""
    countries = snapshot.countries
    display = tables.risk_table(countries, snapshot.drivers, presence=snapshot.presence)
    ranked = []
    for iso3, row in snapshot.ranked.set_index("iso3").iterrows():
        shown = display.loc[iso3]
        ranked.append(
            [
                count(row["rank"]),
                row["name"],
                shown[tables.PRESENCE],
                percent(row["risk"]),
                shown[tables.TREND],
                count(row["median_fatalities"]),
                shown[tables.INTERVAL],
                shown[tables.FLAGS],
                shown[tables.DRIVER],
            ]
        )
    without = tables.no_forecast_table(countries).to_numpy().tolist()
    return ranked, without


def _ranked_table(pdf: _Briefing, snapshot: Snapshot) -> None:
    pdf.add_page()
    pdf.heading("Ranked countries")
    pdf.paragraph(
        f"Risk: {risk_definition(snapshot.as_of, snapshot.measure)}. Deaths: "
        f"{profile.deaths_of(snapshot.measure)} over the same months, the median of the "
        "forecast with its 90% interval (each country's page gives the average too). Trend: "
        "the change of risk since last month's forecast.",
        size=9,
        gap=3,
    )
    ranked, without = _ranked_rows(snapshot)
    if ranked:
        pdf.grid(ranked, RANKED_COLUMNS)
    else:
        pdf.paragraph("No country of the selection has enough data for a forecast.")
    if without:
        pdf.ln(5)
        pdf.heading("Not enough data to forecast", size=13)
        pdf.paragraph(
            "These countries are in the selection but the data cannot support a forecast for "
            "them: no risk is given, and none should be read as zero.",
            size=9,
            gap=3,
        )
        pdf.grid(without, ((tables.COUNTRY, 60, "LEFT"), (tables.WHY, 213, "LEFT")))


def _gap_page(pdf: _Briefing, snapshot: Snapshot) -> None:
    """The prevention-gap list: the rule, the cost of waiting, the rows, what it was read from."""
    pdf.add_page()
    gap = tables.gap_table(snapshot.gap)
    pdf.heading(f"Prevention gap: {len(gap):,} {'country' if len(gap) == 1 else 'countries'}")
    pdf.paragraph(snapshot.gap_rule, size=10, gap=1.5)
    pdf.paragraph(snapshot.cost_of_waiting, size=10, gap=3)
    if gap.empty:
        pdf.paragraph("No country of the selection meets the rule.", size=11, bold=True, gap=3)
    else:
        rows = [
            [row[tables.COUNTRY], percent(row[tables.RISK]), row[tables.GAP_WHY],
             count(row[tables.DEATHS]), *(row[c] for c, _, _ in GAP_COLUMNS[4:])]
            for _, row in gap.iterrows()
        ]  # fmt: skip
        pdf.grid(rows, GAP_COLUMNS)
        pdf.ln(3)
    pdf.heading("Read from the reference tables", size=11)
    if snapshot.reference_warning:
        pdf.paragraph(snapshot.reference_warning, size=9, bold=True, gap=1)
    for table in snapshot.references:
        pdf.paragraph(table["citation"], size=9, bold=True, gap=0.5)
        pdf.paragraph(f"Sources: {', '.join(table['sources'])}", size=7.5, gap=1.5)


def _change_rows(changes: Changes, movement: str) -> list[list[str]]:
    rows = changes.countries(movement)
    return [
        [
            ARROWS.get(movement, ""),
            row["name"],
            f"{count(row['rank_before'])} → {count(row['rank_now'])}",
            f"{percent(row['risk_before'])} → {percent(row['risk_now'])}",
            points(row["change"]),
        ]
        for _, row in rows.iterrows()
    ]


CHANGE_COLUMNS = (
    ("", 8, "CENTER"),
    (tables.COUNTRY, 60, "LEFT"),
    ("Rank before → now", 44, "LEFT"),
    ("Risk before → now", 44, "LEFT"),
    ("Change", 24, "RIGHT"),
)
CHANGE_WIDTH = 180  # mm


def _changes_page(pdf: _Briefing, changes: Changes) -> None:
    pdf.add_page()
    pdf.heading(f"What changed since {month_label(changes.earlier_as_of)}")
    pdf.paragraph(changes.summary, gap=2)
    if not changes.same_filters:
        pdf.paragraph(
            "The earlier snapshot was made with other filters: countries in only one of the "
            "two are listed as such, not as moves.",
            size=9,
        )
    pdf.ln(2)
    threshold = f"{changes.threshold * 100:.0f}"
    sections = (
        (ENTERED, f"Entered the top {changes.top}"),
        (LEFT, f"Left the top {changes.top}"),
        (DETERIORATED, f"Deteriorated (risk up by at least {threshold} points)"),
        (IMPROVED, f"Improved (risk down by at least {threshold} points)"),
    )
    for movement, title in sections:
        rows = _change_rows(changes, movement)
        pdf.heading(f"{title}: {len(rows):,}", size=12)
        if rows:
            pdf.grid(rows, CHANGE_COLUMNS, size=9, width=CHANGE_WIDTH)
            pdf.ln(3)
        else:
            pdf.paragraph("None.", size=9, gap=3)
    only = changes.table[changes.table["movement"].str.startswith("only in")]
    if len(only):
        pdf.heading(f"In only one snapshot: {len(only):,}", size=12)
        pdf.grid(
            [[row["name"], row["movement"]] for _, row in only.iterrows()],
            ((tables.COUNTRY, 60, "LEFT"), ("", 118, "LEFT")),
            size=9,
            width=CHANGE_WIDTH,
        )


def _driver_words(marker: str, text: str, effect: float) -> str:
    """'▲ raises risk (+12 pts): …', '▼ lowers risk (−3 pts): …', '• negligible effect: …'."""
    if marker.endswith(("raises", "lowers")):
        return f"{marker} risk ({points(effect / 100)}): {clean(text)}"
    return f"{marker} effect: {clean(text)}"


def _country_page(pdf: _Briefing, snapshot: Snapshot, row: pd.Series, chart: bytes) -> None:
    pdf.add_page()
    values = row.to_dict()
    pdf.heading(f"{count(values['rank'])}. {clean(values['name'])}")
    pdf.paragraph(profile.risk_sentence(values, snapshot.as_of, snapshot.measure), size=11, gap=1.5)
    facts = [f"Surge flags (last month): {profile.surge_words(values)}."]
    spread = values.get("new_admin1_count")
    if pd.notna(spread) and spread > 0:
        facts.append(f"Violence reached {count(spread)} new admin1 area{'s' * (spread > 1)}.")
    deaths = values.get("fatalities_last_month")
    if pd.notna(deaths):
        counted = _capital(profile.deaths_of(snapshot.measure))
        facts.append(f"{counted} in {month_label(snapshot.as_of)}: {count(deaths)}.")
    facts.append(f"Risk change since last month's forecast: {points(values['risk_change'])}.")
    pdf.paragraph(" ".join(facts), size=10, gap=2)
    drivers = profile.driver_table(snapshot.drivers, values["iso3"]).head(DRIVERS_SHOWN)
    driver_room = 18 + 6 * max(len(drivers), 1)
    top = pdf.get_y()
    aspect = _aspect(chart)
    height = min(pdf.epw / aspect, pdf.h - FOOT - top - driver_room)
    width = height * aspect
    pdf.png(chart, x=(pdf.w - width) / 2, y=top, width=width, height=height)
    pdf.set_xy(pdf.l_margin, top + height + 2)
    pdf.paragraph("Why this level: the largest shares of the risk", size=11, bold=True, gap=0.5)
    if drivers.empty:
        pdf.paragraph("No explanation is recorded for this forecast.", size=10)
    for driver in drivers.itertuples(index=False):
        pdf.paragraph(_driver_words(driver.marker, driver.text, driver.effect), size=10, gap=0.5)
    if not drivers.empty:
        pdf.paragraph(f"Against {driver_rules.REFERENCE}.", size=8, gap=0.5)


def _closing_page(pdf: _Briefing, snapshot: Snapshot) -> None:
    pdf.add_page()
    pdf.heading("Citations")
    for citation in snapshot.citations or ["No citation is recorded for the sources."]:
        pdf.paragraph(citation, gap=2.5)
    pdf.ln(2)
    pdf.heading("Licences", size=14)
    for source in snapshot.sources:
        label = clean(source.get("label")) or clean(source.get("source"))
        licence = clean(source.get("licence")) or "not recorded"
        pdf.paragraph(f"{label}: {licence}", gap=1.5)
    if snapshot.caveats:
        pdf.ln(2)
        pdf.heading("Caveats", size=14)
        for caveat in snapshot.caveats:
            pdf.paragraph(caveat, gap=1.5)
    pdf.ln(3)
    pdf.heading("How to verify", size=14)
    pdf.paragraph(
        "Export this selection's snapshot as JSON (snapshot.json) and, on a store holding the "
        "same source files (each is named by its sha256 on the cover), run:",
        gap=1.5,
    )
    pdf.paragraph(VERIFY_COMMAND, size=11, bold=True, gap=1.5)
    pdf.paragraph(
        "Add --data-dir STORE for a store other than $ARTICLE99_DATA_DIR. The command "
        "regenerates the forecast with the snapshot's filters, month and model seed, and says "
        "where the numbers differ, if anywhere.",
        gap=2,
    )
    pdf.labelled("Inputs sha256 (sources, filters, month and model)", snapshot.inputs_sha256)
    pdf.labelled("Table sha256 (the ranked numbers)", snapshot.table_sha256)


def briefing_pdf(
    snapshot: Snapshot,
    *,
    changes: Changes | None = None,
    images: dict[str, bytes] | None = None,
    max_countries: int | None = None,
) -> bytes:
    """The snapshot's briefing pack as PDF bytes.

    `images` are PNGs keyed `risk_map.png` and `forecast_<ISO3>.png` (as
    `exports.images.render_all` names them), so one rendering serves several formats; any
    that is missing is drawn here (from `snapshot.data_dir`'s store). `changes`, from
    `exports.changes.what_changed(earlier, snapshot)`, adds the what-changed page;
    `max_countries` limits the country pages to the first ranked countries (all by default).
    Raises PdfExportError without the DejaVu fonts, ImageExportError without a browser when
    charts must be drawn.
    """
    if max_countries is not None and max_countries < 0:
        raise ValueError(f"max_countries must be at least 0, not {max_countries}")
    if changes is not None and changes.as_of != snapshot.as_of:
        raise ValueError(
            f"the changes lead to data to {changes.as_of}, the snapshot is of data to "
            f"{snapshot.as_of}: compare the earlier snapshot with this one"
        )
    pdf = _Briefing(snapshot.footer)  # checks the fonts before any chart is drawn
    title = (
        f"{TITLE}: {clean(snapshot.selection.describe())}, data to {month_label(snapshot.as_of)}"
    )
    pdf.set_title(title)
    pdf.set_subject(f"Risk: {risk_definition(snapshot.as_of, snapshot.measure)}")
    pdf.set_author("Article 99")
    pdf.set_creator("Article 99")
    pdf.set_lang("en")
    pdf.set_creation_date(_created(snapshot.generated_at))

    ranked = snapshot.ranked
    if max_countries is not None:
        ranked = ranked.head(max_countries)
    images = dict(images or {})
    missing = _missing_images(images, list(ranked["iso3"]))
    if missing:
        images.update(_render(snapshot, missing))

    _cover(pdf, snapshot, images)
    _ranked_table(pdf, snapshot)
    _gap_page(pdf, snapshot)
    if changes is not None:
        _changes_page(pdf, changes)
    for _, row in ranked.iterrows():
        _country_page(pdf, snapshot, row, images[f"forecast_{row['iso3']}.png"])
    _closing_page(pdf, snapshot)
    return bytes(pdf.output())
