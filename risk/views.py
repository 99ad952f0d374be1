"""The VIEWS 2023/24 prediction challenge (country-month) in the project's shapes.

The challenge speaks in VIEWS ids: `month_id` (1 = January 1980) and `country_id`, with draws
in long format (month_id, country_id, draw, outcome). The project speaks in iso3 and
first-of-month Timestamps. This module is the border: it reads and checks the challenge files,
turns a features file into a country-month panel, runs any forecaster with the model's
signature on it, and turns the forecaster's draws back into the challenge format.

For window Y the input is `cm_features_to_octY-1.parquet` (November Y-2 … October Y-1) and the
forecast covers January … December of Y, 3 to 14 months after the last month of data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from loaders import countries
from loaders.errors import LoaderError

KEYS = ["month_id", "country_id"]
DRAW_KEYS = [*KEYS, "draw"]
FATALITIES = {
    "ged_sb": "fatalities_state_based",
    "ged_ns": "fatalities_non_state",
    "ged_os": "fatalities_one_sided",
}
FEATURE_COLUMNS = ["gleditsch_ward", *FATALITIES]
CHALLENGE_HORIZONS = tuple(range(3, 15))
COUNTRY_LIST = "country_list.csv"
FORECAST_COLUMNS = ["iso3", "month", "draw", "outcome"]
# Period ordinals count months from January 1970; month_id 1 is January 1980 (ordinal 120).
_ORDINAL_OFFSET = 119


class Forecaster(Protocol):
    """What the harness runs: `risk.model.forecast` and the baselines share this signature.

    Returns one row per (iso3, month, draw) with columns iso3, month (first of month), draw
    (0 … n_draws − 1) and outcome (fatalities), for every panel country and every month
    `as_of` + h, h in `horizons`.
    """

    def __call__(
        self,
        panel: pd.DataFrame,
        as_of: pd.Timestamp,
        horizons: Sequence[int],
        n_draws: int = 1000,
        seed: int = 0,
    ) -> pd.DataFrame: ...


def month_id_to_month(month_id: int | pd.Series) -> pd.Timestamp | pd.Series:
    """The first day of a VIEWS month: 1 → 1980-01-01, 469 → 2019-01-01."""
    if isinstance(month_id, pd.Series):
        ordinals = month_id.to_numpy(dtype="int64") + _ORDINAL_OFFSET
        periods = pd.Series(pd.PeriodIndex.from_ordinals(ordinals, freq="M"), index=month_id.index)
        return periods.dt.start_time
    return pd.Period(ordinal=int(month_id) + _ORDINAL_OFFSET, freq="M").start_time


def month_to_month_id(month: pd.Timestamp | pd.Series) -> int | pd.Series:
    """The VIEWS month_id of a date's month: 2019-01-15 → 469."""
    if isinstance(month, pd.Series):
        return ((month.dt.year - 1980) * 12 + month.dt.month).astype("int64")
    month = pd.Timestamp(month)
    return (month.year - 1980) * 12 + month.month


def read_features(path: str | Path) -> pd.DataFrame:
    """A challenge features file as the project's country-month panel.

    Columns: iso3, country, month, fatalities_state_based / _non_state / _one_sided (from
    ged_sb / ged_ns / ged_os), fatalities_total, covered, complete, country_id,
    gleditsch_ward; `attrs['last_complete_month']` is the last month of data ("2018-10").
    Gleditsch-Ward codes go through the project's country reference; VIEWS names from
    `country_list.csv` beside the file are the fallback for a code it does not know.
    """
    path = Path(path)
    frame = _read_challenge_file(path, FEATURE_COLUMNS, "a VIEWS country-month features file")
    _check_no_missing(frame, [*KEYS, *FEATURE_COLUMNS], path)
    _check_unique(frame, KEYS, path)
    _check_complete_grid(frame, path)
    for column in FATALITIES:
        _check_non_negative(frame[column], path)
    codes = frame.groupby("country_id")["gleditsch_ward"].nunique()
    if (codes > 1).any():
        ids = ", ".join(str(i) for i in codes[codes > 1].index[:5])
        raise LoaderError(path.name, f"country_id with several gleditsch_ward codes: {ids}")

    frame = frame.sort_values(["country_id", "month_id"]).reset_index(drop=True)
    iso3 = _iso3_by_country_id(frame.drop_duplicates("country_id"), path)
    panel = pd.DataFrame({"iso3": frame["country_id"].map(iso3)})
    names = countries.reference().set_index("iso3")["name"]
    panel["country"] = panel["iso3"].map(names).fillna(panel["iso3"])
    panel["month"] = month_id_to_month(frame["month_id"])
    for column, name in FATALITIES.items():
        panel[name] = _whole_numbers(frame[column], path)
    panel["fatalities_total"] = panel[list(FATALITIES.values())].sum(axis=1)
    panel["covered"] = True
    panel["complete"] = True
    panel["country_id"] = frame["country_id"].astype("int64")
    panel["gleditsch_ward"] = frame["gleditsch_ward"].astype("int64")
    panel.attrs["last_complete_month"] = str(panel["month"].max().to_period("M"))
    panel.attrs["source"] = path.name
    return panel


