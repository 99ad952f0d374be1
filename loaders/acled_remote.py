"""Fetch ACLED events from the ACLED API (OAuth log-in with a myACLED account) into the store.

The pull logs in with the OAuth password grant (`ACLED_USERNAME` / `ACLED_PASSWORD` from the
environment), keeps the bearer token in memory only and renews it when it expires or the API
answers 401 once. It asks `/api/acled/read?_format=json` for pages of an explicit `limit`
(`page=1,2,…`) until a page comes back short, saves every page untouched in a scratch folder in
the store, writes the rows as one CSV in ACLED's 31-column order and imports that through the
same reader and atomic commit as an export file, keeping the pages beside it. A failure at any
point leaves the store as it was; credentials and tokens never appear in a message, a record
or a saved file.

Re-fetch rule: with `start`, the pull goes year by year. ACLED revises recent events, so the
current year is always fetched again; a past year that a live earlier API pull already holds
with exactly the same query is not asked for again: its saved pages are reused (copied from
that import, which stays as it was) and the provenance lists it under `api_skipped_years`.
Everything still ends in one import, so the store never holds half a pull.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests
import urllib3
from tqdm import tqdm

from loaders import acled, http
from loaders.errors import LoaderError, redact
from loaders.pipeline import import_file
from loaders.store import ImportRecord, Store, sha256_of
from loaders.ucdp_remote import scratch_folder

BASE_URL = "https://acleddata.com"
BASE_URL_ENV = "ACLED_BASE_URL"  # a mirror of acleddata.com (tests point it at a loopback server)
USERNAME_ENV, PASSWORD_ENV = "ACLED_USERNAME", "ACLED_PASSWORD"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path)
READ_PATH = "/api/acled/read"
CLIENT_ID = "acled"
PAGE_SIZE = 5000
MAX_PAGES = 10_000  # a server that ignores `page` must not keep us busy forever
EXPIRY_MARGIN = 60.0  # renew a token this many seconds before ACLED says it expires
DEFAULT_LIFETIME = 3600.0  # when the token answer has no expires_in (ACLED's is 24 h)

SETUP_HINT = (
    f"set {USERNAME_ENV} (your myACLED e-mail) and {PASSWORD_ENV}; the bulk UCDP data needs "
    "no account (python -m loaders fetch ucdp)"
)
WRONG_LOGIN = (
    f"ACLED refused the log-in (invalid_grant): check {USERNAME_ENV} (your myACLED e-mail) "
    f"and {PASSWORD_ENV}"
)
RATE_LIMIT = (
    "ACLED limits how often and how much an account may download (quota or rate limit); "
    "try again later"
)
READ_EXPLAIN = {
    401: "ACLED refused the access token (HTTP 401) even after a fresh log-in; try again later",
    403: (
        "ACLED refused access (HTTP 403): the account's access level does not include the API; "
        "see https://acleddata.com (account / access levels)"
    ),
    429: RATE_LIMIT,
}
TOKEN_EXPLAIN = {429: RATE_LIMIT}
RETRY_METHODS = frozenset({"GET", "HEAD", "POST"})
# Fields every event of an API answer has: the reader needs them (ACLED sends all 31).
REQUIRED_FIELDS = ("event_id_cnty", *acled.NEEDED)


def configured_base_url() -> str:
    """The API root: the environment's mirror, else ACLED's own."""
    return os.environ.get(BASE_URL_ENV) or BASE_URL


def credentials() -> tuple[str, str]:
    """The myACLED log-in from the environment, or a message saying what to set."""
    username = os.environ.get(USERNAME_ENV, "").strip()
    password = os.environ.get(PASSWORD_ENV, "")
    missing = [
        name for name, value in ((USERNAME_ENV, username), (PASSWORD_ENV, password)) if not value
    ]
    if missing:
        raise LoaderError(
            " and ".join(missing), f"not set: the ACLED API needs a myACLED account; {SETUP_HINT}"
        )
    return username, password


def query(
    *,
    countries: list[str] | None = None,
    region: str | None = None,
    start: str | None = None,
    end: str | None = None,
    event_types: list[str] | None = None,
) -> dict[str, str]:
    """The filters as ACLED's query parameters (`|` joins alternatives)."""
    params: dict[str, str] = {}
    if countries:
        params["country"] = "|".join(countries)
    if region:
        params["region"] = str(region)
    for flag, value in (("--start", start), ("--end", end)):
        if value and not _is_iso_date(value):
            raise LoaderError(flag, f"{value!r} is not a date YYYY-MM-DD")
    if start and end:
        if start > end:
            raise LoaderError("--start", f"{start} is after --end {end}")
        params |= {"event_date": f"{start}|{end}", "event_date_where": "BETWEEN"}
    elif start or end:
        params |= {"event_date": start or end or "", "event_date_where": ">=" if start else "<="}
    if event_types:
        params["event_type"] = "|".join(event_types)
    return params


