"""Watchlists and rules checked at the boundary, and rules evaluated against risk snapshots.

`watchlist()` and `rule()` turn what an analyst typed (on the Alerts page or the CLI) into the
frozen data of `exports.alerts.model`, or raise `AlertsError` naming the field. `evaluate()`
compares a watchlist's current snapshot (JSON) with its earlier one and returns the alerts its
rules raise; it is pure, so the same snapshots always raise the same alerts.

"Before" is the watchlist's earlier snapshot when there is one (a rise since the last
snapshot, entry into the top since then), else the forecast made a month earlier from the same
data (`risk_last_month`), and every alert says which it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from exports.alerts.db import AlertsError
from exports.alerts.delivery import month_label
from exports.alerts.mail import check_address
from exports.alerts.model import (
    LANGUAGES,
    NEW_RISK,
    RISE,
    RISK,
    RULE_KINDS,
    SURGE,
    TOP,
    Alert,
    Rule,
    Watchlist,
)
from exports.charts import risk_period
from loaders import countries
from risk import measures
from risk.forecast import NEW_RISK_LISTED, NEW_RISK_QUIET_MONTHS, new_risk
from risk.selection import Selection, region_options

MAX_NAME = 80
MAX_TOP = 100
MAX_RECIPIENTS = 50
DRIVERS_SHOWN = 3
# A name is words: letters and digits of any script, spaces and the punctuation of titles.
# Markup of any kind (HTML, markdown's links and emphasis) and control characters are refused.
NAME_PUNCTUATION = set(" -–—.,:;()/'’+")


def watchlist(
    name: str,
    *,
    regions: Sequence[str] = (),
    countries_: Sequence[str] = (),
    measure: str = measures.DEFAULT,
    language: str = "en",
    recipients: Sequence[str] = (),
    id: int | None = None,
) -> Watchlist:
    """A checked watchlist; the first problem found is raised, naming its field."""
    name = str(name)
    if bad := next((c for c in name.strip() if not (c.isalnum() or c in NAME_PUNCTUATION)), None):
        raise AlertsError(
            f"name: {bad!r} is not allowed in a name (letters, digits, spaces and - – . , : ; "
            "( ) / ' + only: no markup, no line breaks)"
        )
    name = " ".join(name.split())
    if not name:
        raise AlertsError("name: a watchlist needs a name")
    if len(name) > MAX_NAME:
        raise AlertsError(f"name: at most {MAX_NAME} characters, not {len(name)}")
    known_regions = dict(region_options())
    unknown = [r for r in regions if r not in known_regions]
    if unknown:
        raise AlertsError(
            f"regions: unknown region {', '.join(map(repr, unknown))}; regions are keys such "
            "as 'un:Africa', 'sub:Western Africa', 'group:Sahel' or 'org:ECOWAS'"
        )
    iso3s = [str(c).strip().upper() for c in countries_]
    known = set(countries.reference()["iso3"])
    if unknown := [c for c in iso3s if c not in known]:
        raise AlertsError(
            f"countries: unknown country code {', '.join(map(repr, unknown))} (ISO 3166-1 "
            "alpha-3, e.g. NGA)"
        )
    if measure not in measures.MEASURES:
        raise AlertsError(f"measure: {measure!r} is not one of {', '.join(measures.MEASURES)}")
    if language not in LANGUAGES:
        raise AlertsError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    try:
        addresses = [check_address(a, "recipients") for a in recipients if str(a).strip()]
    except ValueError as exc:
        raise AlertsError(str(exc)) from None
    if len(addresses) > MAX_RECIPIENTS:
        raise AlertsError(f"recipients: at most {MAX_RECIPIENTS} addresses")
    selection = Selection(
        regions=tuple(dict.fromkeys(regions)),
        countries=tuple(dict.fromkeys(iso3s)),
        measure=measure,
    )
    return Watchlist(
        name=name,
        selection=selection,
        language=language,
        recipients=tuple(dict.fromkeys(addresses)),
        id=id,
    )


def rule(watchlist_id: int, kind: str, threshold: float | str | None = None) -> Rule:
    """A checked rule. Risk and rise thresholds are shares (0.5) or percentages ('50%')."""
    if kind not in RULE_KINDS:
        raise AlertsError(f"kind: {kind!r} is not one of {', '.join(RULE_KINDS)}")
    if kind in (SURGE, NEW_RISK):
        if threshold not in (None, ""):
            raise AlertsError(f"threshold: a {kind} rule takes no threshold")
        return Rule(watchlist_id, kind, None)
    value = _number(threshold, kind)
    if kind == TOP:
        if value != int(value) or not 1 <= value <= MAX_TOP:
            raise AlertsError(
                f"threshold: the top N is a whole number from 1 to {MAX_TOP}, not {threshold}"
            )
        return Rule(watchlist_id, kind, float(int(value)))
    if not 0 < value <= 1:
        raise AlertsError(
            f"threshold: a {kind} threshold is a share above 0 and at most 1 (0.5 or '50%'), "
            f"not {threshold}"
        )
    return Rule(watchlist_id, kind, round(value, 4))


def _number(threshold: float | str | None, kind: str) -> float:
    text = str(threshold if threshold is not None else "").strip()
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        raise AlertsError(f"threshold: a {kind} rule needs a number, not {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise AlertsError(f"threshold: a {kind} rule needs a finite number, not {text!r}")
    return value / 100 if percent and kind != TOP else value


@dataclass(frozen=True)
class _Compared:
    """The watchlist's countries now and before, as the rules compare them."""

    before: pd.Series  # risk before, by ISO3
    label: str  # what "before" is, in words
    rank_now: pd.Series  # ranks among the countries with a risk both times
    rank_before: pd.Series
    listed_now: set[str]  # the new-risk list
    listed_before: set[str]
    month: str  # the latest month of data, 'Dec 2020'


