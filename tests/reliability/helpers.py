"""Helpers for the reliability tests: store checksums, a server with more faults, a CLI runner.

`store_checksums` is the proof that a failure changed nothing: the sha256 of every file and
the name of every folder under the store. `FaultyServer` is the loopback server (with ACLED's
POST log-in) that can also drip a body slowly and reset a connection (TCP RST) mid-body.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import REPO
from tests.loaders.test_acled_remote import AcledServer
from tests.loopback import Fault, Reply, Request

# Private headers a fault uses to tell `FaultyServer._send` what to do; never sent.
DRIP_HEADER = "X-Test-Drip"
RESET_HEADER = "X-Test-Reset"


def store_checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` and "/" for every folder, keyed by relative path."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): "/" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


def live_files(root: Path) -> dict[str, str]:
    """`store_checksums` of what readers use: manifest.json and the imports it names."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    folders = [os.path.join("imports", name) for name in manifest["imports"].values()]
    return {
        path: digest
        for path, digest in store_checksums(root).items()
        if path == "manifest.json" or any(path.startswith(f + os.sep) for f in folders)
    }


def leftovers(root: Path) -> list[str]:
    """What an import killed midway leaves: staging, downloads, temporary files, stray imports."""
    named = set()
    for manifest in [root / "manifest.json", *(root / "manifests").glob("*.json")]:
        if manifest.exists():
            named.update(json.loads(manifest.read_text(encoding="utf-8"))["imports"].values())
    found = [p for p in (root / "staging").glob("*")] + list((root / "downloads").glob("*"))
    found += [p for p in root.rglob("*.tmp")]
    found += [p for p in (root / "imports").glob("*") if p.name not in named]
    return sorted(str(p.relative_to(root)) for p in found)


def drip(chunk: int, delay: float) -> Fault:
    """Send the body `chunk` bytes at a time, `delay` seconds apart (a slow, steady line)."""
    return lambda reply: _mark(reply, DRIP_HEADER, f"{chunk},{delay}")


def reset(after: int) -> Fault:
    """Send `after` bytes of the body, then abort the connection with a TCP reset."""
    return lambda reply: _mark(reply, RESET_HEADER, str(after))


def _mark(reply: Reply, name: str, value: str) -> Reply:
    return replace(reply, headers={**reply.headers, name: value})


class FaultyServer(AcledServer):
    """`tests.loopback.LoopbackServer` with POST (ACLED log-in), drips and resets.

    `arrivals` holds (path, monotonic time) of every request, to check the waits between
    retries.
    """

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[str, float]] = []

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.arrivals.append((urlsplit(handler.path).path, time.monotonic()))
        super()._answer(handler)

    def gaps(self, path: str) -> list[float]:
        """Seconds between consecutive requests for `path`."""
        times = [at for seen, at in self.arrivals if seen == path]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def _send(self, handler: BaseHTTPRequestHandler, request: Request, reply: Reply) -> None:
        headers = dict(reply.headers)
        dripping, resetting = headers.pop(DRIP_HEADER, None), headers.pop(RESET_HEADER, None)
        if dripping is None and resetting is None:
            super()._send(handler, request, reply)
            return
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if resetting is not None:
            handler.wfile.write(reply.body[: int(resetting)])
            handler.wfile.flush()
            time.sleep(0.05)  # let the bytes leave before the reset discards the send buffer
            # SO_LINGER with a zero timeout turns close() into a RST instead of a FIN.
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()
            return
        size, delay = dripping.split(",")
        for start in range(0, len(reply.body), int(size)):
            if self._stopping.wait(float(delay)):
                return
            handler.wfile.write(reply.body[start : start + int(size)])
            handler.wfile.flush()


def python(args: Sequence[str], **options: object) -> subprocess.Popen:
    """Start `python ARGS` from the checkout with the repository on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **options.pop("env", {})}  # type: ignore[dict-item]
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,  # type: ignore[arg-type]
    )


def wait_for(condition: Callable[[], object], timeout: float = 60.0, every: float = 0.01) -> object:
    """Poll until `condition()` is truthy and return it; fail after a generous `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout:g} s: {condition}")
