"""Loaders: public conflict-event data into a local store, in one canonical shape.

`load_events()` is the one call the rest of Article 99 uses to read events.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError
from loaders.pipeline import import_file
from loaders.store import Store

__all__ = ["LoaderError", "Store", "import_file", "load_events"]


def load_events(
    data_dir: str | Path | None = None,
    sources: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The canonical event table of the store (columns as in `loaders.schema`)."""
    return Store(data_dir).load_events(sources=sources, columns=columns, countries=countries)
