"""Two app servers behind nginx (deploy/nginx.conf) on one data directory, in a real browser.

nginx renders the shipped template into a temporary prefix (its own pid, logs and temp files,
in the foreground); two `streamlit run` servers share one small store. Checked: the app renders
through the proxy with a live WebSocket, each browser stays on one server, and an import into
the shared store shows on pages of both servers at their next run, without a restart.
"""

from __future__ import annotations

import getpass
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

import loaders
from tests.conftest import REPO, SMALL_GED
from tests.e2e.conftest import _free_port, settle, start_app

NGINX = Path("/usr/sbin/nginx")
TEMPLATE = REPO / "deploy" / "nginx.conf"
UPDATE = "ucdp_ged_v23_1_central_african_republic.csv.gz"
# The main configuration around the site file: what Debian's /etc/nginx/nginx.conf gives it in
# production, here with every path under the test's prefix and nginx in the foreground.
# Workers as the test's own user, who can read the temporary data directory (the feeds).
MAIN = """daemon off;
user {user};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/article99.conf;
}}
"""
LOG_LINE = re.compile(
    r'"(?P<method>\S+) (?P<uri>\S+)[^"]*" (?P<status>\d+) client=(?P<client>\S+) '
    r"upstream=(?P<upstream>\S+)"
)
VINTAGE = "[data-testid='stSidebar'] [data-testid='stCaptionContainer']"

pytestmark = pytest.mark.skipif(not NGINX.exists(), reason=f"{NGINX} is not installed")


def render(template: str, **values: str) -> str:
    """The template with each @NAME@ replaced; every placeholder must be given."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"placeholders left in {TEMPLATE}: {left}"
    return text


@dataclass
class Deployment:
    url: str  # nginx
    servers: tuple[str, str]  # host:port of the two Streamlit servers
    store: Path
    access_log: Path

    def requests_of(self, client: str) -> list[dict[str, str]]:
        """The access log's requests of one browser (its sticky cookie's id)."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        found = (LOG_LINE.search(line) for line in lines)
        return [hit.groupdict() for hit in found if hit and hit["client"] == client]


def start_nginx(
    prefix: Path, servers: tuple[str, str], feeds: Path
) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    site = render(
        TEMPLATE.read_text(),
        LISTEN=f"127.0.0.1:{port}",
        SERVER_NAME="localhost",
        APP_A=servers[0],
        APP_B=servers[1],
        LOG_DIR=str(prefix),
        FEEDS=str(feeds),
    )
    (prefix / "article99.conf").write_text(site)
    (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix, user=getpass.getuser()))
    command = [str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/_stcore/health", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"nginx did not start: {process.stderr.read().decode()}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    store = tmp_path / "store"
    loaders.import_file(SMALL_GED, data_dir=store)
    monkeypatch.setenv("ARTICLE99_AUTO_BACKTEST", "0")  # no process that outlives the test
    # What must match on both servers (deploy/README.md): the XSRF cookie's secret, which
    # Streamlit takes from its configuration or the environment, never the command line.
    monkeypatch.setenv("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(16))
    with ExitStack() as stack, ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(start_app, store, log=tmp_path / f"app{i}.log") for i in (1, 2)]
        apps = []
        for future in starting:  # every server that started is stopped, whatever fails
            try:
                process, url = future.result()
            except RuntimeError:
                continue
            stack.callback(stop, process)
            apps.append(url.removeprefix("http://"))
        assert len(apps) == 2, "a streamlit server did not start"
        nginx, url = start_nginx(tmp_path, (apps[0], apps[1]), store / "alerts" / "feeds")
        stack.callback(stop, nginx)
        yield Deployment(url, (apps[0], apps[1]), store, tmp_path / "article99_access.log")


def client_of(context: object) -> str:
    (cookie,) = [c for c in context.cookies() if c["name"] == "article99_client"]
    return cookie["value"]


def vintage(page: object) -> str:
    return page.locator(VINTAGE).last.inner_text()


def choose_violence(page: object, label: str, query: str) -> None:
    """A sidebar widget: the choice goes to the server over the WebSocket, which reruns the
    page and writes the choice to the URL."""
    page.locator("[data-testid='stSidebar']").get_by_text(label, exact=True).click()
    page.wait_for_function(f"() => location.search.includes('{query}')", timeout=30_000)
    settle(page, timeout=30_000)


def test_two_servers_behind_nginx(
    deployment: Deployment, browser: object, shared_data: Path
) -> None:
    # Browsers until both servers hold one (each new browser's id is random: a handful at most).
    on_server: dict[str, tuple[object, object, str]] = {}
    with ExitStack() as contexts:
        for _ in range(12):
            context = browser.new_context()
            contexts.callback(context.close)
            page = context.new_page()
            page.goto(f"{deployment.url}/data")
            page.get_by_role("heading", name="Data sources").wait_for(timeout=60_000)
            settle(page, timeout=60_000)
            client = client_of(context)
            served = {hit["upstream"] for hit in deployment.requests_of(client)}
            assert len(served) == 1, f"one browser's page came from {served}"
            on_server.setdefault(served.pop(), (context, page, client))
            if len(on_server) == 2:
                break
        assert set(on_server) == set(deployment.servers)

        for _, page, _ in on_server.values():
            assert "UCDP GED 25.1" in vintage(page)
            choose_violence(page, "State-based violence", "measure=state_based")

        loaders.import_file(shared_data / UPDATE, data_dir=deployment.store)
        for _, page, _ in on_server.values():  # the next run of an open page, no restart
            choose_violence(page, "Non-state violence", "measure=non_state")
            page.wait_for_function(
                f'() => [...document.querySelectorAll("{VINTAGE}")]'
                ".some(e => e.innerText.includes('UCDP GED 23.1'))",
                timeout=10_000,
            )
        clients = {server: client for server, (_, _, client) in on_server.items()}

    # A watchlist's feed, a file in the shared data directory, is served by nginx as Atom.
    feed = deployment.store / "alerts" / "feeds" / "watchlist-1.atom"
    feed.parent.mkdir(parents=True)
    feed.write_bytes(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>')
    served = requests.get(f"{deployment.url}/feeds/watchlist-1.atom", timeout=10)
    assert (served.status_code, served.content) == (200, feed.read_bytes())
    assert served.headers["Content-Type"] == "application/atom+xml"

    # Closed browsers' WebSockets are logged once closed: each went to its browser's server.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        logged = {server: deployment.requests_of(client) for server, client in clients.items()}
        if all(any(hit["uri"] == "/_stcore/stream" for hit in hits) for hits in logged.values()):
            break
        time.sleep(0.2)
    for server, hits in logged.items():
        assert {hit["upstream"] for hit in hits} == {server}
        streams = [hit for hit in hits if hit["uri"] == "/_stcore/stream"]
        assert streams and {hit["status"] for hit in streams} == {"101"}
