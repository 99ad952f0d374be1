"""The shared sidebar filters, and filters a single page owns, kept in the URL so that a link
reproduces the view."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from exports.charts import month_label
from loaders import countries
from risk import measures
from risk.selection import (
    SOURCES,
    Selection,
    forecast_months,
    from_query,
    region_options,
    to_query,
)
from risk.sources import SOURCE_LABELS
from ui import cache
from ui.text import escape_markdown

# "violence" is an old link's parameter: read once, then replaced by "measure".
FILTER_KEYS = ("region", "country", "from", "to", "measure", "violence", "source", "as_of")


def _months(span: tuple[str, str] | None) -> list[str]:
    if span is None:
        return []
    return [f"{m:%Y-%m}" for m in pd.period_range(span[0], span[1], freq="M")]


def default_as_of() -> str | None:
    """The month the forecast starts from when the analyst chooses none: the month the world
    is covered to (a country-only release running further does not move it)."""
    return cache.default_month()


def _as_of(wanted: str | None, span: tuple[str, str] | None) -> str | None:
    """The "As of" choice, newest first; None stands for the store's default month."""
    months = forecast_months(*span) if span else []
    default = default_as_of()
    if wanted and wanted not in months:
        where = f"{months[0]} … {months[-1]}" if months else "none: too little history"
        st.sidebar.warning(
            f"Ignored in the link: as_of {wanted} is not a month the data can forecast from "
            f"({where})",
            icon=":material/link_off:",
        )
        wanted = None
    if not months:
        return None

    def label(month: str) -> str:
        if month == default:
            return f"{month_label(month)} (default)"
        return f"{month_label(month)} (latest)" if month == months[-1] else month_label(month)

    options = months[::-1]
    shown = wanted or default
    chosen = st.sidebar.selectbox(
        "As of",
        options,
        index=options.index(shown) if shown in options else 0,
        format_func=label,
        key="filter_as_of",
        help="Forecast from the data to the end of this month. Months other than the default "
        "are forecast on demand, which takes a moment.",
    )
    return None if chosen == default else chosen


def _follow_the_data(months: list[str]) -> None:
    """Keep the Period slider's ends on the data's when the store's months change under an open
    session (an import): a slider left at the old last month would otherwise write `to=` into
    the URL and hide the new months nobody chose to hide."""
    kept = st.session_state.get("filter_period")
    was = st.session_state.get("filter_period_span")
    st.session_state["filter_period_span"] = (months[0], months[-1])
    if kept is None or was is None or was == (months[0], months[-1]):
        return
    first = months[0] if kept[0] == was[0] or kept[0] not in months else kept[0]
    last = months[-1] if kept[1] == was[1] or kept[1] not in months else kept[1]
    st.session_state["filter_period"] = (first, last)


