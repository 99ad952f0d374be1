"""Fetch UCDP GED from the public service: the bulk CSV downloads (no token) or the API (token).

Both ways end in the same reader and atomic store commit as a file an analyst imports, so a
download is checked exactly like a local file, and a failure anywhere — network, format,
validation — leaves the store as it was. Downloads go to a scratch folder inside the store's
root (same file system, so the importer can move rather than copy) that is always removed.
The API token is read from the environment only and never appears in a message or a record.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tqdm import tqdm

from loaders import http
from loaders.errors import LoaderError, redact
from loaders.pipeline import import_api_pages, import_file
from loaders.store import ImportRecord, Store
from loaders.ucdp import Release, parse_release

BASE_URL = "https://ucdp.uu.se"
API_URL = "https://ucdpapi.pcr.uu.se"
LATEST_GED = "26.1"
# A mirror of ucdp.uu.se / the UCDP API for the app's refresh button (the CLI has flags).
BASE_URL_ENV, API_URL_ENV = "UCDP_BASE_URL", "UCDP_API_URL"


def configured_urls() -> tuple[str, str]:
    """The download and API roots: the environment's mirror, else UCDP's own."""
    return os.environ.get(BASE_URL_ENV) or BASE_URL, os.environ.get(API_URL_ENV) or API_URL


TOKEN_ENV = "UCDP_API_TOKEN"  # noqa: S105 (a variable name, not a secret)
TOKEN_HEADER = "x-ucdp-access-token"  # noqa: S105 (a header name)
PAGE_SIZE = 1000  # the API's maximum page size
DAILY_REQUEST_BUDGET = 5000  # UCDP's quota per token and day
STALE_DOWNLOAD_SECONDS = 24 * 3600
ZIP_MAGIC = b"PK\x03\x04"
OWNER_FILE = ".owner"  # locked by the run a download folder belongs to

BULK_HINT = "or use the bulk download, which needs no token (leave out --api)"
BULK_EXPLAIN = {404: "HTTP 404: no such release on the server (check --version / --candidate)"}
API_EXPLAIN = {
    401: (
        "the UCDP API refused the token (HTTP 401): UCDP_API_TOKEN is missing or invalid; "
        "request one from UCDP, or use the bulk download (no token)"
    ),
    403: (
        "the UCDP API refused the token (HTTP 403): it may have expired or lack access; "
        "request a new one from UCDP, or use the bulk download (no token)"
    ),
    404: "HTTP 404: the API has no such release (check --version / --candidate)",
    429: (
        "the UCDP API allows 5,000 requests a day per token; try again tomorrow, "
        "or use the bulk download (no token)"
    ),
}


def release_for(version: str = LATEST_GED, candidate: str | None = None) -> Release:
    """The release to fetch: `candidate` when given (monthly), else the yearly `version`."""
    flag, text = ("--candidate", candidate) if candidate else ("--version", version)
    try:
        release = parse_release(text)
    except LoaderError as exc:
        raise LoaderError(flag, exc.problem) from None
    if candidate and release.dataset != "candidate":
        raise LoaderError(flag, f"{text!r} is a yearly release; pass it as --version {text}")
    if not candidate and release.dataset != "ged":
        raise LoaderError(flag, f"{text!r} is a Candidate release; pass it as --candidate {text}")
    return release


def download_url(release: Release, base_url: str = BASE_URL) -> str:
    """Where UCDP publishes a release as a file.

    25.1 -> `downloads/ged/ged251-csv.zip`; 25.0.6 -> `downloads/candidateged/GEDEvent_v25_0_6.csv`;
    25.0.1-6 (months 1 to 6 in one file) -> `downloads/candidateged/GEDEvent_v25_01_25_06.csv`.
    """
    root = base_url.rstrip("/")
    year, _, months = release.version.partition(".")
    if release.dataset == "ged":
        return f"{root}/downloads/ged/ged{year}1-csv.zip"
    months = months.removeprefix("0.")
    first, _, last = months.partition("-")
    if not last:
        return f"{root}/downloads/candidateged/GEDEvent_v{year}_0_{int(first)}.csv"
    if int(first) != 1:
        raise LoaderError(
            "--candidate",
            f"UCDP publishes multi-month Candidate files from month 1 only (e.g. {year}.0.1-"
            f"{int(last)}), not {release.version}",
        )
    return f"{root}/downloads/candidateged/GEDEvent_v{year}_01_{year}_{int(last):02d}.csv"


def fetch(
    *,
    version: str = LATEST_GED,
    candidate: str | None = None,
    use_api: bool = False,
    base_url: str = BASE_URL,
    api_url: str = API_URL,
    data_dir: str | Path | None = None,
    progress: http.Progress = True,
    policy: http.Policy | None = None,
    page_size: int = PAGE_SIZE,
    daily_budget: int = DAILY_REQUEST_BUDGET,
) -> ImportRecord:
    """Download one UCDP GED release and import it atomically; return the live import.

    `candidate` (e.g. `25.0.6`) takes precedence over the yearly `version`. `use_api` pulls
    the release page by page from the API with `UCDP_API_TOKEN` instead of the bulk file;
    `policy` sets retries and timeouts, `daily_budget` the requests one pull may spend.
    """
    release = release_for(version, candidate)
    if not use_api:
        return _fetch_bulk(release, base_url, data_dir, progress, policy)
    token = api_token()
    try:
        return _fetch_api(
            release, api_url, token, data_dir, progress, policy, page_size, daily_budget
        )
    except LoaderError as exc:
        if token in str(exc):  # never expected, but a message must not carry the token
            raise LoaderError(redact(exc.where, [token]), redact(exc.problem, [token])) from None
        raise


def api_token() -> str:
    """The UCDP API token from the environment, or a message saying how to get going."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise LoaderError(
            TOKEN_ENV,
            "not set: the UCDP API needs an access token (request one from UCDP and set "
            f"{TOKEN_ENV}), {BULK_HINT}",
        )
    if not token.isprintable() or any(c.isspace() for c in token):
        raise LoaderError(
            TOKEN_ENV, "contains spaces or line breaks; copy the token exactly as UCDP sent it"
        )
    return token


