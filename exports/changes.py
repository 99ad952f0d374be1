"""What changed since an earlier snapshot: entries and exits at the top, moves beyond a threshold.

In the manner of monthly conflict trackers, a country "deteriorated" when its risk rose by at
least `threshold` (10 points by default) and "improved" when it fell as much; the top of the
list is the `top` riskiest countries. Countries are matched by ISO3 and ranked among those both
snapshots forecast, so snapshots made with other filters still compare like with like; a
country missing from either (other filters, no forecast then) is listed as such, never counted
as a move. Both must count the same violence measure: a change of measure is not a move.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from exports.snapshot import Snapshot, SnapshotError, measure_of
from risk import measures

TOP = 10
THRESHOLD = 0.10  # 10 percentage points of risk
DETERIORATED, IMPROVED = "deteriorated", "improved"
ENTERED, LEFT = "entered the top", "left the top"
ARROWS = {DETERIORATED: "↑", IMPROVED: "↓", ENTERED: "↑", LEFT: "↓"}


@dataclass
class Changes:
    """The comparison of two snapshots. `table` has one row per country in either."""

    # iso3, name, rank_before, rank_now, risk_before, risk_now, change, movement, arrow
    table: pd.DataFrame
    earlier_as_of: str
    as_of: str
    top: int
    threshold: float
    same_filters: bool

    def countries(self, movement: str) -> pd.DataFrame:
        """Rows with `movement` among their movements (a country can enter and deteriorate)."""
        return self.table[self.table["movement"].str.contains(movement, regex=False)]

    @property
    def summary(self) -> str:
        counts = [
            f"{len(self.countries(m)):,} {m}" for m in (ENTERED, LEFT, DETERIORATED, IMPROVED)
        ]
        return (
            f"From the snapshot of data to {self.earlier_as_of} to data to {self.as_of}: "
            + ", ".join(counts)
            + f" (top = the {self.top} riskiest; a move is a change of at least "
            f"{self.threshold * 100:.0f} points of risk)."
        )


def _forecast(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["iso3", "name", "status", "risk"])
    return frame[frame["status"] == "ok"].set_index("iso3")


def _ranks(frame: pd.DataFrame, among: pd.Index) -> pd.Series:
    """Rank by risk among the countries both snapshots forecast, so 'the top' is comparable."""
    ranked = frame.loc[among, "risk"].sort_values(ascending=False, kind="stable")
    return pd.Series(range(1, len(ranked) + 1), index=ranked.index)


def what_changed(
    earlier: dict, current: Snapshot | dict, *, top: int = TOP, threshold: float = THRESHOLD
) -> Changes:
    """Compare an earlier snapshot's JSON with the current snapshot (or its JSON)."""
    now_json = current.to_json() if isinstance(current, Snapshot) else current
    was, now_measure = measure_of(earlier), measure_of(now_json)
    if was != now_measure:
        raise SnapshotError(
            f"the earlier snapshot counts {measures.LABELS[was]}, this one "
            f"{measures.LABELS[now_measure]}: compare snapshots of the same measure"
        )
    before, now = _forecast(earlier["countries"]), _forecast(now_json["countries"])
    both = before.index.intersection(now.index)
    names = {r["iso3"]: r["name"] for r in [*earlier["countries"], *now_json["countries"]]}
    iso3s = sorted(before.index.union(now.index), key=lambda c: names.get(c, c))
    table = pd.DataFrame({"iso3": iso3s})
    table["name"] = table["iso3"].map(names)
    table["rank_before"] = table["iso3"].map(_ranks(before, both)).astype("Int64")
    table["rank_now"] = table["iso3"].map(_ranks(now, both)).astype("Int64")
    table["risk_before"] = table["iso3"].map(before["risk"]).astype("Float64")
    table["risk_now"] = table["iso3"].map(now["risk"]).astype("Float64")
    table["change"] = table["risk_now"] - table["risk_before"]

    def movements(row: pd.Series) -> str:
        if row["iso3"] not in before.index:
            return "only in the current snapshot"
        if row["iso3"] not in now.index:
            return "only in the earlier snapshot"
        found = []
        was_top, is_top = row["rank_before"] <= top, row["rank_now"] <= top
        if is_top and not was_top:
            found.append(ENTERED)
        if was_top and not is_top:
            found.append(LEFT)
        if row["change"] >= threshold - 1e-9:
            found.append(DETERIORATED)
        elif row["change"] <= -threshold + 1e-9:
            found.append(IMPROVED)
        return "; ".join(found)

    table["movement"] = table.apply(movements, axis=1) if len(table) else pd.Series(dtype=str)
    table["arrow"] = table["movement"].map(
        lambda m: ARROWS[m.split("; ")[-1]] if m.split("; ")[-1] in ARROWS else ""
    )
    order = table["change"].abs().fillna(-1)
    table = table.assign(_order=order).sort_values("_order", ascending=False, kind="stable")
    return Changes(
        table=table.drop(columns="_order").reset_index(drop=True),
        earlier_as_of=earlier["as_of"],
        as_of=now_json["as_of"],
        top=top,
        threshold=threshold,
        same_filters=earlier["filters"].get("query") == now_json["filters"].get("query"),
    )
