"""Article 99: the entry point. Routes to the pages, draws the shared filters, shows the vintage.

`streamlit run app.py` first imports this file as a module to find `app` (an `st.App`), whose
start-up warms the server (`ui.warm`); every browser session then runs it as `__main__`,
which routes.
"""

import streamlit as st

if __name__ != "__main__":  # imported by `streamlit run` to start the server
    from ui import warm

    app = st.App(__file__, lifespan=warm.lifespan)
else:
    from ui import cache, filters

    st.set_page_config(page_title="Article 99", layout="wide")

    navigation = st.navigation(
        {
            "Analysis": [
                st.Page(
                    "app_pages/at_risk.py",
                    title="Countries at risk",
                    icon=":material/warning:",
                    default=True,
                ),
                st.Page("app_pages/country.py", title="Country profile", icon=":material/flag:"),
                st.Page(
                    "app_pages/compare.py",
                    title="Compare and trends",
                    icon=":material/stacked_line_chart:",
                ),
                st.Page("app_pages/briefing.py", title="Briefing", icon=":material/slideshow:"),
                st.Page(
                    "app_pages/export.py",
                    title="Export and compare",
                    icon=":material/download:",
                ),
                st.Page("app_pages/alerts.py", title="Alerts", icon=":material/notifications:"),
            ],
            "About the numbers": [
                st.Page("app_pages/skill.py", title="Model skill", icon=":material/verified:"),
                st.Page("app_pages/data.py", title="Data", icon=":material/database:"),
                st.Page(
                    "app_pages/methodology.py", title="Methodology", icon=":material/menu_book:"
                ),
            ],
        }
    )
    # One version of the store for the whole run: an import swapped in meanwhile shows next run.
    with cache.store().pinned():
        st.session_state["selection"] = filters.sidebar(cache.month_span())
        with st.sidebar:
            st.caption(cache.vintage())
        navigation.run()