@contextmanager
def scratch_folder(store: Store) -> Iterator[Path]:
    """A fresh folder under the store root for a download, removed whatever happens.

    The running download holds a lock on the folder's `.owner` file, so a folder whose lock is
    free belongs to a run that was killed and is removed by the next one; folders without one
    (from older versions) are cleared once they are a day old.
    """
    downloads = store.root / "downloads"
    for stale in downloads.glob("*"):
        _remove_if_abandoned(stale)
    downloads.mkdir(parents=True, exist_ok=True)
    # Built under a hidden name and renamed once locked: no other run sees it unlocked.
    building = downloads / f".{uuid.uuid4().hex}"
    building.mkdir()
    with (building / OWNER_FILE).open("w") as owner:
        fcntl.flock(owner, fcntl.LOCK_EX)
        folder = building.rename(downloads / building.name[1:])
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            try:
                downloads.rmdir()  # only when no other download is running
            except OSError:
                pass


def _remove_if_abandoned(folder: Path) -> None:
    """Remove a download folder whose run is gone (its lock is free) or that is a day old."""
    if not folder.name.startswith("."):  # a hidden folder is being built: only its age tells
        try:
            with (folder / OWNER_FILE).open("r") as owner:
                fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
                return
        except BlockingIOError:
            return  # a download still running in another process
        except OSError:
            pass  # no owner file: a folder from before owner files
    try:
        if time.time() - folder.stat().st_mtime > STALE_DOWNLOAD_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
    except FileNotFoundError:
        pass  # removed meanwhile by another run


def _fetch_bulk(
    release: Release,
    base_url: str,
    data_dir: str | Path | None,
    progress: http.Progress,
    policy: http.Policy | None,
) -> ImportRecord:
    url = download_url(release, base_url)
    store = Store(data_dir)
    with http.make_session(policy) as session, scratch_folder(store) as folder:
        name = Path(urlsplit(url).path).name
        path = http.download(
            url, folder / name, session=session, progress=progress, explain=BULK_EXPLAIN
        )
        _check_archive(path, url)
        try:
            return import_file(
                path, version=release.version, data_dir=store.root, origin=url, move=True
            )
        except LoaderError as exc:
            if "damaged or truncated" not in exc.problem:
                raise
            raise LoaderError(
                exc.where,
                f"{exc.problem}; the download from {http.public_url(url)} arrived damaged: "
                "fetch it again",
            ) from None


def _check_archive(path: Path, url: str) -> None:
    """Refuse a body that is no zip where UCDP publishes one (an error document, say)."""
    if path.suffix.lower() != ".zip":
        return
    with path.open("rb") as handle:
        head = handle.read(64)
    if head.startswith(ZIP_MAGIC):
        return
    shown = "".join(c if c.isprintable() else "?" for c in head[:40].decode("latin-1"))
    raise LoaderError(
        http.public_url(url),
        f"the server sent something other than a zip archive (it starts with {shown!r}); "
        "try again later, or download the file in a browser and use python -m loaders import",
    )


