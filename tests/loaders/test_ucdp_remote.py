"""Fetching UCDP GED over HTTP, end to end against a loopback server that misbehaves on cue.

Every request goes through the real requests/urllib3 stack to a real socket (`tests.loopback`);
the fake UCDP site serves the bulk files in UCDP's URL layout and the paged, token-protected
API. Each failure must end in one clear message and leave the store byte for byte as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from loaders import http, ucdp_remote
from loaders.cli import main
from loaders.errors import LoaderError
from loaders.pipeline import import_file
from loaders.store import Store
from tests.conftest import SMALL_GED, ged_rows
from tests.loopback import (
    LoopbackServer,
    Reply,
    Request,
    body,
    cut,
    hang,
    html,
    ok,
    stall,
    status,
    truncate,
)

TOKEN = "ucdp-token-5f3a9c1e-DO-NOT-LEAK"
# Fast but not tight: a busy test machine must not turn a slow answer into a timeout.
FAST = http.Policy(tries=3, backoff=0.01, max_wait=2.0, connect_timeout=2.0, read_timeout=2.0)
API_ROUTE = r"/api/gedevents/(?P<version>[^/]+)"
YEARLY_PATH = "/downloads/ged/ged251-csv.zip"


# --- data the fake site publishes, built from the hand-written GED fixture ----------------


def ged_events(count: int, *, year: int | None = None, month: int | None = None) -> list[dict]:
    """`count` GED rows cycled from the fixture with fresh ids (optionally moved to a month)."""
    base = ged_rows()
    rows = []
    for i in range(count):
        row = dict(base[i % len(base)], id=str(500_000 + i))
        if year and month:
            day = f"{year}-{month:02d}-{i % 28 + 1:02d} 00:00:00.000"
            row |= {"year": str(year), "date_start": day, "date_end": day}
        rows.append(row)
    return rows


def csv_bytes(rows: list[dict], *, header: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def zipped(member: str, content: bytes) -> bytes:
    """A zip as UCDP publishes it; stored, not deflated, so cuts land mid-file."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(member, content)
    return out.getvalue()


def best_total(rows: list[dict]) -> int:
    return sum(int(r["best"]) for r in rows)


def api_record(row: dict) -> dict:
    """A CSV row as the API returns it: numbers as JSON numbers, ISO timestamps, nulls."""
    record: dict = {}
    for key, text in row.items():
        if text == "":
            record[key] = None
        elif re.fullmatch(r"-?\d+", text):
            record[key] = int(text)
        elif re.fullmatch(r"-?\d+\.\d+", text):
            record[key] = float(text)
        else:
            record[key] = text
    for key in ("date_start", "date_end"):
        if record.get(key):
            record[key] = record[key][:10] + "T00:00:00"
    return record


YEARLY_ROWS = ged_events(600)
YEARLY_ZIP = zipped("GEDEvent_v25_1.csv", csv_bytes(YEARLY_ROWS))
API_ROWS = ged_events(2_500)


class FakeUcdp:
    """UCDP's two services on one loopback server: bulk files and the paged JSON API."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.api_records: dict[str, list[dict]] = {"25.1": [api_record(r) for r in API_ROWS]}
        self.link_root = server.url  # where NextPageUrl points
        self.link_resource = "gedevents"
        self.endless = False  # keep offering a next page past the end
        self.announce_extra = 0  # TotalCount larger than what is served
        server.serve_bytes(YEARLY_PATH, YEARLY_ZIP, "application/zip")
        server.route(API_ROUTE, self._api)

    def _api(self, request: Request) -> Reply:
        if request.headers.get(ucdp_remote.TOKEN_HEADER) != TOKEN:
            return Reply(401, b'{"message": "Unauthorized"}', "application/json")
        version = request.params["version"]
        records = self.api_records.get(version, [])
        size, page = int(request.query["pagesize"]), int(request.query["page"])
        pages = math.ceil(len(records) / size)
        link = f"{self.link_root}/api/{self.link_resource}/{version}?pagesize={size}&page="
        more = page + 1 < pages or self.endless
        document = {
            "TotalCount": len(records) + self.announce_extra,
            "TotalPages": pages,
            "PreviousPageUrl": f"{link}{page - 1}" if page > 0 else "",
            "NextPageUrl": f"{link}{page + 1}" if more else "",
            "Result": records[page * size : (page + 1) * size],
        }
        return Reply(200, json.dumps(document).encode(), "application/json; charset=utf-8")


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token is set, no proxy gets in the way, and the CLI's default policy is fast."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ucdp_remote.TOKEN_ENV, TOKEN)
    monkeypatch.setattr(http, "DEFAULT_POLICY", FAST)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def site(server: LoopbackServer) -> FakeUcdp:
    return FakeUcdp(server)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store that already holds a good import, which every failure must leave alone."""
    root = tmp_path / "store"
    import_file(SMALL_GED, data_dir=root)
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file's sha256 and every folder under `root` (a failure must change none)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "/"
        for p in sorted(root.rglob("*"))
    }


