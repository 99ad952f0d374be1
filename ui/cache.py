"""Cached reads for the pages, keyed on the store's version so a new import shows at once."""

from __future__ import annotations

import contextlib
import functools
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from exports import images
from exports.snapshot import Snapshot, SnapshotError, build_snapshot
from loaders import acled, coverage, load_events, reference
from loaders.caveats import caveat_lines
from loaders.errors import LoaderError
from loaders.store import Store
from risk import artifacts, model, skill
from risk import presence as un_presence
from risk.forecast import InsufficientData, RiskForecast, previous_forecast, risk_forecast
from risk.panel import FORECAST_SOURCES, country_month_panel
from risk.selection import Selection, to_query
from risk.signals import signals_from_store
from risk.sources import SOURCE_LABELS, source_panel
from risk.sources import attribution as sources_attribution

P = ParamSpec("P")
T = TypeVar("T")


def store() -> Store:
    """The store named by ARTICLE99_DATA_DIR (or the default `data/store`)."""
    return Store()


def _one_version(read: Callable[P, T]) -> Callable[P, T]:
    """Run a read on one version of the store, so the cache key and what it caches agree.

    A reader keys its cache on `store().version()` and then reads again (records, events, a
    forecast and its sources): an import swapped in between would file new data under the old
    key, or mix both versions in one result. Inside `Store.pinned()` every read sees one.
    """

    @functools.wraps(read)
    def pinned_read(*args: P.args, **kwargs: P.kwargs) -> T:
        with store().pinned():
            return read(*args, **kwargs)

    return pinned_read


@st.cache_data(ttl=600, show_spinner=False)
def _sources(root: str, version: str) -> pd.DataFrame:
    rows = []
    for record in Store(root).records(kinds=None):
        p = record.provenance
        cover = p.coverage
        # Aggregates count events rather than list them: their figures are the political
        # violence totals and their dates the months they cover.
        violence = (p.totals or {}).get("political_violence", {})
        events = record.kind == "events"
        rows.append(
            {
                "Source key": p.source,
                "Source": p.label,
                "Kind": record.kind,
                "Events": p.rows if events else violence.get("events"),
                "Deaths (best)": p.fatalities_best if events else violence.get("fatalities"),
                "First event": p.first_date or f"{cover.first_month}-01",
                "Last event": p.last_date or str(pd.Period(cover.last_month, "M").end_time.date()),
                "Countries": p.countries,
                "Rows set aside": p.rejected_rows,
                "Covers to": cover.last_month,
                "File": p.file,
                "Fetched": p.fetched_at,
                "SHA-256": p.sha256[:16],
                "Licence": p.licence,
                "Notes": "; ".join(p.remarks),
                "Citation": p.citation,
            }
        )
    return pd.DataFrame(rows)


@_one_version
def sources() -> pd.DataFrame:
    """One row per live import with its provenance, for display."""
    current = store()
    return _sources(str(current.root), current.version())


@st.cache_data(ttl=600, show_spinner=False)
def _month_span(root: str, version: str) -> tuple[str, str] | None:
    covers = [r.provenance.coverage for r in Store(root).records(FORECAST_SOURCES)]
    if not covers:
        return None
    return min(c.first_month for c in covers), max(c.last_month for c in covers)


@_one_version
def month_span() -> tuple[str, str] | None:
    """The first and last month the forecast's sources cover, from the provenance records
    (the panel's range, without building the panel: the landing page does not need it)."""
    current = store()
    return _month_span(str(current.root), current.version())


@st.cache_data(ttl=600, show_spinner=False)
def _default_month(root: str, version: str) -> str | None:
    covers = [r.provenance.coverage for r in Store(root).records(FORECAST_SOURCES)]
    month = coverage.world_month(covers) if covers else None
    return None if month is None else str(month)


@_one_version
def default_month() -> str | None:
    """The month the world is covered to (`loaders.coverage.world_month`): the forecast's
    default month, which a country-only release running further never moves."""
    current = store()
    return _default_month(str(current.root), current.version())


