"""Crash safety: an import killed (SIGKILL) at any point leaves the previous store readable.

Real processes are killed: `python -m loaders import/fetch` from outside, at moments found by
watching the store's `downloads/` and `staging/` folders, and a driver
(`tests/reliability/crash_driver.py`) that kills itself at exact points of the commit (the
folder moved in, the new manifest about to replace the live one). After every kill the store
must open at the previous version with every live file byte for byte as before, readers must
see none of the half-done work, and the next import must succeed and clear what was left.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from loaders import acled_remote, http, ucdp_remote
from loaders.pipeline import import_file
from loaders.store import Store
from tests.conftest import GLOBAL_GED, SMALL_GED, shared_data_dir
from tests.loaders import test_acled_remote as acled_site
from tests.loaders import test_ucdp_remote as ucdp_site
from tests.reliability.helpers import (
    FaultyServer,
    drip,
    leftovers,
    live_files,
    python,
    store_checksums,
    wait_for,
)
from tests.reliability.ledger import LEDGER

SAMPLE = "ucdp_ged_v23_1_sample1000.csv"  # 1,000 events, from the shared data
CAR = "ucdp_ged_v23_1_central_african_republic.csv.gz"  # another release file, shared data
KILLED = -signal.SIGKILL
FAST = http.Policy(tries=3, backoff=0.01, max_wait=2.0, connect_timeout=10.0, read_timeout=10.0)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store at version 1: one good import that every kill must leave readable."""
    root = tmp_path / "store"
    import_file(SMALL_GED, data_dir=root)
    return root


@pytest.fixture
def sample(shared_data: Path) -> Path:
    return shared_data / SAMPLE


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with FaultyServer() as running:
        yield running