def fetch(site: FakeUcdp, store: Path, **options: object):
    options = {"policy": FAST, "progress": False, **options}
    return ucdp_remote.fetch(
        base_url=site.server.url, api_url=site.server.url, data_dir=store, **options
    )


def refused(call: Callable[[], object], store: Path) -> str:
    """Run a fetch that must fail; check the store did not change and return the message."""
    before = snapshot(store)
    with pytest.raises(LoaderError) as caught:
        call()
    assert snapshot(store) == before
    message = str(caught.value)
    assert TOKEN not in message
    return message


def live(store: Path) -> dict[str, dict]:
    return {r.provenance.file: r.provenance for r in Store(store).records()}


# --- URLs and versions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "candidate", "path"),
    [
        ("25.1", None, "/downloads/ged/ged251-csv.zip"),
        ("26.1", None, "/downloads/ged/ged261-csv.zip"),
        ("26.1", "25.0.6", "/downloads/candidateged/GEDEvent_v25_0_6.csv"),
        ("26.1", "25.0.12", "/downloads/candidateged/GEDEvent_v25_0_12.csv"),
        ("26.1", "25.0.1-6", "/downloads/candidateged/GEDEvent_v25_01_25_06.csv"),
    ],
)
def test_download_urls_follow_ucdp_layout(version: str, candidate: str | None, path: str) -> None:
    release = ucdp_remote.release_for(version, candidate)
    assert ucdp_remote.download_url(release, "https://ucdp.example/") == (
        f"https://ucdp.example{path}"
    )


def test_versions_are_checked_before_any_request(site: FakeUcdp, store: Path) -> None:
    cases = {
        "--version: '25.0.6' is a Candidate release; pass it as --candidate 25.0.6": {
            "version": "25.0.6"
        },
        "--candidate: '25.1' is a yearly release; pass it as --version 25.1": {"candidate": "25.1"},
        "--version: '2025' is not a UCDP GED version": {"version": "2025"},
        "--candidate: UCDP publishes multi-month Candidate files from month 1 only": {
            "candidate": "25.0.3-6"
        },
    }
    for expected, options in cases.items():
        assert refused(lambda o=options: fetch(site, store, **o), store).startswith(expected)
    assert site.server.requests == []


# --- bulk downloads -----------------------------------------------------------------------


def test_yearly_release_is_downloaded_and_imported(site: FakeUcdp, store: Path) -> None:
    record = fetch(site, store, version="25.1")
    provenance = record.provenance
    assert (provenance.label, provenance.rows) == ("UCDP GED 25.1", 600)
    assert provenance.fatalities_best == best_total(YEARLY_ROWS)
    assert provenance.origin == site.server.url + YEARLY_PATH
    assert provenance.sha256 == hashlib.sha256(YEARLY_ZIP).hexdigest()
    assert (record.folder / "raw" / "ged251-csv.zip").read_bytes() == YEARLY_ZIP
    assert set(live(store)) == {"ged251-csv.zip", SMALL_GED.name}  # the earlier import stays
    assert not (store / "downloads").exists()


def test_download_folders_of_killed_runs_are_cleared(site: FakeUcdp, store: Path) -> None:
    stale, fresh = store / "downloads" / "stale", store / "downloads" / "running"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "ged251-csv.zip.part").write_bytes(b"PK")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    fetch(site, store, version="25.1")
    assert [p.name for p in (store / "downloads").iterdir()] == ["running"]


