"""Fetching ACLED over its API, end to end against a loopback server that misbehaves on cue.

The fake ACLED site has the OAuth token endpoint (password and refresh_token grants) and the
paged, bearer-protected read endpoint. The events are invented rows in the current 31-column
format. Every failure must end in one clear message, leave the store byte for byte as it was,
and show neither the password nor a token.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from loaders import acled, acled_remote, http
from loaders.cli import main
from loaders.errors import LoaderError
from loaders.pipeline import import_file
from loaders.store import Store
from tests.conftest import SMALL_GED, tree_digest
from tests.loopback import LoopbackServer, Reply, Request, cut, ok, status

USERNAME = "analyst-7d1e@example.org"
PASSWORD = "pw-93c1f0-DO-NOT-LEAK"
FAST = http.Policy(tries=3, backoff=0.01, max_wait=2.0, connect_timeout=2.0, read_timeout=2.0)
TOKEN_ROUTE = r"/oauth/token"
READ_ROUTE = r"/api/acled/read"

EVENT_TYPES = (
    ("Battles", "Armed clash", "Political violence"),
    ("Violence against civilians", "Attack", "Political violence"),
    ("Protests", "Peaceful protest", "Demonstrations"),
)


def acled_rows(count: int, year: int = 2025) -> list[dict]:
    """`count` invented events in the API's current 31-column format (values as ACLED sends)."""
    rows = []
    for i in range(count):
        event_type, sub_type, disorder = EVENT_TYPES[i % len(EVENT_TYPES)]
        civilians = event_type == "Violence against civilians"
        rows.append(
            {
                "event_id_cnty": f"BEN{9000 + i}",
                "event_date": f"{year}-03-{i % 28 + 1:02d}",
                "year": str(year),
                "time_precision": "1",
                "disorder_type": disorder,
                "event_type": event_type,
                "sub_event_type": sub_type,
                "actor1": "Invented Militia",
                "assoc_actor_1": "",
                "inter1": "3",
                "actor2": "Civilians (Benin)" if civilians else "",
                "assoc_actor_2": "",
                "inter2": "7" if civilians else "0",
                "interaction": "37" if civilians else "30",
                "civilian_targeting": "Civilian targeting" if civilians else "",
                "iso": "204",
                "region": "Western Africa",
                "country": "Benin",
                "admin1": "Alibori",
                "admin2": "Invented District",
                "admin3": "",
                "location": f"Village {i}",
                "latitude": "11.1",
                "longitude": "2.9",
                "geo_precision": "2",
                "source": "Invented Source",
                "source_scale": "Local partner",
                "notes": f"Invented event number {i}.",
                "fatalities": str(i % 4),
                "tags": "",
                "timestamp": str(1767225600 + i),
            }
        )
    return rows


ROWS = acled_rows(7)


class AcledServer(LoopbackServer):
    """The loopback server, also answering POST: the form body arrives as the request's query."""

    def __init__(self) -> None:
        super().__init__()
        owner = self
        base = self._httpd.RequestHandlerClass

        class WithPost(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length).decode()
                self.path = f"{self.path}?{form}"
                owner._answer(self)

        self._httpd.RequestHandlerClass = WithPost


class FakeAcled:
    """ACLED's token endpoint and paged read endpoint on one loopback server."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.rows = [dict(r) for r in ROWS]
        self.issued = 0
        self.valid: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.expires_in = 86_400
        self.forbidden = False
        server.route(TOKEN_ROUTE, self._token)
        server.route(READ_ROUTE, self._read)

    def token(self, n: int) -> str:
        return f"access-{n}-8a1f-SECRET"

    def _token(self, request: Request) -> Reply:
        form = request.query
        grant = form.get("grant_type")
        good = form.get("client_id") == "acled" and (
            (
                grant == "password"
                and (form.get("username"), form.get("password")) == (USERNAME, PASSWORD)
            )
            or (grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens)
        )
        if not good:
            return _json(400, {"error": "invalid_grant", "error_description": "bad log-in"})
        self.issued += 1
        access, refresh = self.token(self.issued), f"refresh-{self.issued}-SECRET"
        self.valid.add(access)
        self.refresh_tokens.add(refresh)
        answer = {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "access_token": access,
            "refresh_token": refresh,
        }
        return _json(200, answer)

    def _read(self, request: Request) -> Reply:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid:
            return _json(401, {"message": "Unauthorized"})
        if self.forbidden:
            return _json(403, {"message": "Access denied"})
        limit, page = int(request.query["limit"]), int(request.query["page"])
        rows = self.rows
        if "event_date" in request.query:
            assert request.query["event_date_where"] == "BETWEEN"
            first, last = request.query["event_date"].split("|")
            rows = [r for r in rows if first <= r["event_date"] <= last]
        data = rows[(page - 1) * limit : page * limit]
        return _json(200, {"status": 200, "success": True, "count": len(data), "data": data})


def _json(code: int, document: dict) -> Reply:
    return Reply(code, json.dumps(document).encode(), "application/json")


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(acled_remote.BASE_URL_ENV, raising=False)
    monkeypatch.setenv(acled_remote.USERNAME_ENV, USERNAME)
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, PASSWORD)
    monkeypatch.setattr(http, "DEFAULT_POLICY", FAST)


@pytest.fixture
def site() -> Iterator[FakeAcled]:
    with AcledServer() as server:
        yield FakeAcled(server)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store that already holds a good import, which every failure must leave alone."""
    root = tmp_path / "store"
    import_file(SMALL_GED, data_dir=root)
    return root