@st.cache_data(ttl=600, show_spinner=False)
def _caveats(root: str, version: str, sources: tuple[str, ...]) -> list[str]:
    return caveat_lines(r.provenance for r in Store(root).records(sources))


@_one_version
def caveats(*sources: str) -> list[str]:
    """The caveat lines of the live imports of `sources` (`loaders.caveats.caveat_lines`)."""
    current = store()
    return _caveats(str(current.root), current.version(), sources)


@st.cache_data(ttl=600, show_spinner=False)
def _live_totals(root: str, version: str) -> pd.DataFrame:
    return Store(root).live_totals()


@_one_version
def live_totals() -> pd.DataFrame:
    """Events in use per import (`Store.live_totals`): superseded and repeated events once."""
    current = store()
    return _live_totals(str(current.root), current.version())


@st.cache_data(ttl=600, show_spinner=False)
def _coverage_table(root: str, version: str) -> pd.DataFrame:
    return Store(root).coverage(kinds=None)


@_one_version
def coverage_table() -> pd.DataFrame:
    """Every live import's coverage per country (`Store.coverage`)."""
    current = store()
    return _coverage_table(str(current.root), current.version())


@_one_version
def vintage(source: str | None = None) -> str:
    """A short line saying which data the page shows, e.g. 'UCDP GED 21.1, events to Dec 2020'.

    `source` ("ucdp", "acled") keeps only that source's imports; None lists every one.
    """
    table = sources()
    if source is not None and not table.empty:
        table = table[table["Source key"] == source]
    if table.empty:
        return "No data loaded yet." if source is None else f"No {SOURCE_LABELS[source]} data."
    parts = [
        f"{row['Source']}, events to {pd.Timestamp(row['Last event']):%b %Y}"
        for row in table.to_dict("records")
    ]
    cover = coverage_table()
    by_country = coverage.vintage_line(
        cover if source is None else cover[cover["source"] == source]
    )
    return by_country or " · ".join(parts)


def source_line(*sources: str) -> str:
    """'Source: …' for a chart or table of these sources, with ACLED's required attribution."""
    line = "Source: " + " · ".join(vintage(source) for source in sources)
    if "acled" in sources:
        line += f" · {acled.ATTRIBUTION}"
    return line


@st.cache_data(ttl=600, show_spinner=False)
def _risk(root: str, version: str, as_of: str | None) -> RiskForecast | None:
    try:  # every measure, cached once: a page takes its measure with `.of`
        return risk_forecast(root, as_of, measure=None)  # computed only when not in the store
    except InsufficientData:
        return None


@st.cache_data(ttl=600, show_spinner=False)
def _skill_line(root: str, records: tuple, measure: str) -> str:
    with contextlib.suppress(LoaderError, IndexError, KeyError):
        return skill.headline_skill_line(skill.load_backtests(root)[0], measure)
    return ""


def skill_line(measure: str) -> str:
    """The backtested skill of the measure's headline risk; while the first backtest runs,
    that it runs; "" with neither."""
    root = Store().root
    records = tuple((p.name, p.stat().st_mtime) for p in sorted(root.glob("skill/ged_*.json")))
    if records:
        return _skill_line(str(root), records, measure)
    if (running := skill.running_backtest(root)) is not None:
        return (
            "Backtested skill: being computed from this store's GED data since "
            f"{running['started_at'][11:16]} UTC (6–8 minutes); the Model skill page shows it."
        )
    return ""


@st.cache_data(ttl=600, show_spinner=False)
def _previous(root: str, version: str, as_of: str | None) -> RiskForecast | None:
    return previous_forecast(root, as_of, measure=None)


def risk(as_of: str | None = None, measure: str | None = None) -> RiskForecast | None:
    """The forecast of `measure` (None: every measure) for the live store; None when there
    is nothing to forecast. Raises `risk.model.InsufficientData` when the forecast has no
    numbers of that measure."""
    forecast = _risk_of_every_measure(as_of)
    return forecast if forecast is None or measure is None else forecast.of(measure)


