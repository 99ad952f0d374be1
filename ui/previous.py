"""The label on every page that shows a forecast when it is the previous one.

Right after an import the live data have no forecast yet: `ui.cache.risk()` returns the one
made for the previous data while the new one is computed in the background. Analysts must
never take it for the current one, so each page that shows a forecast calls `label`.
"""

from __future__ import annotations

import streamlit as st

from exports.charts import month_label
from risk.forecast import RiskForecast
from ui import cache
from ui.text import escape_markdown

CHECK_EVERY_S = 5


def label(forecast: RiskForecast | None) -> bool:
    """Say so when `forecast` is the previous one, and rerun the page once the current one is
    ready. True when it is the previous one."""
    if forecast is None or not cache.is_previous(forecast):
        return False
    st.info(escape_markdown(text(forecast)), icon=":material/history:")
    _rerun_when_ready(forecast.stored["key"]["as_of"])
    return True


def text(forecast: RiskForecast) -> str:
    """E.g. 'Showing the forecast made for the previous data (store version 3, data to Dec
    2020); the forecast for the data imported at 12:04 UTC is being computed …'."""
    made_for = forecast.stored["key"]["store_version"]  # "3-<imported at>"
    month = month_label(forecast.as_of)
    if made_for == cache.store().version():  # same data, other code or libraries
        what = f"made by the previous version of the model (data to {month})"
        new = "the current model's forecast"
    else:
        version = made_for.split("-")[0]
        what = f"made for the previous data (store version {version}, data to {month})"
        new = f"the forecast for the data {cache.imported_at()}"
    return f"Showing the forecast {what}; {new} is being computed and will replace it here."


@st.fragment(run_every=CHECK_EVERY_S)
def _rerun_when_ready(as_of: str) -> None:
    if not cache.forecast_pending(None if as_of == "latest" else as_of):
        st.rerun()
