"""A real Streamlit server and Debian's Chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = REPO / "tests" / "screenshots"
# The landing page map's coloured country shapes (Vega's SVG renderer; see exports/vega.py).
MAP_SHAPES = "[data-testid='stVegaLiteChart'] g.risk_marks path"
# True once Streamlit has finished a run: no stale elements, no running indicator.
SETTLED = (
    "() => !document.querySelector('[data-stale=\"true\"]') && "
    "!document.querySelector('[data-testid=\"stStatusWidget\"]')"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(
    data_dir: Path,
    script: Path = REPO / "app.py",
    *,
    port: int | None = None,
    options: Sequence[str] = (),
    log: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` (or `script`) on loopback; wait until it reports healthy.

    `options` are more `--section.option=value` flags; `log` takes the server's output (a
    long run fills an unread pipe and stalls the server).
    """
    port = port or _free_port()
    output = log.open("ab") if log is not None else None
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            *options,
        ],
        cwd=REPO,
        env={**os.environ, "ARTICLE99_DATA_DIR": str(data_dir)},
        stdout=output or subprocess.DEVNULL,
        stderr=output or subprocess.PIPE,
    )
    if output is not None:
        output.close()  # the child holds its own copy
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    said = log.read_text(errors="replace") if log is not None else process.stderr.read().decode()
    raise RuntimeError(f"streamlit did not start: {said[-2000:]}")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./run.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app_url(global_store: Path) -> Iterator[str]:
    """`streamlit run app.py` on the session's global store (GED 21.1), forecast beforehand."""
    from risk.forecast import risk_forecast

    risk_forecast(global_store)  # kept in the store: the server reads it
    process, url = start_app(global_store)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def screenshot(page: object, name: str) -> None:
    """A full-page screenshot under tests/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def settle(page: object, timeout: float = 20_000) -> None:
    """Wait until Streamlit has finished a run (no stale elements, no running indicator)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(SETTLED, timeout=timeout)