def test_yearly_release_from_the_shared_sample(
    server: LoopbackServer, store: Path, shared_data: Path
) -> None:
    sample = (shared_data / "ucdp_ged_v23_1_sample1000.csv").read_bytes()
    with io.StringIO(sample.decode("utf-8")) as text:
        rows = list(csv.DictReader(text))
    server.serve_bytes(
        "/downloads/ged/ged231-csv.zip", zipped("GEDEvent_v23_1.csv", sample), "application/zip"
    )
    record = ucdp_remote.fetch(
        version="23.1", base_url=server.url, data_dir=store, progress=False, policy=FAST
    )
    assert (record.provenance.rows, record.provenance.fatalities_best) == (
        len(rows),
        best_total(rows),
    )
    assert (len(rows), best_total(rows)) == (1000, 9561)


@pytest.mark.parametrize("header", [True, False], ids=["with-header", "without-header"])
def test_candidate_month_with_and_without_header(site: FakeUcdp, store: Path, header: bool) -> None:
    rows = ged_events(40, year=2025, month=6)
    site.server.serve_bytes(
        "/downloads/candidateged/GEDEvent_v25_0_6.csv",
        csv_bytes(rows, header=header),
        "text/csv",
    )
    provenance = fetch(site, store, candidate="25.0.6").provenance
    assert (provenance.dataset, provenance.version) == ("candidate", "25.0.6")
    assert (provenance.rows, provenance.fatalities_best) == (40, best_total(rows))
    assert (provenance.first_date, provenance.last_date) == ("2025-06-01", "2025-06-28")
    headerless = any("no header row" in note for note in provenance.notes)
    assert headerless is not header


def test_candidate_months_in_one_file(site: FakeUcdp, store: Path) -> None:
    rows = ged_events(12, year=2025, month=1) + ged_events(12, year=2025, month=6)
    for i, row in enumerate(rows):
        row["id"] = str(900_000 + i)
    path = "/downloads/candidateged/GEDEvent_v25_01_25_06.csv"
    site.server.serve_bytes(path, csv_bytes(rows), "text/csv")
    provenance = fetch(site, store, candidate="25.0.1-6").provenance
    assert (provenance.version, provenance.rows) == ("25.0.1-6", 24)
    assert provenance.coverage.everywhere  # UCDP's own file: a whole release
    assert len(site.server.hits(path)) == 1


def test_unknown_release_is_a_404_with_advice(site: FakeUcdp, store: Path) -> None:
    message = refused(lambda: fetch(site, store, version="99.1"), store)
    assert message == (
        f"{site.server.url}/downloads/ged/ged991-csv.zip: HTTP 404: no such release on the "
        "server (check --version / --candidate)"
    )


def test_server_errors_are_retried(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, status(503), status(502))
    assert fetch(site, store, version="25.1").provenance.rows == 600
    assert len(site.server.hits(YEARLY_PATH)) == 3


def test_server_errors_every_time_give_up(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, status(500), status(500), status(500))
    message = refused(lambda: fetch(site, store, version="25.1"), store)
    assert message.endswith(": gave up after 3 tries: HTTP 500 Internal Server Error")
    assert len(site.server.hits(YEARLY_PATH)) == 3


def test_retry_after_is_honoured(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, status(429, retry_after="1"))
    started = time.monotonic()
    assert fetch(site, store, version="25.1").provenance.rows == 600
    assert time.monotonic() - started >= 0.9


def test_retry_after_is_capped(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, status(503, retry_after="1"), status(503, retry_after="1"))
    started = time.monotonic()
    fetch(site, store, version="25.1", policy=replace(FAST, max_wait=0.05))
    assert time.monotonic() - started < 0.8  # two waits of 1 s would take 2 s


def test_cut_download_resumes_where_it_stopped(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, cut(150_000))
    record = fetch(site, store, version="25.1")
    assert (record.folder / "raw" / "ged251-csv.zip").read_bytes() == YEARLY_ZIP
    first, second = site.server.hits(YEARLY_PATH)
    assert "range" not in first.headers
    kept = int(re.fullmatch(r"bytes=(\d+)-", second.headers["range"]).group(1))
    assert 0 < kept <= 150_000


def test_cut_download_starts_again_when_ranges_are_ignored(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, cut(150_000), lambda reply: replace(reply, ranges=False))
    record = fetch(site, store, version="25.1")
    assert (record.folder / "raw" / "ged251-csv.zip").read_bytes() == YEARLY_ZIP
    assert "range" in site.server.hits(YEARLY_PATH)[1].headers  # asked, got 200, restarted


