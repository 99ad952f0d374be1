"""Briefing: the selection's countries one slide at a time, for a meeting room or a call,
then its prevention gap (high or rising risk, no UN field mission or envoy).

The slides are `exports.slides.briefing_slides()`, the same words as the PowerPoint deck. The
slide number (1-based) and a chosen list of countries live in the URL (`slide`, `brief`), so a
link reopens the same slide; a number out of range is clamped. A slide change reruns only the
slide (a fragment), and the neighbouring slides' charts are drawn ahead in the background, so
PageDown answers at once.
"""

import streamlit as st

from exports import charts, slides
from exports.snapshot import Snapshot
from risk.selection import Selection
from ui import cache, filters, previous
from ui.text import escape_markdown

COUNTRIES_KEY = "briefing_countries"
CHART_HEIGHT = 600
# Hides the sidebar, its toggle and the app's header; the page's own controls stay visible.
FULL_SCREEN_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; max-width: 100%; }
</style>"""


def slide_number(text: str | None, count: int) -> int:
    """The URL's slide number clamped to 1…count; anything not a number means the first."""
    try:
        number = int(str(text).strip())
    except ValueError:
        number = 1
    return min(max(number, 1), count)


def go_to(number: int) -> None:
    st.query_params["slide"] = str(number)


def remember_countries() -> None:
    """Write the chosen countries to the URL before the rerun, so the link reproduces them."""
    chosen = st.session_state[COUNTRIES_KEY]
    if chosen:
        st.query_params["brief"] = ",".join(chosen)
    else:
        st.query_params.pop("brief", None)


selection = st.session_state.get("selection", Selection())
if cache.sources().empty:
    st.title("Briefing")
    st.info("The store is empty: load data on the Data page first, then brief from here.")
    st.page_link("app_pages/data.py", label="Load data", icon=":material/database:")
    st.stop()
with filters.forecasting(selection):
    snapshot, problem = cache.snapshot_or_problem(selection)
if snapshot is None or snapshot.ranked.empty:
    st.title("Briefing")
    reason = problem or f"no country in the selection has a forecast{cache.WIDEN}"
    st.info(f"Nothing to brief on: {escape_markdown(reason)}.")
    st.stop()
previous.label(snapshot.forecast)

names = snapshot.countries.set_index("iso3")["name"].to_dict()
ordered = [*snapshot.ranked.sort_values("rank")["iso3"], *snapshot.countries["iso3"]]
options = list(dict.fromkeys(ordered))
wanted = [c for c in (st.query_params.get("brief") or "").split(",") if c in names]
st.session_state[COUNTRIES_KEY] = list(dict.fromkeys(wanted))[: slides.MAX_COUNTRIES]

controls = st.columns([3, 1], vertical_alignment="bottom")
chosen = controls[0].multiselect(
    "Countries, in the order to present them",
    options,
    format_func=lambda iso3: names.get(iso3, iso3),
    key=COUNTRIES_KEY,
    on_change=remember_countries,
    max_selections=slides.MAX_COUNTRIES,
    placeholder="The selection's countries, riskiest first",
    help=f"Empty: the selection's countries ranked by risk (up to {slides.MAX_COUNTRIES}).",
)
if controls[1].toggle("Fill the screen", key="briefing_full_screen", help="Hide the sidebar."):
    st.html(FULL_SCREEN_CSS)

deck = slides.briefing_slides(snapshot, chosen or None)


@st.fragment
def show(deck: list[slides.Slide], snapshot: Snapshot) -> None:
    """The buttons and the current slide: a slide change reruns only this, not the page."""
    number = slide_number(st.query_params.get("slide"), len(deck))
    st.query_params["slide"] = str(number)
    slide = deck[number - 1]

    previous, position, following = st.columns([1, 2, 1], vertical_alignment="center")
    previous.button(
        "Previous",
        key="briefing_previous",
        icon=":material/arrow_back:",
        on_click=go_to,
        args=(number - 1,),
        disabled=number == 1,
        shortcut="PageUp",
        width="stretch",
    )
    position.markdown(f"Slide {number} of {len(deck)}", text_alignment="center")
    following.button(
        "Next",
        key="briefing_next",
        icon=":material/arrow_forward:",
        icon_position="right",
        on_click=go_to,
        args=(number + 1,),
        disabled=number == len(deck),
        shortcut="PageDown",
        width="stretch",
    )

    with st.container(border=True):
        st.title(escape_markdown(slide.title), anchor=False)
        if slide.kind == "insufficient":
            for point in slide.points:
                st.info(escape_markdown(point), icon=":material/info:")
        elif slide.kind in ("no_forecast", "gap"):
            st.subheader(escape_markdown(slide.interval), anchor=False)
            st.markdown("\n".join(f"- {escape_markdown(point)}" for point in slide.points))
            for note in slide.notes:
                st.markdown(escape_markdown(note))
        else:
            numbers, points = st.columns([3, 2], gap="large")
            if slide.risk:
                numbers.header(escape_markdown(slide.risk), anchor=False)
            if slide.interval:
                numbers.subheader(escape_markdown(slide.interval), anchor=False)
            points.markdown("\n".join(f"- {escape_markdown(point)}" for point in slide.points))
        if slide.chart:
            figure = cache.snapshot_figure(snapshot, slide.chart)
            figure.update_layout(height=CHART_HEIGHT)
            st.plotly_chart(
                figure, config=charts.PLOTLY_CONFIG, theme=None, key="briefing_slide_chart"
            )
        if slide.sources:
            st.caption(escape_markdown(slides.sources_line(slide)))
        for caveat in snapshot.caveats:
            st.caption(escape_markdown(caveat))
        st.caption(escape_markdown(slide.footer))
    # The next and previous slides' charts, drawn while this one is shown.
    neighbours = deck[max(number - 2, 0) : number + 1]
    cache.warm_snapshot_figures(snapshot, [s.chart for s in neighbours if s.chart])


show(deck, snapshot)
