"""Rolling-origin backtests on the store's GED panel: each measure's skill, and onsets.

At each origin (by default December 2009 … December 2019, one a year) the forecaster sees only
the panel up to the origin and forecasts months 1–12 of every violence measure
(risk.measures). Every covered country-month it forecast is scored with the VIEWS challenge's
metrics (risk.evaluate.METRICS) beside the benchmarks computed on the same cells, and two
questions an analyst asks are scored as well:

- the **headline risk**, P(≥ 25 deaths in at least one of the next 3 months), from each
  method's joint draws of months 1–3 (as the dashboard computes it);
- the **onset score**: among countries with no month ≥ 25 in the past 24 (all 24 covered),
  P(at least one month ≥ 25 in the next 12), from the joint draws of months 1–12.

No setting is tuned per window, and the forecaster gets only what the dashboard has. Scores
are pooled over origins (every cell of every origin counts once) and also kept per origin.
The forecaster is pluggable (tests inject a cheap one); the default is risk.model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from risk import baselines, measures, model
from risk.evaluate import DECIMALS, HEADERS, METRICS, STORED_DECIMALS, THRESHOLD
from risk.forecast import NEW_RISK_QUIET_MONTHS, RISK_MONTHS
from risk.metrics import auroc, average_precision, brier, crps, ignorance, interval_score

HORIZONS = tuple(range(1, 13))
ORIGINS = ("2009-12", "2019-12")  # first and last; one origin a year
MOST_ORIGINS = 11  # a store's default backtest: its last 11 Decembers with a year after them
HISTORY_YEARS = 10  # years of data before the first origin, for the model to learn from
FEWEST_ORIGINS = 3  # fewer, and the pooled scores say too little to be shown as skill
QUIET_MONTHS = NEW_RISK_QUIET_MONTHS  # onset: no month ≥ 25 in this many months, all covered
ONSET_MONTHS = 12  # onset: at least one month ≥ 25 within this many months
MODEL = "model"
ZERO, CONFLICTOLOGY, LAST, BASE_RATE = "zero", "conflictology", "last historical", "base rate"
DRAW_BENCHMARKS = {
    ZERO: baselines.zero,
    CONFLICTOLOGY: baselines.conflictology,
    LAST: baselines.last_historical,
}
METHODS = (MODEL, *DRAW_BENCHMARKS, BASE_RATE)
ONSET_METHODS = (MODEL, CONFLICTOLOGY, LAST, BASE_RATE)
EVENT_METRICS = ["AUROC", "AP", "Brier"]


class MeasuresForecaster(Protocol):
    """What the backtest runs: `risk.model.forecast_measures` and stand-ins in tests.

    Returns, for every measure of risk.measures.MEASURES, draws (countries × horizons × n) of
    the months `as_of` + h for h in `horizons`, learned from `panel` alone.
    """

    def __call__(
        self, panel: pd.DataFrame, as_of: pd.Timestamp, *, horizons: Sequence[int], seed: int
    ) -> dict[str, model.Draws]: ...


def default_forecaster(
    panel: pd.DataFrame, as_of: pd.Timestamp, *, horizons: Sequence[int], seed: int
) -> dict[str, model.Draws]:
    """risk.model: the three violence types fitted once per origin, every measure's draws."""
    return model.forecast_measures(panel, as_of, horizons=horizons, seed=seed)


