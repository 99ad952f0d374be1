"""CSV and Excel exports: the ranked table read back, metadata present, no formula can run."""

from __future__ import annotations

import csv
import dataclasses
import io

import openpyxl
import pandas as pd
import pytest

from exports.tabular import export_table, neutralise, to_csv, to_xlsx

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
    assert book.sheetnames == ["Risk", "Monthly forecast", "Drivers", "About"]
    risk = book["Risk"]
    header = [cell.value for cell in risk[1]]
    assert header[:4] == ["Rank", "ISO3", "Country", "Risk"]
    assert [risk.cell(row, 3).value for row in (2, 3)] == ["Nigeria", "Mali"]
    assert risk.cell(2, 4).value == pytest.approx(sahel_snapshot.countries.iloc[0]["risk"])
    assert risk.cell(2, 4).number_format == "0%"
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