def sidebar(span: tuple[str, str] | None) -> Selection:
    """Draw the filters; start from the URL's parameters and write the choice back to it.

    `span` is the first and last month the data cover (None for an empty store).
    """
    wanted = from_query(st.query_params.to_dict())
    for problem in wanted.problems:
        st.sidebar.warning(f"Ignored in the link: {problem}", icon=":material/link_off:")
    options = region_options()
    labels = dict(options)
    names = countries.reference().set_index("iso3")["name"].to_dict()
    st.sidebar.header("Filters")
    regions = st.sidebar.multiselect(
        "Regions",
        [key for key, _ in options],
        default=list(wanted.regions),
        format_func=labels.get,
        key="filter_regions",
        placeholder="All regions",
    )
    chosen = st.sidebar.multiselect(
        "Countries",
        sorted(names, key=names.get),
        default=list(wanted.countries),
        format_func=lambda iso3: names.get(iso3, iso3),
        key="filter_countries",
        placeholder="All countries",
    )
    months = _months(span)
    start, end = wanted.start, wanted.end
    if months:
        first = start if start in months else months[0]
        last = end if end in months else months[-1]
        _follow_the_data(months)
        first, last = st.sidebar.select_slider(
            "Period", options=months, value=(first, last), key="filter_period"
        )
        start = None if first == months[0] else first
        end = None if last == months[-1] else last
    as_of = _as_of(wanted.as_of, span)
    # Radio buttons: a closed select box cut "One-sided violence against civili…" at the
    # sidebar's width, and four choices are read at a glance.
    measure = st.sidebar.radio(
        "Violence",
        list(measures.MEASURES),
        index=measures.MEASURES.index(wanted.measure),
        format_func=lambda m: measures.LABELS[m].capitalize(),
        key="filter_measure",
        help="What every page, briefing and export counts: the forecast, risk and deaths, and "
        "the history and events shown. All organised violence is the sum of the three UCDP "
        "types (state-based, non-state, one-sided).",
    )
    source = st.sidebar.selectbox(
        "Source",
        list(SOURCES),
        index=list(SOURCES).index(wanted.source),
        format_func=SOURCE_LABELS.get,
        key="filter_source",
        help="The source the profile and compare views count. They are never added together; "
        "the forecast is always UCDP GED's, the data it is trained and scored on.",
    )
    if source != "ucdp":
        st.sidebar.caption(
            f"{SOURCE_LABELS[source]} counts show on the Country profile and Compare pages. "
            "Countries at risk, Model skill, Briefing and Export show the UCDP GED forecast."
        )
    selection = Selection(
        regions=tuple(regions),
        countries=tuple(chosen),
        start=start,
        end=end,
        measure=measure,
        source=source,
        as_of=as_of,
    )
    # Only the filters' own parameters are written: the page's (the profile's country, a tab
    # bound to the URL, which Streamlit forbids setting here) stay as they are.
    wanted = to_query(selection)
    for key in FILTER_KEYS:
        if key in wanted and st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
        elif key not in wanted and key in st.query_params:
            del st.query_params[key]
    return selection


def counted_source(selection: Selection, view: str) -> str:
    """The selection's source if the store holds it, else UCDP GED with a warning on the page."""
    source = selection.source
    if source == "ucdp" or cache.has_source(source):
        return source
    st.warning(
        f"The store holds no {SOURCE_LABELS[source]} data, so {view} counts UCDP GED. "
        "Import or fetch it on the Data page.",
        icon=":material/database_off:",
    )
    return "ucdp"


@contextmanager
def forecasting(selection: Selection) -> Iterator[None]:
    """A spinner naming the month while a forecast other than the precomputed default's runs."""
    if selection.as_of is None:
        yield
        return
    with st.spinner(f"Forecasting every country from {month_label(selection.as_of)}…"):
        yield


def caveats(*sources: str) -> None:
    """One caption line per caveat of the live imports of `sources` (e.g. a reduced GED file)."""
    for line in cache.caveats(*sources):
        st.caption(escape_markdown(line))


def page_filter(
    name: str,
    label: str,
    options: Sequence[str],
    *,
    help: str,
    format_func: Callable[[str], str] = str,
) -> list[str]:
    """A filter one page owns (pills above its content; none chosen means all), kept in the
    URL as `?name=a,b` like the sidebar's; a value the link holds that is not an option is
    dropped and reported, never guessed.

    Not Streamlit's `bind="query-params"`: it drops an unknown value silently and writes
    repeated parameters where every other filter writes one comma-separated list.
    """
    values = [v for v in (st.query_params.get(name) or "").split(",") if v]
    unknown = [v for v in values if v not in options]
    if unknown:
        st.warning(
            escape_markdown(f"Ignored in the link: unknown {name}: {', '.join(unknown)}"),
            icon=":material/link_off:",
        )
    chosen = st.pills(
        label,
        list(options),
        selection_mode="multi",
        default=[v for v in options if v in values],
        key=f"filter_{name}",
        help=help,
        format_func=format_func,
    )
    if chosen:
        st.query_params[name] = ",".join(chosen)
    elif name in st.query_params:
        del st.query_params[name]
    return chosen