def yearly_origins(first: str, last: str) -> list[pd.Timestamp]:
    """Origins from `first` to `last` (YYYY-MM), twelve months apart."""
    start, end = pd.Period(first, "M"), pd.Period(last, "M")
    if end < start:
        raise ValueError(f"the last origin {end} is before the first {start}")
    if (end - start).n % 12:
        raise ValueError(f"origins {start} … {end} are not a whole number of years apart")
    return [(start + 12 * k).start_time for k in range((end - start).n // 12 + 1)]


def store_origins(panel: pd.DataFrame) -> list[pd.Timestamp]:
    """The default origins for this panel: its last `MOST_ORIGINS` Decembers that have 12
    months of data after them and `HISTORY_YEARS` before (GED 21.1: 2009-12 … 2019-12).

    Raises model.InsufficientData, saying what is missing, when fewer than `FEWEST_ORIGINS`.
    """
    last_month = panel.attrs.get("last_complete_month")
    if panel.empty or last_month is None:
        raise model.InsufficientData("the store holds no UCDP GED data to backtest")
    last = pd.Period(last_month, "M") - len(HORIZONS)
    last -= (last.month % 12) or 0  # back to a December
    first_data = pd.Period(pd.Timestamp(panel["month"].min()), "M")
    earliest = first_data + 12 * HISTORY_YEARS - 1
    earliest += (12 - earliest.month) % 12
    first = max(earliest, last - 12 * (MOST_ORIGINS - 1))
    count = (last - first).n // 12 + 1 if last >= first else 0
    if count < FEWEST_ORIGINS:
        raise model.InsufficientData(
            f"a backtest needs {HISTORY_YEARS} years of data before its first origin and "
            f"{len(HORIZONS)} months after each of at least {FEWEST_ORIGINS} yearly origins; "
            f"the store's data cover {first_data} … {last_month}"
        )
    return yearly_origins(str(first), str(last))


@dataclass
class Backtest:
    """Per-cell scores of every method, measure and origin, and what the run was.

    `cells`: measure, origin, method, iso3, month, horizon, observed, CRPS, IGN, MIS (NaN for
    the base rate, which has no draws), probability (P ≥ 25) and event. `headline` and `onset`:
    measure, origin, method, iso3, probability, event. `info`: origins, seed, horizons.
    """

    cells: pd.DataFrame
    headline: pd.DataFrame
    onset: pd.DataFrame
    info: dict = field(default_factory=dict)

    def table(self, measure: str, origin: str | None = None) -> pd.DataFrame:
        """The score table of a measure, pooled over origins (or of one origin, YYYY-MM)."""
        return skill_table(_rows(self.cells, measure, origin), METRICS)

    def headline_table(self, measure: str, origin: str | None = None) -> pd.DataFrame:
        return skill_table(_rows(self.headline, measure, origin), EVENT_METRICS)

    def onset_table(self, measure: str, origin: str | None = None) -> pd.DataFrame:
        return skill_table(_rows(self.onset, measure, origin), EVENT_METRICS)

    def summary(self) -> dict:
        """Everything a record keeps and a page shows, as plain JSON-ready values."""
        origins = self.info["origins"]
        out = {}
        for measure in self.info["measures"]:
            onset_rows = _rows(self.onset, measure)
            out[measure] = {
                "label": measures.LABELS[measure],
                "column": measures.COLUMNS[measure],
                "monthly": _plain_table(self.table(measure)),
                "headline": _plain_table(self.headline_table(measure)),
                "onset": _plain_table(self.onset_table(measure)),
                "by_origin": [
                    {
                        "origin": origin,
                        "monthly": _plain_table(self.table(measure, origin)),
                        "headline": _plain_table(self.headline_table(measure, origin)),
                        "onset": _plain_table(self.onset_table(measure, origin)),
                    }
                    for origin in origins
                ],
                "onsets": _onsets(onset_rows),
            }
        return out


def _onsets(onset: pd.DataFrame) -> list[dict]:
    """Each onset that happened: origin, iso3 and every method's probability of it."""
    happened = onset[onset["event"]]
    wide = happened.pivot(index=["origin", "iso3"], columns="method", values="probability")
    return [
        {"origin": origin, "iso3": iso3, **{m: float(row[m]) for m in ONSET_METHODS}}
        for (origin, iso3), row in wide.iterrows()
    ]


def run_backtest(
    panel: pd.DataFrame,
    origins: Sequence[str | pd.Timestamp],
    *,
    seed: int = 0,
    forecaster: MeasuresForecaster | None = None,
    measure_names: Sequence[str] = measures.MEASURES,
    progress: Callable[[str], None] | None = None,
) -> Backtest:
    """Forecast from each origin with only the data up to it, and score every measure.

    The panel must cover the 12 months after each origin (the outcomes). Each origin calls the
    forecaster once, for all measures (risk.model fits its three type models once).
    `progress` is told each origin as it starts (a run takes minutes).
    """
    forecaster = forecaster or default_forecaster
    origins = [pd.Timestamp(o).to_period("M").start_time for o in origins]
    if not origins:
        raise ValueError("no origin to backtest from")
    for name in measure_names:
        measures.check(name)
    last = panel["month"].max()
    for origin in origins:
        end = origin + pd.DateOffset(months=max(HORIZONS))
        if end > last:
            raise ValueError(
                f"origin {origin:%Y-%m}: its outcomes run to {end:%Y-%m}, past the data "
                f"(to {last:%Y-%m})"
            )
    parts: dict[str, list[pd.DataFrame]] = {"cells": [], "headline": [], "onset": []}
    for k, origin in enumerate(origins, start=1):
        if progress is not None:
            progress(f"origin {origin:%Y-%m} ({k} of {len(origins)})")
        seen = panel[panel["month"] <= origin]
        draws = forecaster(seen, origin, horizons=HORIZONS, seed=seed)
        for name in measure_names:
            scored = score_origin(panel, origin, draws[name], measures.COLUMNS[name], seed=seed)
            for part, frame in scored.items():
                parts[part].append(frame.assign(measure=name, origin=f"{origin:%Y-%m}"))
    frames = {part: _leading(pd.concat(found, ignore_index=True)) for part, found in parts.items()}
    info = {
        "origins": [f"{o:%Y-%m}" for o in origins],
        "horizons": [HORIZONS[0], HORIZONS[-1]],
        "seed": seed,
        "measures": list(measure_names),
        "threshold": THRESHOLD,
        "headline_months": RISK_MONTHS,
        "quiet_months": QUIET_MONTHS,
        "onset_months": ONSET_MONTHS,
    }
    return Backtest(**frames, info=info)


def score_origin(
    panel: pd.DataFrame, origin: pd.Timestamp, draws: model.Draws, column: str, *, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Per-cell scores of the model's draws and the benchmarks' at one origin, for one column.

    Cells are the countries the model forecast and the months after the origin that the data
    cover; the benchmarks are computed on exactly those cells, from the panel up to the origin.
    """
    iso3 = np.asarray(draws.iso3)
    horizons = list(draws.horizons)
    values = np.asarray(draws.values, dtype="float64")
    if horizons != list(HORIZONS) or values.shape[:2] != (len(iso3), len(horizons)):
        raise ValueError(
            f"the forecaster gave draws of shape {values.shape} for horizons {horizons}; "
            f"expected {len(iso3)} countries × horizons {list(HORIZONS)} × draws"
        )
    seen = panel[(panel["month"] <= origin) & panel["iso3"].isin(iso3)]
    observed = _wide(panel, column, iso3, origin + pd.DateOffset(months=1), len(horizons))
    by_method = {MODEL: values}
    for method, benchmark in DRAW_BENCHMARKS.items():
        long = benchmark(seen, origin, horizons, n_draws=model.N_DRAWS, seed=seed, target=column)
        by_method[method] = _as_array(long, iso3, len(horizons))
    shares = baselines.conflictology_probability(seen, origin, THRESHOLD, target=column)
    rate = baselines.base_rate(seen, origin, THRESHOLD, target=column).reindex(iso3).to_numpy()
    exact = {CONFLICTOLOGY: shares.reindex(iso3).to_numpy(), BASE_RATE: rate}
    months = pd.DatetimeIndex([origin + pd.DateOffset(months=h) for h in horizons])
    first_quiet = origin - pd.DateOffset(months=QUIET_MONTHS - 1)
    history = _wide(seen, column, iso3, first_quiet, QUIET_MONTHS)
    quiet = ~np.isnan(history).any(axis=1) & (history < THRESHOLD).all(axis=1)
    return {
        "cells": _month_cells(by_method, exact, observed, iso3, months),
        "headline": _window_scores(by_method, rate, observed, iso3, RISK_MONTHS, METHODS),
        "onset": _window_scores(
            by_method, rate, observed, iso3, ONSET_MONTHS, ONSET_METHODS, quiet
        ),
    }


def _wide(
    panel: pd.DataFrame, column: str, iso3: np.ndarray, first: pd.Timestamp, months: int
) -> np.ndarray:
    """`column` for these countries × `months` months from `first` (NaN where not covered)."""
    span = pd.date_range(first, periods=months, freq="MS")
    rows = panel[panel["month"].isin(span) & panel["iso3"].isin(iso3)]
    wide = rows.pivot(index="iso3", columns="month", values=column)
    return wide.reindex(index=iso3, columns=span).astype("float64").to_numpy()


def _as_array(long: pd.DataFrame, iso3: np.ndarray, horizons_n: int) -> np.ndarray:
    """Long draws (iso3, month, draw, outcome; rows in that order) as countries × months × n."""
    order = pd.unique(long["iso3"])
    values = long["outcome"].to_numpy(dtype="float64").reshape(len(order), horizons_n, -1)
    return values[pd.Index(order).get_indexer(iso3)]


def _month_cells(
    by_method: dict[str, np.ndarray],
    exact: dict[str, np.ndarray],
    observed: np.ndarray,
    iso3: np.ndarray,
    months: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Every method's scores in every covered cell (countries × months of `observed`).

    `exact` gives a method's P(≥ 25) per country for every month, in place of its draw share:
    conflictology's share of its 12 months, as in the VIEWS harness (it reproduces the
    challenge's published AP), and the base rate, which has no draws (no CRPS, IGN, MIS).
    """
    rows, cols = np.nonzero(~np.isnan(observed))
    y = observed[rows, cols]
    frames = []
    for method in METHODS:
        scores = dict.fromkeys(("CRPS", "IGN", "MIS"), math.nan)
        if method in by_method:
            matrix = by_method[method][rows, cols]
            scores = {"CRPS": crps(matrix, y), "IGN": ignorance(matrix, y)}
            scores["MIS"] = interval_score(matrix, y)
            probability = (matrix >= THRESHOLD).mean(axis=1)
        if method in exact:
            probability = exact[method][rows]
        frame = pd.DataFrame(
            {
                "method": method,
                "iso3": iso3[rows],
                "month": months[cols],
                "horizon": cols + 1,
                "observed": y,
                **scores,
                "probability": probability,
                "event": y >= THRESHOLD,
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _window_scores(
    by_method: dict[str, np.ndarray],
    rate: np.ndarray,
    observed: np.ndarray,
    iso3: np.ndarray,
    months: int,
    methods: Sequence[str],
    chosen: np.ndarray | None = None,
) -> pd.DataFrame:
    """P(≥ 25 in at least one of the first `months` months) per country, and what happened.

    Draw-based methods: the share of joint draws in which some month reaches 25. The base
    rate treats months as independent: 1 − (1 − p)^months. Only `chosen` countries (default
    all) count, and of them only those whose every month of the window is covered.
    """
    chosen = np.ones(len(iso3), dtype=bool) if chosen is None else chosen
    window = observed[:, :months]
    keep = chosen & ~np.isnan(window).any(axis=1)
    event = (window[keep] >= THRESHOLD).any(axis=1)
    frames = []
    for method in methods:
        if method == BASE_RATE:
            probability = 1 - (1 - rate[keep]) ** months
        else:
            probability = model.any_month_at_least(by_method[method][keep], months)
        frame = {"method": method, "iso3": iso3[keep], "probability": probability}
        frames.append(pd.DataFrame({**frame, "event": event}))
    return pd.concat(frames, ignore_index=True)


def _leading(frame: pd.DataFrame) -> pd.DataFrame:
    first = ["measure", "origin", "method"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _rows(frame: pd.DataFrame, measure: str, origin: str | None = None) -> pd.DataFrame:
    chosen = frame["measure"] == measure
    if origin is not None:
        chosen &= frame["origin"] == origin
    return frame[chosen]


def skill_table(rows: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """One row per method, in METHODS order: mean distribution scores over the cells, and the
    AUROC, AP and Brier of P(≥ 25) against the events (NaN without both events and non-events).

    `attrs`: the number of cells and of events (the same for every method).
    """
    table = {}
    for method, group in rows.groupby("method", sort=False):
        probability = group["probability"].to_numpy(dtype="float64")
        event = group["event"].to_numpy(dtype=bool)
        both = bool(event.any() and not event.all())
        scores = {m: group[m].mean() for m in metrics if m in ("CRPS", "IGN", "MIS")}
        scores["AUROC"] = auroc(probability, event) if both else math.nan
        scores["AP"] = average_precision(probability, event) if both else math.nan
        scores["Brier"] = brier(probability, event) if len(event) else math.nan
        table[method] = scores
    order = [m for m in METHODS if m in table]
    frame = pd.DataFrame.from_dict(table, orient="index", columns=list(metrics)).loc[order]
    frame = frame.round(STORED_DECIMALS)
    frame.index.name = "method"
    first = rows[rows["method"] == MODEL] if (rows["method"] == MODEL).any() else rows.iloc[:0]
    frame.attrs.update(cells=len(first), events=int(first["event"].sum()))
    return frame


def _plain_table(table: pd.DataFrame) -> dict:
    """A score table as JSON: counts and one entry per method (NaN written as null)."""
    return {
        "cells": int(table.attrs.get("cells", 0)),
        "events": int(table.attrs.get("events", 0)),
        "scores": [
            {
                "method": str(method),
                **{m: None if math.isnan(v) else float(v) for m, v in row.items()},
            }
            for method, row in table.iterrows()
        ],
    }


def format_table(table: dict, metrics: Sequence[str], title: str) -> str:
    """A recorded score table as aligned text, 'n/a' where a score does not apply."""
    width = max(len(s["method"]) for s in [*table["scores"], {"method": "method"}]) + 2
    header = "method".ljust(width) + "".join(f"{HEADERS[m]:>12}" for m in metrics)
    lines = [title, header, "-" * len(header)]
    for row in table["scores"]:
        lines.append(
            row["method"].ljust(width)
            + "".join(
                f"{'n/a':>12}" if row[m] is None else f"{row[m]:>12.{DECIMALS[m]}f}"
                for m in metrics
            )
        )
    return "\n".join(lines)


def format_summary(summary: dict, info: dict) -> str:
    """Every measure's tables as the CLI prints them."""
    origins = info["origins"]
    span = f"origins {origins[0]} … {origins[-1]} ({len(origins)}), seed {info['seed']}"
    blocks = []
    for result in summary.values():
        monthly, headline, onset = result["monthly"], result["headline"], result["onset"]
        blocks += [
            format_table(
                monthly,
                METRICS,
                f"{result['label']}: each month 1–12 ahead, {span}\n"
                f"{monthly['cells']:,} country-months, {monthly['events']:,} with ≥ {THRESHOLD}",
            ),
            format_table(
                headline,
                EVENT_METRICS,
                f"{result['label']}: headline risk, P(≥ {THRESHOLD} in at least one of the next "
                f"{RISK_MONTHS} months)\n{headline['cells']:,} country-origins, "
                f"{headline['events']:,} with such a month",
            ),
            format_table(
                onset,
                EVENT_METRICS,
                f"{result['label']}: onset, P(≥ {THRESHOLD} in some month of the next "
                f"{ONSET_MONTHS}) where no month reached {THRESHOLD} in the past {QUIET_MONTHS}"
                f"\n{onset['cells']:,} quiet country-origins, {onset['events']:,} onsets",
            ),
        ]
    blocks.append(
        "Lower is better for CRPS, IGN (bits), MIS and Brier; higher for AUROC and AP.\n"
        f"Base rate: each country's share of all its covered months with ≥ {THRESHOLD} deaths up "
        "to the origin (months independent over a window); it has no draws, so no CRPS, IGN, "
        "MIS.\nConflictology gives every quiet country 0 (none of its last 12 months reached "
        f"{THRESHOLD}), so its onset AUROC is 0.5 and its AP the share of onsets."
    )
    return "\n\n".join(blocks)