def fetch(site: FakeAcled, store: Path, **options: object):
    options = {"policy": FAST, "progress": False, "page_size": 3, **options}
    return acled_remote.fetch(base_url=site.server.url, data_dir=store, **options)


def secrets(site: FakeAcled) -> list[str]:
    issued = range(1, site.issued + 1)
    return [PASSWORD, USERNAME, *map(site.token, issued), *(f"refresh-{n}-SECRET" for n in issued)]


def refused(call: Callable[[], object], store: Path, site: FakeAcled) -> str:
    """Run a fetch that must fail; the store must not change; return the message."""
    before = tree_digest(store)
    with pytest.raises(LoaderError) as caught:
        call()
    assert tree_digest(store) == before
    message = str(caught.value)
    assert not any(secret in message for secret in secrets(site)), message
    return message


def assert_no_secrets_in(root: Path, site: FakeAcled) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets(site):
                assert secret.encode() not in content, (path, secret)


def read_hits(site: FakeAcled) -> list[Request]:
    return site.server.hits(READ_ROUTE)


def token_hits(site: FakeAcled) -> list[Request]:
    return site.server.hits(TOKEN_ROUTE)


# --- tests --------------------------------------------------------------------------------


def test_pages_are_followed_until_a_short_page(site: FakeAcled, store: Path) -> None:
    record = fetch(site, store)
    p = record.provenance
    assert (p.source, p.rows) == ("acled", 7)
    assert p.fatalities_best == sum(int(r["fatalities"]) for r in ROWS) == 9
    assert [(h.query["page"], h.query["limit"]) for h in read_hits(site)] == [
        ("1", "3"),
        ("2", "3"),
        ("3", "3"),
    ]
    assert (p.details["api_pull"], p.details["api_rows"], len(p.details["api_pages"])) == (
        True,
        7,
        3,
    )
    assert p.origin == f"{site.server.url}/api/acled/read?_format=json"
    table, *raw = sorted(f.name for f in (record.folder / "raw").iterdir())
    assert raw == ["page-00001.json", "page-00002.json", "page-00003.json"]
    assert table.startswith("acled-api-") and table.endswith(".csv") and p.file == table
    pages = [json.loads((record.folder / "raw" / n).read_bytes())["data"] for n in raw]
    assert [len(d) for d in pages] == [3, 3, 1]
    assert [r["event_id_cnty"] for d in pages for r in d] == [r["event_id_cnty"] for r in ROWS]
    # The CSV built from the pages is an ordinary ACLED export in the 31-column order.
    header = (record.folder / "raw" / table).read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == acled.CURRENT_COLUMNS
    assert len(token_hits(site)) == 1  # one log-in, the token reused for every page


def test_an_exact_multiple_ends_with_an_empty_page(site: FakeAcled, store: Path) -> None:
    site.rows = acled_rows(6)
    assert fetch(site, store).provenance.rows == 6
    assert [h.query["page"] for h in read_hits(site)] == ["1", "2", "3"]


def test_request_carries_filters_limit_page_and_bearer(site: FakeAcled, store: Path) -> None:
    record = fetch(
        site,
        store,
        countries=["Benin", "Togo"],
        region="1",
        start="2025-01-01",
        end="2025-12-31",
        event_types=["Battles", "Protests"],
        page_size=5000,
    )
    (hit,) = read_hits(site)
    assert hit.query == {
        "_format": "json",
        "country": "Benin|Togo",
        "region": "1",
        "event_date": "2025-01-01|2025-12-31",
        "event_date_where": "BETWEEN",
        "event_type": "Battles|Protests",
        "limit": "5000",
        "page": "1",
    }
    assert hit.headers["authorization"] == f"Bearer {site.token(1)}"
    assert record.provenance.details["api_years"]["2025"]["reused_from"] is None
    (login,) = token_hits(site)
    assert login.method == "POST"
    assert login.query == {
        "grant_type": "password",
        "client_id": "acled",
        "username": USERNAME,
        "password": PASSWORD,
        "scope": "authenticated",
    }
    assert record.provenance.details["api_filters"]["country"] == "Benin|Togo"
    assert "Benin%7CTogo" in record.provenance.origin