@_one_version
def _risk_of_every_measure(as_of: str | None) -> RiskForecast | None:
    """The risk table and its detail for the live store (None when there is nothing to forecast).

    Never trains in a page view while a forecast can be shown: when the live data have none
    yet, it is computed once in the background and the previous forecast is returned meanwhile
    (`is_previous` tells; `ui.previous.label` says so on the page). With no previous forecast
    the page waits, under a spinner that says why.
    """
    current = store()
    root, version = str(current.root), current.version()
    stored = artifacts.path_of(current.root, artifacts.key(version, as_of, 0)).exists()
    computing = _warmed.get((root, version, str(as_of), "forecast"))
    if stored or (computing is not None and not computing.is_alive()):
        return _risk(root, version, as_of)  # a failed computation raises here, on the page
    computing = warm_risk(as_of)
    shown = _previous(root, version, as_of)
    if shown is not None:
        return shown
    with st.spinner(f"Forecasting every country for the data {imported_at()}…"):
        computing.join()
    return _risk(root, version, as_of)


# Trains the model in a child process: in a thread of the server it held the GIL for minutes
# and stalled every analyst's page (the load benchmark, bench/README.md).
COMPUTE_FORECAST = (
    "import sys; from risk.forecast import risk_forecast; "
    "risk_forecast(sys.argv[1], sys.argv[2] or None, measure=None)"
)


def forecast_apart(root: str, as_of: str | None) -> None:
    """Compute and keep the store's forecast in a child process (its failure is left to the
    caller, which reads or computes it again and so meets the error)."""
    subprocess.run(
        [sys.executable, "-c", COMPUTE_FORECAST, root, as_of or ""],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,  # InsufficientData is a fact kept in the store
        check=False,
    )


def warm_risk(as_of: str | None = None) -> threading.Thread:
    """Compute (or read) the live store's forecast in the background, once per store version.

    A stored forecast is only read. A missing one is computed by a child process (or by the
    import that is computing it already: the store's lock makes one wait for the other), then
    read; if the child fails, the thread computes it itself, so the page gets the error.
    """
    current = store()
    root, version = str(current.root), current.version()

    def compute() -> None:
        if not artifacts.path_of(current.root, artifacts.key(version, as_of, 0)).exists():
            forecast_apart(root, as_of)
        with contextlib.suppress(model.InsufficientData):  # kept in the store; pages say why
            _risk(root, version, as_of)

    return _warm((root, version, str(as_of), "forecast"), compute)


def forecast_pending(as_of: str | None = None) -> bool:
    """Whether the live store's forecast is being computed in the background."""
    current = store()
    computing = _warmed.get((str(current.root), current.version(), str(as_of), "forecast"))
    return computing is not None and computing.is_alive()


def is_previous(forecast: RiskForecast) -> bool:
    """Whether `forecast` was made for other data (or code) than the live store's."""
    made_for = forecast.stored["key"]
    as_of = None if made_for["as_of"] == "latest" else made_for["as_of"]
    current = artifacts.key(store().version(), as_of, made_for["seed"])
    return forecast.stored["digest"] != artifacts.digest(current)


def imported_at() -> str:
    """When the live data were imported, e.g. 'imported at 12:04 UTC'."""
    updated = store().manifest().get("updated_at")
    return f"imported at {pd.Timestamp(updated):%H:%M} UTC" if updated else "in the store"


@st.cache_data(ttl=600, show_spinner=False)
def _panel(root: str, version: str, source: str) -> pd.DataFrame:
    return country_month_panel(root, sources=(source,))


@_one_version
def panel(source: str = "ucdp") -> pd.DataFrame:
    """The country-month panel of one source of the live store (UCDP: the forecast's)."""
    current = store()
    return _panel(str(current.root), current.version(), source)


_warmed: dict[tuple[str, ...], threading.Thread] = {}
_warming = threading.Lock()


