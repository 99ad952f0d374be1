"""Methodology: the forecasting method note (docs/methodology.md), as analysts should cite it."""

from pathlib import Path

import streamlit as st

METHODOLOGY = Path(__file__).resolve().parent.parent / "docs" / "methodology.md"

st.markdown(METHODOLOGY.read_text(encoding="utf-8"), unsafe_allow_html=False)
