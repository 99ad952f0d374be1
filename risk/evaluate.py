"""Skill of a forecaster against the VIEWS challenge's benchmarks, on the challenge's own data.

One window Y: the forecaster sees only `cm_features_to_octY-1.parquet`, forecasts every
country-month of Y, and is scored against `cm_actuals_Y.parquet` beside the four benchmarks
(zero, conflictology, last historical, global bootstrap) with the challenge's metrics. The
table says whether the model earns its place: a model that does not beat conflictology should
not be shown as an early warning.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.errors import LoaderError
from loaders.store import Store
from risk import baselines, model, views
from risk.metrics import (
    auroc,
    average_precision,
    brier,
    crps,
    exceedance_probability,
    ignorance,
    interval_score,
)
from risk.panel import country_month_panel

THRESHOLD = 25
METRICS = ["CRPS", "IGN", "MIS", "AUROC", "AP", "Brier"]
HEADERS = {
    "CRPS": "CRPS",
    "IGN": "IGN",
    "MIS": "MIS 90%",
    "AUROC": f"AUROC ≥{THRESHOLD}",
    "AP": f"AP ≥{THRESHOLD}",
    "Brier": f"Brier ≥{THRESHOLD}",
}
DECIMALS = {"CRPS": 2, "IGN": 3, "MIS": 1, "AUROC": 3, "AP": 3, "Brier": 4}
# Scores are kept to 10 decimals: the last bits of log2 (IGN) depend on the CPU's SIMD kernel.
STORED_DECIMALS = 10
BENCHMARKS: dict[str, views.Forecaster] = {
    "zero": baselines.zero,
    "conflictology": baselines.conflictology,
    "last historical": baselines.last_historical,
}
BOOTSTRAP = "global bootstrap"
# Forecasters the CLI can evaluate by name; "model" is risk.model.forecast.
FORECASTERS = ["model", "zero", "conflictology", "last_historical"]


@dataclass
class WindowEvaluation:
    """The model's draws in the challenge format and, given actuals, the score table.

    `actuals` and `info` (as-of month, model name, seed, draws) let risk.skill record the
    evaluation, calibration included, without running it again.
    """

    draws: pd.DataFrame
    table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    title: str = ""
    actuals: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)


def resolve_forecaster(name: str, data_dir: str | Path | None = None) -> views.Forecaster:
    """A forecaster by name: "model" (risk.model, trained on the store's panel) or a baseline.

    The model learns from the long GED history in the store (the challenge's 12 months are
    far too short to learn 3- to 14-month horizons) and starts from the challenge's input:
    the same method the dashboard runs, with only the input adapted.
    """
    if name == "model":
        training = country_month_panel(data_dir)
        if training.empty:
            raise LoaderError(
                str(Store(data_dir).root),
                "the model learns from UCDP GED data in the store, and it is empty; import them "
                "first (python -m loaders import FILE, or python -m loaders fetch ucdp)",
            )
        return functools.partial(model.forecast, training=training)
    if name in FORECASTERS:
        return getattr(baselines, name)
    raise LoaderError("--model", f"unknown forecaster {name!r}; choose one of {FORECASTERS}")


def score(
    draws_by_method: Mapping[str, pd.DataFrame],
    actuals: pd.DataFrame,
    *,
    probabilities: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per method, the challenge's metrics as columns (means over all cells).

    `draws_by_method` holds challenge-format draws; `actuals` is (month_id, country_id,
    ged_sb) as `views.read_actuals` gives it. P(≥ 25) is the share of a method's draws at or
    above 25, unless `probabilities` gives it exactly (month_id, country_id, probability), as
    for conflictology, whose published figures use the share of its 12 months.
    `attrs` records the number of cells, draws and events.
    """
    observed = actuals["ged_sb"].to_numpy(dtype="float64")
    event = observed >= THRESHOLD
    both_classes = bool(event.any() and not event.all())
    probabilities = probabilities or {}
    rows, n_draws = {}, set()
    for method, draws in draws_by_method.items():
        matrix = views.align_draws(draws, actuals, where=f"{method} draws")
        n_draws.add(matrix.shape[1])
        if method in probabilities:
            prob = _aligned_probability(probabilities[method], actuals, method)
        else:
            prob = exceedance_probability(matrix, THRESHOLD)
        rows[method] = {
            "CRPS": crps(matrix, observed).mean(),
            "IGN": ignorance(matrix, observed).mean(),
            "MIS": interval_score(matrix, observed).mean(),
            "AUROC": auroc(prob, event) if both_classes else math.nan,
            "AP": average_precision(prob, event) if both_classes else math.nan,
            "Brier": brier(prob, event),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=METRICS).round(STORED_DECIMALS)
    table.index.name = "method"
    table.attrs.update(
        cells=len(actuals), events=int(event.sum()), draws=sorted(n_draws), threshold=THRESHOLD
    )
    return table


def format_table(table: pd.DataFrame, title: str = "", notes: list[str] | None = None) -> str:
    """The score table as text: a title, aligned columns, what "better" means, notes."""
    width = max(len(str(m)) for m in [*table.index, "method"]) + 2
    header = "method".ljust(width) + "".join(f"{HEADERS[c]:>12}" for c in METRICS)
    lines = [title] if title else []
    lines += [header, "-" * len(header)]
    for method, row in table.iterrows():
        cells = "".join(
            f"{'n/a':>12}" if math.isnan(row[c]) else f"{row[c]:>12.{DECIMALS[c]}f}"
            for c in METRICS
        )
        lines.append(str(method).ljust(width) + cells)
    lines.append("Lower is better for CRPS, IGN (bits), MIS and Brier; higher for AUROC and AP.")
    lines.append(
        f"≥{THRESHOLD}: the forecast P(≥ {THRESHOLD} state-based deaths in a country-month)."
    )
    lines += [f"Note: {note}" for note in notes or []]
    return "\n".join(lines)


def evaluate_window(
    features_path: str | Path,
    actuals_path: str | Path | None = None,
    bootstrap_path: str | Path | None = None,
    model: views.Forecaster | None = None,
    *,
    model_name: str = "model",
    n_draws: int = 1000,
    seed: int = 0,
    data_dir: str | Path | None = None,
) -> WindowEvaluation:
    """Forecast one challenge window with `model` and, given actuals, score it and the benchmarks.

    `model` defaults to risk.model.forecast trained on the store in `data_dir`. Without
    `bootstrap_path` the official bootstrap file is looked for beside the actuals
    (bm_cm_bootstrap_expanded_Y.parquet); without it the bootstrap row is left out.
    """
    model = model if model is not None else resolve_forecaster("model", data_dir)
    panel = views.read_features(features_path)
    as_of = panel["month"].max()
    first, last = (as_of + pd.DateOffset(months=h) for h in (3, 14))
    title = (
        f"VIEWS challenge window {first.year}: data to {as_of:%Y-%m} "
        f"({panel.attrs['source']}), forecasts {first:%Y-%m} … {last:%Y-%m}"
    )
    # Bad actuals should fail before the model runs, not after.
    actuals = None if actuals_path is None else views.read_actuals(actuals_path)
    if actuals is not None:
        _check_window(actuals, panel, Path(actuals_path).name)
    model_draws = views.forecast_window(model, panel, n_draws=n_draws, seed=seed, name=model_name)
    info = {
        "as_of": f"{as_of:%Y-%m}",
        "first_month": f"{first:%Y-%m}",
        "last_month": f"{last:%Y-%m}",
        "features": panel.attrs["source"],
        "model_name": model_name,
        "seed": seed,
        "n_draws": n_draws,
    }
    if actuals is None:
        return WindowEvaluation(draws=model_draws, title=title, info=info)

    info["actuals"] = Path(actuals_path).name
    draws = {"model": model_draws}
    for name, benchmark in BENCHMARKS.items():
        draws[name] = views.forecast_window(benchmark, panel, n_draws=n_draws, seed=seed, name=name)
    notes = []
    bootstrap_path = bootstrap_path or _beside(actuals_path, first.year)
    if bootstrap_path is not None:
        draws[BOOTSTRAP] = baselines.bootstrap(bootstrap_path)
    else:
        notes.append(f"{BOOTSTRAP}: no draws file given or found beside the actuals; left out.")
    exact = _conflictology_probability(panel, model_draws)
    table = score(draws, actuals, probabilities={"conflictology": exact})
    notes.append(
        f"conflictology P(≥ {THRESHOLD}) is the share of its 12 months with ≥ {THRESHOLD} deaths, "
        "which reproduces the published AP; its CRPS, IGN and MIS use its 1,000 draws "
        "(the 12 months repeated in order)."
    )
    if model_name != "model":
        notes.append(f"model: the {model_name} baseline stands in for risk.model.")
    counts = table.attrs
    title += (
        f"\n{counts['cells']:,} country-months, {'/'.join(f'{n:,}' for n in counts['draws'])} "
        f"draws each, {counts['events']} with ≥ {THRESHOLD} deaths"
    )
    return WindowEvaluation(
        draws=model_draws, table=table, notes=notes, title=title, actuals=actuals, info=info
    )


def _check_window(actuals: pd.DataFrame, panel: pd.DataFrame, where: str) -> None:
    """The actuals must be the window the features forecast, for countries the features know."""
    last = views.month_to_month_id(panel["month"].max())
    window = [last + h for h in views.CHALLENGE_HORIZONS]
    found = sorted(actuals["month_id"].unique())
    if found != window:
        raise LoaderError(
            where,
            f"covers {_span(found)}, but the features file forecasts {_span(window)}: "
            "not the same window",
        )
    unknown = np.setdiff1d(actuals["country_id"].unique(), panel["country_id"].unique())
    if len(unknown):
        raise LoaderError(
            where, f"country_id not in the features file: {', '.join(map(str, unknown[:5]))}"
        )


def _span(month_ids: list[int]) -> str:
    first, last = (views.month_id_to_month(int(m)) for m in (month_ids[0], month_ids[-1]))
    return f"{first:%Y-%m} … {last:%Y-%m}"


def _beside(actuals_path: str | Path, year: int) -> Path | None:
    candidate = Path(actuals_path).with_name(f"bm_cm_bootstrap_expanded_{year}.parquet")
    return candidate if candidate.is_file() else None


def _conflictology_probability(panel: pd.DataFrame, model_draws: pd.DataFrame) -> pd.DataFrame:
    by_iso3 = baselines.conflictology_probability(panel, panel["month"].max(), THRESHOLD)
    by_country = panel.drop_duplicates("iso3").set_index("iso3")["country_id"]
    probability = pd.DataFrame(
        {"country_id": by_country.reindex(by_iso3.index).to_numpy(), "probability": by_iso3}
    )
    months = pd.DataFrame({"month_id": model_draws["month_id"].unique()})
    return months.merge(probability, how="cross")


def _aligned_probability(
    probability: pd.DataFrame, actuals: pd.DataFrame, method: str
) -> np.ndarray:
    merged = actuals[views.KEYS].merge(probability, on=views.KEYS, how="left")
    if merged["probability"].isna().any():
        raise ValueError(f"{method}: no P(≥ {THRESHOLD}) for some actual cells")
    return merged["probability"].to_numpy(dtype="float64")
