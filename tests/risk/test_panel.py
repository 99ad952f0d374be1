"""The country-month panel on hand-written data: exact sums, zeros, gaps, last complete month."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import loaders
from loaders import countries
from risk.panel import build_panel, country_month_panel, counts_from_events
from tests.conftest import SMALL_GED, ged_rows, write_ged


def test_panel_sums_by_violence_type_and_fills_zeros(store_dir: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    panel = country_month_panel(store_dir, start="2024-01", end="2024-03")
    assert panel.attrs["last_complete_month"] == "2024-12"
    mali = panel[panel.iso3 == "MLI"].set_index(panel[panel.iso3 == "MLI"].month.dt.month)
    assert mali.loc[1, ["fatalities_state_based", "events_state_based"]].tolist() == [8, 1]
    assert mali.loc[
        2, ["fatalities_one_sided", "fatalities_non_state", "fatalities_total"]
    ].tolist() == [
        12,
        7,
        19,
    ]
    assert mali.loc[2, "events_total"] == 2
    assert mali.loc[3, "fatalities_total"] == 0 and mali.loc[3, "covered"]
    assert mali.loc[1, "country"] == "Mali"
    # Every reference country has every month; those this subset does not cover are NA.
    assert len(panel) == len(countries.reference()) * 3
    niger = panel[panel.iso3 == "NER"]
    assert niger["fatalities_total"].isna().all() and not niger["covered"].any()


def test_panel_of_a_whole_release_is_zero_for_quiet_countries(
    store_dir: Path, tmp_path: Path
) -> None:
    whole = write_ged(tmp_path / "GEDEvent_v25_1.csv", ged_rows())  # UCDP's own name: all countries
    loaders.import_file(whole, data_dir=store_dir)
    panel = country_month_panel(store_dir)
    assert panel["month"].min() == pd.Timestamp("2024-01-01")
    assert panel["month"].max() == pd.Timestamp("2024-12-01")
    niger = panel[panel.iso3 == "NER"]
    assert (niger["fatalities_total"] == 0).all() and niger["covered"].all()
    assert panel["fatalities_total"].sum() == 43


def test_panel_from_an_event_frame_matches_the_store(store_dir: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    events = loaders.load_events(store_dir)
    coverage = [r.provenance.coverage for r in loaders.Store(store_dir).records()]
    from_frame = build_panel(counts_from_events(events), coverage)
    from_store = country_month_panel(store_dir)
    pd.testing.assert_frame_equal(from_frame, from_store)


def test_empty_store_gives_an_empty_panel(store_dir: Path) -> None:
    panel = country_month_panel(store_dir)
    assert panel.empty
    assert panel.attrs["last_complete_month"] is None


def test_a_country_only_release_extends_its_country_and_moves_no_one_else(
    mixed_store: Path,
) -> None:
    """GED 21.1 (every country to Dec 2020) beside GED 23.1 CAR and 24.1 Myanmar."""
    panel = country_month_panel(mixed_store)
    assert panel.attrs["default_as_of"] == panel.attrs["last_complete_month"] == "2020-12"
    last = panel.attrs["last_covered"]
    assert (last["MMR"], last["CAF"], last["FRA"], last["BFA"]) == (
        "2023-12",
        "2022-12",
        "2020-12",
        "2020-12",
    )
    assert panel["month"].max() == pd.Timestamp("2023-12-01")
    myanmar = panel[panel.iso3 == "MMR"].set_index("month")
    assert myanmar["covered"].all() and myanmar["complete"].all()
    # GED 24.1's Myanmar, 2021–2023 (the coup and after): recorded, not NA.
    assert myanmar.loc["2021-01-01":, "fatalities_total"].sum() == 7_666
    france = panel[panel.iso3 == "FRA"].set_index("month")
    assert france.loc["2020-12-01", "fatalities_total"] == 0
    assert france.loc["2021-01-01":, "fatalities_total"].isna().all()
    assert not france.loc["2021-01-01":, "covered"].any()


def test_default_month_is_the_month_most_countries_are_covered_to() -> None:
    world = {"first_month": "2019-01", "last_month": "2020-12", "countries": ["*"]}
    myanmar = {"first_month": "1989-01", "last_month": "2023-12", "countries": ["MMR"]}
    counts = pd.DataFrame(
        {"iso3": [], "month": pd.Series(dtype="datetime64[s]"), "violence_type": []}
    ).assign(fatalities=0, events=0)
    assert build_panel(counts, [world, myanmar]).attrs["default_as_of"] == "2020-12"
    # A store of a country-only release alone: its month.
    assert build_panel(counts, [myanmar]).attrs["default_as_of"] == "2023-12"
    # A newer whole release moves the world.
    newer = {**world, "last_month": "2024-12"}
    assert build_panel(counts, [world, myanmar, newer]).attrs["default_as_of"] == "2024-12"
    # A partial last month is not covered to: the month before it is.
    acled = {
        "first_month": "2019-09",
        "last_month": "2022-09",
        "countries": ["BFA", "BEN"],
        "by_country": {"BFA": ["2019-09-24", "2022-09-23"], "BEN": ["2019-01-01", "2022-09-30"]},
    }
    panel = build_panel(counts, [acled])
    assert panel.attrs["last_covered"] == {"BEN": "2022-09", "BFA": "2022-08"}
    assert panel.attrs["default_as_of"] == "2022-09"
    bfa = panel[panel.iso3 == "BFA"].set_index("month")
    assert bfa.loc["2022-09-01", "covered"] and not bfa.loc["2022-09-01", "complete"]
