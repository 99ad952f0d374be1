"""The ranked table as CSV and as an Excel workbook with its metadata, safe to open.

Beside it, the prevention-gap list (issue 18): a sheet of the workbook and a CSV of its own,
each with the rule, the cost of waiting and the reference tables it was read from.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return could be run as a
formula by a spreadsheet (CSV injection); such text gets a leading apostrophe, and numbers
stay numbers. The workbook is written by xlsxwriter with formula and URL detection off.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import pandas as pd
import xlsxwriter

from exports import tables
from exports.changes import Changes
from exports.charts import deaths_of, mean_outside, risk_definition
from exports.snapshot import DECIMALS, Snapshot

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PERCENT_COLUMNS = ("Risk", "Risk last month", "Risk change", "P(≥ 25 deaths next month)")
# The two explanations of a forecast (risk.drivers): why this level, why it moved.
EXPLAINS = {"level": "this level", "change": "the change since last month"}
MEDIAN_DEATHS = "Deaths, 3 months (median)"
AVERAGE_DEATHS = "Deaths, 3 months (average)"
COUNT_COLUMNS = (MEDIAN_DEATHS, "90% low", "90% high", AVERAGE_DEATHS, "Deaths last month")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would read as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_table(snapshot: Snapshot) -> pd.DataFrame:
    """The ranked countries with readable headers and numbers kept as numbers (risk as 0–1).

    Deaths: the median of the 3-month total with its 90% interval, then the average, with
    why it lies outside the interval where it does (rounded as the pages round them)."""
    rows = snapshot.countries
    flags = rows.apply(tables.flag_badges, axis=1) if len(rows) else pd.Series(dtype=str)
    top = tables.top_driver(rows, snapshot.drivers).reindex(rows["iso3"]).to_numpy()
    deaths = ("median_fatalities", "expected_fatalities", "fatalities_low", "fatalities_high")
    whole = {column: rows[column].round(0).astype("Int64") for column in deaths}
    bounds = zip(rows["fatalities_low"], rows["fatalities_high"], strict=True)
    skewed = [
        mean_outside(mean, low, high)
        for mean, (low, high) in zip(rows["expected_fatalities"], bounds, strict=True)
    ]
    return pd.DataFrame(
        {
            "Rank": rows["rank"],
            "ISO3": rows["iso3"],
            "Country": rows["name"],
            tables.PRESENCE: rows["un_presence"],
            "Risk": rows["risk"],
            "Risk last month": rows["risk_last_month"],
            "Risk change": rows["risk_change"].round(DECIMALS),
            "Trend": rows["trend"],
            "P(≥ 25 deaths next month)": rows["p_ge25_next_month"],
            MEDIAN_DEATHS: whole["median_fatalities"],
            "90% low": whole["fatalities_low"],
            "90% high": whole["fatalities_high"],
            AVERAGE_DEATHS: whole["expected_fatalities"],
            "Average outside the interval": skewed,
            "Deaths last month": rows["fatalities_last_month"],
            "Flags": flags.to_numpy(),
            "Top driver": top,
            "All drivers": rows["drivers"],
            "Status": rows["status"],
            "Reason": rows["reason"],
            "Forecast from": snapshot.as_of,
            "Counts": deaths_of(snapshot.measure),
            "Source": snapshot.vintage,
        }
    ).reset_index(drop=True)


def to_csv(snapshot: Snapshot) -> bytes:
    """UTF-8 CSV (RFC 4180 line ends, so a stray CR in data is quoted) with the citations last."""
    frame = export_table(snapshot).assign(Citation=" ".join(snapshot.citations))
    return frame.map(neutralise).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def gap_export_table(snapshot: Snapshot) -> pd.DataFrame:
    """The prevention-gap list as the exports write it: `tables.gap_table` with the ISO3 first
    and the deaths' interval as two numbers a spreadsheet can sort."""
    gap = snapshot.gap
    shown = tables.gap_table(gap).reset_index()
    at = shown.columns.get_loc(tables.INTERVAL)
    shown.insert(at + 1, "90% high", gap["fatalities_high"].round().astype("Int64").to_numpy())
    shown.insert(at + 1, "90% low", gap["fatalities_low"].round().astype("Int64").to_numpy())
    return shown.drop(columns=tables.INTERVAL)


