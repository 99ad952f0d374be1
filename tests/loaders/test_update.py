"""`python -m loaders update` end to end against loopback servers publishing real UCDP data.

The fake UCDP site has a download page and real files built at test time from the shared data:
GED 23.1 (the 1,000-event sample, zipped as UCDP publishes it) and Candidate releases of 2023
cut from GED 24.1 Myanmar's 2023 events (Jan–Feb as one multi-month file, March alone). The
fake ACLED API is the one of `test_acled_remote`. Nothing is mocked: every request goes through
requests/urllib3 to a socket, and each run computes a real forecast and snapshot.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import socket
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from urllib.parse import urlsplit

import pytest

from loaders import acled_remote, http, update
from loaders.cli import main
from loaders.store import Store
from loaders.ucdp import Release
from tests.conftest import FIXTURES, shared_data_dir
from tests.loaders.test_acled_remote import (
    PASSWORD,
    TOKEN_ROUTE,
    USERNAME,
    AcledServer,
    FakeAcled,
)
from tests.loopback import Reply

FAST = http.Policy(tries=3, backoff=0.01, max_wait=2.0, connect_timeout=2.0, read_timeout=2.0)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
# Linked from the page: what the update must fetch, and what it must leave (older, covered).
FETCHED = {
    "/downloads/ged/ged231-csv.zip": ("GEDEvent_v23_1.csv", None),
    "/downloads/candidateged/GEDEvent_v23_01_23_02.csv": (None, ("2023-01", "2023-02")),
    "/downloads/candidateged/GEDEvent_v23_0_3.csv": (None, ("2023-03",)),
}
NOT_FETCHED = (
    "/downloads/ged/ged221-csv.zip",  # an older yearly release
    "/downloads/candidateged/GEDEvent_v23_0_2.csv",  # inside the Jan–Feb file
    "/downloads/candidateged/GEDEvent_v22_0_12.csv",  # covered by GED 23.1
)
PAGE = f"""<!DOCTYPE html><html><body><h1>Download Center</h1><ul>
{"".join(f'<li><a href="{path}">{Path(path).name}</a></li>' for path in [*FETCHED, *NOT_FETCHED])}
<li><a href="ged/ged231.pdf">Codebook</a></li></ul></body></html>"""
LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|ERROR) (?P<step>\w+): .+")
EMPTY_PAGE = "<html><body><p>The download center is being rebuilt.</p></body></html>"


@dataclass
class Run:
    """One `python -m loaders update`: its exit code and its log lines."""

    code: int
    log: str


def run(store: Path, url: str, *extra: str) -> Run:
    """The update from the CLI, in this process (stderr captured), against `url`."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            ["--data-dir", str(store), "update", "--base-url", url, "--api-url", url, *extra]
        )
    return Run(code, err.getvalue())