class Before:
    """What readers saw before the kill: version, live files and the event table."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.version = Store(root).manifest()["version"]
        self.files = live_files(root)
        self.events = Store(root).load_events()
        self.folders = {r.folder for r in Store(root).records(kinds=None)}

    def unchanged(self) -> bool:
        """Whether readers see exactly the previous version: manifest, files and imports."""
        store = Store(self.root)
        return (
            store.manifest()["version"] == self.version
            and live_files(self.root) == self.files
            and {r.folder for r in store.records(kinds=None)} == self.folders
        )

    def kill(
        self,
        process: subprocess.Popen,
        fault: str,
        ready: Callable[[], object] | None = None,
        every: float = 0.01,
    ) -> None:
        """SIGKILL `process` once `ready()` (the driver kills itself without it), then check
        that readers still see the previous version, events included."""
        if ready is not None:
            try:
                wait_for(lambda: ready() or process.poll() is not None, every=every)
            finally:
                process.send_signal(signal.SIGKILL)
        killed(process)
        intact = self.unchanged()
        LEDGER.fault(fault, store_intact=intact)
        assert intact
        pd.testing.assert_frame_equal(Store(self.root).load_events(), self.events)


def killed(process: subprocess.Popen) -> str:
    """Wait for a process that must have been killed; return what it printed on stderr."""
    try:
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == KILLED, err
    return err


def next_import_cleans_up(root: Path, before: Before, path: Path) -> None:
    """The next import succeeds, holds old and new events, and nothing is left over."""
    record = import_file(path, data_dir=root)
    assert Store(root).manifest()["version"] == before.version + 1
    new_ids = set(pd.read_parquet(record.events_path, columns=["event_id"])["event_id"])
    assert len(new_ids) == record.provenance.rows > 0
    events = Store(root).load_events()
    # Where releases overlap, the newer one speaks (Store.events_relation); elsewhere nothing
    # is lost, and nothing comes from anywhere but the two versions.
    countries = set(pd.read_parquet(record.events_path, columns=["iso3"])["iso3"])
    untouched = set(before.events.loc[~before.events["iso3"].isin(countries), "event_id"])
    ids = set(events["event_id"])
    assert untouched <= ids <= set(before.events["event_id"]) | new_ids
    assert ids & new_ids
    assert len(events) == len(set(events["event_id"]))
    assert leftovers(root) == []
    old = {k: v for k, v in before.files.items() if k.startswith("imports")}
    assert {k: v for k, v in store_checksums(root).items() if k in old} == old


# --- killed by a driver at exact points of the commit -------------------------------------

POINTS = {
    "parse": "the raw file is copied into staging and being parsed",
    "write": "events.parquet written in staging, provenance not yet",
    "move": "the import's folder moved into imports/, the manifest not swapped",
    "swap": "the new manifest written beside the live one, not yet renamed over it",
}


@pytest.mark.parametrize("point", list(POINTS))
def test_import_killed_before_the_swap_leaves_the_previous_version(
    store: Path, sample: Path, point: str
) -> None:
    before = Before(store)
    process = python(
        [
            "-m",
            "tests.reliability.crash_driver",
            point,
            "--data-dir",
            str(store),
            "import",
            str(sample),
        ]
    )
    before.kill(process, f"import killed: {POINTS[point]}")
    left = leftovers(store)
    assert left, "the kill should have left half-done work behind"
    expected = {"parse": "staging", "write": "staging", "move": "imports", "swap": ".manifest"}
    assert any(p.startswith(expected[point]) for p in left), left
    if point == "swap":  # the history has the new version; the live manifest is the old one
        assert (store / "manifests" / f"{before.version + 1:06d}.json").exists()
    next_import_cleans_up(store, before, sample)


def test_import_killed_after_the_swap_is_the_new_version(store: Path, sample: Path) -> None:
    """Killed while collecting garbage: the new manifest is live and complete."""
    before = Before(store)
    process = python(
        [
            "-m",
            "tests.reliability.crash_driver",
            "collect",
            "--data-dir",
            str(store),
            "import",
            str(sample),
        ]
    )
    killed(process)
    now = Store(store)
    old = {k: v for k, v in before.files.items() if k.startswith("imports")}
    intact = {k: v for k, v in live_files(store).items() if k in old} == old
    LEDGER.fault("import killed: new version live, old not yet collected", store_intact=intact)
    assert intact
    assert now.manifest()["version"] == before.version + 1
    labels = sorted(r.provenance.file for r in now.records())
    assert labels == sorted([SMALL_GED.name, SAMPLE])
    assert len(now.load_events()) == len(before.events) + 1_000
    next_import_cleans_up(store, Before(store), sample.with_name(CAR))


# --- killed from outside, at moments seen in the store's folders --------------------------


def global_file() -> Path:
    path = shared_data_dir() / GLOBAL_GED
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


def staged(root: Path, pattern: str) -> list[Path]:
    return list((root / "staging").glob(pattern))


@pytest.mark.parametrize(
    ("moment", "pattern"),
    [
        ("copying or parsing the raw file", f"*/raw/{GLOBAL_GED}"),
        ("writing events.parquet", "*/events.parquet"),
    ],
)
def test_big_import_killed_while_writing(store: Path, moment: str, pattern: str) -> None:
    """The 2.5 MB global GED (≈ 2 s to import): killed as soon as its file shows in staging."""
    source = global_file()
    before = Before(store)
    process = python(["-m", "loaders", "--data-dir", str(store), "import", str(source)])
    before.kill(
        process, f"import killed while {moment}", lambda: staged(store, pattern), every=0.002
    )
    assert leftovers(store), "killed before the import finished: staging should hold its work"
    next_import_cleans_up(store, before, source.with_name(SAMPLE))


def test_bulk_download_killed_midway(store: Path, server: FaultyServer) -> None:
    """`fetch ucdp` killed while the zip drips in: the part file is never read, then removed."""
    ucdp_site.FakeUcdp(server)
    server.script(ucdp_site.YEARLY_PATH, drip(4_096, 0.05))  # about 3 s for the whole zip
    before = Before(store)
    process = python(
        [
            "-m",
            "loaders",
            "--data-dir",
            str(store),
            "fetch",
            "ucdp",
            "--version",
            "25.1",
            "--base-url",
            server.url,
            "--no-progress",
        ]
    )

    def partial() -> list[Path]:
        return [p for p in (store / "downloads").glob("*/*.part") if p.stat().st_size > 0]

    before.kill(process, "fetch ucdp killed while downloading", partial)
    (left,) = leftovers(store)
    assert left.startswith("downloads")
    record = ucdp_remote.fetch(
        version="25.1", base_url=server.url, data_dir=store, progress=False, policy=FAST
    )
    assert record.provenance.rows == 600
    assert leftovers(store) == [] and not (store / "downloads").exists()


def test_api_pull_killed_between_pages(
    store: Path, server: FaultyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fetch ucdp --api` killed on its second page: the first page saved is never imported."""
    monkeypatch.setenv(ucdp_remote.TOKEN_ENV, ucdp_site.TOKEN)
    ucdp_site.FakeUcdp(server)
    server.script(ucdp_site.API_ROUTE, *[drip(8_192, 0.05)] * 3)
    before = Before(store)
    process = python(
        [
            "-m",
            "loaders",
            "--data-dir",
            str(store),
            "fetch",
            "ucdp",
            "--api",
            "--version",
            "25.1",
            "--api-url",
            server.url,
            "--no-progress",
        ]
    )
    before.kill(
        process,
        "fetch ucdp --api killed between pages",
        lambda: list((store / "downloads").glob("*/page-00001.json.part")),
    )
    (left,) = leftovers(store)
    saved = sorted(p.name for p in (store / left).iterdir())
    assert "page-00000.json" in saved
    assert json.loads((store / left / "page-00000.json").read_bytes())["TotalPages"] == 3
    record = ucdp_remote.fetch(
        version="25.1",
        use_api=True,
        api_url=server.url,
        data_dir=store,
        progress=False,
        policy=FAST,
    )
    assert record.provenance.rows == 2_500
    assert leftovers(store) == []


def test_acled_pull_killed_midway(
    store: Path, server: FaultyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fetch acled` killed while a page drips in: nothing reaches the store; the next pull
    clears the killed run's folder."""
    monkeypatch.setenv(acled_remote.USERNAME_ENV, acled_site.USERNAME)
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, acled_site.PASSWORD)
    acled_site.FakeAcled(server)
    server.script(acled_site.READ_ROUTE, drip(200, 0.05))  # about 2 s for the page
    before = Before(store)
    process = python(
        [
            "-m",
            "loaders",
            "--data-dir",
            str(store),
            "fetch",
            "acled",
            "--base-url",
            server.url,
            "--no-progress",
        ]
    )
    before.kill(
        process,
        "fetch acled killed while a page arrives",
        lambda: server.hits(acled_site.READ_ROUTE),
    )
    (left,) = leftovers(store)
    assert left.startswith("downloads")
    record = acled_remote.fetch(
        base_url=server.url, data_dir=store, progress=False, policy=FAST, page_size=3
    )
    assert record.provenance.rows == 7
    assert leftovers(store) == []