def evaluate(
    watchlist: Watchlist,
    rules: Sequence[Rule],
    current: dict,
    earlier: dict | None,
    *,
    raised_at: str,
) -> list[Alert]:
    """The alerts the rules raise on the current snapshot JSON of the watchlist's selection."""
    now = pd.DataFrame(current["countries"])
    if now.empty:
        return []
    now = now[now["status"] == "ok"].set_index("iso3")
    compared = _compare(now, earlier, current["as_of"])
    drivers = _drivers(current.get("drivers") or [])
    alerts = []
    for rule_ in rules:
        for iso3, row in now.iterrows():
            met = _met(rule_, iso3, row, compared)
            if met is not None:
                alert = _alert(rule_, iso3, row, met, compared, current, watchlist)
                shown = tuple(drivers.get(iso3, ())[:DRIVERS_SHOWN])
                alerts.append(replace(alert, drivers=shown, raised_at=raised_at))
    return alerts


def _compare(now: pd.DataFrame, earlier: dict | None, as_of: str) -> _Compared:
    """Before is the earlier snapshot, else the forecast made a month earlier (risk_last_month)."""
    if earlier is not None:
        then = pd.DataFrame(earlier["countries"])
        before = then[then["status"] == "ok"].set_index("iso3")["risk"]
        label = f"the snapshot of data to {month_label(earlier['as_of'])}"
        listed_before = _new_risk_list(then)
    else:
        before = now["risk_last_month"].dropna()
        label = "the forecast a month earlier"
        # the countries quiet now, at last month's risks
        listed_before = _new_risk_list(now.assign(risk=now["risk_last_month"]).reset_index())
    both = now.index.intersection(before.index)
    return _Compared(
        before=before,
        label=label,
        rank_now=_ranks(now.loc[both, "risk"]),
        rank_before=_ranks(before.loc[both]),
        listed_now=_new_risk_list(now.reset_index()),
        listed_before=listed_before,
        month=month_label(as_of),
    )


def _new_risk_list(countries_: pd.DataFrame) -> set[str]:
    """The ISO3 codes on the new-risk list, as the landing page lists it."""
    if "new_risk" not in countries_:
        return set()
    return set(new_risk(countries_).head(NEW_RISK_LISTED)["iso3"])