def read_actuals(path: str | Path) -> pd.DataFrame:
    """A challenge actuals file as (month_id, country_id, ged_sb), sorted by month then country."""
    path = Path(path)
    frame = _read_challenge_file(path, ["ged_sb"], "a VIEWS country-month actuals file")
    _check_no_missing(frame, [*KEYS, "ged_sb"], path)
    _check_unique(frame, KEYS, path)
    _check_non_negative(frame["ged_sb"], path)
    frame = frame[[*KEYS, "ged_sb"]].astype({"month_id": "int64", "country_id": "int64"})
    return frame.sort_values(KEYS).reset_index(drop=True)


def read_draws(path: str | Path) -> pd.DataFrame:
    """Draws in the challenge format (month_id, country_id, draw, outcome), e.g. a benchmark."""
    path = Path(path)
    frame = _read_challenge_file(path, ["draw", "outcome"], "VIEWS country-month draws")
    _check_no_missing(frame, [*DRAW_KEYS, "outcome"], path)
    _check_non_negative(frame["outcome"], path)
    return frame[[*DRAW_KEYS, "outcome"]].astype(
        {"month_id": "int64", "country_id": "int64", "draw": "int64", "outcome": "float64"}
    )


def write_draws(draws: pd.DataFrame, path: str | Path) -> Path:
    """Write challenge-format draws as the official files are laid out (index month, country, draw).

    Written to a temporary name first, so a failed write never leaves half a file behind.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise LoaderError(str(path), "the folder does not exist")
    partial = path.with_name(path.name + ".partial")
    draws.set_index(DRAW_KEYS).to_parquet(partial)
    partial.replace(path)
    return path


def forecast_window(
    model: Forecaster,
    panel: pd.DataFrame,
    *,
    horizons: Sequence[int] = CHALLENGE_HORIZONS,
    n_draws: int = 1000,
    seed: int = 0,
    name: str = "model",
) -> pd.DataFrame:
    """Run `model` on the panel as of its last month; its draws in the challenge format.

    The model's output is checked before it is used: every panel country and target month
    must have draws 0 … n_draws − 1 exactly once, with finite, non-negative outcomes.
    """
    as_of = panel["month"].max()
    try:
        draws = model(panel, as_of, list(horizons), n_draws=n_draws, seed=seed)
    except ValueError as exc:  # the model's own "cannot forecast this" (bad or short input)
        raise ValueError(f"forecast of {name}: {exc}") from exc
    targets = [as_of + pd.DateOffset(months=h) for h in horizons]
    _check_forecast(draws, panel, targets, n_draws, name)
    return to_challenge_format(draws, panel)


def to_challenge_format(draws: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """(iso3, month, draw, outcome) → (month_id, country_id, draw, outcome), sorted.

    `panel` supplies the iso3 → country_id pairs (as `read_features` made them).
    """
    missing = [c for c in FORECAST_COLUMNS if c not in draws.columns]
    if missing:
        raise ValueError(f"draws lack column(s) {', '.join(missing)}")
    country_ids = panel.drop_duplicates("iso3").set_index("iso3")["country_id"]
    unknown = sorted(set(draws["iso3"].unique()) - set(country_ids.index))
    if unknown:
        raise ValueError(
            f"draws for countries not in the panel: {', '.join(map(str, unknown[:5]))}"
        )
    month_codes, months = pd.factorize(draws["month"])
    iso3_codes, iso3s = pd.factorize(draws["iso3"])
    columns = {
        "month_id": month_to_month_id(pd.Series(months)).to_numpy()[month_codes],
        "country_id": country_ids.reindex(iso3s).to_numpy(dtype="int64")[iso3_codes],
        "draw": draws["draw"].to_numpy(dtype="int64"),
        "outcome": draws["outcome"].to_numpy(dtype="float64"),
    }
    order = _sort_order(np.column_stack([columns[k] for k in DRAW_KEYS]), "draws")
    if order is not None:
        columns = {name: values[order] for name, values in columns.items()}
    return pd.DataFrame(columns)


def align_draws(draws: pd.DataFrame, cells: pd.DataFrame, *, where: str = "draws") -> np.ndarray:
    """Challenge-format draws as a (cells, n) matrix in the row order of `cells`.

    Every cell (month_id, country_id) of `cells` must have the same number of draws, each
    draw id once; draws for other cells are ignored. `where` names the draws in errors.
    """
    keys = draws[DRAW_KEYS].to_numpy(dtype="int64")
    outcome = draws["outcome"].to_numpy(dtype="float64")
    order = _sort_order(keys, where)
    if order is not None:
        keys, outcome = keys[order], outcome[order]
    new_cell = np.r_[True, (keys[1:, :2] != keys[:-1, :2]).any(axis=1)]
    starts = np.flatnonzero(new_cell)
    sizes = np.diff(np.r_[starts, len(keys)])
    if len(sizes) == 0 or (sizes != sizes[0]).any():
        low, high = (sizes.min(), sizes.max()) if len(sizes) else (0, 0)
        raise LoaderError(where, f"cells have different numbers of draws ({low} to {high})")
    found = pd.MultiIndex.from_arrays([keys[starts, 0], keys[starts, 1]])
    wanted = pd.MultiIndex.from_frame(cells[KEYS].astype("int64"))
    position = found.get_indexer(wanted)
    if (position < 0).any():
        lacking = wanted[position < 0]
        examples = ", ".join(f"({m}, {c})" for m, c in lacking[:3])
        raise LoaderError(
            where, f"no draws for {len(lacking)} (month_id, country_id) cells, e.g. {examples}"
        )
    return outcome.reshape(-1, sizes[0])[position]


def _sort_order(keys: np.ndarray, where: str) -> np.ndarray | None:
    """The order that sorts (month_id, country_id, draw) rows, None if already sorted.

    The three ids are packed into one int64 so one argsort does it, and a sorted frame (the
    official files, our own output) costs a single comparison pass.
    """
    if len(keys) == 0:
        return None
    if keys.min() < 0 or keys.max() >= 1 << 20:
        raise LoaderError(where, "month_id, country_id and draw must lie in 0 … 1,048,575")
    packed = (keys[:, 0] << 40) | (keys[:, 1] << 20) | keys[:, 2]
    steps = np.diff(packed)
    if (steps > 0).all():
        return None
    order = np.argsort(packed, kind="stable")
    if (np.diff(packed[order]) == 0).any():
        raise LoaderError(where, "the same (month_id, country_id, draw) appears more than once")
    return order


def _read_challenge_file(path: Path, columns: list[str], what: str) -> pd.DataFrame:
    if not path.is_file():
        raise LoaderError(path.name, f"no such file ({path})")
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise LoaderError(path.name, f"not a readable Parquet file: {exc}") from None
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    wanted = [*KEYS, *columns]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise LoaderError(
            path.name,
            f"missing column(s) {', '.join(missing)}; {what} has (month_id, country_id) as "
            f"index or columns and the columns {', '.join(columns)}",
        )
    return frame


def _check_no_missing(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    for column in columns:
        missing = frame[column].isna()
        if missing.any():
            raise LoaderError(
                f"{path.name}, column {column}", f"{int(missing.sum())} missing value(s)"
            )


def _check_unique(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    repeated = frame.duplicated(columns)
    if repeated.any():
        first = frame.loc[repeated, columns].iloc[0].tolist()
        raise LoaderError(
            path.name,
            f"{int(repeated.sum())} repeated ({', '.join(columns)}) rows, e.g. {tuple(first)}",
        )


def _check_non_negative(values: pd.Series, path: Path) -> None:
    if (values < 0).any():
        raise LoaderError(f"{path.name}, column {values.name}", "negative values")


def _check_complete_grid(frame: pd.DataFrame, path: Path) -> None:
    """Every country has every month, and the months run without a gap."""
    months = np.sort(frame["month_id"].unique())
    if (np.diff(months) != 1).any():
        raise LoaderError(path.name, "the months are not consecutive")
    per_country = frame.groupby("country_id").size()
    short = per_country[per_country < len(months)]
    if not short.empty:
        ids = ", ".join(str(i) for i in short.index[:5])
        raise LoaderError(
            path.name, f"{len(short)} countries lack some of the {len(months)} months: {ids}"
        )


def _iso3_by_country_id(first_rows: pd.DataFrame, path: Path) -> pd.Series:
    names = _views_country_names(path.parent)
    resolved = countries.resolve(
        pd.DataFrame(
            {
                "country": first_rows["country_id"].map(names).to_numpy(dtype=object),
                "gwno": first_rows["gleditsch_ward"].to_numpy(),
            }
        ),
        path.name,
    )
    iso3 = pd.Series(resolved["iso3"].to_numpy(), index=first_rows["country_id"].to_numpy())
    shared = iso3[iso3.duplicated(keep=False)]
    if not shared.empty:
        pairs = ", ".join(f"country_id {i} → {code}" for i, code in shared.items())
        raise LoaderError(path.name, f"several VIEWS countries map to one iso3: {pairs}")
    return iso3


def _views_country_names(folder: Path) -> pd.Series:
    table = folder / COUNTRY_LIST
    if not table.is_file():
        return pd.Series(dtype=object)
    names = pd.read_csv(table, usecols=["country_id", "name"])
    return names.set_index("country_id")["name"]


def _whole_numbers(values: pd.Series, path: Path) -> pd.Series:
    rounded = values.round()
    # Stored as floats; allow float noise, refuse real fractions of a death.
    if ((values - rounded).abs() > 1e-6).any():
        raise LoaderError(f"{path.name}, column {values.name}", "fatalities are not whole numbers")
    return rounded.astype("Int64")


def _check_forecast(
    draws: pd.DataFrame,
    panel: pd.DataFrame,
    targets: list[pd.Timestamp],
    n_draws: int,
    name: str,
) -> None:
    where = f"forecast of {name}"
    if not isinstance(draws, pd.DataFrame):
        raise ValueError(f"{where}: returned {type(draws).__name__}, not a DataFrame")
    missing = [c for c in FORECAST_COLUMNS if c not in draws.columns]
    if missing:
        raise ValueError(f"{where}: lacks column(s) {', '.join(missing)}")
    if not pd.api.types.is_datetime64_any_dtype(draws["month"]):
        raise ValueError(
            f"{where}: month must hold dates (first of month), not {draws['month'].dtype}"
        )
    if not pd.api.types.is_integer_dtype(draws["draw"]):
        raise ValueError(f"{where}: draw must hold whole numbers, not {draws['draw'].dtype}")
    outcome = draws["outcome"].to_numpy(dtype="float64")
    if not np.isfinite(outcome).all():
        raise ValueError(f"{where}: outcome has NaN or infinite values")
    if (outcome < 0).any():
        raise ValueError(f"{where}: outcome has negative values")
    iso3s = pd.Index(panel["iso3"].unique())
    months = pd.PeriodIndex(targets, freq="M")
    country = _positions(draws["iso3"], iso3s)
    month = _positions(draws["month"].dt.to_period("M"), months)
    draw = draws["draw"].to_numpy()
    outside = (country < 0) | (month < 0) | (draw < 0) | (draw >= n_draws)
    if outside.any():
        row = draws.loc[outside].iloc[0]
        raise ValueError(
            f"{where}: {int(outside.sum())} rows outside the panel's countries, the target "
            f"months and draws 0 … {n_draws - 1}, e.g. ({row['iso3']}, {row['month']:%Y-%m}, "
            f"{row['draw']})"
        )
    # Each (country, month, draw) slot must be filled exactly once.
    slot = (country * len(months) + month) * n_draws + draw.astype("int64")
    filled = np.bincount(slot, minlength=len(iso3s) * len(months) * n_draws)
    if (filled > 1).any():
        raise ValueError(f"{where}: the same (iso3, month, draw) appears more than once")
    if (filled == 0).any():
        lacking = int((filled == 0).sum())
        raise ValueError(
            f"{where}: {lacking} of the {filled.size} expected (iso3, month, draw) rows are missing"
        )


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Where each value sits in `index` (−1 if absent); fast for long columns of few values."""
    codes, uniques = pd.factorize(values)
    return np.where(codes < 0, -1, index.get_indexer(uniques)[codes])
