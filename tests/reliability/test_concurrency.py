"""Concurrent use: imports at once wait or are refused; readers see one version, never a mix.

Writers are real processes (`python -m loaders`, or a loop of imports), because the store's
lock is a file lock between processes. Readers are threads of this process calling what the
app calls: `Store.load_events`, and `ui.cache`'s readers (outside a Streamlit run their caches
live in memory). Two versions of one release file, A and B, have different events, so every
result can be told apart: it must be exactly A's or exactly B's.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pandas as pd
import pytest
import streamlit as st

from loaders import store as store_module
from loaders.cli import main
from loaders.pipeline import import_file
from loaders.store import Store
from risk.panel import country_month_panel
from tests.conftest import GLOBAL_GED, REPO, ged_rows, shared_data_dir, write_ged
from tests.loaders import test_ucdp_remote as ucdp_site
from tests.loopback import Reply, Request
from tests.reliability.helpers import (
    FaultyServer,
    drip,
    leftovers,
    live_files,
    python,
    wait_for,
)
from tests.reliability.ledger import LEDGER

RELEASE_FILE = "GEDEvent_v25_1.csv"  # A and B share the name, so B replaces A and back
SAMPLE = "ucdp_ged_v23_1_sample1000.csv"
IMPORT_LOOP = """
import sys, time
from loaders.pipeline import import_file
a, b, root, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for i in range(count):
    import_file(b if i % 2 == 0 else a, data_dir=root)
    time.sleep(0.05)
"""


@dataclass(frozen=True)
class Version:
    """One version of the release file and what readers must see of it."""

    path: Path
    event_ids: frozenset[str]
    deaths: int
    panel_deaths: int


def version_of(folder: Path, rows: list[dict]) -> Version:
    folder.mkdir()
    path = write_ged(folder / RELEASE_FILE, rows)
    alone = folder / "store"
    import_file(path, data_dir=alone)
    events = Store(alone).load_events()
    panel = country_month_panel(alone)
    return Version(
        path,
        frozenset(events["event_id"]),
        int(events["fatalities_best"].sum()),
        int(panel["fatalities_total"].sum()),
    )


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Version, Version]:
    """A: the hand-written fixture's events. B: other ids, ten times the deaths, two more."""
    rows = ged_rows()
    b_rows = []
    for i, row in enumerate(rows + rows[:2]):
        tenfold = {k: str(int(row[k]) * 10) for k in ("best", "low", "high")}
        b_rows.append({**row, **tenfold, "id": str(900_000 + i)})
    a, b = version_of(tmp_path / "a", rows), version_of(tmp_path / "b", b_rows)
    assert a.event_ids.isdisjoint(b.event_ids) and a.deaths * 10 < b.deaths
    assert a.panel_deaths == a.deaths and b.panel_deaths == b.deaths
    return a, b


@pytest.fixture
def store(tmp_path: Path, versions: tuple[Version, Version]) -> Path:
    """A store at version 1 holding A."""
    root = tmp_path / "store"
    import_file(versions[0].path, data_dir=root)
    return root


@pytest.fixture
def app_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The store as the app sees it (ARTICLE99_DATA_DIR), with empty `ui.cache` caches."""
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store))
    st.cache_data.clear()
    yield store
    st.cache_data.clear()


def which(events: pd.DataFrame, a: Version, b: Version) -> str:
    """ "A" or "B" when the events are exactly one version's; otherwise what they mix."""
    ids = frozenset(events["event_id"])
    for name, version in (("A", a), ("B", b)):
        if ids == version.event_ids and int(events["fatalities_best"].sum()) == version.deaths:
            return name
    return f"a mix of {len(ids & a.event_ids)} A and {len(ids & b.event_ids)} B events"


def run_import(path: Path, root: Path) -> None:
    """Import with `python -m loaders` in its own process, to the end (the store, not the
    forecast, is under test here)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loaders",
            "--data-dir",
            str(root),
            "import",
            str(path),
            "--no-forecast",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def import_loop(a: Version, b: Version, root: Path, count: int) -> subprocess.Popen:
    """Start a process importing B, A, B, … `count` times."""
    return python(["-c", IMPORT_LOOP, str(a.path), str(b.path), str(root), str(count)])


def global_file() -> Path:
    path = shared_data_dir() / GLOBAL_GED
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


def import_holding_the_lock(root: Path) -> subprocess.Popen:
    """A real import of the 2.5 MB global GED, returned once it holds the store's lock."""
    process = python(
        ["-m", "loaders", "--data-dir", str(root), "import", str(global_file()), "--no-forecast"]
    )
    wait_for(lambda: list((root / "staging").glob("*")) or process.poll() is not None)
    assert process.poll() is None, process.communicate()
    return process


