"""Why a forecast is what it is, in groups of inputs whose shares add up (exact Shapley values).

Two explanations per country and measure, both measured on the model itself:

- *Why this level* (kind "level"): against the reference of a country with no recorded
  organised violence in its past 12 months, in a quiet neighbourhood and subregion. Each
  group of inputs gets its Shapley value: its average push on the forecast when it is added,
  taken over every order of adding the groups. The shares sum exactly to the forecast minus
  the reference's forecast. The model only rises with violence (risk.model.MONOTONIC), so
  against this reference no group lowers the level.
- *Why it changed since last month* (kind "change"): the same method, against the same
  country's inputs one month earlier, with the same model: the shares sum to the risk now
  minus the risk the model gives last month's inputs.

The groups are the inputs' data, not model features: state-based, non-state and one-sided
deaths of the last 3 months, all deaths of the 9 months before, the neighbours and the
subregion. A group whose data equal the reference's has exactly no share, so a sentence never
describes violence that is not in the data. Shares describe the model, not causes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from loaders import countries
from risk import measures
from risk import model as forecaster

RISK_MONTHS = 3  # the headline: at least one of the next 3 months with ≥ 25 deaths
HORIZONS = tuple(range(1, RISK_MONTHS + 1))
RECENT = 3  # "the last 3 months": the latest months of the 12-month window
MIN_EFFECT = 0.005  # half a point of risk: smaller shares are "negligible"
TYPE_WORDS = {"state_based": "state-based", "non_state": "non-state", "one_sided": "one-sided"}
GROUPS = (
    *(f"recent_{t}" for t in forecaster.TYPES),
    "earlier",
    "neighbours",
    "subregion",
)
LABELS = {
    **{f"recent_{t}": f"{TYPE_WORDS[t].capitalize()} deaths, last 3 months" for t in TYPE_WORDS},
    "earlier": "Deaths in the 9 months before",
    "neighbours": "Neighbours",
    "subregion": "Subregion",
}
REFERENCE = (
    "a country with no recorded organised violence in the past 12 months, whose neighbours "
    "and subregion were quiet too"
)
CHANGE_REFERENCE = "the same country's data one month earlier, with the same model"
COLUMNS = (
    "iso3", "measure", "kind", "driver", "label", "text", "effect", "deaths_effect", "direction",
)  # fmt: skip


@dataclass(frozen=True)
class Explanation:
    """The shares of every country, measure and kind, and the reference values they start from.

    `drivers` has COLUMNS: `effect` is the share of the headline risk (a probability: 0.12 is
    12 points), `deaths_effect` the share of the expected deaths over the next 3 months.
    `references` has iso3, measure, kind, risk and expected_fatalities of the reference.
    """

    drivers: pd.DataFrame
    references: pd.DataFrame


def _masks() -> np.ndarray:
    """Every coalition of GROUPS as a boolean row (2^n × n), the empty one first."""
    return np.array(list(itertools.product([False, True], repeat=len(GROUPS))))[:, ::-1]


def _blend(actual: forecaster.Inputs, reference: forecaster.Inputs, chosen: np.ndarray):
    """Inputs with the chosen groups' data from `actual`, the others from `reference`."""
    window, context = reference.window.copy(), reference.context.copy()
    for g, group in enumerate(GROUPS):
        if not chosen[g]:
            continue
        if group.startswith("recent_"):
            k = forecaster.TYPES.index(group.removeprefix("recent_"))
            window[:, k, -RECENT:] = actual.window[:, k, -RECENT:]
        elif group == "earlier":
            window[:, :, :-RECENT] = actual.window[:, :, :-RECENT]
        elif group == "neighbours":
            for name in ("neighbour_max3", "neighbour_max12"):
                i = forecaster.CONTEXT.index(name)
                context[:, :, i] = actual.context[:, :, i]
        else:
            i = forecaster.CONTEXT.index("subregion_mean3")
            context[:, :, i] = actual.context[:, :, i]
    return replace(reference, window=window, context=context)