def gap_notes(snapshot: Snapshot) -> list[tuple[str, str]]:
    """What the list means and what it was read from, as (label, value) rows."""
    return [
        ("Prevention gap", snapshot.gap_rule),
        ("Cost of waiting", snapshot.cost_of_waiting),
        *(("Reference table", table["citation"]) for table in snapshot.references),
        *([("Warning", snapshot.reference_warning)] if snapshot.reference_warning else []),
    ]


def gap_csv(snapshot: Snapshot) -> bytes:
    """The prevention-gap list as CSV, each row carrying the rule, the cost of waiting and the
    sources (as the risk CSV carries its citation); an empty list is the header alone (the
    JSON and workbook say that no country meets the rule)."""
    frame = gap_export_table(snapshot).assign(
        **{
            "Forecast from": snapshot.as_of,
            "Source": snapshot.vintage,
            "Rule": snapshot.gap_rule,
            "Cost of waiting": snapshot.cost_of_waiting,
            "Reference tables": "; ".join(snapshot.reference_lines),
        }
    )
    return frame.map(neutralise).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def metadata_rows(snapshot: Snapshot, changes: Changes | None = None) -> list[tuple[str, str]]:
    """What the workbook's About sheet says, as (label, value) rows."""
    model = snapshot.model
    rows = [
        ("Title", "Article 99 risk snapshot"),
        ("Filters", snapshot.selection.describe()),
        ("Forecast from data to", snapshot.as_of),
        ("Counts", deaths_of(snapshot.measure)),
        ("Risk means", risk_definition(snapshot.as_of, snapshot.measure)),
        (
            "Deaths",
            "the median of the 3-month total (the forecast chart's line) with its 90% interval; "
            "the average (mean) beside it, which a few far more violent scenarios can lift "
            "above the interval",
        ),
        ("Generated at (UTC)", snapshot.generated_at),
        ("Model", str(model.get("model", ""))),
        ("Model trained to", str(model.get("trained_to", ""))),
        ("Model format and seed", f"{model.get('format')} / {model.get('seed')}"),
        ("Inputs sha256", snapshot.inputs_sha256),
        ("Table sha256", snapshot.table_sha256),
        ("Verify", "python -m exports verify <the snapshot's JSON file>"),
    ]
    rows += [("Caveat", caveat) for caveat in snapshot.caveats]
    rows += gap_notes(snapshot)
    if changes is not None:
        rows.append(("What changed", changes.summary))
    return rows


SOURCE_COLUMNS = (
    ("Source", "label"), ("Version", "version"), ("File", "file"), ("URL", "url"),
    ("Accessed", "fetched_at"), ("Events", "rows"), ("First event", "first_date"),
    ("Last event", "last_date"), ("SHA-256", "sha256"), ("Licence", "licence"),
    ("Citation", "citation"),
)  # fmt: skip


def _write_rows(
    sheet, book, frame: pd.DataFrame, *, first_row: int = 0, formats: dict | None = None
) -> None:
    """A header and the rows of `frame`, strings written as strings (never formulas)."""
    header = book.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8E8E8"}
    )
    formats = formats or {}
    for col, name in enumerate(frame.columns):
        sheet.write_string(first_row, col, str(name), header)
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=first_row + 1):
        for col, value in enumerate(row):
            fmt = formats.get(frame.columns[col])
            if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                sheet.write_blank(r, col, None, fmt)
            elif isinstance(value, bool):
                sheet.write_boolean(r, col, value, fmt)
            elif isinstance(value, (int, float)) or hasattr(value, "dtype"):
                sheet.write_number(r, col, float(value), fmt)
            else:
                sheet.write_string(r, col, str(neutralise(str(value))), fmt)


def _widths(sheet, frame: pd.DataFrame, cap: int = 60) -> None:
    for col, name in enumerate(frame.columns):
        longest = max([len(str(name)), *(len(str(v)) for v in frame.iloc[:, col].head(200))])
        sheet.set_column(col, col, min(max(longest + 2, 8), cap))


def _sheet(
    book, name: str, frame: pd.DataFrame, formats: dict | None = None, freeze: int = 1
) -> None:
    sheet = book.add_worksheet(name)
    _write_rows(sheet, book, frame, formats=formats)
    _widths(sheet, frame)
    sheet.freeze_panes(1, freeze)
    if len(frame):
        sheet.autofilter(0, 0, len(frame), len(frame.columns) - 1)


