"""The risk table: one row per country, everything a page or an export shows about its risk.

`risk_forecast()` trains the model, forecasts every country from the as-of month, and joins
what analysts read beside the number: the interval, the change since last month, surge flags,
the top drivers in words and the data vintage. Countries the data cannot speak for get the
status "insufficient data" and no number. Each forecast is computed once and kept in the store
(`risk.artifacts`), so pages and exports read it rather than train.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from loaders import countries, coverage
from loaders.store import Store
from risk import artifacts, drivers, measures, model
from risk.drivers import RISK_MONTHS  # the headline: P(≥ 25 deaths in one of the next 3)
from risk.panel import FORECAST_SOURCES, country_month_panel
from risk.signals import signals_from_store

NEW_RISK_QUIET_MONTHS = 24  # "new risk": no month with ≥ 25 deaths in this many months
NEW_RISK_LISTED = 10  # the new-risk list: that many quiet countries, highest risk first
TREND_STEP = 0.05  # a risk change smaller than 5 points is shown as steady
STORED = ("key", "digest", "created_at")  # what `RiskForecast.stored` keeps of its record


class InsufficientData(model.InsufficientData):
    """Nothing to forecast from (empty store, as-of month outside the data)."""


@dataclass
class RiskForecast:
    """The risk table and the detail behind it."""

    table: pd.DataFrame  # one row per reference country and measure
    monthly: pd.DataFrame  # iso3, measure, month, horizon, p_ge25, mean, q05 … q95
    drivers: pd.DataFrame  # iso3, driver, effect, direction, text (all drivers)
    as_of: str
    vintage: str
    info: dict = field(default_factory=dict)
    stored: dict = field(default_factory=dict)  # the key it is kept under, digest, created_at
    measure: str | None = None  # the measure its frames hold; None: every measure

    def of(self, measure: str) -> RiskForecast:
        """The same forecast for one measure (risk.measures): each frame's rows of it."""
        measures.check(measure)
        if self.measure is not None:
            if self.measure != measure:
                raise ValueError(f"this forecast holds only {self.measure}, not {measure}")
            return self
        if not (self.table["measure"] == measure).any():
            raise model.InsufficientData(f"this forecast has no {measures.LABELS[measure]}")
        frames = {
            name: getattr(self, name).loc[lambda f: f["measure"] == measure].reset_index(drop=True)
            for name in artifacts.FRAMES
        }
        return replace(self, **frames, measure=measure)


def _vintage(store: Store) -> str:
    """Each release and the month its events end; by country where releases end apart."""
    return coverage.vintage_line(store.coverage(FORECAST_SOURCES)) or "; ".join(
        f"{r.provenance.label} (events to {r.provenance.last_date[:7]})"
        for r in store.records(FORECAST_SOURCES)
    )


def _reasons(panel: pd.DataFrame, iso3s: pd.Series, origin: pd.Timestamp) -> pd.Series:
    """Why each country gets no forecast from `origin`, from its own coverage.

    Not covered at all; covered, but ending before the origin (or starting after it); or
    covered to the origin with fewer than `model.WINDOW` months. The text for a country that
    has a forecast is never shown.
    """
    month = origin.to_period("M")
    first = iso3s.map(panel.attrs.get("first_covered", {}))
    last = iso3s.map(panel.attrs.get("last_covered", {}))
    too_short = f"fewer than {model.WINDOW} months of data up to {month}"
    return pd.Series(
        [
            "not covered by any UCDP release"
            if pd.isna(end)
            else f"no UCDP data after {end}"
            if pd.Period(end, "M") < month
            else f"no UCDP data before {start}"
            if pd.Period(start, "M") > month
            else too_short
            for start, end in zip(first, last, strict=True)
        ],
        index=iso3s.index,
    )


