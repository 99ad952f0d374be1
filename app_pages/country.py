"""Country profile: one country's risk and forecast beside the UN's presence, organisations and
sanctions there, why, where, who, and the latest events."""

import pandas as pd
import streamlit as st

from exports import chart_specs, charts, vega
from loaders import countries
from risk import measures, sources, un_tools
from risk import presence as un_presence
from risk import profile as profiles
from risk.model import InsufficientData
from risk.panel import FORECAST_SOURCES
from risk.selection import Selection, countries_for
from risk.sources import SOURCE_LABELS
from ui import cache, filters, previous
from ui.text import escape_markdown

COUNTRY_KEY = "profile_country"
COUNT = st.column_config.NumberColumn(format="localized")
PERCENT = st.column_config.NumberColumn(format="%+.0f%%")
SITE_LINK = st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)")
LONG_TEXT = ("Name", "Mandate document", "Document", "Note")


def footer() -> None:
    """The data vintage and how to cite the live sources: on every view, even an empty one."""
    st.divider()
    st.caption(f"Data: {escape_markdown(cache.vintage())}")
    for citation in sorted(set(cache.sources()["Citation"])):
        st.text(citation)
    for line in cache.attribution():
        st.text(line)


selection = st.session_state.get("selection", Selection())
measure = selection.measure
names = countries.reference().set_index("iso3")["name"].to_dict()
st.title("Country profile")
if cache.sources().empty:
    st.info("The store is empty: load data on the Data page first.")
    st.stop()
try:
    with filters.forecasting(selection):
        forecast = cache.risk(selection.as_of, measure)
        no_forecast_reason = "no forecast has been made yet"
except InsufficientData as problem:  # too little history to train the model at all
    forecast, no_forecast_reason = None, str(problem)
previous.label(forecast)

wanted = (st.query_params.get("iso3") or "").strip().upper()
if wanted and wanted not in names:
    st.warning(
        f"The link names an unknown country code ({escape_markdown(wanted)}): choose a country.",
        icon=":material/link_off:",
    )
    wanted = ""
if wanted:
    st.session_state[COUNTRY_KEY] = wanted
elif COUNTRY_KEY not in st.session_state:
    table = forecast.table if forecast is not None else None
    first = profiles.default_country(table, countries_for(selection))
    st.session_state[COUNTRY_KEY] = first or min(names, key=names.get)


def remember_country() -> None:
    """Write the choice to the URL before the rerun, so the link reproduces the view."""
    st.query_params["iso3"] = st.session_state[COUNTRY_KEY]


iso3 = st.selectbox(
    "Country",
    sorted(names, key=names.get),
    format_func=names.get,
    key=COUNTRY_KEY,
    on_change=remember_country,
)
st.query_params["iso3"] = iso3
name = names[iso3]
source = filters.counted_source(selection, "this profile")
as_of = (
    forecast.as_of
    if forecast is not None
    else selection.as_of or cache.panel().attrs.get("last_complete_month")
)
history = cache.panel(source)
own_last = history.attrs.get("last_covered", {}).get(iso3)
profile = profiles.build_profile(
    iso3,
    name,
    events=cache.country_events(iso3, source),
    panel=history,
    forecast=forecast,
    signals=cache.signals(as_of, iso3=iso3),
    admin1_signals=cache.signals(as_of, "admin1", iso3),
    measure=measure,
    no_forecast_reason=no_forecast_reason,
    # The country's own last covered month, where its data end apart from the forecast's month
    # (a country-only release runs on; another source ends elsewhere): its history ends there.
    history_as_of=own_last if source != "ucdp" or (own_last or "") > (as_of or "") else None,
)
source_note = cache.source_line(source)
attribution = cache.attribution(source)

