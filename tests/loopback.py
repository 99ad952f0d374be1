"""A real HTTP server on 127.0.0.1 for tests of network code: routes, handlers, scripted faults.

Tests talk to it over a socket, so retries, timeouts, cut connections and odd answers go
through the same requests/urllib3 code paths as in production; nothing is mocked.

    with LoopbackServer() as server:
        server.serve_bytes("/downloads/ged/ged231-csv.zip", data, "application/zip")
        server.route(r"/api/gedevents/(?P<version>[^/]+)", handler)   # handler(Request) -> Reply
        server.script("/downloads/ged/ged231-csv.zip", status(503), cut(1000))  # next 2 requests
        ... server.url ... server.hits("/downloads/ged/ged231-csv.zip") ...

A route's handler makes the normal `Reply`; each scripted fault transforms the reply of one
request (in order), after which the route answers normally again.
"""

from __future__ import annotations

import hashlib
import re
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the server saw it; header names are lower case."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    params: Mapping[str, str] = field(default_factory=dict)  # named groups of the route


@dataclass(frozen=True)
class Reply:
    """What to answer. The fault fields make it misbehave on purpose."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: Mapping[str, str] = field(default_factory=dict)
    ranges: bool = False  # honour `Range: bytes=N-` (206) and send an ETag
    cut_after: int | None = None  # announce the full length, send this many bytes, hang up
    stall: float = 0.0  # say nothing for this long, then hang up (a client timeout)
    hang_after: int | None = None  # with `stall`: send this many body bytes first, then go quiet


Handler = Callable[[Request], Reply]
Fault = Callable[[Reply], Reply]


def status(code: int, *, retry_after: str | None = None, body: bytes = b"") -> Fault:
    """Answer with an error status (and `Retry-After`, when given) instead of the data."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return lambda _reply: Reply(code, body or f"status {code}".encode(), "text/plain", headers)


def cut(after: int) -> Fault:
    """Send `Content-Length` for the whole body, then only `after` bytes, then close."""
    return lambda reply: replace(reply, cut_after=after)


def stall(seconds: float) -> Fault:
    """Accept the request and stay silent (longer than the client's read timeout)."""
    return lambda reply: replace(reply, stall=seconds)


def hang(after: int, seconds: float) -> Fault:
    """Send the headers and `after` bytes of the body, then go silent for `seconds`."""
    return lambda reply: replace(reply, hang_after=after, stall=seconds)


def html(page: bytes = b"<!DOCTYPE html><html><body>Please log in</body></html>") -> Fault:
    """A web page (log-in, error or maintenance page) where data was expected."""
    return lambda _reply: Reply(200, page, "text/html; charset=utf-8")


def body(content: bytes, content_type: str = "application/json") -> Fault:
    """Replace the body (bad JSON, a wrong document) with a correct length."""
    return lambda reply: replace(reply, body=content, content_type=content_type)


def truncate(size: int) -> Fault:
    """A complete answer whose body is only the first `size` bytes (a truncated file)."""
    return lambda reply: replace(reply, body=reply.body[:size])


def ok() -> Fault:
    """Answer normally (to place a good answer between faults in a script)."""
    return lambda reply: reply


class _QuietServer(ThreadingHTTPServer):
    """Handler threads die with the server; a client hanging up is not worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # resets and broken pipes are what fault tests provoke
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class _Route:
    pattern: re.Pattern[str]
    handler: Handler
    faults: deque[Fault] = field(default_factory=deque)


class LoopbackServer:
    """A threaded HTTP/1.1 server on a free port of 127.0.0.1; use it as a context manager."""

    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Request] = []
        owner = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        self._httpd = _QuietServer(("127.0.0.1", 0), _RequestHandler)
        # A short poll interval makes shutdown (once per test) take milliseconds, not 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()  # wakes stalled handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- configuration -------------------------------------------------------------------

    def route(self, pattern: str, handler: Handler) -> None:
        """Answer GET requests whose path fully matches the regular expression `pattern`.

        When several routes match, the one added last answers, so a test can override one.
        """
        with self._lock:
            self._routes[pattern] = _Route(re.compile(pattern), handler)

    def serve_bytes(
        self, path: str, content: bytes, content_type: str, *, ranges: bool = True
    ) -> None:
        """Serve a fixed file at `path`, by default with byte ranges, as a file server does."""
        reply = Reply(200, content, content_type, ranges=ranges)
        self.route(re.escape(path), lambda _request: reply)

    def script(self, pattern: str, *faults: Fault) -> None:
        """Misbehave on the next requests of a route (given as registered), one fault each."""
        with self._lock:
            key = pattern if pattern in self._routes else re.escape(pattern)
            if key not in self._routes:
                raise KeyError(f"no route {pattern!r}; routes: {', '.join(self._routes)}")
            self._routes[key].faults.extend(faults)

    def hits(self, path: str) -> list[Request]:
        """The requests received for `path`, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # --- serving -------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        request = Request(
            handler.command,
            split.path,
            dict(parse_qsl(split.query, keep_blank_values=True)),
            {k.lower(): v for k, v in handler.headers.items()},
        )
        with self._lock:
            self.requests.append(request)
            found = [
                (route, match)
                for route in reversed(self._routes.values())  # the latest route wins
                if (match := route.pattern.fullmatch(request.path))
            ]
            fault = found[0][0].faults.popleft() if found and found[0][0].faults else None
        if not found:
            reply = Reply(404, b"not found", "text/plain")
        else:
            route, match = found[0]
            reply = route.handler(replace(request, params=match.groupdict()))
        if fault is not None:
            reply = fault(reply)
        self._send(handler, request, reply)

    def _send(self, handler: BaseHTTPRequestHandler, request: Request, reply: Reply) -> None:
        if reply.stall and reply.hang_after is None:
            self._stopping.wait(reply.stall)
            handler.close_connection = True
            return
        code, content = reply.status, reply.body
        headers = {"Content-Type": reply.content_type, **reply.headers}
        if reply.ranges and code == 200:
            etag = f'"{hashlib.sha256(content).hexdigest()[:16]}"'
            headers |= {"Accept-Ranges": "bytes", "ETag": etag}
            wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
            same = request.headers.get("if-range", etag) == etag
            if wanted and same and int(wanted.group(1)) < len(content):
                start = int(wanted.group(1))
                headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
                code, content = 206, content[start:]
        handler.send_response(code)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        if reply.hang_after is not None:
            handler.wfile.write(content[: reply.hang_after])
            self._stopping.wait(reply.stall)
            handler.close_connection = True
            return
        if reply.cut_after is None:
            handler.wfile.write(content)
            return
        handler.wfile.write(content[: reply.cut_after])
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