def _fetch_api(
    release: Release,
    api_url: str,
    token: str,
    data_dir: str | Path | None,
    progress: http.Progress,
    policy: http.Policy | None,
    page_size: int,
    daily_budget: int,
) -> ImportRecord:
    if not 1 <= page_size <= PAGE_SIZE:
        raise LoaderError("page_size", f"must be between 1 and {PAGE_SIZE}, not {page_size}")
    endpoint = f"{api_url.rstrip('/')}/api/gedevents/{release.version}"
    store = Store(data_dir)
    session = http.make_session(policy, secret_headers=(TOKEN_HEADER,))
    session.headers.update({TOKEN_HEADER: token, "Accept": "application/json"})
    with session, scratch_folder(store) as folder:
        pages = _download_pages(session, endpoint, folder, page_size, daily_budget, progress)
        return import_api_pages(
            pages,
            release,
            data_dir=store.root,
            origin=http.public_url(f"{endpoint}?pagesize={page_size}&page=0"),
            complete=True,
            details={"api_requests": session.requests_sent, "api_page_size": page_size},
        )


def _download_pages(
    session: http.Session,
    endpoint: str,
    folder: Path,
    page_size: int,
    daily_budget: int,
    progress: http.Progress,
) -> list[Path]:
    """Save every page of a release as the API sent it, following `NextPageUrl` (0-based).

    The first page's TotalPages and TotalCount bound the rest: more pages than announced, a
    request budget overrun or a different event count stop the pull with a message.
    """
    url = f"{endpoint}?pagesize={page_size}&page=0"
    pages: list[Path] = []
    total_pages = total_count = received = 0
    report = progress if callable(progress) else None
    show = progress is True and sys.stderr.isatty()
    with tqdm(unit="page", desc="UCDP API", disable=not show, leave=False) as bar:
        while url:
            if pages:
                _check_progress(url, len(pages), total_pages, session.requests_sent, daily_budget)
            path = http.download(
                url, folder / f"page-{len(pages):05d}.json", session=session, progress=False,
                explain=API_EXPLAIN,
            )  # fmt: skip
            page = _read_page(path, url)
            if not pages:
                total_pages, total_count = _announced(page, url, page_size, daily_budget)
                bar.total = total_pages
            pages.append(path)
            received += len(page["Result"])
            bar.update(1)
            if report:
                report(len(pages), total_pages)
            next_url = page.get("NextPageUrl")
            url = _onto_endpoint(str(next_url), endpoint) if next_url else ""
    if received != total_count:
        raise LoaderError(
            http.public_url(endpoint),
            f"received {received:,} events in {len(pages)} pages but the API announced "
            f"{total_count:,}; the release may have changed meanwhile: try again",
        )
    return pages


def _check_progress(url: str, done: int, total_pages: int, sent: int, budget: int) -> None:
    """Stop a pull that runs past what the API announced, or past the request budget."""
    if done >= total_pages:
        raise LoaderError(
            http.public_url(url),
            f"the API offers more pages than the {total_pages:,} it announced; "
            "stopped to protect the daily quota",
        )
    if sent >= budget:
        raise LoaderError(
            http.public_url(url),
            f"{sent:,} requests sent, the daily budget of {budget:,}; stopped "
            "(retries count against UCDP's quota too)",
        )


def _read_page(path: Path, url: str) -> dict:
    """Parse one saved page and check it is a UCDP API answer."""
    where = http.public_url(url)
    try:
        page = json.loads(path.read_bytes())
    except UnicodeDecodeError:
        raise LoaderError(where, "the API sent a page that is not UTF-8 JSON text") from None
    except json.JSONDecodeError as exc:
        raise LoaderError(
            where, f"the API sent a page that is not valid JSON ({exc.msg} at byte {exc.pos})"
        ) from None
    if not isinstance(page, dict) or not isinstance(page.get("Result"), list):
        raise LoaderError(where, "the API page has no 'Result' list; it is not a UCDP API answer")
    return page


def _announced(page: dict, url: str, page_size: int, budget: int) -> tuple[int, int]:
    """TotalPages and TotalCount of the first page; refuse an empty or too large release."""
    where = http.public_url(url)
    values = []
    for key in ("TotalPages", "TotalCount"):
        value = page.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise LoaderError(where, f"the API page has no valid {key} ({value!r})")
        values.append(value)
    total_pages, total_count = values
    if total_count == 0:
        version = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        raise LoaderError(where, f"the API has no events for release {version} (check the version)")
    if total_pages > budget:
        raise LoaderError(
            where,
            f"the release has {total_pages:,} pages of {page_size:,} events, more than the "
            f"daily budget of {budget:,} requests; {BULK_HINT}",
        )
    return total_pages, total_count


def _onto_endpoint(next_url: str, endpoint: str) -> str:
    """The next page on our own API root: the token is only ever sent where we chose.

    UCDP builds `NextPageUrl` itself; a host that differs (an internal name, http for https)
    is replaced by `endpoint`'s, but a different resource is refused.
    """
    offered, ours = urlsplit(next_url), urlsplit(endpoint)
    if offered.path.rstrip("/").lower() != ours.path.rstrip("/").lower():
        raise LoaderError(
            http.public_url(next_url),
            f"the API's next page points to another resource than {ours.path}; refused",
        )
    return urlunsplit((ours.scheme, ours.netloc, ours.path, offered.query, ""))