# --- header --------------------------------------------------------------------------------
st.header(escape_markdown(name))
if profile.status == "ok":
    row = profile.headline
    risk_col, deaths_col, trend_col, surge_col = st.columns(4)
    risk_col.metric(
        "Risk, next 3 months",
        charts.percent(row["risk"]),
        help=f"{charts.risk_title(measure)}.",
    )
    # The median, as the chart below draws it; the average is in the sentence under these.
    deaths_col.metric(
        "Deaths, 3 months (median)",
        charts.count(row["median_fatalities"]),
        help=f"{charts.deaths_of(measure).capitalize()} over the next 3 months: half of the "
        "model's simulated outcomes fall below this, half above. The 90% interval and the "
        "average are given below.",
    )
    points = row["risk_change"] * 100
    trend_col.metric(
        "Risk since last month",
        profiles.ARROW_WORDS.get(row["trend"], "–"),
        delta=None if pd.isna(points) or round(points) == 0 else f"{points:+.0f} points",
        delta_color="inverse",
        help="The change from the risk forecast one month earlier, with the same model.",
    )
    surge_col.metric(
        "Surge flags",
        profiles.surge_words(row),
        help="Events or deaths in the as-of month at least twice the mean of the 3 before.",
    )
    st.caption(f"{profile.risk_text} Forecast from data to {charts.month_label(as_of)}.")
else:  # one wording whatever the reason: the reason says what differs
    st.info(
        f"No forecast for {escape_markdown(name)}: {escape_markdown(profile.reason)}.",
        icon=":material/info:",
    )

filters.caveats(*FORECAST_SOURCES, source)

# --- the UN's own tools, beside the risk: a line each; the rows in the expander ----------
data_dir = cache.store().root
presence_day = un_presence.day_of(as_of)
presence = cache.presence(presence_day)
tools = presence.loc[iso3]
st.markdown(
    f"**UN presence, {un_tools.day_label(presence_day)}:** "
    f"{escape_markdown(tools['un_presence'] or 'none recorded')}  \n"
    f"**Regional organisations:** {escape_markdown(tools['organisations'] or 'none recorded')}  \n"
    f"**UN sanctions:** {escape_markdown(tools['sanctions'] or 'none recorded')}"
)
gap_words = (
    un_tools.gap_line(iso3, forecast.table, presence)
    if forecast is not None
    else "Not on the prevention-gap list: there is no forecast."
)
st.caption(escape_markdown(gap_words))
tools_box = st.expander(
    "UN presence, organisations and sanctions: each with its document and source",
    key="profile_un",
    on_change="rerun",
)
if tools_box.open:  # drawn only when opened, as the numbers behind the chart
    for listed in un_tools.country_tables(iso3, presence_day, data_dir).values():
        tools_box.markdown(f"**{escape_markdown(listed.info.title)}**")
        if listed.rows.empty:
            tools_box.info(escape_markdown(listed.none_line(name)))
        else:
            # Long names and documents cut to fit the screen (whole on hover); a source link
            # shows its site.
            wide = {label: st.column_config.TextColumn(width="medium") for label in LONG_TEXT}
            links = {label: SITE_LINK for label in listed.links}
            tools_box.dataframe(
                listed.rows,
                hide_index=True,
                column_config={
                    label: config
                    for label, config in {**wide, **links}.items()
                    if label in listed.rows.columns
                },
            )
        tools_box.caption(escape_markdown(listed.info.citation()))
    if stale := un_presence.stale(data_dir):
        tools_box.warning(escape_markdown(stale), icon=":material/update:")

if source != "ucdp":
    st.caption(
        f"History, places, actors and events below are {SOURCE_LABELS[source]}'s, to "
        f"{pd.Period(profile.as_of, 'M'):%b %Y}; the risk, drivers and escalation signals are "
        "UCDP GED's, the data the forecast is trained and scored on."
    )
if profile.events_total == 0:
    st.info(
        f"No events of {measures.LABELS[measure]} are recorded for {escape_markdown(name)} "
        f"in {SOURCE_LABELS[source]}, so there is nothing to chart or list."
    )
    footer()
    st.stop()
if measure != measures.ALL:
    st.caption(
        f"The forecast, history and event tables count {measures.LABELS[measure]} (sidebar); "
        "the escalation signals cover every type of violence."
    )

