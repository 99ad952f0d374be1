"""Escalation signals: is a country's or province's latest month far above its own past?

Monitoring, not modelling: every signal is a plain rule on counts that an analyst can check by
hand, and every figure behind it is returned as a column, so drivers can be worded from numbers
("fatalities up 136% on the 3-month average; violence in 2 new provinces").

What is counted. A *violent event* is a row with a `violence_type` (UCDP's state-based,
non-state, one-sided); rows without one (ACLED demonstrations) never count. An event counts to
the month of its `date_start`; fatalities are `fatalities_best`. The month `as_of` is the latest
complete month (`latest_complete_month`). A unit is a country (`iso3`) or an (iso3, admin1) pair.

The rules (thresholds are the module constants below):

* `surge_events`: events ≥ `SURGE_RATIO` (2) × the mean of the previous 3 months, i.e. at
  least 100% above the trailing average (ACLED's trackers flag ≥ 100% above the 4-week average;
  here on months), and events ≥ `MIN_SURGE_EVENTS` (10), so 1 → 2 events is not a surge.
* `surge_fatalities`: the same relative rule with `MIN_SURGE_FATALITIES` (25); or, as HDX
  Signals does, fatalities ≥ `MIN_RECORD_FATALITIES` (100) and above every one of the previous
  12 months. A 3-year high implies a 1-year high, so "highest in 1 or 3 years" flags on the
  1-year high; `fatalities_high_12m` and `fatalities_high_36m` say which was reached (HDX grades
  the 3-year high as the more severe).
* `new_admin1` (country level): admin1 units with violence in the month and none in the previous
  12 months; events with no admin1 are left out. At admin1 level, `newly_violent` says the same
  of the row's own unit.
* `new_actors_12m` / `new_actors_24m`: actors (`side_a`, `side_b`) of the unit's violent events
  in the month, seen in none of the unit's violent events of the previous 12 / 24 months.
  Civilians, protesters and rioters are not armed actors (`NON_ARMED_ACTORS`, name prefixes).
* `one_sided_rising`: the share of violent events that are one-sided is at least
  `ONE_SIDED_RISE` (15 percentage points) above its share over the previous 12 months, with at
  least `MIN_ONE_SIDED_EVENTS` (10) violent events both in the month and in those 12 months.

Status. "ok" needs data covering the month and the `MIN_HISTORY_MONTHS` (12) before it;
otherwise the row says "insufficient data" with the reason, and its baselines and flags are
missing (NA), never zero (the month's own counts stay where the month is covered). The 36-month
maximum, the 3-year high and the 24-month new actors are NA when fewer than 36 / 24 months of
data precede the month. Which months are covered comes from the store's coverage records when
given (a country is covered from its first covered month to its last, and a quiet covered month
is a real zero); without them, every country in the events is taken as covered from the frame's
first month to its last.
Admin1 names are compared after trimming and collapsing spaces ("Magway  region").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.coverage import world_month
from loaders.provenance import Coverage
from loaders.schema import VIOLENCE_TYPES
from loaders.store import Store
from risk.panel import FORECAST_SOURCES

LEVELS = ("country", "admin1")
REQUIRED_COLUMNS = (
    "iso3",
    "admin1",
    "date_start",
    "violence_type",
    "fatalities_best",
    "side_a",
    "side_b",
)
SURGE_RATIO = 2.0  # the month at least twice the trailing mean: ≥ 100% above it
BASELINE_MONTHS = 3
MIN_SURGE_EVENTS = 10
MIN_SURGE_FATALITIES = 25
MIN_RECORD_FATALITIES = 100
SHORT_MONTHS = 12
LONG_MONTHS = 36
ACTOR_LONG_MONTHS = 24
MIN_HISTORY_MONTHS = 12
MIN_ONE_SIDED_EVENTS = 10
ONE_SIDED_RISE = 0.15
NON_ARMED_ACTORS = ("civilians", "protesters", "rioters")
OK, INSUFFICIENT = "ok", "insufficient data"
THRESHOLDS = {
    "surge_ratio": SURGE_RATIO,
    "baseline_months": BASELINE_MONTHS,
    "min_surge_events": MIN_SURGE_EVENTS,
    "min_surge_fatalities": MIN_SURGE_FATALITIES,
    "min_record_fatalities": MIN_RECORD_FATALITIES,
    "min_history_months": MIN_HISTORY_MONTHS,
    "min_one_sided_events": MIN_ONE_SIDED_EVENTS,
    "one_sided_rise": ONE_SIDED_RISE,
}
# The month's own figures: shown wherever the month is covered, even with too short a history.
_CURRENT = ("events", "fatalities", "one_sided_events", "one_sided_share")


def latest_complete_month(
    data: pd.DataFrame, *, today: str | pd.Timestamp | None = None
) -> pd.Period | None:
    """The latest month the data speak for in full; None when there are no data.

    A panel (`risk.panel.build_panel`) knows it from the store's coverage and carries it in
    `attrs['last_complete_month']`. For bare events it is the month of the latest event,
    unless that month is still running on `today` (default: now), then the month before.
    """
    if "last_complete_month" in data.attrs:
        label = data.attrs["last_complete_month"]
        return pd.Period(label, "M") if label else None
    if "date_start" not in data.columns:
        raise ValueError("need a panel (attrs['last_complete_month']) or events (date_start)")
    dates = _dates(data["date_start"]).dropna()
    if dates.empty:
        return None
    latest = dates.max().to_period("M")
    running = pd.Timestamp(today if today is not None else pd.Timestamp.now()).to_period("M")
    return min(latest, running - 1)


def escalation_signals(
    events: pd.DataFrame,
    as_of: str | pd.Period | None = None,
    *,
    level: str = "country",
    countries: Sequence[str] | None = None,
    coverage: list[Coverage | dict] | None = None,
) -> pd.DataFrame:
    """One row per country (or per (iso3, admin1)) for the month `as_of`; rules in the docstring.

    `countries` limits (or extends) the rows to those iso3 codes; by default every country in
    `events`. `coverage` is the store's list of coverage records (`first_month`, `last_month`,
    `countries`); `as_of` defaults to the latest complete month. Bad input raises ValueError.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    rows = _validated(events)
    month = _as_month(as_of) if as_of is not None else _default_month(events, coverage)
    if isinstance(countries, str):
        countries = [countries]
    scope = sorted(set(countries)) if countries is not None else sorted(rows["iso3"].unique())
    status = _status(_spans(rows, coverage, scope), month)
    window = _window(rows, events, month, scope)
    keys = ["iso3"] if level == "country" else ["iso3", "admin1"]
    units = _units(window, keys, scope)
    out = _signals(units, window, status.reindex(units["iso3"]).reset_index(drop=True), level)
    out.insert(len(keys), "month", month.start_time if month is not None else pd.NaT)
    out = out.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    out.attrs.update(as_of=str(month) if month is not None else None, level=level)
    out.attrs["thresholds"] = dict(THRESHOLDS)
    return out


