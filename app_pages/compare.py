"""Compare and trends: several countries or regions over time, on one chart or one panel each."""

import pandas as pd
import streamlit as st

from exports.trend_charts import small_multiples_figure, trend_figure
from loaders.schema import VIOLENCE_TYPES
from risk import trends
from risk.selection import Selection, region_options
from ui import cache, filters
from ui.text import escape_markdown

ALL_TYPES = "all"
MEASURE_NOTES = {
    "ucdp": "Deaths are UCDP best estimates.",
    "acled": "Deaths are ACLED's, by UCDP violence type: battles are state-based or non-state by "
    "their actors, violence against civilians one-sided; ACLED's explosions/remote violence, "
    "protests, riots and strategic developments have no UCDP type and are not counted here.",
}
SHOW = {False: "Per month", True: "Cumulative total"}
SCALES = {"linear": "Linear", "log": "Log"}

st.title("Compare and trends")
selection = st.session_state.get("selection", Selection())
source = filters.counted_source(selection, "this page")
panel = cache.panel(source)
if panel.empty:
    st.info(
        "No data loaded yet, so there is nothing to compare. Import UCDP event data on the "
        "**Data** page, or run `python -m loaders fetch ucdp`."
    )
    st.stop()

names = panel.drop_duplicates("iso3").set_index("iso3")["country"]
options = [key for key, _ in region_options()] + sorted(names.index, key=names.get)
series_slot = st.container()  # above the controls, filled after them: its default depends on them

measure, violence_column, show_column, smoothing_column = st.columns(4)
quantity = measure.radio(
    "Measure",
    list(trends.QUANTITIES),
    format_func=lambda q: trends.QUANTITIES[q].capitalize(),
    horizontal=True,
)
violence_options = ([ALL_TYPES] if len(selection.violence) > 1 else []) + list(selection.violence)
violence_choice = violence_column.selectbox(
    "Violence type",
    violence_options,
    format_func=lambda v: (
        ("All types" if set(selection.violence) == set(VIOLENCE_TYPES) else "All selected types")
        if v == ALL_TYPES
        else v.capitalize()
    ),
)
violence = selection.violence if violence_choice == ALL_TYPES else (violence_choice,)
cumulative_total = show_column.radio(
    "Show", list(SHOW), format_func=SHOW.get, horizontal=True, help="Cumulative: the running "
    "total over the period, from its first month.",
)  # fmt: skip
smoothing = smoothing_column.selectbox(
    "Smoothing",
    list(trends.SMOOTHING),
    format_func=lambda m: f"{trends.SMOOTHING[m]} rolling mean" if m else "No smoothing",
    disabled=cumulative_total,
    help="The mean of the month and the months before it; applies to monthly values only.",
)
scale_column, total_column, period_column, _ = st.columns(4)  # aligned with the row above
log_scale = scale_column.radio(
    "Scale",
    list(SCALES),
    format_func=SCALES.get,
    horizontal=True,
    key="scale",
    bind="query-params",
    help="Log: equal steps for ×10, so a small country's months show beside a large one's. "
    "The height is log(1 + value), so months with 0 stay on the chart, at its foot.",
) == "log"  # fmt: skip
region_totals = bool(selection.regions) and total_column.toggle(
    "Add the region's total" if len(selection.regions) == 1 else "Add each region's total",
    key="total",
    bind="query-params",
    help="The sidebar's regions are compared through their member countries; this adds the sum "
    "of all members as a series of its own.",
)
# The sidebar's Period cannot say "every month" (its full range means "not set"): this can.
all_months = not (selection.start or selection.end) and period_column.toggle(
    "All months of the data",
    key="all_months",
    bind="query-params",
    help=f"Off: the last {trends.DEFAULT_YEARS} years, so that the countries chosen show "
    "rather than one deadly month long ago. The sidebar's Period, when set, decides instead.",
)
shown, period_note = trends.shown_period(panel, selection, all_months=all_months)
st.caption(period_note)

default = [
    key
    for key in trends.default_series(panel, shown, region_totals=region_totals)
    if key in options
]
with series_slot:
    chosen = st.multiselect(
        "Countries and regions",
        options,
        default=default,
        format_func=trends.series_label,
        # A new sidebar selection brings its own default series.
        key="compare_series:" + ",".join(default),
        placeholder="Choose countries or regions",
        help=f"By default the sidebar's countries and, for its regions, their member countries "
        f"with most deaths in the period (at most {trends.MAX_MEMBERS}); without any, the "
        f"{trends.DEFAULT_SERIES} countries with most deaths in its last 12 months. A region "
        "chosen here is drawn as its total, the sum of its member countries.",
    )
    if note := trends.members_not_shown(panel, shown, chosen):
        st.caption(escape_markdown(note))

if not chosen:
    st.info(
        "No country had deaths of the selected types in this period. Choose countries or "
        "regions above."
        if not default
        else "Choose at least one country or region above."
    )
    st.stop()

frame = trends.trend_frame(
    panel,
    chosen,
    quantity=quantity,
    violence=violence,
    start=shown.start,
    end=shown.end,
    smoothing=0 if cumulative_total else smoothing,
    cumulative_total=cumulative_total,
)
label = trends.measure_label(
    quantity, violence, smoothing=0 if cumulative_total else smoothing,
    cumulative_total=cumulative_total,
)  # fmt: skip
title = f"{label}, {trends.period_label(frame)}"
source_note = cache.source_line(source)

one_chart, multiples = st.tabs(["One chart", "Small multiples"], key="view", bind="query-params")
with one_chart:
    # theme=None: Streamlit's theme would replace the figure's 14 px fonts with smaller ones.
    st.plotly_chart(
        trend_figure(frame, title=title, y_label=label, source=source_note, log_scale=log_scale),
        theme=None,
    )
with multiples:
    shared_y = st.toggle(
        "Same y axis in every panel",
        value=True,
        help="Off: each panel gets its own scale, which shows the shape of small series.",
    )
    st.plotly_chart(
        small_multiples_figure(
            frame,
            title=title,
            y_label=label,
            source=source_note,
            shared_y=shared_y,
            log_scale=log_scale,
        ),
        theme=None,
    )

st.caption(
    f"{escape_markdown(source_note)}. {MEASURE_NOTES[source]} A region is the sum of its member "
    "countries; its month is a gap when any member is not covered by the data."
)
filters.caveats(source)
for line in cache.attribution(source):
    st.caption(escape_markdown(line))
gaps = trends.gap_months(frame)
if not gaps.empty:
    st.warning(
        "Some lines have gaps: months no data source in the store covers. They are shown as "
        "breaks, not zeros, and a cumulative total stops at the first gap.",
        icon=":material/report:",
    )
    for row in gaps.itertuples():
        st.text(
            f"{row.name}: {row.months:,} months without data ({row.first:%b %Y} … {row.last:%b %Y})"
        )

st.subheader("The numbers behind the chart")
table = trends.wide_table(frame)
# A series with missing values is text that says why (see trends.wide_table).
as_text = [name for name in table.columns[1:] if not pd.api.types.is_numeric_dtype(table[name])]
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "Month": st.column_config.DateColumn(format="MMM YYYY"),
        **{
            name: st.column_config.TextColumn(alignment="right")
            if name in as_text
            else st.column_config.NumberColumn(format="localized")
            for name in table.columns[1:]
        },
    },
)
missing = (
    f" {trends.NO_DATA.capitalize()}: a month no data source covers; {trends.UNKNOWN}: a mean or "
    "running total that would need such a month."
)
st.caption(f"{label}. {escape_markdown(source_note)}.{missing if as_text else ''}")
