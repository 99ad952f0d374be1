"""Risk snapshots: the ranked view as data that others can check, reuse and regenerate.

A `Snapshot` is what a page shows for a selection (the ranked countries, their monthly
forecasts and drivers, of the selection's violence measure) with everything needed to trust
it later: the filters, each source with its version, file checksum and access date, the
model and its settings, and the citations. Beside the forecast it carries what the UN had in
place on the forecast's last day (issue 18: `risk.presence`), read from the reference tables,
which are recorded like sources (file, as-of date, checksum, public sources), and the
prevention-gap list that follows from both. Its JSON form is machine-readable and carries
`inputs_sha256` (what the numbers were computed from) and `table_sha256` (the numbers
themselves), so `regenerate()` on a store holding the same files gives the same table, and
`compare()` says where two snapshots differ.

Nothing here names a local path or a credential: sources keep the file's name, and a URL
only without its query string.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from exports.charts import deaths_of, risk_definition
from loaders import reference
from loaders.caveats import caveat_lines, caveats_of
from loaders.store import Store
from risk import forecast as forecasting
from risk import measures, presence
from risk.forecast import RiskForecast, risk_forecast
from risk.model import THRESHOLD
from risk.panel import FORECAST_SOURCES
from risk.selection import Selection, apply, from_query, to_query

FORMAT = "article99-snapshot/2"  # /2: the measure it counts (all /1 snapshots: state-based)
READABLE = ("article99-snapshot/1", FORMAT)
DECIMALS = 6  # numbers are rounded in the JSON, so a regeneration compares exactly
# ACLED's terms ask every use of its data to credit it in this form.
ATTRIBUTION = {
    "acled": "Armed Conflict Location & Event Data (ACLED); www.acleddata.com",
}
COUNTRY_FIELDS = (
    "rank", "iso3", "name", "un_region", "un_subregion", "ucdp_region", "status", "reason",
    "risk", "risk_last_month", "risk_change", "trend", "p_ge25_next_month",
    "median_fatalities", "expected_fatalities", "fatalities_low", "fatalities_high",
    "fatalities_last_month",
    "surge_events", "surge_fatalities", "new_admin1_count", "new_risk", "drivers",
    "un_presence",
)  # fmt: skip
MONTHLY_FIELDS = ("iso3", "month", "horizon", "p_ge25", "mean", "q05", "q25", "q50", "q75", "q95")
DRIVER_FIELDS = (
    "iso3", "kind", "driver", "label", "effect", "deaths_effect", "direction", "text",
)  # fmt: skip


class SnapshotError(ValueError):
    """A snapshot file that cannot be read, or a store that cannot regenerate it."""


@dataclass
class Snapshot:
    """A ranked risk view with its provenance. `forecast` is kept for charts, not serialised."""

    countries: pd.DataFrame  # COUNTRY_FIELDS, ranked, one row per country in the selection
    monthly: pd.DataFrame  # MONTHLY_FIELDS for the same countries
    drivers: pd.DataFrame  # DRIVER_FIELDS for the same countries
    selection: Selection  # where (its `as_of` is None: the month is the snapshot's own)
    as_of: str
    sources: list[dict]
    model: dict
    generated_at: str
    inputs_sha256: str
    forecast: RiskForecast | None = field(default=None, repr=False)
    data_dir: Path | None = field(default=None, repr=False)
    # risk.presence.on() on the forecast's last day, every reference country (not serialised)
    presence: pd.DataFrame | None = field(default=None, repr=False)
    references: list[dict] = field(default_factory=list)  # reference_records()
    reference_warning: str | None = None  # risk.presence.stale(): tables not checked lately

    @property
    def measure(self) -> str:
        """The violence measure its numbers count (risk.measures)."""
        return self.selection.measure

    @property
    def ranked(self) -> pd.DataFrame:
        """Countries with a forecast, highest risk first."""
        return self.countries[self.countries["status"] == "ok"]

    @property
    def vintage(self) -> str:
        """'UCDP GED 21.1 (events to 2020-12)', as the pages show it."""
        return "; ".join(f"{s['label']} (events to {s['last_date'][:7]})" for s in self.sources)

    @property
    def citations(self) -> list[str]:
        """Each source's citation once, then the attributions its terms require."""
        cited = dict.fromkeys(s["citation"] for s in self.sources if s.get("citation"))
        required = dict.fromkeys(
            ATTRIBUTION[s["source"]] for s in self.sources if s["source"] in ATTRIBUTION
        )
        return [*cited, *required]

    @property
    def caveats(self) -> list[str]:
        """'Caveat: UCDP GED 21.1 is …' for each source whose numbers carry one."""
        return caveat_lines(self.sources)

    @property
    def footer(self) -> str:
        """One line for the foot of every exported page and slide."""
        return (
            f"Source: {self.vintage}. Article 99 forecast of {deaths_of(self.measure)} from "
            f"data to {self.as_of}; generated {self.generated_at[:10]}."
        )

    @property
    def presence_day(self) -> pd.Timestamp:
        """The day UN presence is read on: the forecast month's last day."""
        return presence.day_of(self.as_of)

    @property
    def gap(self) -> pd.DataFrame:
        """The selection's prevention-gap list (`risk.presence.gap`), highest risk first."""
        return presence.gap(self.countries, self.presence)

    @property
    def gap_rule(self) -> str:
        """The prevention-gap rule in one line, with the day presence is read on."""
        return presence.rule(self.presence_day)

    @property
    def cost_of_waiting(self) -> str:
        """The expected deaths in the gap countries, as `risk.presence.cost_of_waiting` says it."""
        return presence.cost_of_waiting(self.gap, self.as_of, self.measure)

    @property
    def reference_lines(self) -> list[str]:
        """Each reference table's citation (title, file, as-of date, shipped or replaced), then
        the warning when one was not checked lately."""
        citations = [r["citation"] for r in self.references]
        return [*citations, self.reference_warning] if self.reference_warning else citations

    @property
    def table_sha256(self) -> str:
        return _sha256(_records(self.countries, COUNTRY_FIELDS))

    def to_json(self) -> dict:
        """The machine-readable snapshot (see FORMAT)."""
        return {
            "format": FORMAT,
            "generated_at": self.generated_at,
            "as_of": self.as_of,
            "measure": self.measure,
            "measure_label": measures.LABELS[self.measure],
            "risk_definition": risk_definition(self.as_of, self.measure),
            "filters": {
                "query": to_query(self.selection),
                "description": self.selection.describe(),
            },
            "sources": self.sources,
            "caveats": self.caveats,
            "citations": self.citations,
            "model": self.model,
            "inputs_sha256": self.inputs_sha256,
            "table_sha256": self.table_sha256,
            "countries": _records(self.countries, COUNTRY_FIELDS),
            "monthly": _records(self.monthly, MONTHLY_FIELDS),
            "drivers": _records(self.drivers, DRIVER_FIELDS),
            "reference_tables": self.references,
            "prevention_gap": {
                "rule": self.gap_rule,
                "presence_on": f"{self.presence_day:%Y-%m-%d}",
                "cost_of_waiting": self.cost_of_waiting,
                "reference_warning": self.reference_warning,
                "countries": _records(self.gap, presence.GAP_COLUMNS),
            },
        }

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path