def _is_iso_date(text: str) -> bool:
    try:
        return len(text) == 10 and bool(dt.date.fromisoformat(text))
    except ValueError:
        return False


@dataclass
class _Auth:
    """The OAuth tokens of one pull, in memory only."""

    session: http.Session
    token_url: str
    username: str
    password: str
    access: str = ""
    refresh: str = ""
    expires: float = 0.0
    secrets: list[str] = field(default_factory=list)

    def header(self) -> dict[str, str]:
        if not self.access or time.monotonic() >= self.expires:
            self.renew()
        return {"Authorization": f"Bearer {self.access}"}

    def renew(self) -> None:
        """A new token: by the refresh token when there is one, else by logging in again."""
        if self.refresh:
            try:
                self._grant({"grant_type": "refresh_token", "refresh_token": self.refresh})
                return
            except LoaderError:
                self.refresh = ""  # an expired refresh token: log in again
        self._grant(
            {
                "grant_type": "password",
                "username": self.username,
                "password": self.password,
                "scope": "authenticated",
            }
        )

    def _grant(self, form: dict[str, str]) -> None:
        where = http.public_url(self.token_url)
        response = _answer(
            lambda: self.session.post(
                self.token_url,
                data={**form, "client_id": CLIENT_ID},
                headers={"Accept": "application/json"},
                stream=True,
            ),
            where,
            self.session.policy,
            "mid-answer",
        )
        answer = _json_or_none(response.content)
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code in (400, 401):
            error = answer.get("error")
            if error == "invalid_grant" or response.status_code == 401:
                raise LoaderError(where, WRONG_LOGIN)
            problem = f"HTTP {response.status_code}" + (f" {error}" if error else "")
            raise LoaderError(where, f"ACLED refused the log-in request ({problem})")
        if response.status_code >= 400:
            raise LoaderError(where, http.status_problem(response, TOKEN_EXPLAIN))
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise LoaderError(
                where, "the log-in answer has no access_token; is this ACLED's server?"
            )
        lifetime = answer.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_LIFETIME
        self.access = token
        self.refresh = str(answer.get("refresh_token") or "")
        self.expires = time.monotonic() + max(seconds - EXPIRY_MARGIN, 0.0)
        self.secrets += [self.access, self.refresh]


def fetch(
    *,
    countries: list[str] | None = None,
    region: str | None = None,
    start: str | None = None,
    end: str | None = None,
    event_types: list[str] | None = None,
    base_url: str | None = None,
    data_dir: str | Path | None = None,
    progress: http.Progress = True,
    page_size: int = PAGE_SIZE,
    policy: http.Policy | None = None,
    unchanged: Sequence[ImportRecord] = (),
) -> ImportRecord:
    """Pull the ACLED events matching the filters and import them atomically as one import.

    `countries` and `event_types` are alternatives (ACLED's `|`); `start` / `end` are
    YYYY-MM-DD. `base_url` (else `$ACLED_BASE_URL`) replaces `https://acleddata.com`;
    `policy` sets retries and timeouts. Past years already pulled are reused (module docstring).
    `unchanged`: live imports the pull may repeat; when its rows are byte for byte one of
    theirs (same sha256), nothing is imported and that import is returned (a re-pull by
    `python -m loaders update` changes nothing when ACLED changed nothing).
    """
    if not 1 <= page_size <= PAGE_SIZE:
        raise LoaderError("page_size", f"must be between 1 and {PAGE_SIZE}, not {page_size}")
    filters = query(
        countries=countries, region=region, start=start, end=end, event_types=event_types
    )
    username, password = credentials()
    root = (base_url or configured_base_url()).rstrip("/")
    # The log-in is a POST: retried like the reads, as a failed log-in grants nothing.
    session = http.make_session(
        policy, secret_headers=("Authorization",), retry_methods=RETRY_METHODS
    )
    auth = _Auth(session, root + TOKEN_PATH, username, password)
    try:
        plan = year_plan(filters, start, end)
        return _pull(root, filters, plan, auth, data_dir, progress, page_size, unchanged)
    except LoaderError as exc:
        secrets = [password, username, *auth.secrets]
        raise LoaderError(redact(exc.where, secrets), redact(exc.problem, secrets)) from None
    finally:
        session.close()


