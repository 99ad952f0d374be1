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
        risk = forecaster.any_month_at_least(draws, RISK_MONTHS)
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


def _texts(
    arrays: forecaster.Arrays, origin: int, iso3: np.ndarray, kind: str
) -> dict[str, list[str]]:
    """The data each group holds, in words; for "change", as they were a month earlier → now."""
    index = {c: i for i, c in enumerate(arrays.iso3)}
    borders = countries.neighbours()
    reference = countries.reference().set_index("iso3")
    names = reference["name"].to_dict()
    subregion = [reference["un_subregion"].get(c, c) for c in arrays.iso3]
    nearby = {c: [index[n] for n in borders.get(c, ()) if n in index] for c in iso3}

    def facts(position: int) -> dict[str, np.ndarray]:
        window = np.nan_to_num(arrays.counts[position - forecaster.WINDOW + 1 : position + 1])
        recent = window[-RECENT:].sum(axis=0)  # countries × types
        earlier = window[:-RECENT].sum(axis=2)  # 9 months × countries
        around = recent.sum(axis=1)
        region = pd.Series(around).groupby(subregion).transform("sum").to_numpy() - around
        return {"recent": recent, "latest": window[-1], "earlier": earlier, "around": around,
                "region": region}  # fmt: skip

    now = facts(origin)
    before = facts(origin - 1) if kind == "change" else None
    month = arrays.months[origin]

    def say(key: str, at: tuple, wording: str, how=np.sum) -> str:
        """'<figure> <wording>', or '<a month earlier> → <now> <wording>' for the change."""
        figure = float(how(now[key][at]))
        if before is None:
            return f"{figure:,.0f} {wording}"
        return f"{float(how(before[key][at])):,.0f} → {figure:,.0f} {wording}"

    def serious(values: np.ndarray) -> int:
        return int((values >= forecaster.THRESHOLD).sum())

    out: dict[str, list[str]] = {group: [] for group in GROUPS}
    for country in iso3:
        i = index[country]
        for k, t in enumerate(forecaster.TYPES):
            recent, latest = now["recent"][i, k], now["latest"][i, k]
            of_them = f", {latest:,.0f} of them in {month:%b %Y}" if 0 < latest < recent else ""
            out[f"recent_{t}"].append(
                say("recent", (i, k), f"{_plural(recent)} from {TYPE_WORDS[t]} violence in the "
                    "last 3 months") + ("" if before is not None else of_them)
            )  # fmt: skip
        nine = _plural(now["earlier"][:, i].sum())
        worst = f"{serious(now['earlier'][:, i])} of those 9 with ≥ {forecaster.THRESHOLD}"
        out["earlier"].append(say("earlier", (slice(None), i), f"{nine} in months 4–12 before")
                              + ("" if before is not None else f", {worst}"))  # fmt: skip
        near = nearby[country]
        if not near:
            out["neighbours"].append("no land neighbours in the data")
        elif max(f["around"][near].max() for f in (now, before) if f is not None) == 0:
            out["neighbours"].append("no recorded deaths in neighbours in the last 3 months")
        else:
            j = near[int(np.argmax(now["around"][near]))]
            name = names.get(arrays.iso3[j], arrays.iso3[j])
            wording = f"{_plural(now['around'][j])} in the last 3 months"
            out["neighbours"].append(f"neighbour {name}: " + say("around", j, wording))
        region = f"{_plural(now['region'][i])} in the other countries in the last 3 months"
        out["subregion"].append(f"{subregion[i]}: " + say("region", i, region))
    return out


def _plural(n: float) -> str:
    return "death" if round(n) == 1 else "deaths"


def top_drivers(table: pd.DataFrame, n: int = 3, kind: str = "level") -> pd.DataFrame:
    """The `n` largest shares per country of one kind (by absolute size), largest first;
    shares under MIN_EFFECT are left out."""
    rows = table[(table["kind"] == kind) & (table["effect"].abs() >= MIN_EFFECT)]
    order = rows.assign(size=rows["effect"].abs()).sort_values(
        ["iso3", "size"], ascending=[True, False]
    )
    return order.groupby("iso3").head(n).drop(columns="size").reset_index(drop=True)