def _rows_frame(rows: Iterable[dict], columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{label: row.get(key) for label, key in columns} for row in rows])


def _gap_sheet(book, snapshot: Snapshot, formats: dict) -> None:
    """The list, then under it what it means and where it comes from; an empty list says so."""
    frame = gap_export_table(snapshot)
    _sheet(book, "Prevention gap", frame, formats, freeze=2)
    sheet = book.get_worksheet_by_name("Prevention gap")
    bold = book.add_format({"bold": True})
    notes = gap_notes(snapshot)
    if frame.empty:
        notes.insert(0, ("None", "No country of the selection meets the rule."))
    for r, (label, value) in enumerate(notes, start=len(frame) + 2):
        sheet.write_string(r, 0, label, bold)
        sheet.write_string(r, 1, str(neutralise(value)))


def to_xlsx(snapshot: Snapshot, changes: Changes | None = None) -> bytes:
    """A workbook: Risk (ranked table), Prevention gap, Monthly forecast, Drivers, What
    changed, About."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
         "strings_to_numbers": False},
    )  # fmt: skip
    book.set_properties(
        {"title": "Article 99 risk snapshot", "author": "Article 99", "comments": snapshot.footer}
    )
    percent = book.add_format({"num_format": "0%"})
    whole = book.add_format({"num_format": "#,##0"})
    number_formats = {c: percent for c in PERCENT_COLUMNS} | {c: whole for c in COUNT_COLUMNS}
    _sheet(book, "Risk", export_table(snapshot), number_formats, freeze=3)
    _gap_sheet(book, snapshot, number_formats)

    monthly = snapshot.monthly.merge(snapshot.countries[["iso3", "name"]], on="iso3")
    monthly = pd.DataFrame(
        {
            "ISO3": monthly["iso3"],
            "Country": monthly["name"],
            "Month": pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m"),
            "Months ahead": monthly["horizon"],
            "P(≥ 25 deaths)": monthly["p_ge25"],
            "Average deaths": monthly["mean"],
            **{
                f"Deaths, {int(q[1:])}th percentile": monthly[q].round()
                for q in ("q05", "q25", "q50", "q75", "q95")
            },
        }
    )
    quantiles = {c: whole for c in monthly.columns if "percentile" in c or c == "Average deaths"}
    _sheet(book, "Monthly forecast", monthly, {"P(≥ 25 deaths)": percent, **quantiles}, 2)

    drivers = snapshot.drivers.merge(snapshot.countries[["iso3", "name"]], on="iso3")
    drivers = pd.DataFrame(
        {
            "ISO3": drivers["iso3"],
            "Country": drivers["name"],
            "Explains": drivers["kind"].map(EXPLAINS),
            "Driver": drivers["driver"],
            "Direction": drivers["direction"],
            "Effect (share of risk)": drivers["effect"].round(3),
            "In words": drivers["text"],
        }
    )
    _sheet(book, "Drivers", drivers, freeze=2)

    if changes is not None:
        moved = changes.table.rename(
            columns={
                "iso3": "ISO3", "name": "Country", "rank_before": "Rank before",
                "rank_now": "Rank now", "risk_before": "Risk before", "risk_now": "Risk now",
                "change": "Change", "movement": "Movement", "arrow": "Arrow",
            }
        )  # fmt: skip
        _sheet(
            book,
            "What changed",
            moved,
            {c: percent for c in ("Risk before", "Risk now", "Change")},
            2,
        )

    about = book.add_worksheet("About")
    bold = book.add_format({"bold": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    rows = metadata_rows(snapshot, changes)
    for r, (label, value) in enumerate(rows):
        about.write_string(r, 0, label, bold)
        about.write_string(r, 1, str(neutralise(value)), wrap)
    start = len(rows) + 1
    about.write_string(start, 0, "Data sources", bold)
    sources = _rows_frame(snapshot.sources, SOURCE_COLUMNS)
    _write_rows(about, book, sources, first_row=start + 1)
    cite_row = start + len(sources) + 3
    about.write_string(cite_row, 0, "Cite", bold)
    for k, citation in enumerate(snapshot.citations):
        about.write_string(cite_row + 1 + k, 0, str(neutralise(citation)))
    about.set_column(0, 0, 26)
    about.set_column(1, len(SOURCE_COLUMNS), 22)
    book.close()
    return buffer.getvalue()
