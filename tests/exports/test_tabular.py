"""CSV and Excel exports: the ranked table read back, metadata present, no formula can run."""

from __future__ import annotations

import csv
import dataclasses
import io

import openpyxl
import pandas as pd
import pytest

from exports import tables
from exports.snapshot import build_snapshot
from exports.tabular import export_table, gap_csv, neutralise, to_csv, to_xlsx
from loaders import reference
from risk import presence
from risk.selection import from_query
from tests.exports.conftest import covered

HOSTILE = ('=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd")


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_starts_are_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Mali", "Côte d'Ivoire", "", 12, -3.5, None])
def test_other_values_are_unchanged(value: object) -> None:
    assert neutralise(value) == value


@pytest.fixture
def hostile_snapshot(sahel_snapshot):
    """The Sahel snapshot with country names and drivers that try to become formulas."""
    countries = sahel_snapshot.countries.copy()
    countries.loc[:5, "name"] = list(HOSTILE)
    countries.loc[0, "drivers"] = "=cmd|' /C calc'!A0"
    return dataclasses.replace(sahel_snapshot, countries=countries)


def test_the_csv_reads_back_as_the_ranked_table(sahel_snapshot) -> None:
    frame = pd.read_csv(io.BytesIO(to_csv(sahel_snapshot)), keep_default_na=False)
    assert list(frame["Country"][:2]) == ["Nigeria", "Mali"]
    assert list(frame["Rank"]) == list(range(1, 11))
    nigeria = sahel_snapshot.countries.iloc[0]
    assert frame["Risk"][0] == pytest.approx(nigeria["risk"])
    # The median with its interval (the chart's statistic), then the average, each named.
    assert frame["Deaths, 3 months (median)"][0] == round(nigeria["median_fatalities"])
    assert frame["Deaths, 3 months (average)"][0] == round(nigeria["expected_fatalities"])
    assert frame["90% low"][0] == round(nigeria["fatalities_low"])
    assert set(frame["Counts"]) == {"deaths from all organised violence"}
    assert set(frame["Source"]) == {"UCDP GED 21.1 (events to 2020-12)"}
    assert "Organized violence 1989-2020" in frame["Citation"][0]
    assert set(frame["Forecast from"]) == {"2020-12"}


def test_the_csv_cannot_start_a_formula(hostile_snapshot) -> None:
    text = to_csv(hostile_snapshot).decode("utf-8")
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    countries = [row[header.index("Country")] for row in rows]
    assert countries[:6] == ["'" + text for text in HOSTILE]
    assert rows[0][header.index("All drivers")].startswith("'=cmd")
    starts = ("=", "+", "-", "@", "\t", "\r")
    assert not [c for row in rows for c in row if c[:1] in starts and not _is_number(c)]


def _is_number(text: str) -> bool:
    """Negative numbers start with '-' and are numbers, not formulas."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_workbook_has_the_table_and_its_metadata(sahel_snapshot) -> None:
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(sahel_snapshot)))
    assert book.sheetnames == ["Risk", "Prevention gap", "Monthly forecast", "Drivers", "About"]
    risk = book["Risk"]
    header = [cell.value for cell in risk[1]]
    assert header[:5] == ["Rank", "ISO3", "Country", "UN presence", "Risk"]
    assert [risk.cell(row, 3).value for row in (2, 3)] == ["Nigeria", "Mali"]
    assert risk.cell(2, 5).value == pytest.approx(sahel_snapshot.countries.iloc[0]["risk"])
    assert risk.cell(2, 5).number_format == "0%"
    assert risk.max_row == 11
    monthly = book["Monthly forecast"]
    assert monthly.max_row == 1 + 150
    header = [cell.value for cell in monthly[1]]
    assert header[-5:] == [f"Deaths, {q}th percentile" for q in (5, 25, 50, 75, 95)]
    deaths = [row[-5].value for row in monthly.iter_rows(min_row=2)]  # whole deaths, not 0.4
    assert all(float(value).is_integer() for value in deaths)
    drivers = [cell.value for cell in book["Drivers"][1]]
    assert drivers[2] == "Explains"  # this level, or the change since last month
    assert {row[2].value for row in book["Drivers"].iter_rows(min_row=2)} == {
        "this level",
        "the change since last month",
    }
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(max_col=2)}
    assert about["Filters"] == "Sahel (Group) · all organised violence"
    assert about["Counts"] == "deaths from all organised violence"
    assert about["Deaths"].startswith("the median of the 3-month total")
    assert about["Forecast from data to"] == "2020-12"
    assert about["Inputs sha256"] == sahel_snapshot.inputs_sha256
    texts = [c.value for row in book["About"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "UCDP GED 21.1" in texts
    assert any("Organized violence 1989-2020" in t for t in texts)
    assert book.properties.creator == "Article 99"


def test_the_workbook_holds_no_formula(hostile_snapshot) -> None:
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(hostile_snapshot)))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    risk = book["Risk"]
    names = [risk.cell(row, 3).value for row in range(2, 8)]
    assert names[:5] == ["'" + t for t in HOSTILE[:5]]
    assert names[5] == "'_x000D_cmd"  # xlsxwriter stores CR escaped; openpyxl reads it as is


def test_an_average_outside_its_interval_is_explained_in_the_table(sahel_snapshot) -> None:
    countries = sahel_snapshot.countries.copy()
    countries.loc[0, ["median_fatalities", "fatalities_low", "fatalities_high"]] = [0.0, 0.0, 1.0]
    countries.loc[0, "expected_fatalities"] = 1.6  # Guinea, Dec 2020: shown 2 against 0–1
    table = export_table(dataclasses.replace(sahel_snapshot, countries=countries))
    note = table["Average outside the interval"]
    assert note[0].startswith("the average is above the 90% range because a few scenarios")
    inside = table["Deaths, 3 months (average)"].between(table["90% low"], table["90% high"])
    assert (note[1:] == "").tolist() == inside[1:].tolist()


def test_export_table_keeps_numbers_numeric(sahel_snapshot) -> None:
    table = export_table(sahel_snapshot)
    assert str(table["Deaths, 3 months (median)"].dtype) == "Int64"
    assert str(table["Deaths, 3 months (average)"].dtype) == "Int64"
    assert table["Risk"].dtype == "float64"
    assert table["Top driver"][0].startswith(("Raises risk", "Lowers risk"))


# --- issue 18: UN presence and the prevention gap ---------------------------------------------


def test_the_risk_table_says_which_un_presence_each_country_has(sahel_snapshot) -> None:
    table = export_table(sahel_snapshot).set_index("ISO3")
    assert "MINUSMA" in table.loc["MLI", tables.PRESENCE]  # Mali, Dec 2020: the peacekeepers
    expected = sahel_snapshot.presence["short"].reindex(table.index)
    assert table[tables.PRESENCE].tolist() == expected.tolist()
    frame = pd.read_csv(io.BytesIO(to_csv(sahel_snapshot)), keep_default_na=False)
    assert list(frame.columns[:5]) == ["Rank", "ISO3", "Country", tables.PRESENCE, "Risk"]
    assert "MINUSMA" in frame.set_index("ISO3").loc["MLI", tables.PRESENCE]


def test_the_prevention_gap_sheet_lists_the_recomputed_gap(sahel_snapshot, sahel_gap) -> None:
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(sahel_snapshot)))
    sheet = book["Prevention gap"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["ISO3", tables.COUNTRY, tables.RISK, tables.GAP_WHY]
    assert not sahel_gap.empty and "MLI" not in set(sahel_gap["iso3"])
    rows = list(sheet.iter_rows(min_row=2, max_row=1 + len(sahel_gap), values_only=True))
    assert [row[0] for row in rows] == list(sahel_gap["iso3"])
    assert [row[1] for row in rows] == list(sahel_gap["name"])
    assert [row[2] for row in rows] == pytest.approx(list(sahel_gap["risk"]))
    assert [row[3] for row in rows] == list(sahel_gap["why"])
    assert sheet.cell(2, 3).number_format == "0%"
    notes = {
        row[0]: row[1]
        for row in sheet.iter_rows(min_row=len(sahel_gap) + 3, max_col=2, values_only=True)
    }
    assert notes["Prevention gap"] == sahel_snapshot.gap_rule
    assert notes["Cost of waiting"] == sahel_snapshot.cost_of_waiting
    about = list(book["About"].iter_rows(max_col=2, values_only=True))
    assert ("Prevention gap", sahel_snapshot.gap_rule) in about
    assert ("Cost of waiting", sahel_snapshot.cost_of_waiting) in about
    warning = sahel_snapshot.reference_warning  # the shipped tables: as of 31 Jan 2025
    assert warning == presence.stale(sahel_snapshot.data_dir)
    assert ("Warning", warning) in about if warning else "Warning" not in dict(about)
    cited = [value for label, value in about if label == "Reference table"]
    assert len(cited) == len(reference.NAMES)
    for name, line in zip(reference.NAMES, cited, strict=True):
        info = reference.info(name, sahel_snapshot.data_dir)
        assert line.startswith(f"{info.title}: ")
        assert f"{info.as_of:%-d %b %Y}" in line and f"{name}.csv" in line


def test_the_rule_names_its_thresholds_and_the_day_presence_is_read(sahel_snapshot) -> None:
    assert sahel_snapshot.gap_rule == (
        "Listed: a risk of 50% or more, or up 20 points or more since last month's forecast, "
        "with neither a UN field mission nor an envoy with a country mandate on 31 Dec 2020."
    )


def test_the_gap_csv_carries_its_rule_and_sources(sahel_snapshot, sahel_gap) -> None:
    frame = pd.read_csv(io.BytesIO(gap_csv(sahel_snapshot)), keep_default_na=False)
    assert list(frame["ISO3"]) == list(sahel_gap["iso3"])
    assert list(frame["90% low"]) == [round(v) for v in sahel_gap["fatalities_low"]]
    assert set(frame["Rule"]) == {sahel_snapshot.gap_rule}
    assert set(frame["Cost of waiting"]) == {sahel_snapshot.cost_of_waiting}
    assert set(frame["Reference tables"]) == {"; ".join(sahel_snapshot.reference_lines)}
    assert set(frame["Forecast from"]) == {"2020-12"}


def test_an_empty_gap_is_said_not_hidden(sahel_snapshot) -> None:
    none = covered(sahel_snapshot)
    assert none.gap.empty
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(none)))
    sheet = book["Prevention gap"]
    assert sheet.cell(1, 1).value == "ISO3" and sheet.cell(2, 1).value is None
    notes = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, max_col=2, values_only=True)}
    assert notes["None"] == "No country of the selection meets the rule."
    assert notes["Prevention gap"] == none.gap_rule
    assert gap_csv(none).decode().count("\r\n") == 1  # the header alone


def test_the_gap_sheet_and_csv_hold_no_formula(hostile_snapshot) -> None:
    regional = hostile_snapshot.presence.assign(regional='=HYPERLINK("http://evil","x")')
    hostile = dataclasses.replace(hostile_snapshot, presence=regional)
    assert not hostile.gap.empty
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(hostile)))
    sheet = book["Prevention gap"]
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    column = [c.value for c in sheet[1]].index(tables.REGIONAL) + 1
    assert sheet.cell(2, column).value.startswith("'=HYPERLINK")
    header, *rows = csv.reader(io.StringIO(gap_csv(hostile).decode(), newline=""))
    assert rows[0][header.index(tables.REGIONAL)].startswith("'=HYPERLINK")


def test_a_membership_group_is_carried_into_the_workbooks_filters(global_store) -> None:
    """?region=org:ECOWAS: the selection's description names the organisation."""
    selection = from_query({"region": "org:ECOWAS"})
    assert not selection.problems
    snapshot = build_snapshot(global_store, selection)
    members = reference.table("memberships", global_store)
    ecowas = members[(members["organisation"] == "ECOWAS") & members["left"].isna()]
    assert set(snapshot.countries["iso3"]) == set(ecowas["iso3"])
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(snapshot)))
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(max_col=2)}
    assert about["Filters"] == snapshot.selection.describe()
    assert "ECOWAS" in about["Filters"]