def test_expired_token_is_refreshed_once(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, ok(), status(401))
    assert fetch(site, store).provenance.rows == 7
    grants = [h.query["grant_type"] for h in token_hits(site)]
    assert grants == ["password", "refresh_token"]
    bearers = [h.headers["authorization"] for h in read_hits(site)]
    assert bearers == [f"Bearer {site.token(n)}" for n in (1, 1, 2, 2)]


def test_token_past_its_lifetime_is_renewed_before_use(site: FakeAcled, store: Path) -> None:
    site.expires_in = 1  # inside the safety margin: renewed before each page
    assert fetch(site, store).provenance.rows == 7
    assert [h.query["grant_type"] for h in token_hits(site)] == [
        "password",
        "refresh_token",
        "refresh_token",
    ]


def test_refused_refresh_falls_back_to_a_new_log_in(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, ok(), status(401))
    site.server.script(TOKEN_ROUTE, ok(), status(400, body=b'{"error": "invalid_grant"}'))
    assert fetch(site, store).provenance.rows == 7
    grants = [h.query["grant_type"] for h in token_hits(site)]
    assert grants == ["password", "refresh_token", "password"]


def test_a_token_refused_after_a_fresh_log_in_is_explained(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, status(401), status(401))
    message = refused(lambda: fetch(site, store), store, site)
    assert "ACLED refused the access token (HTTP 401) even after a fresh log-in" in message


def test_wrong_credentials_are_explained(
    site: FakeAcled, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, "wrong-" + PASSWORD)
    message = refused(lambda: fetch(site, store), store, site)
    assert message == (
        f"{site.server.url}/oauth/token: ACLED refused the log-in (invalid_grant): check "
        "ACLED_USERNAME (your myACLED e-mail) and ACLED_PASSWORD"
    )
    assert read_hits(site) == []


def test_account_without_api_access_is_explained(site: FakeAcled, store: Path) -> None:
    site.forbidden = True
    message = refused(lambda: fetch(site, store), store, site)
    assert "the account's access level does not include the API" in message
    assert "acleddata.com" in message


def test_missing_credentials_say_what_to_set(
    site: FakeAcled, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(acled_remote.USERNAME_ENV)
    monkeypatch.delenv(acled_remote.PASSWORD_ENV)
    message = refused(lambda: fetch(site, store), store, site)
    assert message.startswith("ACLED_USERNAME and ACLED_PASSWORD: not set")
    assert "the bulk UCDP data needs no account" in message
    assert site.server.requests == []


def test_rate_limit_with_retry_after_then_success(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, ok(), status(429, retry_after="1"))
    started = time.monotonic()
    assert fetch(site, store).provenance.rows == 7
    assert time.monotonic() - started >= 0.9
    assert len(read_hits(site)) == 4


def test_rate_limit_every_time_mentions_the_quota(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, *[status(429, retry_after="1")] * 3)
    policy = replace(FAST, max_wait=0.01)
    message = refused(lambda: fetch(site, store, policy=policy), store, site)
    assert "gave up after 3 tries: HTTP 429 Too Many Requests" in message
    assert "quota or rate limit); try again later" in message


def test_server_error_is_retried(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, status(500))
    assert fetch(site, store).provenance.rows == 7
    assert len(read_hits(site)) == 4


def test_page_cut_mid_body_is_asked_for_again(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, ok(), cut(20))
    record = fetch(site, store)
    assert record.provenance.rows == 7
    assert [h.query["page"] for h in read_hits(site)] == ["1", "2", "2", "3"]


def test_page_cut_every_time_gives_up(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, cut(20), cut(20), cut(20))
    message = refused(lambda: fetch(site, store), store, site)
    assert message.endswith("page=1: connection cut mid-page (3 tries)")


def test_page_that_is_not_an_acled_answer(site: FakeAcled, store: Path) -> None:
    site.server.route(READ_ROUTE, lambda _r: _json(200, {"error": "Something went wrong"}))
    message = refused(lambda: fetch(site, store), store, site)
    assert "no 'data' list; not an ACLED API answer (it says: Something went wrong)" in message


def test_no_events_for_the_filters(site: FakeAcled, store: Path) -> None:
    site.rows = []
    message = refused(lambda: fetch(site, store, countries=["Atlantis"]), store, site)
    assert message.endswith("ACLED has no events for these filters")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"start": "2025-13-01"}, "--start: '2025-13-01' is not a date YYYY-MM-DD"),
        ({"start": "2025-02-01", "end": "2025-01-01"}, "--start: 2025-02-01 is after --end"),
        ({"page_size": 0}, "page_size: must be between 1 and 5000"),
    ],
)
def test_bad_options_are_refused_before_any_request(
    site: FakeAcled, store: Path, options: dict, problem: str
) -> None:
    assert refused(lambda: fetch(site, store, **options), store, site).startswith(problem)
    assert site.server.requests == []


