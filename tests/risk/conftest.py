"""A store holding the global GED file, shared by the engine's tests (imported once)."""

from __future__ import annotations

from pathlib import Path

import pytest

import loaders
from tests.conftest import shared_data_dir

GLOBAL_GED = "ucdp_ged_v21_1_global_precise_reduced.csv.gz"


@pytest.fixture(scope="session")
def global_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with UCDP GED 21.1 (precisely located events, 1989–2020), for the model."""
    path = shared_data_dir() / GLOBAL_GED
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    store = tmp_path_factory.mktemp("global") / "store"
    loaders.import_file(path, data_dir=store)
    return store
