"""`python -m loaders update`: bring the store up to date, for a scheduler (cron, systemd).

One run, one line per step on stderr (UTC time, level, step, what happened), never a secret:

    lock      one update of a store at a time: `<store>/update.lock` (pid and start time);
              the store's own import lock still guards each import
    ucdp      the releases linked from UCDP's download page: the newest yearly GED release and
              the Candidate releases of the years it does not cover, each fetched and imported
              unless the store already holds that whole release live
    acled     with ACLED_USERNAME and ACLED_PASSWORD set: every distinct live ACLED API query
              of the store pulled again up to today; a pull with exactly the rows the store
              holds (same sha256) imports nothing
    forecast  computed when anything was imported or the live store has none yet
    alerts    `exports.alerts.run.after_update`: the snapshot, then the watchlists' alerts and
              their deliveries (on every run: it also retries undelivered mail)

Each import is atomic and kept whatever a later step does, so a failed ACLED pull neither undoes
the UCDP import nor skips its forecast. A second run right after changes nothing.

Exit codes:
    0   done, also when nothing was new
    1   failed: no source could be updated (every source step that ran failed), or the store
        could not be used; the store is as it was
    2   wrong usage (an unknown option)
    3   partial: some step failed and is named; what the other steps did is kept
    75  another update of this store is running (its pid is named); nothing was done
        (75 is EX_TEMPFAIL: try again later)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import requests

from loaders import acled_remote, http, ucdp_remote
from loaders.errors import SECRET_VARIABLES, LoaderError, redact
from loaders.store import ImportRecord, Store
from loaders.ucdp import Release, parse_release

DONE, FAILED, USAGE, PARTIAL, RUNNING = 0, 1, 2, 3, 75
EXIT_CODES = (
    f"exit codes: {DONE} done (also when nothing was new); {FAILED} failed (no source could be "
    f"updated, or the store could not be used); {USAGE} wrong usage; {PARTIAL} partial (a named "
    f"step failed, what the others did is kept); {RUNNING} another update of this store is "
    "running (its pid is named)"
)
LOCK_FILE = "update.lock"
PROXY_VARIABLES = (
    *("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"),
)
# Secrets of the steps after the loaders' (the alerts' mail server), also kept out of the log.
OTHER_SECRETS = ("ARTICLE99_SMTP_PASSWORD",)
# The file names UCDP publishes releases under (see `ucdp_remote.download_url`).
YEARLY_NAME = re.compile(r"ged(\d\d)1-csv\.zip", re.I)
MONTH_NAME = re.compile(r"GEDEvent_v(\d\d)_0_(\d{1,2})\.csv", re.I)
MONTHS_NAME = re.compile(r"GEDEvent_v(\d\d)_01_(\d\d)_(\d\d)\.csv", re.I)
FIRST_ACLED_PULL = (
    "python -m loaders fetch acled --country NAME --start YYYY-MM-DD (later updates pull it "
    "again up to today)"
)

LOG = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    """Another process holds the update lock; `holder` is what it wrote there."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


@contextmanager
def update_lock(root: Path) -> Iterator[None]:
    """Hold the store's update lock, or raise `AlreadyRunning` at once (no waiting).

    A lock held by `flock` ends with its process, so a killed update never blocks the next.
    """
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK_FILE).open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise AlreadyRunning(handle.read().strip() or "pid not yet written") from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}, started {_now()}\n")
        handle.flush()
        yield


# --- what is new at UCDP --------------------------------------------------------------------


class _Links(HTMLParser):
    """The `href` of every `<a>` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def releases_on_page(page: str, page_url: str) -> list[Release]:
    """The GED releases a download page links to, by UCDP's file names, each once."""
    parser = _Links()
    parser.feed(page)
    parser.close()
    found: dict[tuple[str, str], Release] = {}
    for href in parser.hrefs:
        name = PurePosixPath(urlsplit(urljoin(page_url, href)).path).name
        release = _release_named(name)
        if release is not None:
            found.setdefault((release.dataset, release.version), release)
    return list(found.values())


def _release_named(name: str) -> Release | None:
    if match := YEARLY_NAME.fullmatch(name):
        return parse_release(f"{match.group(1)}.1")
    if (match := MONTH_NAME.fullmatch(name)) and 1 <= int(match.group(2)) <= 12:
        return parse_release(f"{match.group(1)}.0.{int(match.group(2))}")
    if (match := MONTHS_NAME.fullmatch(name)) and match.group(1) == match.group(2):
        last = int(match.group(3))
        return parse_release(f"{match.group(1)}.0.1-{last}") if 1 <= last <= 12 else None
    return None


