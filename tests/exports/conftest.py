"""Snapshots of the global GED 21.1 store, built once for the export tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from exports.snapshot import Snapshot, build_snapshot
from risk import presence
from risk.selection import Selection

SAHEL = Selection(regions=("group:Sahel",))


@pytest.fixture(scope="session")
def sahel_snapshot(global_store: Path) -> Snapshot:
    """The Sahel group (10 countries) forecast from Dec 2020, Nigeria and Mali at the top."""
    return build_snapshot(global_store, SAHEL)


@pytest.fixture(scope="session")
def sahel_gap(global_store: Path, sahel_snapshot: Snapshot) -> pd.DataFrame:
    """The Sahel's prevention-gap list recomputed from the forecast and the presence table."""
    present = presence.on(presence.day_of("2020-12"), global_store)
    return presence.gap(sahel_snapshot.countries, present)


def covered(snapshot: Snapshot) -> Snapshot:
    """The snapshot as if every country had a UN field mission: its prevention gap is empty."""
    return replace(snapshot, presence=snapshot.presence.assign(field=True))
