"""HTTP for the loaders: one retrying session, and downloads that survive cuts and say why not.

Public data services are slow, rate-limited and sometimes down. Every request here has a
timeout, transient answers (429, 5xx, timeouts, resets) are retried with exponential backoff
that honours `Retry-After` (capped, so a server cannot park us for an hour), and a download cut
mid-body resumes with `Range` where the server allows it. Whatever finally goes wrong ends in
one `LoaderError` naming the URL (query secrets masked) and what happened, in plain words.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.util.retry import Retry

from loaders.errors import LoaderError

# True: a progress bar on a terminal; a function: called with (done, total or None).
Progress = bool | Callable[[int, int | None], None]

RETRY_STATUSES = (429, 500, 502, 503, 504)
CHUNK_BYTES = 1 << 16  # a cut loses at most the chunk being read; resume keeps the rest
USER_AGENT = "article99-loaders (+https://ucdp.uu.se data user; python-requests)"
# Query parameters whose values never appear in a message (API keys, e-mail log-ins, …).
SECRET_PARAMS = re.compile(r"token|key|secret|pass|auth|sig|email|user", re.IGNORECASE)
# What a bare status means to a person; callers add source-specific explanations.
DEFAULT_EXPLAIN = {
    401: "HTTP 401: the server wants valid credentials",
    403: "HTTP 403: the server refused access",
    404: "HTTP 404: no such file on the server",
    429: "the server limits how often it may be asked; try again later",
}
HTML_PROBLEM = "the server sent an HTML page, not the data"


@dataclass(frozen=True)
class Policy:
    """How hard to try: attempts per request, backoff and timeouts (tests make them tiny)."""

    tries: int = 5  # attempts per request, the first included
    backoff: float = 1.0  # seconds before the 2nd retry; doubles after each further one
    max_wait: float = 60.0  # cap on any single wait, backoff or the server's Retry-After
    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # longest silence while waiting for bytes

    def wait(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based) of a cut download."""
        return min(self.max_wait, self.backoff * 2 ** (retry - 1))


DEFAULT_POLICY = Policy()


class Session(requests.Session):
    """A `requests.Session` that always sets timeouts, counts requests and guards secrets.

    `requests_sent` counts every HTTP request made, retries included, because quotas
    (UCDP: 5,000 a day) count them too. Headers named in `secret_headers` are dropped when a
    redirect leads to another host, as requests already does for `Authorization`.
    """

    def __init__(self, policy: Policy, secret_headers: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.policy = policy
        self.secret_headers = secret_headers
        self.requests_sent = 0

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.policy.connect_timeout, self.policy.read_timeout)
        try:
            response = super().request(method, url, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout):
            self.requests_sent += self.policy.tries  # raised only once retries are exhausted
            raise
        retries = getattr(response.raw, "retries", None)
        self.requests_sent += 1 + (len(retries.history) if retries is not None else 0)
        return response

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.secret_headers:
                prepared_request.headers.pop(name, None)


