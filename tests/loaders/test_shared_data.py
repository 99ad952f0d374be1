"""Every UCDP file in ../shared/data imports, with rows and deaths equal to the raw file's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import loaders
from loaders import countries
from risk.panel import country_month_panel

GED_FILES = {
    # file: (rows, best-deaths column)
    "ucdp_ged_v24_1_myanmar.csv.gz": "best",
    "ucdp_ged_v23_1_central_african_republic.csv.gz": "best",
    "ucdp_ged_v23_1_sample1000.csv": "best",
    "legacy/ucdp_ged_v19_1_syria.csv.gz": "best",
    "ucdp_ged_v21_1_global_precise_reduced.csv.gz": "best_death",
}


@pytest.mark.parametrize("name", sorted(GED_FILES))
def test_every_shared_ged_file_imports_whole(shared_data: Path, store_dir: Path, name: str) -> None:
    raw = pd.read_csv(shared_data / name, low_memory=False)
    record = loaders.import_file(shared_data / name, data_dir=store_dir)
    events = loaders.load_events(store_dir)
    assert record.provenance.rows == len(raw) == len(events)
    assert events["fatalities_best"].sum() == raw[GED_FILES[name]].sum()
    assert events["iso3"].notna().all()
    assert events["un_region"].notna().all() and events["un_subregion"].notna().all()


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("ucdp_prio_acd_v25_1.csv", "UCDP/PRIO Armed Conflict Dataset"),
        ("ucdp_brd_dyadic_v24_1.csv", "Battle-Related Deaths"),
        ("ucdp_actor_v22_1.csv", "Actor Dataset"),
        ("owid_ucdp_deaths_in_armed_conflicts_by_country_year.csv", "country-year aggregate"),
    ],
)
def test_other_ucdp_tables_are_refused_with_the_reason(
    shared_data: Path, store_dir: Path, name: str, what: str
) -> None:
    with pytest.raises(loaders.LoaderError, match=f"is .*{what}.*, not event data"):
        loaders.import_file(shared_data / name, data_dir=store_dir)
    assert not (store_dir / "manifest.json").exists()


def test_documented_totals(shared_data: Path, store_dir: Path) -> None:
    """The figures PROVENANCE.md states for the files."""
    myanmar = loaders.import_file(shared_data / "ucdp_ged_v24_1_myanmar.csv.gz", data_dir=store_dir)
    world = loaders.import_file(
        shared_data / "ucdp_ged_v21_1_global_precise_reduced.csv.gz", data_dir=store_dir
    )
    assert (myanmar.provenance.rows, myanmar.provenance.fatalities_best) == (7374, 28721)
    assert (world.provenance.rows, world.provenance.fatalities_best) == (176579, 1797771)
    assert world.provenance.countries == 121
    assert "precisely located" in world.provenance.notes[0]


def test_every_ged_country_maps_to_iso3_and_un_regions(shared_data: Path) -> None:
    pairs = pd.concat(
        [
            pd.read_csv(shared_data / name, usecols=["country", "country_id"])
            for name in GED_FILES
            if GED_FILES[name] == "best"
        ]
    ).drop_duplicates()
    names = pd.read_csv(
        shared_data / "ucdp_ged_v21_1_global_precise_reduced.csv.gz", usecols=["country"]
    ).drop_duplicates()
    frame = pd.concat([pairs.rename(columns={"country_id": "gwno"}), names.assign(gwno=None)])
    resolved = countries.resolve(frame.astype({"gwno": "object"}), "shared")
    assert resolved["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert resolved["un_region"].notna().all()
    assert resolved["un_subregion"].notna().all()
    by_name = dict(zip(resolved["country"], resolved["iso3"], strict=True))
    assert by_name["Yemen (North Yemen)"] == "YEM"
    assert by_name["Serbia (Yugoslavia)"] == "SRB"
    assert by_name["DR Congo (Zaire)"] == "COD"
    assert by_name["Congo"] == "COG"
    assert by_name["Kingdom of eSwatini (Swaziland)"] == "SWZ"


def test_panel_from_the_global_file(shared_data: Path, store_dir: Path) -> None:
    loaders.import_file(
        shared_data / "ucdp_ged_v21_1_global_precise_reduced.csv.gz", data_dir=store_dir
    )
    panel = country_month_panel(store_dir)
    assert panel.attrs["last_complete_month"] == "2020-12"
    assert panel["month"].min() == pd.Timestamp("1989-01-01")
    assert panel.groupby("iso3").size().nunique() == 1  # every country, every month
    assert panel["fatalities_total"].sum() == 1797771
    syria_2016 = panel[(panel.iso3 == "SYR") & (panel.month.dt.year == 2016)]
    raw = pd.read_csv(shared_data / "ucdp_ged_v21_1_global_precise_reduced.csv.gz")
    expected = raw[(raw.country == "Syria") & (raw.year == 2016)]["best_death"].sum()
    assert syria_2016["fatalities_total"].sum() == expected
    iceland = panel[panel.iso3 == "ISL"]
    assert (iceland["fatalities_total"] == 0).all() and iceland["covered"].all()