def _ranks(risk: pd.Series) -> pd.Series:
    ordered = risk.sort_values(ascending=False, kind="stable")
    return pd.Series(range(1, len(ordered) + 1), index=ordered.index)


def _met(rule_: Rule, iso3: str, row: pd.Series, compared: _Compared) -> str | None:
    """What the country did to meet the rule, in words; None when it did not."""
    risk, before = float(row["risk"]), compared.before
    if rule_.kind == RISK:
        return f"risk {_pct(risk)}" if risk >= rule_.threshold - 1e-9 else None
    if rule_.kind == RISE:
        if iso3 not in before.index or risk - before[iso3] < rule_.threshold - 1e-9:
            return None
        return f"risk rose {(risk - before[iso3]) * 100:.0f} points from {_pct(before[iso3])}"
    if rule_.kind == TOP:
        n, now, then = int(rule_.threshold), compared.rank_now, compared.rank_before
        if iso3 not in now.index or not now[iso3] <= n < then[iso3]:
            return None
        return f"entered the top {n} (rank {now[iso3]}, was {then[iso3]})"
    if rule_.kind == SURGE:
        kinds = [
            word
            for column, word in (("surge_events", "events"), ("surge_fatalities", "deaths"))
            if not pd.isna(row.get(column)) and bool(row.get(column))
        ]
        return f"surge in {' and '.join(kinds)} in {compared.month}" if kinds else None
    if rule_.kind == NEW_RISK:
        if iso3 not in compared.listed_now or iso3 in compared.listed_before:
            return None
        return (
            f"entered the new-risk list (the {NEW_RISK_LISTED} countries at highest risk with "
            f"no month of ≥ 25 deaths in the past {NEW_RISK_QUIET_MONTHS})"
        )
    raise AlertsError(f"kind: unknown rule kind {rule_.kind!r}")


def _alert(
    rule_: Rule,
    iso3: str,
    row: pd.Series,
    met: str,
    compared: _Compared,
    current: dict,
    watchlist: Watchlist,
) -> Alert:
    period = risk_period(current["as_of"])
    measure = current.get("measure", measures.DEFAULT)
    sources = tuple(
        f"{s['label']} (events to {s['last_date'][:7]}; fetched {s['fetched_at'][:10]}; "
        f"sha256 {s['sha256'][:12]}…)"
        for s in current.get("sources") or []
    )
    risk = f"{_pct(float(row['risk']))} of at least one month with ≥ 25 deaths from "
    risk += f"{measures.LABELS[measure].lower()} in {period}"
    what = f"risk {risk}" if rule_.kind == RISK else f"{met}; risk {risk}"
    rank = compared.rank_now.get(iso3)
    return Alert(
        watchlist_id=watchlist.id,
        watchlist=watchlist.name,
        rule_id=rule_.id,
        rule=rule_.describe(),
        kind=rule_.kind,
        iso3=iso3,
        country=str(row["name"]),
        as_of=current["as_of"],
        period=period,
        measure=measure,
        risk=float(row["risk"]),
        risk_before=float(compared.before[iso3]) if iso3 in compared.before.index else None,
        before=compared.label,
        rank=int(rank) if rank is not None else None,
        deaths_median=float(row["median_fatalities"]),
        deaths_low=float(row["fatalities_low"]),
        deaths_high=float(row["fatalities_high"]),
        deaths_expected=float(row["expected_fatalities"]),
        headline=f"{row['name']}: {what} (rule: {rule_.describe()}).",
        sources=sources,
        citations=tuple(current.get("citations") or ()),
        snapshot_sha256=current.get("table_sha256", ""),
    )


def _drivers(rows: list[dict]) -> dict[str, list[str]]:
    """Each country's 'why this level' sentences, strongest first, with their direction."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return {}
    level = frame[frame["kind"] == "level"].copy()
    level["strength"] = level["effect"].abs()
    level = level.sort_values("strength", ascending=False, kind="stable")
    return {
        iso3: [f"{r['direction'].capitalize()} risk: {r['text']}" for _, r in group.iterrows()]
        for iso3, group in level.groupby("iso3", sort=False)
    }


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"
