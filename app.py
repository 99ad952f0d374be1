"""Article 99: the entry point. Routes to the pages and shows the data vintage everywhere."""

import streamlit as st

from ui import cache

st.set_page_config(page_title="Article 99", page_icon=":material/public:", layout="wide")

navigation = st.navigation([st.Page("pages/data.py", title="Data", icon=":material/database:")])
with st.sidebar:
    st.caption(cache.vintage())
navigation.run()