# --- forecast fan chart ----------------------------------------------------------------------
fan = chart_specs.fan_chart(
    profile.series, country=name, as_of=profile.as_of, measure=measure, reason=profile.reason
)
st.subheader("Deaths per month and forecast" if fan.drawn("median") else "Deaths per month")
# Vega, not plotly: a profile opened from the landing page then loads no plotly.js (≈ 2 s).
st.vega_lite_chart(vega.fan_chart(fan))
history_words = (
    "all organised violence (the sum of the three UCDP types, each also drawn)"
    if measure == measures.ALL
    else measures.LABELS[measure]
)
if source == "ucdp" and profile.as_of != as_of:  # its own release runs past the world's month
    st.caption(
        f"History: deaths (best estimate) from {history_words}, last 36 months to "
        f"{profile.as_of}, "
        f"the last month {escape_markdown(name)}'s data cover. The forecast is from {as_of}, "
        "the month the world's data reach, so it is not drawn over these months; to forecast "
        f"from {profile.as_of}, choose it under As of in the sidebar. "
        + escape_markdown(source_note)
    )
elif source == "ucdp":
    st.caption(
        f"History: deaths (best estimate) from {history_words}, last 36 months to {as_of}. "
        f"Forecast: {charts.deaths_of(measure)}, the median (the line) with the 50% and 90% "
        "intervals (the bands). " + escape_markdown(source_note)
    )
else:
    st.caption(
        f"ACLED deaths from {history_words}, last 36 months to {profile.as_of}: battles are "
        "state-based or non-state by their actors, violence against civilians one-sided; "
        "explosions/remote violence, protests, riots and strategic developments have no UCDP type "
        "and are not in these lines (ACLED's whole political-violence count is in the comparison "
        "below). The forecast is UCDP's: choose UCDP GED as the source to see it on this chart. "
        + escape_markdown(source_note)
    )
for line in attribution:
    st.caption(escape_markdown(line))
numbers = st.expander("Numbers behind the chart", key="profile_numbers", on_change="rerun")
if numbers.open:  # drawn only when opened: one grid fewer on every profile
    month = st.column_config.DateColumn(format="MMM YYYY")
    history_numbers, forecast_numbers = profiles.chart_numbers(profile.series)
    numbers.dataframe(
        history_numbers,
        hide_index=True,
        column_config={"Month": month},
        placeholder="no source covers this month",
    )
    if not forecast_numbers.empty:
        numbers.dataframe(forecast_numbers, hide_index=True, column_config={"Month": month})

# --- why this level, why it changed -----------------------------------------------------------
SHARES = {
    profiles.LABELS["effect"]: st.column_config.NumberColumn(format="%+.1f"),
    profiles.LABELS["deaths_effect"]: st.column_config.NumberColumn(format="%+.1f"),
}
st.subheader("Why this level")
if profile.drivers.empty:
    st.info("No explanation: the model made no forecast for this country.")
else:
    st.caption(profiles.explanation_sentence(profile.headline))
    st.dataframe(
        profile.drivers.drop(columns="label").rename(columns=profiles.LABELS),
        hide_index=True,
        height="content",
        column_config=SHARES,
    )
    st.subheader("Why it changed since last month")
    st.caption(profiles.explanation_sentence(profile.headline, "change"))
    if not profile.changes.empty:
        st.dataframe(
            profile.changes.drop(columns="label").rename(columns=profiles.LABELS),
            hide_index=True,
            height="content",
            column_config=SHARES,
        )

# --- the rest, one section at a time ---------------------------------------------------------
# Only the open tab is drawn (each tab was a grid or a map the browser drew on every visit, for
# a section one scroll away); the tab is in the URL (`?section=Where`), so a link reopens it.
period = profiles.months_label(profile.as_of, profiles.RECENT_MONTHS)
SECTIONS = {
    "Signals": f"Escalation signals, {pd.Period(as_of, 'M'):%b %Y}",
    "Where": "Where: admin1 hotspots",
    "Who": f"Who: main actors and dyads, {period}",
    "Latest events": "Latest events",
    "UCDP and ACLED": "UCDP and ACLED side by side",
}
signals_tab, where_tab, who_tab, latest_tab, sources_tab = st.tabs(
    list(SECTIONS), key="section", bind="query-params"
)

if signals_tab.open:
    with signals_tab:
        st.subheader(SECTIONS["Signals"])
        if profile.signals.empty:
            st.info("No escalation signals: the store has no violent events for this country.")
        else:
            st.dataframe(profile.signals, hide_index=True, height="content")
            if not profile.admin1_recorded:
                st.caption("Admin1 signals: admin1 not recorded in this source.")
            elif not profile.admin1_signals.empty:
                st.caption("Admin1 units with violence or a flag in the month")
                st.dataframe(
                    profile.admin1_signals.rename(columns=profiles.ADMIN1_SIGNAL_LABELS),
                    hide_index=True,
                    column_config={"Deaths vs 3-month mean, %": PERCENT},
                    placeholder="none before",  # a change from zero has no percentage
                )

