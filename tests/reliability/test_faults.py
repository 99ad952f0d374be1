"""Network faults against `python -m loaders fetch`: every path, every fault, the store intact.

The same matrix of faults runs against the three ways data arrive over the network: the UCDP
bulk download, the UCDP API and the ACLED API, through the command line (`loaders.cli.main`,
in process so the retry policy can be made fast; one case runs `python -m loaders` for real).
Each fault must end in a bounded number of requests (counted on the loopback server), one line
naming the URL or file and the problem, and a store whose every file has the same sha256 as
before. The servers and fakes come from `tests/loaders/test_*_remote.py`; this file adds the
faults those tests leave out and checks them path by path.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from loaders import acled_remote, http, ucdp_remote
from loaders.cli import main
from loaders.pipeline import import_file
from loaders.store import Store
from tests.conftest import SMALL_GED
from tests.loaders import test_acled_remote as acled_site
from tests.loaders import test_ucdp_remote as ucdp_site
from tests.loopback import Fault, body, hang, html, ok, stall, status, truncate
from tests.reliability.helpers import FaultyServer, drip, python, reset, store_checksums
from tests.reliability.ledger import LEDGER

# Generous timeouts for answers that should arrive; a short one only where silence is the fault.
POLICY = replace(ucdp_site.FAST, read_timeout=10.0, connect_timeout=10.0)
IMPATIENT = replace(POLICY, read_timeout=1.0)
TRIES = POLICY.tries
PATHS = ("bulk", "api", "acled")
# What each path asks for, and how many requests a fault-free pull makes.
FAULTED = {
    "bulk": ucdp_site.YEARLY_PATH,
    "api": "/api/gedevents/25.1",
    "acled": acled_site.READ_ROUTE,
}
ROUTES = {"bulk": ucdp_site.YEARLY_PATH, "api": ucdp_site.API_ROUTE, "acled": acled_site.READ_ROUTE}
NORMAL_HITS = {"bulk": 1, "api": 3, "acled": 1}
NORMAL_ROWS = {"bulk": 600, "api": 2_500, "acled": 7}


@dataclass
class Sites:
    server: FaultyServer
    ucdp: ucdp_site.FakeUcdp
    acled: acled_site.FakeAcled


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for both APIs, no proxy, and the CLI's default policy made fast."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(acled_remote.BASE_URL_ENV, raising=False)
    monkeypatch.setenv(ucdp_remote.TOKEN_ENV, ucdp_site.TOKEN)
    monkeypatch.setenv(acled_remote.USERNAME_ENV, acled_site.USERNAME)
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, acled_site.PASSWORD)
    monkeypatch.setattr(http, "DEFAULT_POLICY", POLICY)


@pytest.fixture
def sites() -> Iterator[Sites]:
    """UCDP (bulk files and API) and ACLED (log-in and reads) on one loopback server."""
    with FaultyServer() as server:
        yield Sites(server, ucdp_site.FakeUcdp(server), acled_site.FakeAcled(server))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store holding one good import, which no failed fetch may touch."""
    root = tmp_path / "store"
    import_file(SMALL_GED, data_dir=root)
    return root


def cli(path: str, url: str, store: Path) -> list[str]:
    """The `python -m loaders` arguments that fetch along `path` from the server at `url`."""
    common = ["--data-dir", str(store), "fetch"]
    return {
        "bulk": [*common, "ucdp", "--version", "25.1", "--base-url", url],
        "api": [*common, "ucdp", "--api", "--version", "25.1", "--api-url", url],
        "acled": [*common, "acled", "--base-url", url],
    }[path] + ["--no-progress"]


def fetch_fails(
    sites: Sites, store: Path, path: str, capsys: pytest.CaptureFixture[str], name: str
) -> str:
    """Fetch along `path`, which must fail; record and check the store; return the one line."""
    before = store_checksums(store)
    code = main(cli(path, sites.server.url, store))
    err = capsys.readouterr().err
    intact = store_checksums(store) == before
    LEDGER.fault(f"{path}: {name}", store_intact=intact)
    assert intact
    assert code == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    secrets = (ucdp_site.TOKEN, acled_site.PASSWORD, acled_site.USERNAME)
    leaks = [f"{path}: {name}" for secret in secrets if secret in err]
    LEDGER.scanned(1, leaks)
    assert leaks == []
    return err.removeprefix("error: ").rstrip("\n")