def signals_from_store(
    data_dir: str | Path | None = None,
    as_of: str | pd.Period | None = None,
    *,
    level: str = "country",
    countries: Sequence[str] | None = None,
    sources: Sequence[str] | None = FORECAST_SOURCES,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`escalation_signals` of the store's live events, with the store's coverage.

    `events`: the live events of `countries` and `sources` already read from this store (a
    profile's), so they are not read again.
    """
    store = Store(data_dir)
    coverage = [record.provenance.coverage for record in store.records(sources)]
    if events is None:
        events = store.load_events(sources=sources, columns=REQUIRED_COLUMNS, countries=countries)
    return escalation_signals(events, as_of, level=level, countries=countries, coverage=coverage)


# --- input ---------------------------------------------------------------------------------


def _dates(values: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"date_start holds values that are not dates ({exc})") from None


def _refuse(mask: pd.Series, problem: str, values: pd.Series | None = None) -> None:
    """Raise naming the problem, how many rows have it and the first (index, and value)."""
    bad = mask.fillna(False).to_numpy(bool)
    if bad.any():
        at = int(bad.argmax())
        shown = f": {values.iloc[at]}" if values is not None else ""
        raise ValueError(
            f"{problem} in {int(bad.sum())} rows (first at index {mask.index[at]}{shown})"
        )


def _validated(events: pd.DataFrame) -> pd.DataFrame:
    """The columns the rules read, checked: faults raise ValueError naming the problem."""
    missing = [c for c in REQUIRED_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"events lack required column(s): {', '.join(missing)}")
    dates = _dates(events["date_start"])
    fatalities = pd.to_numeric(events["fatalities_best"], errors="coerce")
    _refuse(dates.isna(), "date_start is missing")
    _refuse(fatalities.isna(), "fatalities_best is missing or not a number")
    _refuse(fatalities < 0, "fatalities_best is negative", fatalities)
    _refuse(events["iso3"].isna(), "iso3 is missing")
    unknown = sorted(set(events["violence_type"].dropna().unique()) - set(VIOLENCE_TYPES))
    if unknown:
        raise ValueError(
            f"violence_type holds {unknown}; expected one of {', '.join(VIOLENCE_TYPES)} or null"
        )
    violence = events["violence_type"]
    return pd.DataFrame(
        {
            "iso3": events["iso3"].astype("str"),
            # Months since 1970-01, the ordinal of a monthly pd.Period.
            "month": dates.to_numpy("datetime64[M]").astype("int64"),
            "violent": violence.notna().to_numpy(bool),
            "one_sided": violence.eq("one-sided").fillna(False).to_numpy(bool),
            "fatalities": fatalities.to_numpy("float64"),
        }
    )


def _as_month(as_of: str | pd.Period | pd.Timestamp) -> pd.Period:
    if isinstance(as_of, pd.Period):
        return as_of.asfreq("M")
    try:
        return pd.Period(as_of, "M")
    except (ValueError, TypeError):
        raise ValueError(f"as_of {as_of!r} is not a month (YYYY-MM)") from None


def _default_month(
    events: pd.DataFrame, coverage: list[Coverage | dict] | None
) -> pd.Period | None:
    """The month the world is covered to (as the forecast's), else the latest full month."""
    if coverage:
        return world_month(coverage)
    return latest_complete_month(events)


def _index(month: pd.Period) -> int:
    return month.ordinal


def _period(index: int) -> pd.Period:
    return pd.Period(ordinal=index, freq="M")


def _clean_names(names: pd.Series) -> pd.Series:
    """Trimmed, single-spaced names; empty means missing. Cleans each distinct name once."""
    codes, distinct = pd.factorize(names)
    cleaned = [" ".join(str(name).split()) or None for name in distinct]
    # Code -1 (missing) takes the None appended last.
    values = np.array([*cleaned, None], dtype=object)[codes]
    return pd.Series(values, index=names.index, dtype="str")


# --- coverage and status -------------------------------------------------------------------


def _spans(
    rows: pd.DataFrame, coverage: list[Coverage | dict] | None, scope: list[str]
) -> pd.DataFrame:
    """First and last covered month (as month indexes) of each country in scope; NA: no data."""
    spans = pd.DataFrame({"first": pd.NA, "last": pd.NA}, index=pd.Index(scope, name="iso3"))
    spans = spans.astype("Int64")
    if coverage is None:
        present = spans.index.isin(rows["iso3"].unique())
        if len(rows):
            spans.loc[present, "first"] = int(rows["month"].min())
            spans.loc[present, "last"] = int(rows["month"].max())
        return spans
    for record in map(Coverage.of, coverage):
        first = _index(pd.Period(record.first_month, "M"))
        last = _index(pd.Period(record.last_month, "M"))
        hit = spans.index if record.everywhere else spans.index.intersection(record.countries)
        spans.loc[hit, "first"] = spans.loc[hit, "first"].fillna(first).clip(upper=first)
        spans.loc[hit, "last"] = spans.loc[hit, "last"].fillna(last).clip(lower=last)
    return spans


def _status(spans: pd.DataFrame, month: pd.Period | None) -> pd.DataFrame:
    """status, reason, history_months and whether the month itself is covered, per country."""
    rows = []
    for first, last in zip(spans["first"], spans["last"], strict=True):
        covered, history, reason = False, pd.NA, None
        if month is None or pd.isna(first):
            reason = "no data for this country"
        else:
            at = _index(month)
            history = max(at - int(first), 0)
            covered = int(first) <= at <= int(last)
            if at > last:
                reason = f"{month} is after the last month of data ({_period(int(last))})"
            elif at < first:
                reason = f"{month} is before the first month of data ({_period(int(first))})"
            elif history < MIN_HISTORY_MONTHS:
                reason = (
                    f"only {history} months of data before {month}; "
                    f"{MIN_HISTORY_MONTHS} needed for the baseline"
                )
        rows.append((OK if reason is None else INSUFFICIENT, reason, history, covered))
    status = pd.DataFrame(
        rows, columns=["status", "reason", "history_months", "covered"], index=spans.index
    )
    return status.astype({"history_months": "Int64", "reason": "str"})


def _window(
    rows: pd.DataFrame, events: pd.DataFrame, month: pd.Period | None, scope: list[str]
) -> pd.DataFrame:
    """Violent events of the countries in scope in the month and the 36 before it."""
    at = _index(month) if month is not None else 0
    keep = rows["violent"] & rows["month"].between(at - LONG_MONTHS, at) & rows["iso3"].isin(scope)
    keep = keep.to_numpy() & (month is not None)
    names = events[["admin1", "side_a", "side_b"]][keep].reset_index(drop=True)
    window = rows[keep].reset_index(drop=True).join(names)
    window["offset"] = at - window["month"]
    window["admin1"] = _clean_names(window["admin1"])
    return window


def _units(window: pd.DataFrame, keys: list[str], scope: list[str]) -> pd.DataFrame:
    """The rows of the result; numbers `window['unit']` by them. Quiet countries come last.

    A unit is a country or an (iso3, admin1) pair with violence in the window (events without
    an admin1 form their own unit, so the units add up to the country); a country in scope
    without any gets one row (admin1 missing), so it is never silently left out.
    """
    grouped = window.groupby(keys, dropna=False, sort=True)
    window["unit"] = grouped.ngroup().to_numpy("int64")
    units = grouped.size().index.to_frame(index=False)
    quiet = sorted(set(scope) - set(units["iso3"]))
    units = pd.concat([units, pd.DataFrame({"iso3": quiet})], ignore_index=True)
    return units.reindex(columns=keys)


# --- the rules -----------------------------------------------------------------------------


def _signals(
    units: pd.DataFrame, window: pd.DataFrame, status: pd.DataFrame, level: str
) -> pd.DataFrame:
    """Every signal column; row i of `units` is unit code i of `window`."""
    width = LONG_MONTHS + 1  # column k of a matrix is the month k months before as_of
    flat = window["unit"].to_numpy("int64") * width + window["offset"].to_numpy("int64")
    size = len(units) * width
    events = np.bincount(flat, minlength=size).reshape(-1, width)
    weights = window["fatalities"].to_numpy("float64")
    fatalities = np.rint(np.bincount(flat, weights, minlength=size)).astype("int64")
    fatalities = fatalities.reshape(-1, width)
    one_sided = np.bincount(flat[window["one_sided"].to_numpy(bool)], minlength=size)
    columns = {
        **_trend("events", events),
        **_trend("fatalities", fatalities),
        **_surges(events, fatalities),
    }
    if level == "country":
        named = window[window["admin1"].notna()]
        new = _listed(_new_names(named, "admin1", SHORT_MONTHS), len(units))
        columns.update(new_admin1_count=[len(n) for n in new], new_admin1=new)
    else:
        quiet_before = events[:, 1 : SHORT_MONTHS + 1].sum(axis=1) == 0
        newly = pd.array((events[:, 0] > 0) & quiet_before, dtype="boolean")
        newly[units["admin1"].isna().to_numpy()] = pd.NA  # events without a known admin1
        columns["newly_violent"] = newly
    columns.update(_new_actors(window, len(units)))
    columns.update(_one_sided(events, one_sided.reshape(-1, width)))
    return _masked(pd.concat([units, status, pd.DataFrame(columns)], axis=1))


def _trend(name: str, counts: np.ndarray) -> dict[str, np.ndarray]:
    now = counts[:, 0]
    mean = counts[:, 1 : BASELINE_MONTHS + 1].mean(axis=1)
    change = np.divide(100 * now, mean, out=np.full(len(now), np.nan), where=mean > 0) - 100
    return {
        name: now,
        f"{name}_mean_3m": mean,
        f"{name}_change_pct": change,
        f"{name}_max_12m": counts[:, 1 : SHORT_MONTHS + 1].max(axis=1),
        f"{name}_max_36m": counts[:, 1:].max(axis=1),
    }


def _relative_surge(counts: np.ndarray, floor: int) -> np.ndarray:
    now = counts[:, 0]
    # On sums, not means: integers compare exactly (x ≥ 2 × sum/3  ⇔  3x ≥ 2 × sum).
    trailing = counts[:, 1 : BASELINE_MONTHS + 1].sum(axis=1)
    return (now >= floor) & (now * BASELINE_MONTHS >= SURGE_RATIO * trailing)


def _surges(events: np.ndarray, fatalities: np.ndarray) -> dict[str, np.ndarray]:
    now = fatalities[:, 0]
    high_12m = now > fatalities[:, 1 : SHORT_MONTHS + 1].max(axis=1)
    record = (now >= MIN_RECORD_FATALITIES) & high_12m
    return {
        "surge_events": _relative_surge(events, MIN_SURGE_EVENTS),
        "surge_fatalities": _relative_surge(fatalities, MIN_SURGE_FATALITIES) | record,
        "fatalities_high_12m": high_12m,
        "fatalities_high_36m": now > fatalities[:, 1:].max(axis=1),
    }


def _new_names(frame: pd.DataFrame, name: str, months: int) -> pd.Series:
    """Per unit, the sorted names present in the month and absent from the `months` before."""
    codes, names = pd.factorize(frame[name])
    distinct = max(len(names), 1)
    # One integer per (unit, name), so that set differences run in numpy.
    pairs = frame["unit"].to_numpy("int64") * distinct + codes
    offset = frame["offset"].to_numpy()
    new = np.setdiff1d(pairs[offset == 0], pairs[(offset >= 1) & (offset <= months)])
    found = pd.DataFrame({"unit": new // distinct, name: np.asarray(names, object)[new % distinct]})
    return found.sort_values(["unit", name]).groupby("unit")[name].agg(list)


def _listed(names: pd.Series, units: int) -> list[list[str]]:
    return [names.get(code, []) for code in range(units)]


def _new_actors(window: pd.DataFrame, units: int) -> dict[str, list]:
    recent = window[window["offset"] <= ACTOR_LONG_MONTHS]
    sides = pd.DataFrame(
        {
            "unit": np.tile(recent["unit"].to_numpy(), 2),
            "offset": np.tile(recent["offset"].to_numpy(), 2),
            "actor": _clean_names(pd.concat([recent["side_a"], recent["side_b"]])).to_numpy(),
        }
    )
    names = sides["actor"].dropna().unique()
    non_armed = [name for name in names if name.lower().startswith(NON_ARMED_ACTORS)]
    armed = sides[sides["actor"].notna() & ~sides["actor"].isin(non_armed)]
    columns: dict[str, list] = {}
    for months in (SHORT_MONTHS, ACTOR_LONG_MONTHS):
        new = _listed(_new_names(armed, "actor", months), units)
        columns[f"new_actors_{months}m_count"] = [len(n) for n in new]
        columns[f"new_actors_{months}m"] = new
    return columns


def _one_sided(events: np.ndarray, one_sided: np.ndarray) -> dict[str, np.ndarray]:
    def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
        return np.divide(part, whole, out=np.full(len(whole), np.nan), where=whole > 0)

    now, before = events[:, 0], events[:, 1 : SHORT_MONTHS + 1].sum(axis=1)
    share_now = share(one_sided[:, 0], now)
    share_before = share(one_sided[:, 1 : SHORT_MONTHS + 1].sum(axis=1), before)
    enough = (now >= MIN_ONE_SIDED_EVENTS) & (before >= MIN_ONE_SIDED_EVENTS)
    # A hair of tolerance: 0.25 - 0.10 is 0.1499999… in floating point.
    rising = enough & (np.nan_to_num(share_now - share_before) >= ONE_SIDED_RISE - 1e-9)
    return {
        "one_sided_events": one_sided[:, 0],
        "one_sided_share": share_now,
        "one_sided_share_12m": share_before,
        "one_sided_rising": rising,
    }


def _masked(out: pd.DataFrame) -> pd.DataFrame:
    """Nullable types; NA wherever the data cannot speak (status, covered month, history)."""
    ok = out["status"].eq(OK).to_numpy()
    covered = out.pop("covered").to_numpy(bool)
    history = out["history_months"].fillna(0).to_numpy("int64")
    only_long = {
        "events_max_36m": LONG_MONTHS,
        "fatalities_max_36m": LONG_MONTHS,
        "fatalities_high_36m": LONG_MONTHS,
        "new_actors_24m_count": ACTOR_LONG_MONTHS,
        "new_actors_24m": ACTOR_LONG_MONTHS,
    }
    first_signal = out.columns.get_loc("events")
    for column in out.columns[first_signal:]:
        values = out[column]
        keep = covered if column in _CURRENT else ok & (history >= only_long.get(column, 0))
        if values.dtype == object:
            out[column] = values.where(keep, None)
            continue
        if values.dtype == bool or isinstance(values.dtype, pd.BooleanDtype):
            kind = "boolean"
        elif values.dtype.kind == "f":
            kind = "Float64"
        else:
            kind = "Int64"
        out[column] = values.astype(kind).where(keep, pd.NA)
    return out