# --- two writers -------------------------------------------------------------------------


def history(root: Path, version: int) -> dict:
    return json.loads((root / "manifests" / f"{version:06d}.json").read_text(encoding="utf-8"))


def test_second_import_waits_for_the_first(store: Path, versions: tuple[Version, Version]) -> None:
    """Two `python -m loaders import` at once: the second waits for the lock, then commits."""
    b = versions[1]
    (a_folder,) = Store(store).manifest()["imports"].values()
    first = import_holding_the_lock(store)
    second = python(
        ["-m", "loaders", "--data-dir", str(store), "import", str(b.path), "--no-forecast"]
    )
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    (replaced,) = [r for r in Store(store).records() if r.provenance.file == RELEASE_FILE]
    imported = set(pd.read_parquet(replaced.events_path, columns=["event_id"])["event_id"])
    intact = imported == b.event_ids and leftovers(store) == []
    LEDGER.fault("two imports at once (the second waits)", store_intact=intact)
    assert (first.returncode, second.returncode) == (0, 0), outputs
    assert intact
    # One after the other: the global file became version 2 beside A, then B replaced A.
    manifest = Store(store).manifest()
    assert manifest["version"] == 3
    second_version = history(store, 2)["imports"]
    assert a_folder in second_version.values() and len(second_version) == 2
    assert set(second_version) == set(manifest["imports"])
    assert a_folder not in manifest["imports"].values()
    names = sorted(r.provenance.file for r in Store(store).records())
    assert names == sorted([GLOBAL_GED, RELEASE_FILE])