def year_plan(
    filters: dict[str, str], start: str | None, end: str | None
) -> list[tuple[str, dict]]:
    """The pull as (year, query) parts: one per calendar year from `start` to `end`.

    Without `start` the pull is one part (label ""), as ACLED has no first year to count from;
    without `end` the years run to the current one.
    """
    if not start:
        return [("", filters)]
    last = dt.date.fromisoformat(end) if end else dt.datetime.now(dt.UTC).date()
    plan = []
    for year in range(int(start[:4]), last.year + 1):
        first = max(start, f"{year}-01-01")
        final = min(last.isoformat(), f"{year}-12-31")
        window = {"event_date": f"{first}|{final}", "event_date_where": "BETWEEN"}
        plan.append((str(year), {**filters, **window}))
    return plan


def _pull(
    root: str,
    filters: dict[str, str],
    plan: list[tuple[str, dict]],
    auth: _Auth,
    data_dir: str | Path | None,
    progress: http.Progress,
    page_size: int,
    unchanged: Sequence[ImportRecord] = (),
) -> ImportRecord:
    """Download (or reuse) every part of the plan, then import all rows as one import
    (unless they are exactly those of an `unchanged` import: see `fetch`)."""
    endpoint = f"{root}{READ_PATH}"
    origin = http.public_url(f"{endpoint}?{urlencode({'_format': 'json', **filters})}")
    store = Store(data_dir)
    current_year = dt.datetime.now(dt.UTC).year
    earlier = _earlier_years(store)
    with scratch_folder(store) as folder:
        pages: list[Path] = []
        rows: list[dict] = []
        years: dict[str, dict] = {}
        for year, part in plan:
            reuse = earlier.get((year, _key(part))) if year and int(year) < current_year else None
            prefix = f"page-{year}-" if year else "page-"
            if reuse:
                record, names = reuse
                got, data = _reuse_pages(record.folder / "raw", names, folder)
            else:
                got, data = _download_pages(
                    endpoint, part, auth, folder, prefix, page_size, progress, len(rows)
                )
            pages += got
            rows += data
            if year:
                years[year] = {
                    "query": part,
                    "pages": [p.name for p in got],
                    "rows": len(data),
                    "reused_from": reuse[0].import_id if reuse else None,
                }
        if not rows:
            raise LoaderError(origin, "ACLED has no events for these filters")
        name = "acled-api-" + hashlib.sha256(_key(filters).encode()).hexdigest()[:12]
        table = _write_csv(rows, folder / f"{name}.csv")
        digest = sha256_of(table)
        for record in unchanged:
            if record.provenance.sha256 == digest:
                return record
        skipped = sorted(y for y, info in years.items() if info["reused_from"])
        details = {
            "api_pull": True,
            "api_filters": filters,
            "api_page_size": page_size,
            "api_pages": [
                {
                    "file": p.name,
                    "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                    "bytes": p.stat().st_size,
                }
                for p in pages
            ],
            "api_rows": len(rows),
            "api_requests": auth.session.requests_sent,
            "api_years": years,
            "api_skipped_years": skipped,
        }
        return import_file(
            table,
            source="acled",
            data_dir=store.root,
            origin=origin,
            move=True,
            details=details,
            also_keep=pages,
        )


def _key(query: dict[str, str]) -> str:
    return json.dumps(query, sort_keys=True)


def _earlier_years(store: Store) -> dict[tuple[str, str], tuple[ImportRecord, list[str]]]:
    """Past years held by live API pulls: (year, query) -> the newest import and its pages."""
    found: dict[tuple[str, str], tuple[ImportRecord, list[str]]] = {}
    records = [r for r in store.records(["acled"]) if r.provenance.details.get("api_pull")]
    for record in sorted(records, key=lambda r: r.provenance.fetched_at):
        for year, info in (record.provenance.details.get("api_years") or {}).items():
            names = info.get("pages") or []
            if names and all((record.folder / "raw" / n).is_file() for n in names):
                found[(year, _key(info["query"]))] = (record, names)
    return found


def _reuse_pages(raw: Path, names: list[str], folder: Path) -> tuple[list[Path], list[dict]]:
    """Copies of a year's pages from an earlier pull (which stays untouched) and their rows."""
    pages, rows = [], []
    for name in names:
        page = folder / name
        shutil.copyfile(raw / name, page)
        rows += _rows(page.read_bytes(), str(raw / name))
        pages.append(page)
    return pages, rows


