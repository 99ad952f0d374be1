"""Snapshots of the global GED 21.1 store, built once for the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from exports.snapshot import Snapshot, build_snapshot
from risk.selection import Selection

SAHEL = Selection(regions=("group:Sahel",))


@pytest.fixture(scope="session")
def sahel_snapshot(global_store: Path) -> Snapshot:
    """The Sahel group (10 countries) forecast from Dec 2020, Nigeria and Mali at the top."""
    return build_snapshot(global_store, SAHEL)
