"""Shared test helpers: where the shared data lives, a fresh store, GED files built from rows."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL_GED = FIXTURES / "GEDEvent_v25_1_small.csv"
GLOBAL_GED = "ucdp_ged_v21_1_global_precise_reduced.csv.gz"
# No 6-minute backtest behind every import and app server of the suite (risk.prepare); the
# tests that start one set it back for themselves. Subprocesses inherit it.
os.environ["ARTICLE99_AUTO_BACKTEST"] = "0"


def shared_data_dir() -> Path:
    return Path(os.environ.get("ARTICLE99_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data; skipped on a laptop without it, a failure in CI."""
    path = shared_data_dir()
    if not (path / "PROVENANCE.md").exists():
        if os.environ.get("ARTICLE99_REQUIRE_SHARED_DATA"):
            pytest.fail(f"shared data missing at {path}")
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


def ged_rows() -> list[dict[str, str]]:
    """The hand-written GED fixture as a list of rows (column -> text)."""
    with SMALL_GED.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_ged(path: Path, rows: list[dict[str, str]], *, header: bool = True) -> Path:
    """Write rows in GED's 49-column layout (the fixture's header order)."""
    columns = list(ged_rows()[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        if header:
            writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def global_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with UCDP GED 21.1 (precisely located events, 1989–2020), imported once a run."""
    path = shared_data_dir() / GLOBAL_GED
    if not path.exists():
        if os.environ.get("ARTICLE99_REQUIRE_SHARED_DATA"):
            pytest.fail(f"shared data missing at {path}")
        pytest.skip(f"shared data not found at {path}")
    import loaders

    store = tmp_path_factory.mktemp("global") / "store"
    loaders.import_file(path, data_dir=store)
    return store


# The mixed store of issue 13: a global release to 2020, country-only releases beyond it, and
# two ACLED exports that end on different days.
MIXED_FILES = (
    (GLOBAL_GED, "ucdp"),
    ("ucdp_ged_v23_1_central_african_republic.csv.gz", "ucdp"),
    ("ucdp_ged_v24_1_myanmar.csv.gz", "ucdp"),
    ("acled/acled_benin_2009_2022.csv", "acled"),
    ("acled/acled_burkina_faso_2019_2022_reduced_columns.csv.gz", "acled"),
)


@pytest.fixture(scope="session")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GED 21.1 (global, to 2020), GED 23.1 CAR (to 2022), GED 24.1 Myanmar (to 2023) and the
    Benin and Burkina Faso ACLED exports, with the default forecast computed (a minute or two,
    once a run: it is kept in the store)."""
    shared = shared_data_dir()
    if not (shared / GLOBAL_GED).exists():
        if os.environ.get("ARTICLE99_REQUIRE_SHARED_DATA"):
            pytest.fail(f"shared data missing at {shared}")
        pytest.skip(f"shared data not found at {shared}")
    import loaders
    from risk.forecast import risk_forecast

    store = tmp_path_factory.mktemp("mixed") / "store"
    for name, source in MIXED_FILES:
        loaders.import_file(shared / name, source=source, data_dir=store)
    risk_forecast(store)
    return store


@pytest.fixture(scope="module")
def global_app_store(global_store: Path) -> Iterator[Path]:
    """The global store named by ARTICLE99_DATA_DIR for a module, its forecast computed."""
    from risk.forecast import risk_forecast

    risk_forecast(global_store)  # trains the model once; it is kept in the store
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(global_store))
        yield global_store


@pytest.fixture
def forecast_store(global_store: Path, tmp_path: Path) -> Path:
    """A copy of the global store with its forecast, for a test that writes into it."""
    from risk.forecast import risk_forecast

    risk_forecast(global_store)  # trains the model once a run; it is kept in the store
    copy = tmp_path / "store"
    shutil.copytree(global_store, copy)
    return copy


def open_page(page: str, timeout: float = 300, **query: str):
    """`app.py` in an AppTest, opened on `page` with these URL parameters, without an error."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, to prove a failed import changed nothing."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the reliability and security tests tried (issue: faults, hostile input)."""
    from tests.reliability.ledger import LEDGER

    if LEDGER.empty():
        return
    terminalreporter.section("reliability and security")
    for line in LEDGER.lines():
        terminalreporter.write_line(line)