def headline(values: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(risk, expected deaths over the months) per measure from `forecaster.type_draws`."""
    out = {}
    for name, draws in forecaster.measure_draws(values).items():
        risk = (draws >= forecaster.THRESHOLD).any(axis=1).mean(axis=1)
        out[name] = (risk, draws.sum(axis=1).mean(axis=1))
    return out


def _coalition_values(
    model: forecaster.Model,
    actual: forecaster.Inputs,
    reference: forecaster.Inputs,
    ranks: np.ndarray,
) -> dict[str, np.ndarray]:
    """v(S) for every coalition S: measure → (coalitions, 2 [risk, deaths], countries)."""
    masks = _masks()
    blends = [_blend(actual, reference, chosen) for chosen in masks]
    # One prediction call for every coalition: each call has a large fixed cost.
    stacked = forecaster.Inputs(
        np.concatenate([b.iso3 for b in blends]),
        np.concatenate([b.window for b in blends]),
        np.concatenate([b.context for b in blends]),
    )
    points = forecaster.type_points(model, stacked, HORIZONS).reshape(
        len(masks), len(actual.iso3), len(forecaster.TYPES), len(HORIZONS)
    )
    out = {m: np.empty((len(masks), 2, len(actual.iso3))) for m in measures.MEASURES}
    for s, inputs in enumerate(blends):
        draws = forecaster.type_draws(model, inputs, HORIZONS, ranks, points[s])
        for name, (risk, deaths) in headline(draws).items():
            out[name][s] = risk, deaths
    return out


def shapley(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values of each group from v(S) of every coalition (`_masks` order).

    values: (coalitions, …) → (groups, …); they sum to v(all groups) − v(no group).
    """
    masks = _masks()
    n = len(GROUPS)
    index = {tuple(m): i for i, m in enumerate(masks)}
    out = np.zeros((n, *values.shape[1:]))
    for s, chosen in enumerate(masks):
        size = int(chosen.sum())
        for g in np.flatnonzero(~chosen):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            added = chosen.copy()
            added[g] = True
            out[g] += weight * (values[index[tuple(added)]] - values[s])
    return out


def _quiet(inputs: forecaster.Inputs) -> forecaster.Inputs:
    return replace(
        inputs, window=np.zeros_like(inputs.window), context=np.zeros_like(inputs.context)
    )


def explain(
    model: forecaster.Model, arrays: forecaster.Arrays, origin: int, *, seed: int = 0
) -> Explanation:
    """Both explanations for every country with a forecast from month index `origin`."""
    actual = forecaster.origin_inputs(arrays, origin)
    ranks = forecaster.copula_ranks(actual.iso3, HORIZONS, seed)
    frames, references = [], []
    level = _coalition_values(model, actual, _quiet(actual), ranks)
    frames.append(_rows(arrays, origin, actual.iso3, level, "level"))
    references.append(_references(actual.iso3, level, "level"))
    try:
        before = forecaster.origin_inputs(arrays, origin - 1)
    except forecaster.InsufficientData:
        before = None
    if before is not None:
        both = np.isin(actual.iso3, before.iso3)
        now = _subset(actual, both)
        earlier = _subset(before, np.isin(before.iso3, now.iso3))
        change = _coalition_values(model, now, earlier, ranks[both])
        frames.append(_rows(arrays, origin, now.iso3, change, "change"))
        references.append(_references(now.iso3, change, "change"))
    return Explanation(
        pd.concat(frames, ignore_index=True), pd.concat(references, ignore_index=True)
    )


def _subset(inputs: forecaster.Inputs, keep: np.ndarray) -> forecaster.Inputs:
    return forecaster.Inputs(inputs.iso3[keep], inputs.window[keep], inputs.context[keep])


def _references(iso3: np.ndarray, values: dict[str, np.ndarray], kind: str) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "iso3": iso3,
                    "measure": name,
                    "kind": kind,
                    "risk": v[0, 0],
                    "expected_fatalities": v[0, 1],
                }
            )
            for name, v in values.items()
        ],
        ignore_index=True,
    )