def test_part_from_the_wrong_offset_is_not_spliced_in(site: FakeUcdp, store: Path) -> None:
    size = len(YEARLY_ZIP)

    def wrong_part(reply: Reply) -> Reply:
        headers = {"Content-Range": f"bytes 10-{size - 1}/{size}"}
        return Reply(206, reply.body[10:], reply.content_type, headers)

    site.server.script(YEARLY_PATH, cut(150_000), wrong_part)
    record = fetch(site, store, version="25.1")
    assert (record.folder / "raw" / "ged251-csv.zip").read_bytes() == YEARLY_ZIP
    assert "range" not in site.server.hits(YEARLY_PATH)[2].headers  # asked for the whole file


def test_cut_every_time_says_how_far_it_got(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, cut(100_000), cut(100_000), cut(100_000))
    message = refused(lambda: fetch(site, store, version="25.1"), store)
    match = re.search(r": connection cut after ([\d,]+) of ([\d,]+) bytes \(3 tries\)$", message)
    assert match, message
    assert int(match.group(2).replace(",", "")) == len(YEARLY_ZIP)
    assert 0 < int(match.group(1).replace(",", "")) < len(YEARLY_ZIP)


def test_silent_server_times_out(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, stall(5), stall(5), stall(5))
    impatient = replace(FAST, read_timeout=0.3)
    started = time.monotonic()
    message = refused(lambda: fetch(site, store, version="25.1", policy=impatient), store)
    assert message.endswith(": timed out after 3 tries (no answer within 0.3 s)")
    assert time.monotonic() - started < 4


def test_nothing_listening_is_not_called_a_timeout(store: Path) -> None:
    with LoopbackServer() as gone:
        url = gone.url  # closed when the block ends: nothing listens there any more
    message = refused(
        lambda: ucdp_remote.fetch(
            version="25.1", base_url=url, data_dir=store, progress=False, policy=FAST
        ),
        store,
    )
    assert message == (
        f"{url}/downloads/ged/ged251-csv.zip: could not connect after 3 tries: connection "
        "refused (is the address right and the service up?)"
    )


def test_body_that_stops_flowing_is_resumed(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, hang(150_000, 5))
    record = fetch(site, store, version="25.1", policy=replace(FAST, read_timeout=0.3))
    assert (record.folder / "raw" / "ged251-csv.zip").read_bytes() == YEARLY_ZIP
    assert "range" in site.server.hits(YEARLY_PATH)[1].headers


def test_body_that_stops_flowing_every_time_times_out(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, *[hang(100_000, 5)] * 3)
    impatient = replace(FAST, read_timeout=0.3)
    message = refused(lambda: fetch(site, store, version="25.1", policy=impatient), store)
    assert message.endswith(": timed out after 3 tries (no data for 0.3 s)")


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (html(), "(content type text/html)"),
        (body(b"\n<!DOCTYPE html><html>Maintenance</html>", "application/zip"), "<html>"),
    ],
    ids=["html-content-type", "html-disguised-as-zip"],
)
def test_web_page_instead_of_data(
    site: FakeUcdp, store: Path, fault: Callable[[Reply], Reply], detail: str
) -> None:
    site.server.script(YEARLY_PATH, fault)
    message = refused(lambda: fetch(site, store, version="25.1"), store)
    assert "the server sent an HTML page, not the data" in message and detail in message