def where(sites: Sites, path: str) -> str:
    """How the failing request is named at the start of the message."""
    url = sites.server.url + FAULTED[path]
    return {
        "bulk": url,
        "api": f"{url}?pagesize=1000&page=0",
        "acled": f"{url}?_format=json&limit=5000&page=1",
    }[path]


# --- faults that are retried, then given up on --------------------------------------------

REPEATED: dict[str, tuple[list[Fault], dict[str, str]]] = {
    "HTTP 500 every time": (
        [status(500)] * TRIES,
        dict.fromkeys(PATHS, re.escape("gave up after 3 tries: HTTP 500 Internal Server Error")),
    ),
    "HTTP 503 every time": (
        [status(503)] * TRIES,
        dict.fromkeys(PATHS, re.escape("gave up after 3 tries: HTTP 503 Service Unavailable")),
    ),
    "HTTP 429 every time": (
        [status(429, retry_after="0")] * TRIES,
        {
            path: re.escape(f"gave up after 3 tries: HTTP 429 Too Many Requests; {hint}")
            for path, hint in (
                ("bulk", "the server limits how often it may be asked; try again later"),
                ("api", "the UCDP API allows 5,000 requests a day per token; try again tomorrow"),
                ("acled", acled_remote.RATE_LIMIT),
            )
        },
    ),
    "connection reset mid-body every time": (
        [reset(100)] * TRIES,
        {
            "bulk": r"connection cut after [\d,]+ of 236,600 bytes \(3 tries\)",
            "api": r"connection cut after [\d,]+ of [\d,]+ bytes \(3 tries\)",
            "acled": r"connection cut mid-page \(3 tries\)",
        },
    ),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fault", list(REPEATED))
def test_transient_fault_every_time_is_retried_then_refused(
    sites: Sites, store: Path, capsys: pytest.CaptureFixture[str], path: str, fault: str
) -> None:
    faults, expected = REPEATED[fault]
    sites.server.script(ROUTES[path], *faults)
    message = fetch_fails(sites, store, path, capsys, fault)
    pattern = f"{re.escape(where(sites, path))}: {expected[path]}.*"
    assert re.fullmatch(pattern, message), message
    assert len(sites.server.hits(FAULTED[path])) == TRIES


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("fault", "faults", "expected"),
    [
        ("silence before the answer", [stall(30)] * TRIES, "timed out after 3 tries"),
        ("body stops flowing", [hang(100, 30)] * TRIES, "timed out"),
    ],
)
def test_silence_every_time_times_out(
    sites: Sites,
    store: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    fault: str,
    faults: list[Fault],
    expected: str,
) -> None:
    monkeypatch.setattr(http, "DEFAULT_POLICY", IMPATIENT)
    sites.server.script(ROUTES[path], *faults)
    message = fetch_fails(sites, store, path, capsys, fault)
    assert message.startswith(f"{where(sites, path)}: {expected}"), message
    assert re.search(r"\((no answer within|no data for) 1 s", message), message
    assert "3 tries" in message
    assert len(sites.server.hits(FAULTED[path])) == TRIES