def _plain(value: object) -> object:
    """A JSON value: NA → null, numpy scalars → Python, floats rounded, timestamps → YYYY-MM."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m}"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, DECIMALS)
    return value


def _records(frame: pd.DataFrame, fields: tuple[str, ...]) -> list[dict]:
    columns = [c for c in fields if c in frame.columns]
    return [
        {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame[columns].itertuples(index=False, name=None)
    ]


def _sha256(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def public_url(origin: str) -> str | None:
    """A download URL without its query or credentials; None for anything local."""
    parts = urlsplit(origin or "")
    if parts.scheme not in ("http", "https"):
        return None
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def source_records(store: Store) -> list[dict]:
    """The provenance of the imports the forecast reads, keeping nothing local."""
    records = []
    for record in store.records(FORECAST_SOURCES):
        p = record.provenance
        records.append(
            {
                "source": p.source,
                "dataset": p.dataset,
                "version": p.version,
                "label": p.label,
                "file": os.path.basename(p.file),
                "url": public_url(p.origin),
                "fetched_at": p.fetched_at,
                "sha256": p.sha256,
                "rows": p.rows,
                "first_date": p.first_date,
                "last_date": p.last_date,
                "coverage": {
                    "first_month": p.coverage.first_month,
                    "last_month": p.coverage.last_month,
                },
                "licence": p.licence,
                "citation": p.citation,
                "caveats": caveats_of(p),
            }
        )
    return sorted(records, key=lambda r: (r["source"], r["dataset"], r["version"], r["sha256"]))


def reference_records(data_dir: str | Path | None = None) -> list[dict]:
    """The reference tables read (issue 18), recorded as sources are: the file's name, never
    its folder, its as-of date and checksum, and the public sources its rows cite."""
    records = []
    for name in reference.NAMES:
        info = reference.info(name, data_dir)
        records.append(
            {
                "table": info.name,
                "title": info.title,
                "file": info.path.name,
                "origin": info.origin,
                "as_of": f"{info.as_of:%Y-%m-%d}",
                "rows": info.rows,
                "sha256": hashlib.sha256(info.path.read_bytes()).hexdigest(),
                "sources": list(info.sources),
                "citation": info.citation(),
            }
        )
    return records


def inputs_sha256(sources: list[dict], selection: Selection, as_of: str, model: dict) -> str:
    """What the numbers depend on: the source files' checksums, the filters (the measure
    among them), month and model."""
    return _sha256(
        {
            "sources": sorted(s["sha256"] for s in sources),
            "filters": to_query(selection),
            "measure": selection.measure,
            "as_of": as_of,
            "model": {k: model[k] for k in ("format", "seed")},
        }
    )


def build_snapshot(
    data_dir: str | Path | None = None,
    selection: Selection | None = None,
    as_of: str | None = None,
    *,
    forecast: RiskForecast | None = None,
    seed: int = 0,
) -> Snapshot:
    """The snapshot of `selection` from the store (forecast computed unless one is given).

    The month is `as_of`, else the selection's, else the store's default. It is kept as the
    snapshot's `as_of`, not in its filters, so snapshots of two months compare as the same
    filters (`exports.changes`). The numbers are the selection's measure's; a `forecast` of
    every measure (`measure=None`) gives that measure's.
    """
    store = Store(data_dir)
    selection = selection or Selection()
    as_of = as_of or selection.as_of
    selection = replace(selection, as_of=None)
    if forecast is None:
        forecast = risk_forecast(data_dir, as_of, seed=seed, measure=selection.measure)
    else:
        forecast = forecast.of(selection.measure)
    chosen = apply(forecast.table, selection).reset_index(drop=True)
    if chosen.empty:
        raise SnapshotError(f"no country matches the filters ({selection.describe()})")
    ranked = chosen["status"] == "ok"
    chosen["rank"] = ranked.cumsum().astype("Int64").where(ranked)
    inside = set(chosen["iso3"])
    model = {
        **{k: v for k, v in forecast.info.items() if k != "store_version"},
        "format": forecast.info.get("code", ""),  # the forecast code's digest
        "risk_months": forecasting.RISK_MONTHS,
        "threshold": THRESHOLD,
    }
    sources = source_records(store)
    present = presence.on(presence.day_of(forecast.as_of), store.root)
    chosen["un_presence"] = chosen["iso3"].map(present["short"]).fillna("none").to_numpy()
    return Snapshot(
        countries=chosen,
        monthly=forecast.monthly[forecast.monthly["iso3"].isin(inside)].reset_index(drop=True),
        drivers=forecast.drivers[forecast.drivers["iso3"].isin(inside)].reset_index(drop=True),
        selection=selection,
        as_of=forecast.as_of,
        sources=sources,
        model=model,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        inputs_sha256=inputs_sha256(sources, selection, forecast.as_of, model),
        forecast=forecast,
        data_dir=store.root,
        presence=present,
        references=reference_records(store.root),
        reference_warning=presence.stale(store.root),
    )


def read_json(source: str | Path | bytes) -> dict:
    """A snapshot's JSON, checked enough that the code reading it can rely on its keys."""
    where = "the uploaded file" if isinstance(source, bytes) else str(source)
    try:
        text = source if isinstance(source, bytes) else Path(source).read_bytes()
        payload = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{where}: not a readable JSON snapshot ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") not in READABLE:
        raise SnapshotError(f"{where}: not an Article 99 snapshot (expected format {FORMAT})")
    missing = [k for k in ("as_of", "filters", "sources", "model", "countries") if k not in payload]
    if missing:
        raise SnapshotError(f"{where}: the snapshot lacks {', '.join(missing)}")
    return payload