def test_truncated_zip_is_refused(site: FakeUcdp, store: Path) -> None:
    site.server.script(YEARLY_PATH, truncate(len(YEARLY_ZIP) // 2))
    message = refused(lambda: fetch(site, store, version="25.1"), store)
    assert message.startswith("ged251-csv.zip: the zip archive is damaged or truncated")


# --- the API ------------------------------------------------------------------------------


def test_api_follows_every_page(site: FakeUcdp, store: Path) -> None:
    record = fetch(site, store, version="25.1", use_api=True)
    provenance = record.provenance
    assert (provenance.rows, provenance.fatalities_best) == (2_500, best_total(API_ROWS))
    assert provenance.coverage.countries == ("*",)
    assert provenance.details["api_requests"] == 3
    hits = site.server.hits("/api/gedevents/25.1")
    assert [(h.query["page"], h.query["pagesize"]) for h in hits] == [
        ("0", "1000"),
        ("1", "1000"),
        ("2", "1000"),
    ]
    assert all(h.headers[ucdp_remote.TOKEN_HEADER] == TOKEN for h in hits)
    pages = sorted((record.folder / "raw").iterdir())
    assert [p.name for p in pages] == ["page-00000.json", "page-00001.json", "page-00002.json"]
    assert [len(json.loads(p.read_bytes())["Result"]) for p in pages] == [1000, 1000, 500]
    assert [p["sha256"] for p in provenance.details["pages"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in pages
    ]
    assert all(TOKEN.encode() not in p.read_bytes() for p in store.rglob("*") if p.is_file())


def test_api_candidate_release(site: FakeUcdp, store: Path) -> None:
    rows = ged_events(30, year=2025, month=6)
    site.api_records["25.0.6"] = [api_record(r) for r in rows]
    provenance = fetch(site, store, candidate="25.0.6", use_api=True).provenance
    assert (provenance.dataset, provenance.rows) == ("candidate", 30)
    assert provenance.fatalities_best == best_total(rows)


def test_api_without_token_says_what_to_do(
    site: FakeUcdp, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ucdp_remote.TOKEN_ENV)
    message = refused(lambda: fetch(site, store, use_api=True), store)
    assert message.startswith("UCDP_API_TOKEN: not set: the UCDP API needs an access token")
    assert "bulk download, which needs no token" in message
    assert site.server.requests == []


def test_api_refused_token_is_explained(
    site: FakeUcdp, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ucdp_remote.TOKEN_ENV, "an-expired-token")
    message = refused(lambda: fetch(site, store, version="25.1", use_api=True), store)
    assert message == (
        f"{site.server.url}/api/gedevents/25.1?pagesize=1000&page=0: the UCDP API refused the "
        "token (HTTP 401): UCDP_API_TOKEN is missing or invalid; request one from UCDP, or use "
        "the bulk download (no token)"
    )
    assert "an-expired-token" not in message


def test_api_token_with_a_line_break_is_refused_without_showing_it(
    site: FakeUcdp, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ucdp_remote.TOKEN_ENV, "first-half\nsecond-half")
    message = refused(lambda: fetch(site, store, use_api=True), store)
    assert message == (
        "UCDP_API_TOKEN: contains spaces or line breaks; copy the token exactly as UCDP sent it"
    )
    assert "half" not in message and site.server.requests == []


def test_api_token_does_not_follow_a_redirect_to_another_host(site: FakeUcdp, store: Path) -> None:
    with LoopbackServer() as elsewhere:
        FakeUcdp(elsewhere)
        site.server.route(
            r"/api/gedevents/25\.1",
            lambda r: Reply(302, b"", "text/plain", {"Location": elsewhere.url + r.path}),
        )
        message = refused(lambda: fetch(site, store, version="25.1", use_api=True), store)
        (moved,) = elsewhere.hits("/api/gedevents/25.1")
    assert ucdp_remote.TOKEN_HEADER not in moved.headers
    assert "the UCDP API refused the token (HTTP 401)" in message


def test_api_rate_limit_then_success(site: FakeUcdp, store: Path) -> None:
    site.server.script(API_ROUTE, ok(), status(429, retry_after="1"))
    started = time.monotonic()
    provenance = fetch(site, store, version="25.1", use_api=True).provenance
    assert time.monotonic() - started >= 0.9
    assert (provenance.rows, provenance.details["api_requests"]) == (2_500, 4)


def test_api_rate_limit_every_time_mentions_the_quota(site: FakeUcdp, store: Path) -> None:
    site.server.script(API_ROUTE, *[status(429, retry_after="1")] * 3)
    policy = replace(FAST, max_wait=0.01)
    message = refused(
        lambda: fetch(site, store, use_api=True, version="25.1", policy=policy), store
    )
    assert message.endswith(
        "page=0: gave up after 3 tries: HTTP 429 Too Many Requests; the UCDP API allows 5,000 "
        "requests a day per token; try again tomorrow, or use the bulk download (no token)"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"TotalCount": 2500, "Result": [', "the API sent a page that is not valid JSON"),
        (b'{"message": "An error has occurred."}', "the API page has no 'Result' list"),
    ],
    ids=["bad-json", "no-result"],
)
def test_api_bad_page_names_the_page(
    site: FakeUcdp, store: Path, content: bytes, problem: str
) -> None:
    site.server.script(API_ROUTE, ok(), body(content))
    message = refused(lambda: fetch(site, store, version="25.1", use_api=True), store)
    assert message.startswith(f"{site.server.url}/api/gedevents/25.1?pagesize=1000&page=1: ")
    assert problem in message


def test_api_page_cut_short_is_fetched_again(site: FakeUcdp, store: Path) -> None:
    site.server.script(API_ROUTE, ok(), cut(200))
    assert fetch(site, store, version="25.1", use_api=True).provenance.rows == 2_500
    assert len(site.server.hits("/api/gedevents/25.1")) == 4


def test_api_next_page_on_another_host_is_brought_back(site: FakeUcdp, store: Path) -> None:
    site.link_root = "http://collector.invalid:8080"
    assert fetch(site, store, version="25.1", use_api=True).provenance.rows == 2_500
    assert len(site.server.hits("/api/gedevents/25.1")) == 3


def test_api_next_page_to_another_resource_is_refused(site: FakeUcdp, store: Path) -> None:
    site.link_resource = "nonstate"
    message = refused(lambda: fetch(site, store, version="25.1", use_api=True), store)
    assert "next page points to another resource than /api/gedevents/25.1; refused" in message


def test_api_pages_beyond_the_announced_count_are_refused(site: FakeUcdp, store: Path) -> None:
    site.endless = True
    message = refused(lambda: fetch(site, store, version="25.1", use_api=True), store)
    assert message.endswith(
        "the API offers more pages than the 3 it announced; stopped to protect the daily quota"
    )
    assert len(site.server.hits("/api/gedevents/25.1")) == 3


def test_api_events_missing_from_the_pages_are_refused(site: FakeUcdp, store: Path) -> None:
    site.announce_extra = 7
    message = refused(lambda: fetch(site, store, version="25.1", use_api=True), store)
    assert "received 2,500 events in 3 pages but the API announced 2,507" in message


def test_api_release_too_big_for_the_budget(site: FakeUcdp, store: Path) -> None:
    message = refused(
        lambda: fetch(site, store, version="25.1", use_api=True, daily_budget=2), store
    )
    assert "the release has 3 pages of 1,000 events, more than the daily budget of 2" in message
    assert len(site.server.hits("/api/gedevents/25.1")) == 1


def test_api_release_without_events(site: FakeUcdp, store: Path) -> None:
    message = refused(lambda: fetch(site, store, version="24.1", use_api=True), store)
    assert message.endswith("the API has no events for release 24.1 (check the version)")


# --- through the command line -------------------------------------------------------------


def test_cli_fetch_imports_and_reports(
    site: FakeUcdp, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(store), "fetch", "ucdp", "--version", "25.1", "--no-progress"]
    assert main([*args, "--base-url", site.server.url]) == 0
    out = capsys.readouterr().out
    deaths = best_total(YEARLY_ROWS)
    assert f"Imported UCDP GED 25.1 from ged251-csv.zip: 600 events, {deaths:,} deaths" in out


def test_cli_fetch_failure_is_one_line(
    site: FakeUcdp, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(store)
    site.server.script(YEARLY_PATH, cut(60_000), cut(60_000), cut(60_000))
    code = main(["fetch", "ucdp", "--version", "25.1", "--base-url", site.server.url,
                 "--data-dir", str(store)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert re.fullmatch(
        rf"error: {re.escape(site.server.url + YEARLY_PATH)}: connection cut after [\d,]+ of "
        rf"{len(YEARLY_ZIP):,} bytes \(3 tries\)\n",
        err,
    ), err
    assert snapshot(store) == before


def test_cli_api_refusal_never_shows_the_token(
    site: FakeUcdp, store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ucdp_remote.TOKEN_ENV, "wrong-" + TOKEN)
    code = main(["fetch", "ucdp", "--api", "--candidate", "25.0.6", "--api-url", site.server.url,
                 "--data-dir", str(store)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "the UCDP API refused the token (HTTP 401)" in err
    assert TOKEN not in err