def wanted(offered: list[Release], where: str) -> list[Release]:
    """The newest yearly release, then the Candidate releases of the years it does not cover.

    In a year, the widest multi-month file (months 1 to N) stands for its months, and single
    months after N follow; a single month inside it would be the same events again.
    """
    yearly = [r for r in offered if r.dataset == "ged"]
    if not yearly:
        raise LoaderError(where, "the page links no yearly GED release (ged<YY>1-csv.zip)")
    newest = max(yearly, key=_year)
    chosen = [newest]
    candidates = [r for r in offered if r.dataset == "candidate" and _year(r) >= _year(newest)]
    for year in sorted({_year(r) for r in candidates}):
        of_year = [r for r in candidates if _year(r) == year]
        spans = [r for r in of_year if "-" in r.version]
        covered = 0
        if spans:
            widest = max(spans, key=_month)
            chosen.append(widest)
            covered = _month(widest)
        singles = [r for r in of_year if "-" not in r.version and _month(r) > covered]
        chosen += sorted(singles, key=_month)
    return chosen


def _year(release: Release) -> int:
    return int(release.version.split(".")[0])


def _month(release: Release) -> int:
    """The last month of a Candidate release (1–12)."""
    return int(str(release.last_month)[5:])


def discover(base_url: str, policy: http.Policy | None = None) -> list[Release]:
    """The releases to have, read from the links of `BASE/downloads/` (see `wanted`)."""
    url = f"{base_url.rstrip('/')}/downloads/"
    where = http.public_url(url)
    with http.make_session(policy) as session:
        try:
            response = session.get(url)
        except requests.RequestException as exc:
            raise LoaderError(where, http.request_failure(exc, session.policy)) from None
        if response.status_code >= 400:
            raise LoaderError(where, http.status_problem(response))
        page = response.text
    offered = releases_on_page(page, url)
    if not offered:
        raise LoaderError(
            where,
            "the download page links no GED release (no ged<YY>1-csv.zip or GEDEvent_v<YY>_0_"
            "<M>.csv); the page may have changed, or this is not UCDP's download page",
        )
    return wanted(offered, where)


# --- the run ------------------------------------------------------------------------------


@dataclass
class Report:
    """What a run did: imports made, steps that failed (and why), source steps that worked."""

    imported: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    sources_ok: list[str] = field(default_factory=list)
    forecast: str = ""  # the month forecast from, when computed in this run

    @property
    def code(self) -> int:
        """DONE; PARTIAL when a step failed but a source was updated; else FAILED."""
        if not self.failed:
            return DONE
        return PARTIAL if self.sources_ok or self.imported else FAILED


def run_update(
    data_dir: str | Path | None = None,
    *,
    base_url: str | None = None,
    api_url: str | None = None,
    acled: bool = True,
    policy: http.Policy | None = None,
) -> int:
    """Run every step on the store (module docstring) and return the exit code.

    `base_url` replaces UCDP's `https://ucdp.uu.se` (default `$UCDP_BASE_URL`), `api_url`
    ACLED's `https://acleddata.com` (default `$ACLED_BASE_URL`); `acled=False` skips ACLED;
    `policy` sets retries and timeouts of every request.
    """
    store = Store(data_dir)
    report = Report()
    with ExitStack() as held:
        try:
            held.enter_context(update_lock(store.root))
        except AlreadyRunning as exc:
            _log(
                "lock",
                f"another update of {store.root} is running ({exc.holder}); this one stops",
                logging.WARNING,
            )
            return RUNNING
        except OSError as exc:  # no lock file can be made: the store is not usable
            _log("lock", f"cannot use the store {store.root}: {exc}", logging.ERROR)
            return FAILED
        _log("lock", f"updating {store.root} (pid {os.getpid()})")
        ucdp_url = base_url or ucdp_remote.configured_urls()[0]
        acled_url = api_url or acled_remote.configured_base_url()
        steps = {
            "ucdp": partial(_ucdp_step, store, ucdp_url, policy, report),
            "acled": partial(_acled_step, store, acled_url, policy, report, enabled=acled),
            "forecast": partial(_forecast_step, store, report),
            "alerts": partial(_alerts_step, store, report),
        }
        for step, run in steps.items():
            try:
                run()
            except Exception as exc:  # a fault in one step (an unreadable store, a bug)
                _fail(report, step, _problem(exc))  # must not hide what the others did
    level = logging.INFO if report.code == DONE else logging.ERROR
    _log("update", _summary(report, store), level)
    return report.code