def test_credentials_and_tokens_never_stored(site: FakeAcled, store: Path) -> None:
    site.server.script(READ_ROUTE, ok(), status(401))  # two tokens and two refresh tokens
    record = fetch(site, store)
    assert site.issued == 2
    assert_no_secrets_in(store, site)
    text = json.dumps(record.provenance.to_dict())
    assert not any(secret in text for secret in secrets(site))


def test_cli_fetch_acled(site: FakeAcled, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(store), "fetch", "acled", "--country", "Benin", "--country",
                 "Togo", "--start", "2025-01-01", "--end", "2025-12-31", "--event-type",
                 "Battles", "--base-url", site.server.url, "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert (
        "Imported ACLED export 2026-01-01 from acled-api-" in out and ": 7 events, 9 deaths" in out
    )
    assert read_hits(site)[0].query["country"] == "Benin|Togo"


def test_cli_failure_is_one_line_without_secrets(
    site: FakeAcled,
    store: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(acled_remote.BASE_URL_ENV, site.server.url)
    site.forbidden = True
    before = tree_digest(store)
    assert main(["--data-dir", str(store), "fetch", "acled", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not include the API" in err
    assert not any(secret in err for secret in secrets(site))
    assert tree_digest(store) == before


# --- the re-fetch rule: past years are reused, the current year is always fetched ----------

THIS_YEAR = dt.datetime.now(dt.UTC).year


def two_years(site: FakeAcled) -> list[dict]:
    """4 events last year and 5 in the first days of this year (never in the future)."""
    last = acled_rows(4, THIS_YEAR - 1)
    now = [
        dict(r, event_id_cnty=f"BEN{8000 + i}", event_date=f"{THIS_YEAR}-01-0{i + 1}")
        for i, r in enumerate(acled_rows(5, THIS_YEAR))
    ]
    site.rows = last + now
    return site.rows


def windows(site: FakeAcled) -> list[str]:
    return [h.query["event_date"] for h in read_hits(site) if h.query["page"] == "1"]


def test_a_span_is_fetched_year_by_year(site: FakeAcled, store: Path) -> None:
    rows = two_years(site)
    start = f"{THIS_YEAR - 1}-02-01"
    p = fetch(site, store, start=start, end=f"{THIS_YEAR}-12-31").provenance
    assert windows(site) == [
        f"{start}|{THIS_YEAR - 1}-12-31",
        f"{THIS_YEAR}-01-01|{THIS_YEAR}-12-31",
    ]
    assert (p.rows, p.details["api_skipped_years"]) == (len(rows), [])
    assert {y: info["rows"] for y, info in p.details["api_years"].items()} == {
        str(THIS_YEAR - 1): 4,
        str(THIS_YEAR): 5,
    }
    assert [x["file"] for x in p.details["api_pages"]][:2] == [
        f"page-{THIS_YEAR - 1}-00001.json",
        f"page-{THIS_YEAR - 1}-00002.json",
    ]


def test_past_years_already_pulled_are_skipped(
    site: FakeAcled, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = two_years(site)
    span = {"start": f"{THIS_YEAR - 1}-01-01", "end": f"{THIS_YEAR}-12-31"}
    first = fetch(site, store, **span)
    before = tree_digest(first.folder)
    site.server.requests.clear()
    args = ["--data-dir", str(store), "fetch", "acled", "--start", span["start"], "--end",
            span["end"], "--base-url", site.server.url, "--no-progress"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"skipped (already pulled with the same filters, pages reused): {THIS_YEAR - 1}" in out
    assert windows(site) == [f"{THIS_YEAR}-01-01|{THIS_YEAR}-12-31"]  # only the current year
    # Same filters and data: the same import key, so the new pull replaces the first.
    (second,) = Store(store).records(["acled"])
    assert second.folder != first.folder
    p = second.provenance
    assert p.details["api_skipped_years"] == [str(THIS_YEAR - 1)]
    assert p.details["api_years"][str(THIS_YEAR - 1)]["reused_from"] == first.import_id
    assert p.rows == len(rows)
    assert tree_digest(first.folder) == before or not first.folder.exists()


def test_other_filters_do_not_reuse_past_years(site: FakeAcled, store: Path) -> None:
    two_years(site)
    span = {"start": f"{THIS_YEAR - 1}-01-01", "end": f"{THIS_YEAR}-12-31"}
    fetch(site, store, **span)
    site.server.requests.clear()
    p = fetch(site, store, countries=["Benin"], **span).provenance
    assert p.details["api_skipped_years"] == []
    assert len(windows(site)) == 2