if where_tab.open:
    with where_tab:
        st.subheader(SECTIONS["Where"])
        if profile.map_events.empty:
            st.info(f"No located events in {period}.")
        else:
            hotspots = vega.hotspot_map(profile.map_events, country=name, iso3=iso3, period=period)
            st.vega_lite_chart(hotspots)
            st.caption(escape_markdown(source_note))
        if not profile.admin1_recorded:
            st.info("Admin1 not recorded in this source: no table of admin1 units.")
        elif profile.admin1.empty:
            st.info(f"No events in the 6 months to {profile.as_of}.")
        else:
            st.caption(
                f"Admin1 units: the 3 months to {profile.as_of} against the 3 months before."
            )
            st.dataframe(
                profile.admin1.rename(columns=profiles.LABELS),
                hide_index=True,
                column_config={"Events change %": PERCENT, "Deaths change %": PERCENT},
                placeholder="none before",  # a change from zero has no percentage
            )

if who_tab.open:
    with who_tab:
        st.subheader(SECTIONS["Who"])
        # One above the other: side by side, the actor names pushed the counts out of view.
        st.caption("Armed actors by events (civilians are not counted as actors)")
        if profile.actors.empty:
            st.info(f"No armed actor recorded in {period}.")
        else:
            st.dataframe(
                profile.actors.rename(columns=profiles.LABELS),
                hide_index=True,
                column_config={"Events": COUNT, "Deaths": COUNT},
            )
        st.caption("Dyads (side A – side B) by events")
        if profile.dyads.empty:
            st.info(f"No side of any event recorded in {period}.")
        else:
            st.dataframe(
                profile.dyads.rename(columns=profiles.LABELS),
                hide_index=True,
                column_config={"Events": COUNT, "Deaths": COUNT},
            )

if latest_tab.open:
    with latest_tab:
        st.subheader(SECTIONS["Latest events"])
        st.dataframe(
            profile.latest.rename(columns=profiles.LABELS),
            hide_index=True,
            column_config={"Headline (source)": st.column_config.TextColumn(width="large")},
        )
        left_out = profiles.unrecorded(profile.latest)
        if left_out:
            st.caption(f"Not in this source's release, so not shown: {', '.join(left_out)}.")

if sources_tab.open:
    with sources_tab:
        st.subheader(SECTIONS["UCDP and ACLED"])
        if not cache.has_source("acled"):
            st.caption(
                "ACLED is not in the store, so there is nothing to set beside UCDP: import an "
                "ACLED export or fetch it from the API on the Data page."
            )
        else:
            comparison = sources.compare_sources(cache.country_sources(iso3), iso3, name)
            if not comparison.summary:
                st.info(f"No comparison: {escape_markdown(comparison.status)}.")
            else:
                st.markdown(escape_markdown(comparison.summary))
                st.vega_lite_chart(vega.source_comparison(comparison.table, country=name))
                st.caption(
                    escape_markdown(cache.source_line("ucdp", "acled"))
                    + ". Each line counts by its own source's rules and they are never added "
                    "together: UCDP counts deaths in conflicts that pass 25 battle-related deaths "
                    "a year; ACLED counts every battle, explosion/remote violence, attack on "
                    "civilians and mob violence it records. Months where one records at least "
                    "twice the other's deaths (25 or more) are ringed."
                )
                st.dataframe(
                    comparison.table.rename(columns=sources.COMPARISON_LABELS)[
                        list(sources.COMPARISON_LABELS.values())
                    ],
                    hide_index=True,
                    column_config={
                        "Month": st.column_config.DateColumn(format="MMM YYYY"),
                        "Larger / smaller": st.column_config.NumberColumn(format="%.1f×"),
                    },
                )
                st.caption(f"{len(comparison.disagreements):,} of the months compared disagree.")
            for line in cache.attribution("acled"):
                st.caption(escape_markdown(line))
footer()