def test_import_refused_while_another_is_stuck(
    store: Path,
    versions: tuple[Version, Version],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An import stopped (SIGSTOP) while it holds the lock: the next is refused in words."""
    monkeypatch.setattr(store_module, "LOCK_WAIT_SECONDS", 1.0)
    first = import_holding_the_lock(store)
    first.send_signal(signal.SIGSTOP)
    try:
        before = live_files(store)
        code = main(["--data-dir", str(store), "import", str(versions[1].path), "--no-forecast"])
        err = capsys.readouterr().err
        intact = live_files(store) == before
        LEDGER.fault("import while another holds the lock (refused)", store_intact=intact)
        assert intact
    finally:
        first.send_signal(signal.SIGCONT)
    assert code == 1
    assert err == (
        f"error: {store}: another import is writing to this store; try again when it ends\n"
    )
    first.communicate(timeout=120)
    assert first.returncode == 0
    names = sorted(r.provenance.file for r in Store(store).records())
    assert names == sorted([GLOBAL_GED, RELEASE_FILE])
    assert versions[0].event_ids <= set(Store(store).load_events()["event_id"])  # still A


def test_two_fetches_at_once(store: Path) -> None:
    """Two `fetch ucdp` download side by side (each in its own folder), then commit in turn."""
    with FaultyServer() as server:
        both = threading.Barrier(2, timeout=120)  # neither answer starts before both are asked

        def together(_request: Request) -> Reply:
            both.wait()
            return Reply(200, ucdp_site.YEARLY_ZIP, "application/zip", ranges=True)

        server.route(re.escape(ucdp_site.YEARLY_PATH), together)
        server.script(ucdp_site.YEARLY_PATH, drip(4_096, 0.05), drip(4_096, 0.05))  # ~3 s each
        command = ["-m", "loaders", "--data-dir", str(store), "fetch", "ucdp", "--version",
                   "25.1", "--base-url", server.url, "--no-progress", "--no-forecast"]  # fmt: skip
        first, second = python(command), python(command)
        # Both downloads under way at once: the second must not take the first's folder.
        wait_for(lambda: len(list((store / "downloads").glob("*/*.part"))) == 2)
        outputs = [p.communicate(timeout=120) for p in (first, second)]
    manifest = Store(store).manifest()
    intact = manifest["version"] == 3 and leftovers(store) == []
    LEDGER.fault("two fetches at once", store_intact=intact)
    assert (first.returncode, second.returncode) == (0, 0), outputs
    assert intact
    (fetched,) = [r for r in Store(store).records() if r.provenance.file == "ged251-csv.zip"]
    assert fetched.provenance.rows == 600
    assert not (store / "downloads").exists()


# --- readers while a writer swaps ---------------------------------------------------------


def test_a_pinned_read_keeps_its_version_through_real_imports(
    store: Path, versions: tuple[Version, Version]
) -> None:
    """Inside `Store.pinned()` four imports (more than the history keeps) change nothing."""
    a, b = versions
    (a_folder,) = Store(store).manifest()["imports"].values()
    with Store(store).pinned() as pinned:
        version = pinned.version()
        panel = country_month_panel(store)
        writer = import_loop(a, b, store, 4)  # B, A, B, A: versions 2 to 5
        assert writer.communicate(timeout=300)[1] == "" and writer.returncode == 0
        assert Store(store).version() == version
        assert which(Store(store).load_events(), a, b) == "A"
        pd.testing.assert_frame_equal(country_month_panel(store), panel)
        assert (store / "imports" / a_folder).is_dir()  # kept for this reader
    assert Store(store).manifest()["version"] == 5
    assert which(Store(store).load_events(), a, b) == "A"  # the last import was A again
    import_file(b.path, data_dir=store)
    assert not (store / "imports" / a_folder).exists()  # collected once nobody reads it
    assert which(Store(store).load_events(), a, b) == "B"
    assert [p.name for p in (store / "readers").iterdir()] == []


def import_when_called(function: str, path: Path, root: Path) -> Callable[[], None]:
    """Run a real import the moment this thread calls `function`; return an undo."""
    done = []

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event == "call" and frame.f_code.co_name == function and not done:
            done.append(function)
            run_import(path, root)

    sys.setprofile(profile)
    return lambda: sys.setprofile(None)


def cached_reads() -> dict[str, tuple[Callable[[], object], str, Callable[[object], int]]]:
    """`ui.cache` readers, the call inside them where a swap is slipped in, and a death count."""
    from ui import cache

    return {
        "sources": (cache.sources, "_sources", lambda t: int(t["Deaths (best)"].sum())),
        "panel": (cache.panel, "country_month_panel", lambda t: int(t["fatalities_total"].sum())),
        "country_events": (
            lambda: cache.country_events("MLI"),
            "load_events",
            lambda t: int(t["fatalities_best"].sum()),
        ),
        "signals": (
            lambda: cache.signals("2024-03"),
            "signals_from_store",
            lambda t: int(t["fatalities"].sum()),
        ),
    }


@pytest.mark.parametrize("reader", ["sources", "panel", "country_events", "signals"])
def test_cached_read_and_its_key_are_one_version(
    app_store: Path, versions: tuple[Version, Version], reader: str
) -> None:
    """A real import lands between the cache key and the read: the read is still the old one.

    Before `Store.pinned()`, `ui.cache` took the version for its key, then read the store
    again, so the import's data were cached under the old version's key.
    """
    b = versions[1]
    read, inside, deaths = cached_reads()[reader]
    old = read()
    st.cache_data.clear()
    undo = import_when_called(inside, b.path, app_store)
    try:
        during = read()
    finally:
        undo()
    assert Store(app_store).manifest()["version"] == 2  # the import did land meanwhile
    after = read()
    intact = deaths(during) == deaths(old)
    LEDGER.fault(f"import swapped in during ui.cache.{reader}", store_intact=intact)
    assert intact
    assert deaths(after) > deaths(old) > 0  # B has ten times A's deaths


def test_readers_never_see_a_mix(app_store: Path, versions: tuple[Version, Version]) -> None:
    """Reader threads run the app's reads while a process swaps A and B twelve times."""
    from ui import cache

    a, b = versions
    totals = {"A": (a.deaths, a.panel_deaths), "B": (b.deaths, b.panel_deaths)}
    writer = import_loop(a, b, app_store, 12)
    seen: list[str] = []
    problems: list[str] = []

    def read_until_done() -> None:
        while writer.poll() is None:
            try:
                with Store(app_store).pinned() as pinned:
                    version = pinned.manifest()["version"]
                    got = which(pinned.load_events(), a, b)
                    expected = "A" if version % 2 else "B"  # A at 1, B at 2, A at 3, …
                    if got != expected:
                        problems.append(f"version {version} read as {got}")
                events = which(Store(app_store).load_events(), a, b)
                panel = int(cache.panel()["fatalities_total"].sum())
                sources = int(cache.sources()["Deaths (best)"].sum())
            except Exception as exc:  # any failure of a reader is the finding
                problems.append(repr(exc))
                return
            if events not in totals or panel not in {p for _, p in totals.values()}:
                problems.append(f"events {events}, panel deaths {panel}")
            if sources not in {d for d, _ in totals.values()}:
                problems.append(f"sources table says {sources} deaths")
            seen.append(events)

    readers = [threading.Thread(target=read_until_done) for _ in range(2)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join(timeout=300)
    _, err = writer.communicate(timeout=60)
    intact = not problems and writer.returncode == 0
    LEDGER.fault("readers during 12 swaps", store_intact=intact)
    assert writer.returncode == 0, err
    assert problems == []
    assert seen, "the readers never ran while the writer swapped"
    assert Store(app_store).manifest()["version"] == 13
    assert which(Store(app_store).load_events(), a, b) == "A"
    assert leftovers(app_store) == []
