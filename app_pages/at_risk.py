"""Countries at risk: headline numbers, the risk map, the ranked table with the UN's presence, the
prevention-gap list with the cost of waiting, and the new-risk list."""

import streamlit as st

from exports import chart_specs, charts, tables, vega
from risk import presence as un_presence
from risk import un_tools
from risk.forecast import NEW_RISK_LISTED, new_risk
from risk.model import THRESHOLD, InsufficientData
from risk.panel import FORECAST_SOURCES
from risk.selection import Selection, apply, to_query
from ui import cache, filters, previous
from ui.text import escape_markdown

PROFILE_PAGE = "app_pages/country.py"
PRESENCE_LABELS = {"None": "No UN presence"}  # the link keeps the short "None"


def open_profile(iso3: str, selection: Selection) -> None:
    """Go to the country's profile, keeping the filters in the URL so the link reproduces it."""
    st.switch_page(PROFILE_PAGE, query_params={**to_query(selection), "iso3": iso3})


selection = st.session_state.get("selection", Selection())
measure = selection.measure
st.title("Countries at risk")
st.markdown(f"**{charts.risk_title(measure)}**")
try:
    with filters.forecasting(selection):
        forecast = cache.risk(selection.as_of, measure)
        problem = "the store holds no conflict events yet"
except InsufficientData as exc:  # events, but too little history to train the model
    forecast, problem = None, str(exc)
if forecast is None:
    st.info(
        f"Nothing to forecast yet: {escape_markdown(problem)}. Import or fetch UCDP GED data "
        "on the Data page (or `python -m loaders fetch ucdp`); the forecast appears here at once."
    )
    st.page_link("app_pages/data.py", label="Load data", icon=":material/database:")
    st.stop()
previous.label(forecast)

data_dir = cache.store().root
presence_day = un_presence.day_of(forecast.as_of)
presence_on = f"{un_tools.day_label(presence_day)} (the forecast's month)"
presence = cache.presence(presence_day)
table = apply(forecast.table, selection)
# This page's own filter (no other page ranks countries), kept in the URL like the sidebar's.
present = filters.page_filter(
    "presence",
    "UN presence",
    un_presence.PRESENCE_FILTERS,
    help=f"Keep the countries with this UN presence on {presence_on}: a field mission "
    "(peacekeeping operation or political mission), an envoy with a country mandate, a "
    "regional office only, or none. With no choice, every country.",
    format_func=lambda value: PRESENCE_LABELS.get(value, value),
)
if present:
    table = table[table["iso3"].map(presence["presence"]).isin(present)]
risk_words = charts.risk_definition(forecast.as_of, measure)
shown_presence = ", ".join(PRESENCE_LABELS.get(value, value) for value in present)
where = selection.describe() + (f" · UN presence: {shown_presence}" if present else "")
st.caption(escape_markdown(f"{where} · Risk: {risk_words}"))
if selection.start or selection.end:
    st.caption("The forecast starts from the As of month: the period filter does not change it.")
if table.empty:
    st.info(
        "No country matches the filters: widen the regions or countries in the sidebar, or the "
        "UN presence above."
    )
    st.stop()

no_forecast = tables.no_forecast_line(table)
if no_forecast:
    st.warning(escape_markdown(no_forecast), icon=":material/block:")
for column, number in zip(st.columns(4), tables.headline(table, measure), strict=True):
    column.metric(number.label, number.value, help=number.help)
st.caption(escape_markdown(tables.as_of_line(forecast.as_of, forecast.vintage)))
filters.caveats(*FORECAST_SOURCES)
skill_words = cache.skill_line(measure)
if skill_words:
    st.caption(escape_markdown(skill_words))
st.page_link(
    "app_pages/skill.py",
    label="How well this model forecast past years, beside the benchmarks",
    icon=":material/verified:",
)

source = (
    f"Source: {forecast.vintage}; Article 99 forecast of {charts.deaths_of(measure)} from data "
    f"to {forecast.as_of}"
)
zoom = bool(selection.regions or selection.countries)
risk_map = chart_specs.risk_map(table, as_of=forecast.as_of, measure=measure, source=source)
clicked = st.vega_lite_chart(
    vega.risk_map(risk_map, zoom=zoom),
    on_select="rerun",
    selection_mode=vega.SELECTION,
    key="map",
)
st.caption(f"{escape_markdown(source)}. Click a country to open its profile. {risk_map.note}")
picked_on_map = clicked.selection.get(vega.SELECTION) if clicked else None
if picked_on_map and picked_on_map[0].get("iso3"):
    open_profile(picked_on_map[0]["iso3"], selection)

st.subheader("Ranked by risk")
display = tables.risk_table(table, forecast.drivers, brief=True, presence=presence)
risk_column = st.column_config.NumberColumn(
    width="small", help=f"Risk: {risk_words}. The colour is the map's."
)
deaths_column = st.column_config.NumberColumn(
    "Deaths, 3 mo. (median)",  # shorter than the exports' header: the ranked table fits
    format="localized",
    help=f"{charts.deaths_of(measure).capitalize()} over the next three months: the median of "
    "the model's simulated outcomes (half fall below it), the line the profile's forecast chart "
    "draws. The profile also gives the average.",
)
driver_column = st.column_config.TextColumn(
    width="large",
    help="The largest share of the risk, in points, against a quiet country (the profile's "
    "'Why this level' quotes the data behind each share).",
)
if display.empty:
    st.info("No country in the selection has a forecast: the list below says why.")