@pytest.mark.parametrize("path", PATHS)
def test_retry_after_and_backoff_are_waited_for(
    sites: Sites, store: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """429 Retry-After: 1, then a 503 with backoff 0.3 s, then the data: both waits are kept."""
    monkeypatch.setattr(http, "DEFAULT_POLICY", replace(POLICY, backoff=0.3))
    sites.server.script(ROUTES[path], status(429, retry_after="1"), status(503))
    before = store_checksums(store)
    assert main(cli(path, sites.server.url, store)) == 0
    LEDGER.fault(f"{path}: 429 then 503, then the data", store_intact=kept(before, store))
    assert kept(before, store)
    first, second, *_ = sites.server.gaps(FAULTED[path])
    assert first >= 0.95  # Retry-After: 1 (capped at max_wait, 2 s)
    assert second >= 0.25  # urllib3's backoff: 0.3 s * 2 ** (retries so far - 1)
    assert len(sites.server.hits(FAULTED[path])) == NORMAL_HITS[path] + 2
    assert_new_import(store, path)


def test_acled_log_in_is_retried_too(
    sites: Sites, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The OAuth log-in (a POST) gets the same bounded retries as the reads."""
    sites.server.script(acled_site.TOKEN_ROUTE, status(503), reset(10), ok())
    before = store_checksums(store)
    assert main(cli("acled", sites.server.url, store)) == 0
    LEDGER.fault("acled: log-in 503 then reset", store_intact=kept(before, store))
    assert kept(before, store)
    assert len(sites.server.hits(acled_site.TOKEN_ROUTE)) == 3
    sites.server.script(acled_site.TOKEN_ROUTE, *[status(503)] * TRIES)
    message = fetch_fails(sites, store, "acled", capsys, "log-in 503 every time")
    assert message == (
        f"{sites.server.url}/oauth/token: gave up after 3 tries: HTTP 503 Service Unavailable"
    )
    assert len(sites.server.hits(acled_site.TOKEN_ROUTE)) == 3 + TRIES


# --- faults that are not worth repeating: refused at once ---------------------------------


def corrupt_zip() -> bytes:
    """The yearly zip with one byte of the CSV changed: its CRC no longer matches."""
    data = bytearray(ucdp_site.YEARLY_ZIP)
    data[len(data) // 2] ^= 0x55
    return bytes(data)


def zip_of_page() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("page.json", b'{"Result": []}')
    return out.getvalue()


ONCE: list[tuple[str, str, Fault, str]] = [
    (
        "bulk",
        "truncated zip",
        truncate(len(ucdp_site.YEARLY_ZIP) // 2),
        r"ged251-csv\.zip: the zip archive is damaged or truncated \(.+\); the download from "
        r"{url} arrived damaged: fetch it again",
    ),
    (
        "bulk",
        "corrupt zip (bad CRC)",
        body(corrupt_zip(), "application/zip"),
        r"ged251-csv\.zip.*: the compressed file is damaged or truncated \(.*CRC.*\); the "
        r"download from {url} arrived damaged: fetch it again",
    ),
    (
        "bulk",
        "JSON error document served as the zip",
        body(b'{"error": "maintenance"}', "application/json"),
        r"{url}: the server sent something other than a zip archive \(it starts with "
        r"'\{{\"error\": \"maintenance\"\}}'\); try again later, or download the file in a "
        r"browser and use python -m loaders import",
    ),
    (
        "bulk",
        "HTML page as text/html",
        html(),
        r"{url}: the server sent an HTML page, not the data \(content type text/html\)",
    ),
    (
        "api",
        "HTML page as text/html",
        html(),
        r"{url}: the server sent an HTML page, not the data \(content type text/html\)",
    ),
    (
        "api",
        "HTML page sent as JSON",
        body(b"<html><body>502 Bad Gateway</body></html>", "application/json"),
        r"{url}: the server sent an HTML page, not the data \(it starts with <html>\)",
    ),
    (
        "api",
        "zip sent instead of JSON",
        body(zip_of_page(), "application/zip"),
        r"{url}: the API sent a page that is not (UTF-8 JSON text|valid JSON .*)",
    ),
    (
        "api",
        "truncated JSON page",
        truncate(300),
        r"{url}: the API sent a page that is not valid JSON \(.+ at byte \d+\)",
    ),
    (
        "api",
        "JSON without TotalPages",
        body(b'{"TotalCount": 2500, "Result": []}'),
        r"{url}: the API page has no valid TotalPages \(None\)",
    ),
    (
        "api",
        "JSON without Result",
        body(b'{"TotalCount": 2500, "TotalPages": 3}'),
        r"{url}: the API page has no 'Result' list; it is not a UCDP API answer",
    ),
    (
        "acled",
        "HTML page as text/html",
        html(),
        r"{url}: the server sent an HTML page, not the data",
    ),
    (
        "acled",
        "HTML page sent as JSON",
        body(b"<!DOCTYPE html><html><body>Maintenance</body></html>", "application/json"),
        r"{url}: the server sent an HTML page, not the data \(it starts with <html>\)",
    ),
    (
        "acled",
        "zip sent instead of JSON",
        body(zip_of_page(), "application/zip"),
        r"{url}: ACLED sent a page that is not valid JSON",
    ),
    (
        "acled",
        "truncated JSON page",
        truncate(100),
        r"{url}: ACLED sent a page that is not valid JSON",
    ),
    (
        "acled",
        "JSON without data",
        body(b'{"status": 200, "success": true}'),
        r"{url}: the page has no 'data' list; not an ACLED API answer",
    ),
]


@pytest.mark.parametrize(
    ("path", "fault", "reply", "expected"), ONCE, ids=[f"{p}-{n}" for p, n, _, _ in ONCE]
)
def test_bad_answer_is_refused_without_retry(
    sites: Sites,
    store: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    fault: str,
    reply: Fault,
    expected: str,
) -> None:
    sites.server.script(ROUTES[path], reply)
    message = fetch_fails(sites, store, path, capsys, fault)
    pattern = expected.format(url=re.escape(where(sites, path)))
    assert re.fullmatch(pattern, message), message
    assert len(sites.server.hits(FAULTED[path])) == 1  # the same answer again would not help


def test_ucdp_api_records_missing_fields_are_named(
    sites: Sites, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = sites.ucdp.api_records["25.1"]
    del records[0]["best"]
    message = fetch_fails(sites, store, "api", capsys, "JSON records without 'best'")
    assert message == "UCDP API gedevents/25.1: API records lack fields: best"
    records[0]["best"] = 1
    del records[1_500]["date_start"]
    message = fetch_fails(sites, store, "api", capsys, "JSON record 1500 without 'date_start'")
    assert message == "api-gedevents-25.1, row 1500: date_start is missing (1 rows in all)"
    assert len(sites.server.hits(FAULTED["api"])) == 2 * NORMAL_HITS["api"]


@pytest.mark.parametrize("field", ["event_type", "fatalities", "event_date", "event_id_cnty"])
def test_acled_events_missing_fields_are_named(
    sites: Sites, store: Path, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    """A field left out (not just empty) would import as blanks: the page is refused."""
    del sites.acled.rows[4][field]
    message = fetch_fails(sites, store, "acled", capsys, f"JSON events without '{field}'")
    assert message == (
        f"{where(sites, 'acled')}: event 5 of the page lacks the fields {field}; "
        "not a complete ACLED answer: try again later"
    )
    assert len(sites.server.hits(FAULTED["acled"])) == 1


# --- faults that are survived: the data arrive, the earlier import is untouched -----------


def kept(before: dict[str, str], store: Path) -> bool:
    """Whether every import that was live is still there, byte for byte, beside new ones."""
    after = store_checksums(store)
    old = {k: v for k, v in before.items() if k.startswith("imports")}
    return all(after.get(k) == v for k, v in old.items())


def assert_new_import(store: Path, path: str) -> None:
    records = Store(store).records(kinds=None)
    assert len(records) == 2
    rows = {r.provenance.file: r.provenance.rows for r in records}
    assert rows.pop(SMALL_GED.name) > 0  # the earlier import is still live
    assert list(rows.values()) == [NORMAL_ROWS[path]]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("fault", "reply", "extra"),
    [
        ("connection reset once", reset(100), 1),
        ("bytes dripped slowly", drip(16_384, 0.02), 0),
    ],
)
def test_fault_once_is_survived(
    sites: Sites, store: Path, path: str, fault: str, reply: Fault, extra: int
) -> None:
    before = store_checksums(store)
    sites.server.script(ROUTES[path], reply)
    assert main(cli(path, sites.server.url, store)) == 0
    intact = kept(before, store)
    LEDGER.fault(f"{path}: {fault}", store_intact=intact)
    assert intact
    assert len(sites.server.hits(FAULTED[path])) == NORMAL_HITS[path] + extra
    assert_new_import(store, path)
    assert not (store / "downloads").exists() and not list((store / "staging").glob("*"))


# --- the real command, in its own process -------------------------------------------------


def test_python_m_loaders_fetch_reports_a_bad_download(sites: Sites, store: Path) -> None:
    """`python -m loaders fetch ucdp` itself: exit 1, one line, nothing in the store changed."""
    sites.server.script(ucdp_site.YEARLY_PATH, truncate(1_000))
    before = store_checksums(store)
    process = python(["-m", "loaders", *cli("bulk", sites.server.url, store)])
    out, err = process.communicate(timeout=120)
    intact = store_checksums(store) == before
    LEDGER.fault("bulk: truncated zip (python -m loaders)", store_intact=intact)
    assert intact
    assert process.returncode == 1, (out, err)
    assert err.count("\n") == 1 and "arrived damaged: fetch it again" in err, err
    assert len(sites.server.hits(ucdp_site.YEARLY_PATH)) == 1
