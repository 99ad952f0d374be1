"""Drivers in plain words: which inputs moved a country's forecast, with the data behind them.

Each driver is a group of the model's inputs. Its effect is measured on the model itself: the
forecast (expected log fatalities over the next three months) is recomputed with that group
set to a neutral value (no recent change, no non-state or one-sided violence, quiet
neighbours, no serious month in the window), and the difference is the driver's push, up or
down. The sentence quotes the data, not the model. Admin1 diffusion is not a model input; it is
reported from the escalation signals when violence reached new provinces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loaders import countries
from risk import model as forecaster

MIN_EFFECT = 0.05  # log points: smaller pushes are not worth a sentence


@dataclass(frozen=True)
class Driver:
    """A group of model inputs and how to neutralise it."""

    key: str
    neutral: Callable[[np.ndarray], np.ndarray]


def _column(name: str) -> int:
    return forecaster.FEATURES.index(name)


def _no_change(rows: np.ndarray) -> np.ndarray:
    out = rows.copy()
    level = rows[:, _column("log_mean12")]
    for name in ("log_last", "log_mean3", "log_mean6"):
        out[:, _column(name)] = level
    out[:, _column("trend")] = 0
    return out


def _zero(*names: str) -> Callable[[np.ndarray], np.ndarray]:
    def neutral(rows: np.ndarray) -> np.ndarray:
        out = rows.copy()
        for name in names:
            out[:, _column(name)] = 0
        return out

    return neutral


def _no_serious_month(rows: np.ndarray) -> np.ndarray:
    out = rows.copy()
    out[:, _column("months_since_ge25")] = forecaster.WINDOW
    out[:, _column("share_ge25")] = 0
    return out


DRIVERS = (
    Driver("trend", _no_change),
    Driver("violence_mix", _zero("log_nonstate12", "log_onesided12", "log_onesided3")),
    Driver("neighbours", _zero("subregion_mean3", "neighbour_max3", "neighbour_max12")),
    Driver("serious_months", _no_serious_month),
)


def driver_effects(model: forecaster.Model, rows: np.ndarray) -> np.ndarray:
    """Effect of each driver (rows × DRIVERS) on the mean log forecast of months 1–3."""

    variants = np.concatenate([rows, *(d.neutral(rows) for d in DRIVERS)])
    level = model.points(variants, (1, 2, 3)).mean(axis=1).reshape(len(DRIVERS) + 1, len(rows))
    return (level[0] - level[1:]).T


def _latest(months_ago: int) -> str:
    """When the latest serious month was: 'including the latest month', 'the latest 1 month ago'."""
    if months_ago == 0:
        return "including the latest month"
    return f"the latest {months_ago} month{'s' if months_ago > 1 else ''} ago"


def _percent_change(now: float, before: float) -> str:
    if before == 0:
        return f"{now:,.0f} deaths in the last 3 months, none in the 3 before"
    change = (now - before) / before * 100
    direction = "up" if change >= 0 else "down"
    return f"fatalities {direction} {abs(change):,.0f}% over 3 months ({before:,.0f} → {now:,.0f})"


def sentences(
    arrays: forecaster.Arrays, origin: int, iso3: list[str], effects: np.ndarray
) -> pd.DataFrame:
    """One row per country and driver: key, effect (log points), direction and the sentence."""
    index = {c: i for i, c in enumerate(arrays.iso3)}
    borders = countries.neighbours()
    names = countries.reference().set_index("iso3")["name"]
    rows = []
    for k, country in enumerate(iso3):
        i = index[country]
        window = slice(origin - forecaster.WINDOW + 1, origin + 1)
        sb, ns, os_ = (a[window, i] for a in (arrays.sb, arrays.ns, arrays.os))
        recent, before = sb[-3:].sum(), sb[-6:-3].sum()
        total = sb[-3:].sum() + ns[-3:].sum() + os_[-3:].sum()
        serious = np.flatnonzero(sb >= forecaster.THRESHOLD)
        texts = {
            "trend": _percent_change(recent, before),
            "violence_mix": (
                f"one-sided violence {os_[-3:].sum() / total:.0%} and non-state "
                f"{ns[-3:].sum() / total:.0%} of deaths in the last 3 months"
                if total
                else "no deaths from any type of violence in the last 3 months"
            ),
            "neighbours": _neighbour_text(arrays, origin, country, borders, names, index),
            "serious_months": (
                f"{len(serious)} of the last 12 months with ≥ {forecaster.THRESHOLD} deaths, "
                f"{_latest(len(sb) - 1 - serious[-1])}"
                if len(serious)
                else f"no month with ≥ {forecaster.THRESHOLD} deaths in the last 12"
            ),
        }
        for d, driver in enumerate(DRIVERS):
            effect = float(effects[k, d])
            rows.append(
                {
                    "iso3": country,
                    "driver": driver.key,
                    "effect": effect,
                    "direction": "raises" if effect > 0 else "lowers",
                    "text": texts[driver.key],
                }
            )
    return pd.DataFrame(rows)


def _neighbour_text(
    arrays: forecaster.Arrays,
    origin: int,
    country: str,
    borders: dict[str, frozenset[str]],
    names: pd.Series,
    index: dict[str, int],
) -> str:
    nearby = [n for n in borders.get(country, ()) if n in index]
    if not nearby:
        return "no land neighbours in the data"
    deaths = {n: float(np.nansum(arrays.sb[origin - 2 : origin + 1, index[n]])) for n in nearby}
    worst = max(deaths, key=deaths.get)
    if deaths[worst] == 0:
        return "neighbours quiet in the last 3 months"
    return (
        f"neighbour {names.get(worst, worst)}: {deaths[worst]:,.0f} state-based deaths "
        "in the last 3 months"
    )


def top_drivers(table: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` strongest drivers per country (by absolute effect), strongest first."""
    strong = table[table["effect"].abs() >= MIN_EFFECT]
    order = strong.assign(size=strong["effect"].abs()).sort_values(
        ["iso3", "size"], ascending=[True, False]
    )
    return order.groupby("iso3").head(n).drop(columns="size").reset_index(drop=True)