def _ucdp_step(store: Store, base_url: str, policy: http.Policy | None, report: Report) -> None:
    """Fetch each wanted release the store does not hold whole and live; one failure does
    not stop the others."""
    releases = discover(base_url, policy)
    held = _held_releases(store)
    new = [r for r in releases if (r.dataset, r.version) not in held]
    listed = ", ".join(r.version for r in releases)
    if not new:
        _log("ucdp", f"nothing new: the store holds every release wanted ({listed})")
        report.sources_ok.append("ucdp")
        return
    _log("ucdp", f"wanted {listed}; to fetch: {', '.join(r.label for r in new)}")
    failures = []
    for release in new:
        try:
            which = "candidate" if release.dataset == "candidate" else "version"
            record = ucdp_remote.fetch(
                **{which: release.version},
                base_url=base_url,
                data_dir=store.root,
                progress=False,
                policy=policy,
            )
        except Exception as exc:  # one release's fault must not stop the others
            failures.append(f"{release.label}: {_problem(exc)}")
            _log("ucdp", f"{release.label} failed: {_problem(exc)}", logging.ERROR)
            continue
        _imported(report, "ucdp", record)
    if failures:
        report.failed["ucdp"] = "; ".join(failures)
    else:
        report.sources_ok.append("ucdp")


def _held_releases(store: Store) -> set[tuple[str, str]]:
    """(dataset, version) of the live whole UCDP releases (a country-only file is not one)."""
    return {
        (r.provenance.dataset, r.provenance.version)
        for r in store.records(["ucdp"])
        if r.provenance.coverage.everywhere
    }


def _acled_step(
    store: Store, api_url: str, policy: http.Policy | None, report: Report, *, enabled: bool
) -> None:
    """Pull each live ACLED API query again up to today (nothing is imported if unchanged)."""
    if not enabled:
        _log("acled", "skipped (--no-acled)")
        return
    try:
        acled_remote.credentials()
    except LoaderError as exc:
        _log("acled", f"skipped: {exc.where} not set (the ACLED API needs a myACLED account)")
        return
    queries = live_acled_queries(store)
    if not queries:
        _log(
            "acled",
            f"no ACLED API pull in the store to update; make the first with {FIRST_ACLED_PULL}",
        )
        return
    failures = []
    for options, records in queries.items():
        what = _describe(options)
        try:
            record = acled_remote.fetch(
                **_fetch_options(options),
                base_url=api_url,
                data_dir=store.root,
                progress=False,
                policy=policy,
                unchanged=records,
            )
        except Exception as exc:  # ACLED's fault must not undo or stop the other steps
            failures.append(f"{what}: {_problem(exc)}")
            _log("acled", f"{what} failed: {_problem(exc)}", logging.ERROR)
            continue
        if any(record is earlier for earlier in records):
            _log("acled", f"{what}: unchanged ({record.provenance.label}, same sha256)")
        else:
            _imported(report, "acled", record)
    if failures:
        report.failed["acled"] = "; ".join(failures)
    else:
        report.sources_ok.append("acled")


def live_acled_queries(store: Store) -> dict[tuple, list[ImportRecord]]:
    """The live ACLED API pulls grouped by their query brought up to today (no end date).

    Keys are `acled_remote.fetch` options as sorted (name, value) pairs; the values are the
    live imports of that query, any of which a new pull may repeat exactly.
    """
    grouped: dict[tuple, list[ImportRecord]] = {}
    for record in store.records(["acled"]):
        filters = record.provenance.details.get("api_filters")
        if record.provenance.details.get("api_pull") and isinstance(filters, dict):
            grouped.setdefault(_options(filters), []).append(record)
    return grouped


def _options(filters: dict) -> tuple:
    """`acled_remote.fetch` options from a pull's `api_filters`, to today (see `query`)."""
    dates = str(filters.get("event_date") or "")
    start = dates.split("|")[0] if filters.get("event_date_where") in ("BETWEEN", ">=") else None
    options = {
        "countries": tuple(filters["country"].split("|")) if filters.get("country") else None,
        "region": filters.get("region"),
        "start": start or None,
        "event_types": (
            tuple(filters["event_type"].split("|")) if filters.get("event_type") else None
        ),
    }
    return tuple(sorted(options.items()))


def _fetch_options(options: tuple) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options}