def _summaries(draws: model.Draws) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-country headline figures and per-month quantiles from the draws."""
    values = draws.values
    total = values[:, :RISK_MONTHS].sum(axis=1)
    headline = pd.DataFrame(
        {
            "iso3": draws.iso3,
            "risk": model.any_month_at_least(values, RISK_MONTHS),
            "p_ge25_next_month": (values[:, 0, :] >= model.THRESHOLD).mean(axis=1),
            "expected_fatalities": total.mean(axis=1),
            "median_fatalities": np.median(total, axis=1),
            "fatalities_low": np.quantile(total, 0.05, axis=1),
            "fatalities_high": np.quantile(total, 0.95, axis=1),
        }
    )
    quantiles = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=2)
    countries_n, horizons_n = values.shape[:2]
    monthly = pd.DataFrame(
        {
            "iso3": np.repeat(draws.iso3, horizons_n),
            "month": np.tile(draws.months, countries_n),
            "horizon": np.tile(draws.horizons, countries_n),
            "p_ge25": (values >= model.THRESHOLD).mean(axis=2).ravel(),
            "mean": values.mean(axis=2).ravel(),
            **{
                name: quantiles[k].ravel()
                for k, name in enumerate(("q05", "q25", "q50", "q75", "q95"))
            },
        }
    )
    return headline, monthly


def _arrow(change: float) -> str:
    if pd.isna(change):
        return ""
    if change >= TREND_STEP:
        return "▲"
    if change <= -TREND_STEP:
        return "▼"
    return "▶"


def _quiet_for(panel: pd.DataFrame, as_of: pd.Timestamp, column: str) -> pd.Series:
    """True where no month of the last 24 had ≥ 25 deaths in `column` (NA if not covered)."""
    start = as_of - pd.DateOffset(months=NEW_RISK_QUIET_MONTHS - 1)
    recent = panel[(panel["month"] >= start) & (panel["month"] <= as_of)]
    grouped = recent.groupby("iso3")
    serious = grouped[column].max() >= model.THRESHOLD
    complete = grouped["covered"].all() & (grouped.size() == NEW_RISK_QUIET_MONTHS)
    return (~serious).where(complete)


def risk_forecast(
    data_dir: str | Path | None = None,
    as_of: str | None = None,
    *,
    seed: int = 0,
    measure: str | None = measures.DEFAULT,
) -> RiskForecast:
    """Forecast every country from `as_of` (default: the last complete month of the data),
    for one `measure` (risk.measures), or for all of them with None.

    Read from the store when this data, month, seed and code were forecast before; otherwise
    computed once (another process computing it meanwhile is waited for) and kept there, as is
    a lack of data: `InsufficientData` is raised again without retraining.
    """
    store = Store(data_dir)
    with store.pinned():
        parts = _key(store, as_of, seed)
        found = _stored(artifacts.path_of(store.root, parts))
        if found is not None:
            return found if measure is None else found.of(measure)
        with artifacts.computing(store.root, parts):
            found = _stored(artifacts.path_of(store.root, parts))  # made while we waited?
            if found is None:
                try:
                    computed = _risk_forecast(store, as_of, seed)
                except model.InsufficientData as exc:
                    nothing = isinstance(exc, InsufficientData)
                    meta = {"insufficient": str(exc), "nothing_to_forecast": nothing}
                    artifacts.write(store.root, parts, {}, meta)
                    raise
                computed.info["code"] = parts["code"]
                meta = {"as_of": computed.as_of, "vintage": computed.vintage, "info": computed.info}
                frames = {name: getattr(computed, name) for name in artifacts.FRAMES}
                written = artifacts.write(store.root, parts, frames, meta)
                computed.stored = {k: written[k] for k in STORED}
                found = computed
        return found if measure is None else found.of(measure)


def previous_forecast(
    data_dir: str | Path | None = None,
    as_of: str | None = None,
    *,
    seed: int = 0,
    measure: str | None = measures.DEFAULT,
) -> RiskForecast | None:
    """The newest forecast kept for earlier data (or code), to show while the current one is
    computed; `.stored["key"]["store_version"]` says which data it was made from."""
    store = Store(data_dir)
    path = artifacts.previous(store.root, artifacts.key(store.version(), as_of, seed))
    found = _stored(path) if path is not None else None
    return found if found is None or measure is None else found.of(measure)


def _key(store: Store, as_of: str | None, seed: int) -> dict:
    if not store.manifest()["version"]:  # said at once, and nothing written to an empty store
        raise InsufficientData("the store is empty: import or fetch UCDP data first")
    return artifacts.key(store.version(), as_of, seed)


def _stored(path: Path) -> RiskForecast | None:
    found = artifacts.read(path)
    if found is None:
        return None
    frames, meta = found
    if meta.get("insufficient") is not None:  # raised again as it was the first time
        raise (InsufficientData if meta["nothing_to_forecast"] else model.InsufficientData)(
            meta["insufficient"]
        )
    stored = {k: meta[k] for k in STORED}
    return RiskForecast(
        frames["table"], frames["monthly"], frames["drivers"], meta["as_of"], meta["vintage"],
        meta["info"], stored,
    )  # fmt: skip


def _risk_forecast(store: Store, as_of: str | None, seed: int) -> RiskForecast:
    data_dir = store.root
    panel = country_month_panel(data_dir)
    if panel.empty:
        raise InsufficientData("the store is empty: import or fetch UCDP data first")
    as_of = as_of or panel.attrs["default_as_of"]
    origin = pd.Period(as_of, "M").start_time
    fitted = model.fit(panel, f"{origin:%Y-%m}", seed=seed)
    draws = model.forecast_measures(panel, origin, model=fitted, seed=seed)
    arrays = model.panel_arrays(panel)
    explained = drivers.explain(fitted, arrays, int(arrays.months.get_loc(origin)), seed=seed)
    references = explained.references.set_index(["measure", "kind", "iso3"]).sort_index()
    signals = signals_from_store(
        data_dir, f"{origin:%Y-%m}", countries=list(countries.reference()["iso3"])
    ).set_index("iso3")
    last = panel[panel["month"] == origin].set_index("iso3")
    vintage = _vintage(store)
    tables, monthly = [], []
    for measure in measures.MEASURES:
        headline, detail = _summaries(draws[measure])
        top = drivers.top_drivers(explained.drivers[explained.drivers["measure"] == measure])
        table = _table(headline, top, signals, panel, origin)
        level, change = (references.loc[(measure, kind)] for kind in ("level", "change"))
        table["reference_risk"] = table["iso3"].map(level["risk"])
        table["reference_fatalities"] = table["iso3"].map(level["expected_fatalities"])
        table["risk_last_month"] = table["iso3"].map(change["risk"])
        table["risk_change"] = table["risk"] - table["risk_last_month"]
        table["trend"] = table["risk_change"].map(_arrow)
        column = measures.COLUMNS[measure]
        table["fatalities_last_month"] = table["iso3"].map(last[column])
        quiet = _quiet_for(panel, origin, column)
        table["new_risk"] = table["iso3"].map(quiet).astype("boolean")
        table["as_of"] = f"{origin:%Y-%m}"
        table["data_vintage"] = vintage
        table = table.sort_values(
            ["risk", "expected_fatalities"], ascending=False, na_position="last"
        )
        tables.append(table.assign(measure=measure))
        monthly.append(detail.assign(measure=measure))
    info = {
        "model": "gradient-boosted change from half the 12-month level, monotonic in every "
        f"input, out-of-fold errors, {int(model.HISTORY_SHARE * 100)}% own-history draws; "
        "one model per violence type, all organised violence as their sum draw by draw",
        "trained_to": f"{fitted.trained_to:%Y-%m}",
        "training_rows": int(fitted.training_rows),
        "store_version": store.version(),
        "seed": seed,
        "reference": drivers.REFERENCE,
        "change_reference": drivers.CHANGE_REFERENCE,
    }
    return RiskForecast(
        pd.concat(tables, ignore_index=True),
        pd.concat(monthly, ignore_index=True),
        explained.drivers,
        f"{origin:%Y-%m}",
        vintage,
        info,
    )


def _table(
    headline: pd.DataFrame,
    top: pd.DataFrame,
    signals: pd.DataFrame,
    panel: pd.DataFrame,
    origin: pd.Timestamp,
) -> pd.DataFrame:
    """One measure's rows: every reference country, its headline figures, drivers, flags."""
    reference = countries.reference()
    table = reference[["iso3", "name", "un_region", "un_subregion", "ucdp_region"]].merge(
        headline, on="iso3", how="left"
    )
    for column in ("surge_events", "surge_fatalities", "new_admin1_count"):
        table[column] = table["iso3"].map(signals[column]) if column in signals else pd.NA
    spread = table["new_admin1_count"].astype("Int64").fillna(0)
    diffusion = np.where(
        spread > 0, "violence spread to " + spread.astype(str) + " new admin1 units", ""
    )
    texts = top.groupby("iso3")["text"].agg("; ".join)
    model_text = table["iso3"].map(texts).astype(object).fillna("")
    table["drivers"] = [
        "; ".join(part for part in pair if part) for pair in zip(model_text, diffusion, strict=True)
    ]
    table["status"] = np.where(table["risk"].isna(), "insufficient data", "ok")
    table["reason"] = _reasons(panel, table["iso3"], origin).where(table["risk"].isna(), "")
    return table


def new_risk(table: pd.DataFrame) -> pd.DataFrame:
    """Countries with no serious month in the past 24, ranked by forecast risk (onsets)."""
    quiet = table[table["new_risk"].fillna(False).astype(bool) & (table["status"] == "ok")]
    return quiet.sort_values("risk", ascending=False).reset_index(drop=True)
