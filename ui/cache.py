"""Cached reads for the pages, keyed on the store's version so a new import shows at once."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from loaders.store import Store


def store() -> Store:
    """The store named by ARTICLE99_DATA_DIR (or the default `data/store`)."""
    return Store()


@st.cache_data(ttl=600, show_spinner=False)
def _sources(root: str, version: str) -> pd.DataFrame:
    rows = []
    for record in Store(root).records():
        p = record.provenance
        rows.append(
            {
                "Source": p["label"],
                "Events": p["rows"],
                "Deaths (best)": p["fatalities_best"],
                "First event": p["first_date"],
                "Last event": p["last_date"],
                "Countries": p["countries"],
                "Covers to": p["coverage"]["last_month"],
                "File": p["file"],
                "Fetched": p["fetched_at"],
                "SHA-256": p["sha256"][:16],
                "Licence": p["licence"],
                "Notes": "; ".join(p.get("notes", []) + p.get("warnings", [])),
                "Citation": p["citation"],
            }
        )
    return pd.DataFrame(rows)


def sources() -> pd.DataFrame:
    """One row per live import with its provenance, for display."""
    current = store()
    return _sources(str(current.root), current.version())


def vintage() -> str:
    """A short line saying which data the page shows, e.g. 'UCDP GED 21.1, events to Dec 2020'."""
    table = sources()
    if table.empty:
        return "No data loaded yet."
    parts = [
        f"{row['Source']}, events to {pd.Timestamp(row['Last event']):%b %Y}"
        for row in table.to_dict("records")
    ]
    return " · ".join(parts)