def _describe(options: tuple) -> str:
    chosen = dict(options)
    parts = [
        f"{name} {', '.join(value) if isinstance(value, tuple) else value}"
        for name, value in (
            ("countries", chosen["countries"]),
            ("region", chosen["region"]),
            ("event types", chosen["event_types"]),
            ("from", chosen["start"]),
        )
        if value
    ]
    return "ACLED API query (" + ("; ".join(parts) or "everything") + ")"


def _forecast_step(store: Store, report: Report) -> None:
    """Compute the forecast when the data changed or the live store has none yet."""
    from risk import artifacts  # risk builds on loaders: imported here, not at the top
    from risk.panel import FORECAST_SOURCES
    from risk.prepare import prepare

    if not store.records(FORECAST_SOURCES):
        _log("forecast", "skipped: the store holds no UCDP data yet")
        return
    stored = artifacts.path_of(store.root, artifacts.key(store.version(), None, 0))
    if not report.imported and (stored / artifacts.META).is_file():
        meta = json.loads((stored / artifacts.META).read_text("utf-8"))
        said = meta.get("as_of") or f"none: {meta.get('insufficient')}"
        _log("forecast", f"up to date for this store version (forecast from {said})")
        return
    prepared = prepare(store.root)
    if prepared.as_of is None:
        _fail(report, "forecast", f"could not be made: {prepared.problem}; the data are kept")
        return
    report.forecast = prepared.as_of
    _log("forecast", prepared.message)


def _alerts_step(store: Store, report: Report) -> None:
    """The snapshot and the alerts (`after_update`), on every run once there are data."""
    if not store.records(["ucdp"]):
        _log("alerts", "skipped: the store holds no UCDP data yet, so no snapshot")
        return
    from exports.alerts.run import after_update  # exports builds on loaders

    outcome = after_update(store.root)
    for line in outcome.lines:
        _log("alerts", line.removeprefix("alerts: "))
    for problem in outcome.problems:
        _log("alerts", problem, logging.ERROR)
    if outcome.problems:
        report.failed["alerts"] = "; ".join(outcome.problems)


def _summary(report: Report, store: Store) -> str:
    try:
        version = f"store version {store.manifest()['version']}"
    except LoaderError as exc:
        version = f"store unreadable: {exc.problem}"
    if report.imported:
        done = f"imported {', '.join(report.imported)}" + (
            f"; forecast from {report.forecast}" if report.forecast else ""
        )
    elif report.forecast:  # no forecast was kept for this store version and code yet
        done = f"no new data; the missing forecast computed (from {report.forecast})"
    else:
        done = "nothing new"
    if report.code == DONE:
        return f"done: {done} ({version})"
    failed = f"{', '.join(report.failed)} failed (see above)"
    if report.code == FAILED:
        return f"failed: {failed}; nothing imported, the store is as it was ({version})"
    return f"partial: {failed}; {done}{', kept' if report.imported else ''} ({version})"


def _imported(report: Report, step: str, record: ImportRecord) -> None:
    p = record.provenance
    report.imported.append(p.label)
    _log(
        step,
        f"imported {p.label}: {p.rows:,} events, {p.first_date} … {p.last_date} "
        f"(sha256 {p.sha256[:12]}…)",
    )


def _problem(exc: Exception) -> str:
    """A loader's message as it is; anything else (a fault) with its type."""
    return str(exc) if isinstance(exc, LoaderError) else f"{type(exc).__name__}: {exc}"


def _fail(report: Report, step: str, why: str) -> None:
    report.failed[step] = why
    _log(step, f"failed: {why}", logging.ERROR)


def _log(step: str, message: str, level: int = logging.INFO) -> None:
    LOG.log(level, "%s: %s", step, redact(" ".join(message.split()), _secrets()))


def _secrets() -> list[str | None]:
    """Credential values a line must not carry: the variables', and a proxy's password."""
    proxies = [urlsplit(os.environ.get(name) or "").password for name in PROXY_VARIABLES]
    named = (os.environ.get(name) for name in (*SECRET_VARIABLES, *OTHER_SECRETS))
    return [*named, *proxies]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _UtcFormatter(logging.Formatter):
    converter = time.gmtime


def cli_main(data_dir: str | None, base_url: str | None, api_url: str | None, acled: bool) -> int:
    """The update with its log lines on stderr (`python -m loaders update`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _UtcFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    )
    LOG.addHandler(handler)
    level = LOG.level
    LOG.setLevel(logging.INFO)
    try:
        return run_update(data_dir, base_url=base_url, api_url=api_url, acled=acled)
    finally:
        LOG.removeHandler(handler)
        LOG.setLevel(level)