def make_session(
    policy: Policy | None = None,
    *,
    secret_headers: tuple[str, ...] = (),
    retry_methods: frozenset[str] = frozenset({"GET", "HEAD"}),
) -> Session:
    """A session that retries transient failures of `retry_methods` requests (see `Policy`).

    Add POST only for requests that are safe to repeat (an OAuth log-in): the messages and
    request counts assume every request of the session is retried.
    """
    policy = policy or DEFAULT_POLICY
    retry = Retry(
        total=None,
        connect=policy.tries - 1,
        read=policy.tries - 1,
        status=policy.tries - 1,
        other=0,
        allowed_methods=retry_methods,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=policy.backoff,
        backoff_max=policy.max_wait,
        retry_after_max=policy.max_wait,  # type: ignore[arg-type]  # a float works; tests use one
        respect_retry_after_header=True,
        raise_on_status=False,  # keep the last response, to say which status we gave up on
    )
    session = Session(policy, secret_headers)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def public_url(url: str) -> str:
    """The URL as it may be shown: no user:password, secret-looking query values masked."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, "***" if SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def download(
    url: str,
    dest: Path,
    *,
    session: Session,
    progress: Progress,
    headers: Mapping[str, str] | None = None,
    explain: Mapping[int, str] | None = None,
) -> Path:
    """Stream `url` into `dest` (via `dest.part`, renamed only when complete) and return it.

    `progress`: True for a progress bar on a terminal, or a function called with the bytes
    received and the expected total (None when unknown), e.g. to drive the app's progress bar.

    `explain` maps an HTTP status to the sentence to show for it (e.g. 404 -> "no such
    release"). A body cut short is fetched again, from where it stopped when the server honours
    `Range`, up to `session.policy.tries` times; the `.part` file never outlives the call.
    """
    where = public_url(url)
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    policy = session.policy
    received, total, validator = 0, None, None
    failure = "cut"
    try:
        for attempt in range(1, policy.tries + 1):
            if attempt > 1:
                time.sleep(policy.wait(attempt - 1))
            wanted = {"Accept-Encoding": "identity", **(headers or {})}
            if received and validator:
                wanted |= {"Range": f"bytes={received}-", "If-Range": validator}
            try:
                response = session.get(url, headers=wanted, stream=True)
            except requests.RequestException as exc:
                raise LoaderError(where, request_failure(exc, policy)) from None
            with response:
                _check_answer(response, where, explain)
                start = _range_start(response)  # None for a whole file (200)
                if start is not None and start != received:
                    # A part we did not ask for: drop what we have and ask for the whole file.
                    received, validator = 0, None
                    part.unlink(missing_ok=True)
                    continue
                resumed = bool(start)
                if not resumed:
                    received = 0
                total = _expected_size(response, received)
                validator = _validator(response)
                try:
                    _stream_body(response, part, resumed, received, total, progress, where)
                except (
                    requests.ConnectionError,
                    requests.exceptions.ChunkedEncodingError,
                    urllib3.exceptions.HTTPError,
                ) as exc:
                    failure = "timeout" if is_timeout(exc) else "cut"
                    continue
                finally:
                    received = part.stat().st_size if part.exists() else 0
            if total is not None and received != total:
                failure = "cut"
                continue
            os.replace(part, dest)
            return dest
        raise LoaderError(where, _gave_up(failure, received, total, policy))
    finally:
        part.unlink(missing_ok=True)


def _check_answer(
    response: requests.Response, where: str, explain: Mapping[int, str] | None
) -> None:
    """Refuse an error status or a web page before a byte is written."""
    if response.status_code >= 400:
        raise LoaderError(where, status_problem(response, explain))
    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml"):
        raise LoaderError(where, f"{HTML_PROBLEM} (content type {content_type.split(';')[0]})")


def status_problem(response: requests.Response, explain: Mapping[int, str] | None = None) -> str:
    """One sentence for an error status, saying how often it was tried when it was retried."""
    status = response.status_code
    hint = {**DEFAULT_EXPLAIN, **(explain or {})}.get(status)
    if status not in RETRY_STATUSES:
        return hint or f"HTTP {status} {_reason(response)}".rstrip()
    retries = getattr(response.raw, "retries", None)
    tries = 1 + (len(retries.history) if retries is not None else 0)
    gave_up = f"gave up after {tries_text(tries)}: HTTP {status} {_reason(response)}".rstrip()
    return f"{gave_up}; {hint}" if hint else gave_up


def request_failure(exc: requests.RequestException, policy: Policy) -> str:
    """One sentence for a request that never got an answer, after its retries."""
    tries = tries_text(policy.tries)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"timed out connecting after {tries} (no answer within {policy.connect_timeout:g} s)"
    if is_timeout(exc):
        return f"timed out after {tries} (no answer within {policy.read_timeout:g} s)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"secure connection failed (TLS/SSL): {_root_cause(exc)}"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "not a valid URL (check --base-url / --api-url)"
    if isinstance(exc, requests.ConnectionError):
        return f"could not connect after {tries}: {_root_cause(exc)}"
    return f"request failed: {_root_cause(exc)}"


def tries_text(n: int) -> str:
    return "1 try" if n == 1 else f"{n} tries"


def _reason(response: requests.Response) -> str:
    if response.reason:
        return str(response.reason)
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without the wrapper noise."""
    reason: BaseException = exc
    while True:
        inner = getattr(reason, "reason", None)
        if isinstance(inner, BaseException):
            reason = inner
        elif reason.args and isinstance(reason.args[0], BaseException):
            reason = reason.args[0]
        else:
            break
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused (is the address right and the service up?)"
    if "Name or service not known" in text or "getaddrinfo failed" in text:
        return "the host name could not be resolved (no network, or a wrong URL)"
    return text.split(": ", 1)[-1][:200] or type(reason).__name__


def is_timeout(exc: BaseException) -> bool:
    """Whether a timeout is at the root of an error (not a refused or unresolved connection)."""
    seen: BaseException | None = exc
    while seen is not None:
        # urllib3's NewConnectionError subclasses ConnectTimeoutError for old reasons.
        if isinstance(seen, urllib3.exceptions.NewConnectionError):
            return False
        if isinstance(seen, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
            return True
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException) and seen.args:
            inner = seen.args[0] if isinstance(seen.args[0], BaseException) else None
        seen = inner
    return False


def _range_start(response: requests.Response) -> int | None:
    """Where a 206 answer starts, from `Content-Range: bytes START-END/TOTAL`."""
    if response.status_code != 206:
        return None
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _expected_size(response: requests.Response, already: int) -> int | None:
    """The full size of the file, when the server says it and sends it unencoded."""
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None  # lengths count encoded bytes; urllib3 still checks the body is complete
    if response.status_code == 206:
        match = re.search(r"/(\d+)$", response.headers.get("Content-Range", ""))
        return int(match.group(1)) if match else None
    length = response.headers.get("Content-Length", "")
    return int(length) + already if length.isdigit() else None


def _validator(response: requests.Response) -> str | None:
    """An `If-Range` value, only when the server says it accepts byte ranges."""
    if response.headers.get("Accept-Ranges", "").lower() != "bytes":
        return None
    return response.headers.get("ETag") or response.headers.get("Last-Modified")


def _stream_body(
    response: requests.Response,
    part: Path,
    resumed: bool,
    received: int,
    total: int | None,
    progress: Progress,
    where: str,
) -> None:
    """Write the body to `part` (appending when resumed); a cut raises from `iter_content`."""
    report = progress if callable(progress) else None
    show = progress is True and sys.stderr.isatty()
    bar = tqdm(
        total=total,
        initial=received,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=part.name.removesuffix(".part"),
        disable=not show,
        leave=False,
        file=sys.stderr,
    )
    with bar, part.open("ab" if resumed else "wb") as out:
        first = not resumed
        for chunk in response.iter_content(CHUNK_BYTES):
            if first and chunk.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
                raise LoaderError(where, f"{HTML_PROBLEM} (it starts with <html>)")
            first = False
            out.write(chunk)
            bar.update(len(chunk))
            if report:
                report(bar.n, total)


def _gave_up(failure: str, received: int, total: int | None, policy: Policy) -> str:
    tries = tries_text(policy.tries)
    if failure == "timeout":
        return f"timed out after {tries} (no data for {policy.read_timeout:g} s)"
    size = f"{total:,} bytes" if total is not None else "an unknown size"
    return f"connection cut after {received:,} of {size} ({tries})"