def _warm(key: tuple[str, ...], read: Callable[[], object]) -> threading.Thread:
    """Run `read` once per `key` in a background thread (a visitor asking meanwhile waits on
    the same cache entry; it is never computed twice). Store pins are per thread (ContextVar),
    so `read` pins the store itself when it reads it more than once."""
    with _warming:  # two visitors at once still start one thread
        if key not in _warmed:
            _warmed[key] = threading.Thread(target=read, name=f"warm-{key[-1]}", daemon=True)
            _warmed[key].start()
        return _warmed[key]


def warm_panel() -> None:
    """Build the UCDP panel in the background, once per store version.

    The landing page does not need it but every country profile does (≈ 0.3 s on an idle
    2-core machine, seconds on a busy one): built while the analyst reads the landing page,
    the first profile opened from it finds it cached.
    """
    current = store()
    _warm((str(current.root), current.version(), "panel"), panel)


def warm_country(iso3: str, as_of: str | None) -> None:
    """Read a country's events and signals in the background: the landing page calls it for
    the country chosen under its table, so its profile opens without reading the store."""

    def read() -> None:
        country_events(iso3)
        signals(as_of, "country", iso3)
        signals(as_of, "admin1", iso3)

    current = store()
    _warm((str(current.root), current.version(), str(as_of), iso3), read)


@st.cache_data(ttl=600, show_spinner=False)
def _events(root: str, version: str, iso3: str, source: str) -> pd.DataFrame:
    events = load_events(root, sources=(source,), countries=[iso3])
    return events.sort_values("date_start", ascending=False)


@_one_version
def country_events(iso3: str, source: str = "ucdp") -> pd.DataFrame:
    """All live events of one country from one source, newest first."""
    current = store()
    return _events(str(current.root), current.version(), iso3, source)


@st.cache_data(ttl=600, show_spinner=False)
def _source_panel(root: str, version: str, iso3: str) -> pd.DataFrame:
    return source_panel(root, countries=[iso3])


@_one_version
def country_sources(iso3: str) -> pd.DataFrame:
    """One country's per-source monthly columns (`risk.sources.source_panel`)."""
    current = store()
    return _source_panel(str(current.root), current.version(), iso3)


def has_source(source: str) -> bool:
    """Whether the live store holds any import (events or aggregates) of `source`."""
    listed = sources()
    return not listed.empty and bool((listed["Source key"] == source).any())


@st.cache_data(ttl=600, show_spinner=False)
def _attribution(root: str, version: str) -> list[str]:
    return sources_attribution(Store(root).records(("acled",), kinds=None))


@_one_version
def attribution(source: str | None = None) -> list[str]:
    """ACLED's required attribution lines (with access dates) for the views that use it."""
    if source not in (None, "acled"):
        return []
    current = store()
    return _attribution(str(current.root), current.version())


@st.cache_data(ttl=600, show_spinner=False)
def _signals(
    root: str, version: str, as_of: str | None, level: str, iso3: str | None
) -> pd.DataFrame:
    if iso3 is None:
        return signals_from_store(root, as_of, level=level)
    # One country's from its cached events (the profile reads them too), not the store again.
    (source,) = FORECAST_SOURCES
    events = _events(root, version, iso3, source)
    return signals_from_store(root, as_of, level=level, countries=[iso3], events=events)


@_one_version
def signals(
    as_of: str | None = None, level: str = "country", iso3: str | None = None
) -> pd.DataFrame:
    """Escalation signals of the live store at country or admin1 level (of one country)."""
    current = store()
    return _signals(str(current.root), current.version(), as_of, level, iso3)


def _query(selection: Selection) -> tuple[tuple[str, str], ...]:
    """The selection as a hashable cache key: its URL parameters, which say all it holds."""
    return tuple(sorted(to_query(selection).items()))