def content(root: Path) -> dict[str, str]:
    """sha256 of the store's files, leaving out locks and read leases (a run takes them)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock") and "readers" not in p.parts
    }


# --- the published files, built once from the shared data ---------------------------------


@pytest.fixture(scope="module")
def published() -> dict[str, bytes]:
    shared = shared_data_dir()
    if not (shared / "ucdp_ged_v24_1_myanmar.csv.gz").exists():
        if os.environ.get("ARTICLE99_REQUIRE_SHARED_DATA"):
            pytest.fail(f"shared data missing at {shared}")
        pytest.skip(f"shared data not found at {shared}")
    files = {}
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(shared / "ucdp_ged_v23_1_sample1000.csv", "GEDEvent_v23_1.csv")
    files["/downloads/ged/ged231-csv.zip"] = zipped.getvalue()
    with gzip.open(shared / "ucdp_ged_v24_1_myanmar.csv.gz", "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for path, (_, months) in FETCHED.items():
        if months:
            chosen = [r for r in rows if r["date_start"][:7] in months]
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(chosen)
            files[path] = out.getvalue().encode("utf-8")
    return files


def serve_ucdp(server: AcledServer, files: dict[str, bytes], page: str = PAGE) -> None:
    server.serve_bytes("/downloads/", page.encode(), "text/html; charset=utf-8", ranges=False)
    for path, data in files.items():
        kind = "application/zip" if path.endswith(".zip") else "text/csv"
        server.serve_bytes(path, data, kind)


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, *(n.lower() for n in PROXY_VARIABLES)):
        monkeypatch.delenv(name, raising=False)
    for name in (acled_remote.USERNAME_ENV, acled_remote.PASSWORD_ENV, "UCDP_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(http, "DEFAULT_POLICY", FAST)


@pytest.fixture
def site(published: dict[str, bytes]) -> Iterator[FakeAcled]:
    """UCDP's download page and files, and ACLED's API, on one loopback server."""
    with AcledServer() as server:
        serve_ucdp(server, published)
        yield FakeAcled(server)


@dataclass
class FirstRun:
    store: Path
    url: str
    first: Run
    second: Run
    version_after_first: int
    snapshots_after_first: dict[str, float]
    file_hits: int  # requests for release files in the second run


@pytest.fixture(scope="module")
def first_run(
    published: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FirstRun]:
    """A fresh store updated once (without ACLED credentials), then again right after it
    (with credentials but no earlier ACLED pull)."""
    store = tmp_path_factory.mktemp("update") / "store"
    with pytest.MonkeyPatch.context() as patch, AcledServer() as server:
        for name in (*PROXY_VARIABLES, *(n.lower() for n in PROXY_VARIABLES)):
            patch.delenv(name, raising=False)
        patch.delenv(acled_remote.USERNAME_ENV, raising=False)
        patch.delenv(acled_remote.PASSWORD_ENV, raising=False)
        serve_ucdp(server, published)
        first = run(store, server.url)
        version = Store(store).manifest()["version"]
        snapshots = {str(p): p.stat().st_mtime_ns for p in (store / "snapshots").rglob("*")}
        hits = len(server.requests)
        patch.setenv(acled_remote.USERNAME_ENV, USERNAME)
        patch.setenv(acled_remote.PASSWORD_ENV, PASSWORD)
        second = run(store, server.url)
        file_hits = sum(1 for r in server.requests[hits:] if r.path != "/downloads/")
        yield FirstRun(store, server.url, first, second, version, snapshots, file_hits)


# --- discovery ----------------------------------------------------------------------------


def test_releases_are_read_from_the_page_links() -> None:
    page = (FIXTURES / "ucdp_downloads_page.html").read_text(encoding="utf-8")
    offered = update.releases_on_page(page, "https://ucdp.uu.se/downloads/")
    assert {(r.dataset, r.version) for r in offered} == {
        ("ged", "25.1"),
        ("ged", "24.1"),
        ("ged", "23.1"),
        ("candidate", "26.0.1-3"),
        ("candidate", "26.0.2"),
        ("candidate", "26.0.4"),
        ("candidate", "26.0.5"),
        ("candidate", "25.0.1-12"),
        ("candidate", "25.0.11"),
        ("candidate", "24.0.12"),
    }  # not the codebooks, the RData zip, month 13 or a file whose two years disagree
    chosen = update.wanted(offered, "page")
    # The newest yearly release (to Dec 2024), then 2025 (the whole-year file stands for
    # November) and 2026 (months 1–3 in one file, then April and May); 24.0.12 is in 25.1.
    assert [r.version for r in chosen] == ["25.1", "25.0.1-12", "26.0.1-3", "26.0.4", "26.0.5"]


def test_a_page_without_a_yearly_release_is_refused() -> None:
    with pytest.raises(update.LoaderError, match="no yearly GED release"):
        update.wanted([Release("candidate", "26.0.4")], "https://ucdp.uu.se/downloads/")


# --- whole runs ---------------------------------------------------------------------------


def test_a_fresh_store_is_updated_end_to_end(first_run: FirstRun) -> None:
    log = first_run.first.log
    assert first_run.first.code == update.DONE, log
    labels = {
        (r.provenance.dataset, r.provenance.version) for r in Store(first_run.store).records()
    }
    assert labels == {("ged", "23.1"), ("candidate", "23.0.1-2"), ("candidate", "23.0.3")}
    lines = [LINE.fullmatch(line) for line in log.splitlines()]
    assert all(lines), log  # UTC time, level, step: what happened
    steps = [line["step"] for line in lines]
    assert steps[:2] == ["lock", "ucdp"] and steps[-1] == "update"
    assert {"acled", "forecast", "alerts"} <= set(steps)
    assert "acled: skipped: ACLED_USERNAME and ACLED_PASSWORD not set" in log
    assert "forecast from 2023-03" in log
    snapshot = first_run.store / "snapshots" / "all" / "2023-03.json"
    assert json.loads(snapshot.read_text(encoding="utf-8"))["as_of"] == "2023-03"
    assert "done: imported UCDP GED 23.1, UCDP GED Candidate 23.0.1-2" in log


def test_a_second_run_changes_nothing(first_run: FirstRun) -> None:
    second = first_run.second
    assert second.code == update.DONE, second.log
    assert Store(first_run.store).manifest()["version"] == first_run.version_after_first, (
        first_run.first.log + second.log
    )
    snapshots = {str(p): p.stat().st_mtime_ns for p in (first_run.store / "snapshots").rglob("*")}
    assert snapshots == first_run.snapshots_after_first
    assert first_run.file_hits == 0  # only the page was asked for
    assert "ucdp: nothing new" in second.log
    assert "forecast: up to date for this store version (forecast from 2023-03)" in second.log
    assert "done: nothing new" in second.log
    assert "no ACLED API pull in the store to update; make the first with" in second.log
    assert PASSWORD not in second.log and USERNAME not in second.log


def test_a_second_update_while_one_runs_stops_at_once(site: FakeAcled, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with update.update_lock(store.resolve()):
        second = run(store, site.server.url)
    assert second.code == update.RUNNING == 75
    assert f"is running (pid {os.getpid()}, started 20" in second.log
    assert len(second.log.splitlines()) == 1
    assert site.server.requests == []


def test_acled_down_keeps_the_ucdp_import_and_says_partial(
    site: FakeAcled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    monkeypatch.setenv(acled_remote.USERNAME_ENV, USERNAME)
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, PASSWORD)
    earlier = acled_remote.fetch(
        countries=["Benin"], start="2025-01-01", base_url=site.server.url, data_dir=store,
        progress=False, page_size=3, policy=FAST,
    )  # fmt: skip
    site.server.route(TOKEN_ROUTE, lambda _request: Reply(503, b"down", "text/plain"))
    logins = len(site.server.hits(TOKEN_ROUTE))

    down = run(store, site.server.url)

    assert down.code == update.PARTIAL == 3, down.log
    assert "acled: ACLED API query (countries Benin; from 2025-01-01) failed" in down.log
    assert "gave up after 3 tries: HTTP 503" in down.log
    assert "partial: acled failed" in down.log
    assert "imported UCDP GED 23.1" in down.log and "forecast from 2023-03" in down.log
    records = Store(store).records()
    assert {r.provenance.source for r in records} == {"ucdp", "acled"}
    assert earlier.import_id in {r.import_id for r in records}
    assert (store / "snapshots" / "all" / "2023-03.json").is_file()
    assert len(site.server.hits(TOKEN_ROUTE)) - logins == 3  # FAST: 3 tries
    assert PASSWORD not in down.log and USERNAME not in down.log

    # ACLED is back with the same events: the re-pull imports nothing, and nothing changes.
    site.server.route(TOKEN_ROUTE, site._token)
    before, version = content(store), Store(store).manifest()["version"]
    again = run(store, site.server.url)
    assert again.code == update.DONE, again.log
    assert "ACLED API query (countries Benin; from 2025-01-01): unchanged" in again.log
    assert "done: nothing new" in again.log
    assert Store(store).manifest()["version"] == version
    assert content(store) == before


def test_a_page_without_release_links_is_a_clear_failure(
    first_run: FirstRun, site: FakeAcled, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(first_run.store, store)
    site.server.serve_bytes("/downloads/", EMPTY_PAGE.encode(), "text/html", ranges=False)
    before = content(store)

    failed = run(store, site.server.url, "--no-acled")

    assert failed.code == update.FAILED == 1, failed.log
    assert f"ucdp: failed: {site.server.url}/downloads/: the download page links no GED" in (
        failed.log
    )
    assert "failed: ucdp failed" in failed.log
    assert content(store) == before


class CountingProxy:
    """A forward HTTP proxy on 127.0.0.1 that counts what passes through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        owner = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.seen.append(self.path)  # a proxy is sent the absolute URL
                target = urlsplit(self.path)
                upstream = HTTPConnection(target.hostname, target.port, timeout=10)
                upstream.request("GET", target.path, headers={"Accept-Encoding": "identity"})
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type", ""))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_the_proxy_of_the_environment_is_used(
    first_run: FirstRun, site: FakeAcled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    shutil.copytree(first_run.store, store)
    proxy = CountingProxy()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        through = run(store, site.server.url, "--no-acled")
        assert through.code == update.DONE, through.log
        assert proxy.seen == [f"{site.server.url}/downloads/"]

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = run(store, site.server.url, "--no-acled")
        assert direct.code == update.DONE, direct.log
        assert len(proxy.seen) == 1  # NO_PROXY: straight to the server
    finally:
        proxy.close()

    # A proxy with a log-in that is not there: the run fails, and its password is not shown.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("HTTP_PROXY", f"http://desk:proxy-pw-SECRET@127.0.0.1:{closed}")
    refused = run(store, site.server.url, "--no-acled")
    assert refused.code == update.FAILED, refused.log
    assert "ucdp: failed:" in refused.log and "could not connect after 3 tries" in refused.log
    assert "proxy-pw-SECRET" not in refused.log