def _rows(
    arrays: forecaster.Arrays,
    origin: int,
    iso3: np.ndarray,
    values: dict[str, np.ndarray],
    kind: str,
) -> pd.DataFrame:
    texts = _texts(arrays, origin, iso3, kind)
    frames = []
    for name, v in values.items():
        shares = shapley(v)  # groups × 2 × countries
        for g, group in enumerate(GROUPS):
            effect = shares[g, 0]
            frames.append(
                pd.DataFrame(
                    {
                        "iso3": iso3,
                        "measure": name,
                        "kind": kind,
                        "driver": group,
                        "label": LABELS[group],
                        "text": texts[group],
                        "effect": effect,
                        "deaths_effect": shares[g, 1],
                        "direction": np.where(
                            effect > 0, "raises", np.where(effect < 0, "lowers", "no effect")
                        ),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)]


def _deaths(n: float) -> str:
    return f"{n:,.0f} death{'' if round(n) == 1 else 's'}"


def _texts(
    arrays: forecaster.Arrays, origin: int, iso3: np.ndarray, kind: str
) -> dict[str, list[str]]:
    """The data each group holds, in words (and as it was a month earlier for "change")."""
    index = {c: i for i, c in enumerate(arrays.iso3)}
    borders = countries.neighbours()
    reference = countries.reference().set_index("iso3")
    names = reference["name"].to_dict()
    subregion = [reference["un_subregion"].get(c, c) for c in arrays.iso3]
    region_of = dict(zip(arrays.iso3, subregion, strict=True))

    def at(position: int) -> dict[str, list[str]]:
        window = arrays.counts[position - forecaster.WINDOW + 1 : position + 1]  # 12 × C × types
        month = arrays.months[position]
        recent = np.nan_to_num(window[-RECENT:]).sum(axis=0)  # countries × types
        earlier = window[:-RECENT].sum(axis=2)  # 9 months × countries
        recent_all = recent.sum(axis=1)
        region_total = pd.Series(recent_all).groupby(subregion).transform("sum").to_numpy()
        out: dict[str, list[str]] = {group: [] for group in GROUPS}
        for country in iso3:
            i = index[country]
            for k, t in enumerate(forecaster.TYPES):
                latest = window[-1, i, k]
                of_them = (
                    f", {latest:,.0f} of them in {month:%b %Y}" if 0 < latest < recent[i, k] else ""
                )
                out[f"recent_{t}"].append(
                    f"{_deaths(recent[i, k])} from {TYPE_WORDS[t]} violence in the last 3 "
                    f"months{of_them}"
                )
            serious = int((earlier[:, i] >= forecaster.THRESHOLD).sum())
            out["earlier"].append(
                f"{_deaths(earlier[:, i].sum())} in months 4–12 before, "
                f"{serious} of those 9 with ≥ {forecaster.THRESHOLD}"
            )
            nearby = [index[n] for n in borders.get(country, ()) if n in index]
            if not nearby:
                out["neighbours"].append("no land neighbours in the data")
            elif recent_all[nearby].max() == 0:
                out["neighbours"].append("no recorded deaths in neighbours in the last 3 months")
            else:
                worst = nearby[int(np.argmax(recent_all[nearby]))]
                name = names.get(arrays.iso3[worst], arrays.iso3[worst])
                out["neighbours"].append(
                    f"neighbour {name}: {_deaths(recent_all[worst])} in the last 3 months"
                )
            others = region_total[i] - recent_all[i]
            out["subregion"].append(
                f"{region_of[country]}: {_deaths(others)} in the other countries in the last "
                "3 months"
            )
        return out

    now = at(origin)
    if kind == "level":
        return now
    before = at(origin - 1)
    return {
        group: [
            f"{n} (a month earlier: {b})" for n, b in zip(now[group], before[group], strict=True)
        ]
        for group in GROUPS
    }


def top_drivers(table: pd.DataFrame, n: int = 3, kind: str = "level") -> pd.DataFrame:
    """The `n` largest shares per country of one kind (by absolute size), largest first;
    shares under MIN_EFFECT are left out."""
    rows = table[(table["kind"] == kind) & (table["effect"].abs() >= MIN_EFFECT)]
    order = rows.assign(size=rows["effect"].abs()).sort_values(
        ["iso3", "size"], ascending=[True, False]
    )
    return order.groupby("iso3").head(n).drop(columns="size").reset_index(drop=True)
