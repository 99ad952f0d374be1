"""Data: what is in the store, where it came from, and how to cite it."""

import streamlit as st

from ui import cache

st.title("Data sources")
sources = cache.sources()
if sources.empty:
    st.info(
        "The local store is empty. To load data:\n\n"
        "1. Download UCDP's yearly event data (no account needed): "
        "`python -m loaders fetch ucdp`\n"
        "2. Or import a file you already have (UCDP GED CSV, .csv.gz or .zip): "
        "`python -m loaders import PATH`\n"
        "3. ACLED data need an account: set `ACLED_USERNAME` and `ACLED_PASSWORD`.\n\n"
        f"Store: `{cache.store().root}`"
    )
    st.stop()

total_events = int(sources["Events"].sum())
st.metric("Events in the store", f"{total_events:,}")
st.dataframe(
    sources.drop(columns=["Citation"]),
    hide_index=True,
    column_config={
        "Events": st.column_config.NumberColumn(format="localized"),
        "Deaths (best)": st.column_config.NumberColumn(format="localized"),
    },
)
st.subheader("How to cite")
for citation in sorted(set(sources["Citation"])):
    st.text(citation)