def _download_pages(
    endpoint: str,
    query: dict[str, str],
    auth: _Auth,
    folder: Path,
    prefix: str,
    page_size: int,
    progress: http.Progress,
    done: int,
) -> tuple[list[Path], list[dict]]:
    """Every page of one query as ACLED sent it (saved untouched) and all their rows."""
    pages: list[Path] = []
    rows: list[dict] = []
    report = progress if callable(progress) else None
    show = progress is True and sys.stderr.isatty()
    with tqdm(unit="page", desc="ACLED API", disable=not show, leave=False) as bar:
        for number in range(1, MAX_PAGES + 1):
            params = {"_format": "json", **query, "limit": str(page_size), "page": str(number)}
            url = f"{endpoint}?{urlencode(params)}"
            content = _get(url, auth)
            page = folder / f"{prefix}{number:05d}.json"
            page.write_bytes(content)
            data = _rows(content, url)
            pages.append(page)
            rows.extend(data)
            bar.update(1)
            if report:
                report(done + len(rows), None)
            if len(data) < page_size:
                return pages, rows
    raise LoaderError(
        http.public_url(endpoint),
        f"still full pages after {MAX_PAGES:,} pages; the server may ignore `page`: stopped",
    )


def _get(url: str, auth: _Auth) -> bytes:
    """One page's body: a 401 renews the token once, a body cut short is asked for again."""
    where = http.public_url(url)
    policy = auth.session.policy

    def send() -> requests.Response:
        headers = {"Accept": "application/json", **auth.header()}
        return auth.session.get(url, headers=headers, stream=True)

    response = _answer(send, where, policy, "mid-page")
    if response.status_code == 401:
        auth.renew()
        response = _answer(send, where, policy, "mid-page")
        if response.status_code == 401:
            raise LoaderError(where, READ_EXPLAIN[401])
    if response.status_code >= 400:
        raise LoaderError(where, http.status_problem(response, READ_EXPLAIN))
    if response.headers.get("Content-Type", "").split(";")[0].strip().lower() == "text/html":
        raise LoaderError(where, http.HTML_PROBLEM)
    if response.content.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise LoaderError(where, f"{http.HTML_PROBLEM} (it starts with <html>)")
    return response.content


def _answer(
    send: Callable[[], requests.Response], where: str, policy: http.Policy, what: str
) -> requests.Response:
    """An answer read to its end: a body cut short or gone silent is asked for again.

    urllib3 retries what happens before the headers (statuses, silence, refused connections);
    the body is read here, with `stream=True`, because a failure there is no retry of its own.
    """
    failure = "cut"
    for attempt in range(1, policy.tries + 1):
        if attempt > 1:
            time.sleep(policy.wait(attempt - 1))
        try:
            response = send()
        except requests.RequestException as exc:
            raise LoaderError(where, http.request_failure(exc, policy)) from None
        try:
            response.content  # noqa: B018 (reads and keeps the body)
            return response
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.HTTPError,
        ) as exc:
            failure = "timeout" if http.is_timeout(exc) else "cut"
        finally:
            response.close()
    tries = http.tries_text(policy.tries)
    if failure == "timeout":
        raise LoaderError(
            where, f"timed out {what} (no data for {policy.read_timeout:g} s, {tries})"
        )
    raise LoaderError(where, f"connection cut {what} ({tries})")


def _json_or_none(content: bytes) -> object:
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _rows(content: bytes, url: str) -> list[dict]:
    """The `data` list of one page, or a message saying what came instead."""
    where = http.public_url(url)
    page = _json_or_none(content)
    if page is None:
        raise LoaderError(where, "ACLED sent a page that is not valid JSON")
    if not isinstance(page, dict) or not isinstance(page.get("data"), list):
        said = page.get("error") or page.get("message") if isinstance(page, dict) else None
        detail = f" (it says: {str(said)[:200]})" if said else ""
        raise LoaderError(where, f"the page has no 'data' list; not an ACLED API answer{detail}")
    if not all(isinstance(row, dict) for row in page["data"]):
        raise LoaderError(where, "the page's 'data' holds something other than events")
    # A field left out (not empty) means another answer than ACLED's; it would import as blanks.
    for number, row in enumerate(page["data"], start=1):
        missing = [name for name in REQUIRED_FIELDS if name not in row]
        if missing:
            raise LoaderError(
                where,
                f"event {number} of the page lacks the fields {', '.join(missing)}; "
                "not a complete ACLED answer: try again later",
            )
    return page["data"]


def _write_csv(rows: list[dict], path: Path) -> Path:
    """The rows as an export file in ACLED's column order (other keys are left out)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=acled.CURRENT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path