def measure_of(payload: dict) -> str:
    """The measure a snapshot's JSON counts: its own, or state-based for a /1 snapshot (made
    before there were measures)."""
    return payload.get("measure", "state_based")


def selection_of(payload: dict) -> Selection:
    """The filters a snapshot was made with, its measure among them."""
    selection = from_query(payload["filters"].get("query", {}))
    if selection.problems:
        problems = "; ".join(selection.problems)
        raise SnapshotError(f"the snapshot's filters are not understood: {problems}")
    return replace(selection, measure=measure_of(payload))


def regenerate(payload: dict, data_dir: str | Path | None = None) -> Snapshot:
    """Build the snapshot again from the store with the same filters, month and model seed.

    Refused, with the reason, when the store does not hold the very files the snapshot used.
    """
    sources = source_records(Store(data_dir))
    wanted = {s["sha256"]: s["label"] for s in payload["sources"]}
    have = {s["sha256"] for s in sources}
    missing = [f"{label} (sha256 {sha[:12]}…)" for sha, label in wanted.items() if sha not in have]
    if missing or len(have) != len(wanted):
        extra = len(have - set(wanted))
        raise SnapshotError(
            "the store does not hold the snapshot's data: "
            + (f"missing {', '.join(missing)}" if missing else "")
            + (f"{'; ' if missing else ''}{extra} other import(s) present" if extra else "")
        )
    return build_snapshot(
        data_dir, selection_of(payload), payload["as_of"], seed=int(payload["model"].get("seed", 0))
    )


def compare(earlier: dict, later: dict) -> list[str]:
    """Where two snapshots' inputs or numbers differ, in words; empty when they agree."""
    differences = []
    if earlier.get("inputs_sha256") != later.get("inputs_sha256"):
        differences.append("the inputs differ (sources, filters, month or model)")
    before = {row["iso3"]: row for row in earlier["countries"]}
    after = {row["iso3"]: row for row in later["countries"]}
    for iso3 in sorted(before.keys() ^ after.keys()):
        differences.append(f"{iso3} is in only one snapshot")
    for iso3 in sorted(before.keys() & after.keys()):
        changed = [
            k for k in before[iso3] if k in after[iso3] and before[iso3][k] != after[iso3][k]
        ]
        if changed:
            differences.append(f"{iso3}: {', '.join(changed)} differ")
    return differences