def _references(root: str) -> tuple[tuple[str, int], ...]:
    """The reference tables in use and when each was written, as a cache key: what reads UN
    presence (a snapshot among them) is made again when a table is replaced on the Data page."""
    paths = (reference.path(name, root) for name in reference.NAMES)
    return tuple((str(path), path.stat().st_mtime_ns) for path in paths)


@st.cache_data(ttl=600, show_spinner="Building the snapshot…")
def _snapshot(
    root: str,
    version: str,
    references: tuple[tuple[str, int], ...],
    forecast_digest: str,
    query: tuple[tuple[str, str], ...],
    as_of: str | None,
    _selection: Selection,
    _forecast: RiskForecast,
) -> Snapshot:
    return build_snapshot(root, _selection, as_of, forecast=_forecast)


@_one_version
def snapshot(selection: Selection, as_of: str | None = None) -> Snapshot | None:
    """The risk snapshot of the selection, of its measure (None when there is nothing to
    forecast).

    Raises `exports.snapshot.SnapshotError` when no country matches the filters, and
    `risk.model.InsufficientData` when the forecast has no numbers of the measure.
    """
    forecast = risk(as_of)
    if forecast is None:
        return None
    current = store()
    return _snapshot(
        str(current.root),
        current.version(),
        _references(str(current.root)),
        forecast.stored["digest"],
        _query(selection),
        as_of,
        selection,
        forecast,
    )


MORE_DATA = ". Load more data on the Data page"
WIDEN = ". Widen the regions or countries in the sidebar"


def snapshot_or_problem(selection: Selection) -> tuple[Snapshot | None, str]:
    """The selection's snapshot, or None and what to do about it, in words for the page."""
    try:
        found = snapshot(selection, selection.as_of)
    except model.InsufficientData as exc:  # too little history, or none of the measure
        return None, f"{exc}{MORE_DATA}"
    except SnapshotError as exc:  # no country matches the filters
        return None, f"{exc}{WIDEN}"
    return found, "" if found is not None else f"too little history to forecast{MORE_DATA}"


# Drawn ahead, once, by warm_snapshot_figures: kept for a briefing's length, not ten minutes.
@st.cache_data(ttl=3600, show_spinner=False)
def _snapshot_figure(
    root: str,
    version: str,
    forecast_digest: str,
    query: tuple[tuple[str, str], ...],
    as_of: str | None,
    chart: str,
    _shown: Snapshot,
) -> go.Figure:
    if chart == "risk_map":
        return images.risk_map(_shown)
    (source,) = FORECAST_SOURCES  # the panel the forecast was made from, cached
    return images.country_fan(
        _shown, chart.removeprefix("forecast_"), _panel(root, version, source)
    )


@_one_version
def snapshot_figure(shown: Snapshot, chart: str) -> go.Figure:
    """One chart of a snapshot from `cache.snapshot()`, by its key ("risk_map", "forecast_MLI")."""
    current = store()
    return _snapshot_figure(
        str(current.root),
        current.version(),
        shown.forecast.stored.get("digest", "") if shown.forecast else "",
        _query(shown.selection),
        shown.as_of,
        chart,
        shown,
    )


def warm_snapshot_figures(shown: Snapshot, charts: list[str]) -> None:
    """Draw charts of a snapshot in the background, each once per store version and selection:
    the briefing asks for the neighbouring slides' charts while the presenter shows one."""
    current = store()
    digest = shown.forecast.stored.get("digest", "") if shown.forecast else ""
    key = (str(current.root), current.version(), digest, str(_query(shown.selection)))
    for chart in charts:
        _warm((*key, str(shown.as_of), chart), functools.partial(snapshot_figure, shown, chart))


@st.cache_data(ttl=600, show_spinner=False)
def _presence(root: str, day: pd.Timestamp, files: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    return un_presence.on(day, root)


def presence(day: pd.Timestamp) -> pd.DataFrame:
    """What the UN had in force on `day` (`risk.presence.on`), keyed on the reference files in
    use, so a table replaced on the Data page shows at once."""
    root = str(store().root)
    return _presence(root, day, _references(root))