else:
    picked = st.dataframe(
        tables.styled(display),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="risk_table",
        column_config={
            tables.RANK: st.column_config.NumberColumn(width=50, pinned=True),
            tables.COUNTRY: st.column_config.TextColumn(pinned=True),
            tables.PRESENCE: st.column_config.TextColumn(
                width=130,  # so the table fits the screen: hover over a cut label
                help=f"UN field missions, envoys and regional offices on {presence_on}; "
                "hover over a cut label to read it whole; the country profile gives each with its "
                "mandate document.",
            ),
            tables.RISK: risk_column,
            tables.TREND: st.column_config.TextColumn(
                help="Change of risk since the forecast a month earlier; ▲ or ▼ from 5 points."
            ),
            tables.DEATHS: deaths_column,
            tables.INTERVAL: st.column_config.TextColumn(
                help="Nine in ten of the model's simulated outcomes fall in this range."
            ),
            tables.FLAGS: st.column_config.TextColumn(
                help="Last month's events or deaths far above the country's own recent months, "
                "or violence in provinces that had none."
            ),
            tables.DRIVER: driver_column,
        },
    )
    st.caption(
        "Select a row to open the country's profile. Click a column header to sort; "
        "search with the magnifier above the table."
    )
    if picked.selection.rows:
        open_profile(display.index[picked.selection.rows[0]], selection)
without = tables.no_forecast_table(table)
if not without.empty:
    title = f"No forecast for {len(without):,} of the selection's countries, and why"
    with st.expander(title, expanded=display.empty):
        st.dataframe(without, hide_index=True)

names = {**display[tables.COUNTRY].to_dict(), **without[tables.COUNTRY].to_dict()}
left, right = st.columns([3, 1], vertical_alignment="bottom")
chosen = left.selectbox(
    "Open a country profile",
    list(names),
    format_func=names.get,
    key="profile_choice",
    # Once chosen, its events and signals are read in the background while the analyst reaches
    # for the link (not for the default choice: no reads competing with every filter change).
    on_change=lambda: cache.warm_country(st.session_state["profile_choice"], forecast.as_of),
)
# A link, not a button: the profile opens at once (a button reran this page first), and it
# can be opened in a new tab or copied; the filters go with it.
right.page_link(
    PROFILE_PAGE,
    label="Open profile",
    icon=":material/flag:",
    query_params={**to_query(selection), "iso3": chosen},
)

with st.container(border=True):
    st.subheader("Prevention gap: high or rising risk, no UN field presence or envoy")
    st.caption(
        escape_markdown(un_presence.rule(presence_day))
        + " These are the cases a letter under Article 99 would be about."
    )
    if no_forecast:
        st.info("No forecast for the selection, so no country can be listed.")
    else:
        gap = un_presence.gap(table, presence)
        if gap.empty:
            st.info(escape_markdown(un_tools.empty_gap_reason(table, presence)))
        else:
            listed = tables.gap_table(gap)
            picked_gap = st.dataframe(
                tables.styled(listed),
                hide_index=True,
                on_select="rerun",
                selection_mode="single-cell",  # no checkbox column: the table fits the screen
                key="gap_table",
                column_config={
                    tables.RISK: risk_column,
                    tables.GAP_WHY: st.column_config.TextColumn(width=170),
                    tables.DEATHS: deaths_column,
                },
            )
            st.caption("Click a country's row to open its profile.")
            if picked_gap.selection.cells:
                open_profile(listed.index[picked_gap.selection.cells[0][0]], selection)
            st.markdown(
                escape_markdown(un_presence.cost_of_waiting(gap, forecast.as_of, selection.measure))
            )
    for line in un_presence.sources(data_dir):
        st.caption(escape_markdown(line))
    if stale := un_presence.stale(data_dir):
        st.warning(escape_markdown(stale), icon=":material/update:")

with st.container(border=True):
    st.subheader("New risk: quiet countries that could flare up")
    st.caption(
        f"Countries with no month of {THRESHOLD} or more {charts.deaths_of(measure)} in the "
        "past 24 months, ranked by risk: an onset there would surprise most watch lists."
    )
    quiet = new_risk(table)
    if no_forecast:
        st.info("No forecast for the selection, so no quiet country can be ranked.")
    elif quiet.empty:
        st.info("No country in the selection has been quiet for 24 months.")
    else:
        shown = tables.new_risk_table(quiet.head(NEW_RISK_LISTED), forecast.drivers)
        st.dataframe(
            tables.styled(shown),
            hide_index=True,
            column_config={
                tables.RISK: risk_column,
                tables.DEATHS: deaths_column,
                tables.DRIVER: driver_column,
            },
        )
        st.caption(f"The {len(shown):,} riskiest of {len(quiet):,} quiet countries.")

st.divider()
st.caption(escape_markdown(f"Data: {cache.vintage()}"))
cache.warm_panel()  # for the profile an analyst opens next
