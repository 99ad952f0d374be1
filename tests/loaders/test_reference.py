"""The reference tables: every shipped row sourced and dated, and a replacement validated like
an import (the row named, the previous table kept)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from loaders import countries, reference
from loaders.errors import LoaderError

ORGANISATIONS = {
    "AU", "ECOWAS", "ECCAS", "SADC", "IGAD", "EAC", "Arab League", "OSCE", "ASEAN",
    "OAS", "EU",
}  # fmt: skip


@pytest.mark.parametrize("name", reference.NAMES)
def test_every_shipped_row_has_a_source_and_a_date(name: str) -> None:
    table = reference.table(name)
    assert len(table) > 10
    assert table["source"].str.match(r"^https?://\S+$").all()
    assert table["as_of"].notna().all()
    assert set(table["iso3"]) <= set(countries.reference()["iso3"])
    info = reference.info(name)
    assert info.origin == "shipped" and info.as_of == pd.Timestamp("2025-01-31")
    assert info.citation().endswith(f"as of 31 Jan 2025, {len(table)} rows")


def test_memberships_cover_the_organisations_the_council_works_with() -> None:
    members = reference.table("memberships")
    current = members[members["left"].isna()].groupby("organisation")["iso3"].apply(set)
    assert set(current.index) == ORGANISATIONS
    # Counts on 31 Jan 2025, less the members outside the country reference (Western Sahara
    # in the AU, Palestine in the League of Arab States, the Holy See in the OSCE).
    sizes = {"AU": 54, "ECOWAS": 12, "ECCAS": 11, "SADC": 16, "IGAD": 8, "EAC": 8,
             "Arab League": 21, "OSCE": 56, "ASEAN": 10, "OAS": 34, "EU": 27}  # fmt: skip
    assert current.map(len).to_dict() == sizes
    left = members[members["left"].notna()].set_index(["organisation", "iso3"])["left"]
    assert left[("ECOWAS", "MLI")] == pd.Timestamp("2025-01-29")
    assert left[("EU", "GBR")] == pd.Timestamp("2020-01-31")


def test_presence_dates_and_documents() -> None:
    presence = reference.table("un_presence").set_index(["iso3", "mission"])
    minusma = presence.loc[("MLI", "MINUSMA")]
    assert minusma["start"] == pd.Timestamp("2013-04-25")
    assert minusma["end"] == pd.Timestamp("2023-12-31")
    assert minusma["document"].startswith("S/RES/2100 (2013)")
    # A month-precise start is the month's first day; a regional office covers many countries.
    assert presence.loc[("SYR", "OSES"), "start"] == pd.Timestamp("2012-02-01")
    assert len(presence.xs("UNOWAS", level="mission")) == 16
    assert set(presence["kind"]) == {
        "peacekeeping",
        "political mission",
        "envoy",
        "regional office",
    }


def _shipped(name: str) -> str:
    return (reference.DATA_DIR / f"{name}.csv").read_text(encoding="utf-8")


def _replace_line(text: str, old: str, new: str) -> bytes:
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("MLI,Mali,MINUSMA", "MLX,Mali,MINUSMA", "column iso3: 'MLX': not an ISO3 code"),
        ("2013-04-25", "25/04/2013", "column start: '25/04/2013': not a date"),
        (",2025-01-31\n", ",\n", "column as_of: empty: required in every row"),
        ("https://peacekeeping.un.org/en/past-peacekeeping-operations", "", "column source: empty"),
        ("peacekeeping,country,2014", "blue helmets,country,2014", "must be one of"),
        ("2023-12-31", "2012-12-31", "column end: '2012-12-31': before start"),
        ("UN Mission in Liberia", '=HYPERLINK("x")', "would run as a formula"),
    ],
)
def test_a_bad_replacement_is_refused_with_the_row_named(
    store_dir: Path, old: str, new: str, problem: str
) -> None:
    content = _replace_line(_shipped("un_presence"), old, new)
    with pytest.raises(LoaderError, match=r"presence\.csv, line \d+, column") as raised:
        reference.replace("un_presence", content, "presence.csv", data_dir=store_dir)
    assert problem in str(raised.value)
    assert not reference.replacement_path("un_presence", store_dir).exists()
    assert reference.info("un_presence", store_dir).origin == "shipped"


def test_a_duplicate_row_is_refused(store_dir: Path) -> None:
    text = _shipped("sanctions")
    row = next(line for line in text.splitlines() if line.startswith("MLI,"))
    with pytest.raises(LoaderError, match=r"line 17, column start.*duplicate"):
        reference.replace("sanctions", (text + row + "\n").encode(), "s.csv", data_dir=store_dir)


def test_a_spreadsheet_resave_is_accepted_and_replaces_the_table(store_dir: Path) -> None:
    """Semicolons, a byte-order mark and a midnight time, as a European spreadsheet saves "CSV
    UTF-8"; then the replacement is what `table` reads, until the shipped table is restored."""
    rows = list(csv.reader(io.StringIO(_shipped("sanctions"))))
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)  # quotes the cells holding "; "
    text = out.getvalue().replace("2022-10-21", "2022-10-21 00:00:00").replace("Haiti;H", "Haïti;H")
    replaced = reference.replace("sanctions", text.encode("utf-8-sig"), "s.csv", data_dir=store_dir)
    assert replaced.origin == "replaced" and replaced.rows == 15
    table = reference.table("sanctions", store_dir).set_index("regime")
    assert table.loc["Haiti", "start"] == pd.Timestamp("2022-10-21")
    assert table.loc["Haiti", "country"] == "Haïti"
    reference.restore("sanctions", store_dir)
    assert reference.info("sanctions", store_dir).origin == "shipped"


def test_a_wrong_table_is_refused(store_dir: Path) -> None:
    with pytest.raises(LoaderError, match="missing columns: organisation"):
        reference.replace("memberships", _shipped("sanctions").encode(), "m.csv", store_dir)
    with pytest.raises(LoaderError, match="not a reference table"):
        reference.table("missions")
