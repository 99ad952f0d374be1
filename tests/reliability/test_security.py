"""Security (issue #7, item 5): planted credentials never leak, data text is shown as typed,
spreadsheet formulas cannot run, and the server stays local with XSRF protection on.

The credential tests plant test values in the environment, run what could leak them (fetches
that fail against a loopback server, a fetch that succeeds, snapshot exports, the Data page)
and search every output: stdout and stderr, log records at DEBUG, each file of the store, each
exported file (inside the xlsx/pptx archives and the PDF's text), and the page's element tree.
Each search also looks for a canary that must be there, so an unread output cannot pass.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import os
import re
import subprocess
import sys
import tomllib
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from exports.cli import main as exports_main
from exports.snapshot import Snapshot, build_snapshot
from exports.tabular import FORMULA_STARTS, neutralise, to_csv, to_xlsx
from loaders import acled_remote, http, ucdp_remote
from loaders.cli import main as loaders_main
from loaders.pipeline import import_file
from risk.selection import Selection
from tests.conftest import REPO, SMALL_GED, open_page
from tests.loaders.test_acled_remote import (
    FAST,
    PASSWORD,
    USERNAME,
    AcledServer,
    FakeAcled,
)
from tests.loopback import LoopbackServer, Reply
from tests.reliability.hostile import HOSTILE_TEXTS, ged_text
from tests.reliability.ledger import LEDGER
from ui.text import escape_markdown

UCDP_TOKEN = "ucdp-tok-5e2b9c-DO-NOT-LEAK"
WRONG_PASSWORD = "pw-wrong-0b7d41-DO-NOT-LEAK"


# --- configuration and documentation ---------------------------------------------------------


def test_the_server_is_local_with_xsrf_protection_on() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server.get("enableXsrfProtection", True) is True
    assert server["address"] == "127.0.0.1"
    assert server.get("enableCORS", True) is True
    assert server["maxUploadSize"] == 200
    run_script = (REPO / "run.sh").read_text(encoding="utf-8")
    assert "0.0.0.0" not in run_script and "enableXsrfProtection" not in run_script


def test_no_secrets_file_is_tracked_and_it_is_ignored() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", ".streamlit", ".env"], capture_output=True, text=True, cwd=REPO,
        check=True,
    ).stdout.split()  # fmt: skip
    assert tracked == [".streamlit/config.toml"]
    ignored = subprocess.run(
        ["git", "check-ignore", ".streamlit/secrets.toml", ".env"], capture_output=True,
        text=True, cwd=REPO, check=False,
    ).stdout.split()  # fmt: skip
    assert ignored == [".streamlit/secrets.toml", ".env"]


def test_the_readme_says_how_to_run_it_safely() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Security", 1)[1].split("\n## ", 1)[0]
    for words in ("127.0.0.1", "reverse proxy", "basic auth", "oauth2-proxy", "XSRF",
                  "enableXsrfProtection = true", "ACLED_PASSWORD", "UCDP_API_TOKEN",
                  "secrets.toml", "0.0.0.0"):  # fmt: skip
        assert words in section, words


# --- text from data is shown as typed ---------------------------------------------------------

MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:=&")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text())
def test_escaped_text_reads_back_as_typed_and_has_no_live_markup(text: str) -> None:
    escaped = escape_markdown(text)
    assert _unescape(escaped) == text
    # Every markdown character is preceded by a backslash that is not itself escaped.
    live = re.findall(r"(?<!\\)(?:\\\\)*([\\`*_{}\[\]()#+\-.!|<>~$:=&])", escaped)
    assert not [c for c in live if c != "\\"], escaped


def test_pages_never_render_raw_html() -> None:
    """No page passes unsafe_allow_html=True, and st.html only gets the page's own constants."""
    offenders = []
    for path in sorted([*(REPO / "app_pages").glob("*.py"), *(REPO / "ui").glob("*.py"),
                        REPO / "app.py"]):  # fmt: skip
        source = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: unsafe_allow_html=True"
                      for _ in re.finditer(r"unsafe_allow_html\s*=\s*True", source)]  # fmt: skip
        offenders += [
            f"{path.name}: st.html({arg})"
            for arg in re.findall(r"st\.html\(([^)]*)\)", source)
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", arg.strip())
        ]
    assert offenders == []


def _walk(node: object) -> Iterator[object]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def page_text(at: AppTest) -> str:
    """Everything the page sent to the browser, as protobuf text (labels, values, tables)."""
    return "\n".join(str(node.proto) for node in _walk(at._tree) if hasattr(node, "proto"))


MARKDOWN_KINDS = ("markdown", "caption", "info", "warning", "error", "success", "title",
                  "header", "subheader", "toast")  # fmt: skip


def test_data_page_shows_a_hostile_file_name_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose name is markup is listed in the sources table literally and is never
    handed to markdown unescaped."""
    store = tmp_path / "store"
    name = f"{HOSTILE_TEXTS[0]}{HOSTILE_TEXTS[1]}GEDEvent_v25_1.csv"
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(SMALL_GED.read_bytes())
    import_file(path, data_dir=store)
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store))
    at = AppTest.from_file(str(REPO / "app_pages" / "data.py"), default_timeout=120).run()
    assert not at.exception
    sources = at.dataframe[0]  # then the coverage per country
    assert list(sources.value["File"]) == [name]
    for kind in MARKDOWN_KINDS:
        for element in getattr(at, kind):
            for marker in HOSTILE_TEXTS:
                assert marker not in element.value, (kind, element.value)


def test_country_page_shows_hostile_actors_headlines_and_places_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Actors, headlines and admin1 names written as markup reach the page's tables as typed,
    and no markdown element of the page carries them unescaped. (Its charts are Vega-Lite,
    which draws data strings as SVG text, not HTML.)"""
    place = "**Mopti** [r](javascript:x)"
    text = (
        ged_text()
        .replace("Clashes near Mopti", HOSTILE_TEXTS[1])
        .replace(",JNIM,2,", f",{HOSTILE_TEXTS[0]},2,")
        .replace("Mopti region", place)
    )
    path = tmp_path / "GEDEvent_v25_1.csv"
    path.write_text(text, encoding="utf-8")
    import_file(path, data_dir=tmp_path / "store")
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(tmp_path / "store"))
    pages = {
        section: open_page("app_pages/country.py", iso3="MLI", section=section)
        for section in ("Signals", "Where", "Who", "Latest events")
    }
    tables = {tuple(d.value.columns): d.value for at in pages.values() for d in at.dataframe}
    (actors,) = [t for cols, t in tables.items() if cols[0] == "Actor"]
    assert HOSTILE_TEXTS[0] in set(actors["Actor"])
    (events,) = [t for cols, t in tables.items() if "Headline (source)" in cols]
    assert HOSTILE_TEXTS[1] in set(events["Headline (source)"])
    assert place in set(events["Admin1"])
    for at in pages.values():
        for kind in MARKDOWN_KINDS:
            for element in getattr(at, kind):
                for marker in (*HOSTILE_TEXTS, place):
                    assert marker not in element.value, (kind, element.value)


# --- spreadsheet formula injection -------------------------------------------------------------

# Any text but control characters, which XML (and so a workbook) cannot hold; the formula
# starts themselves (tab, carriage return) are generated by FORMULA_LIKE.
CELL_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
FORMULA_LIKE = st.builds(
    lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS), CELL_TEXT
)


@pytest.fixture(scope="module")
def sahel(global_app_store: Path) -> Snapshot:
    """The Sahel snapshot of the global GED 21.1 store (Nigeria and Mali first)."""
    return build_snapshot(global_app_store, Selection(regions=("group:Sahel",)))


def _lines(text: str) -> str:
    """Cell text compared across formats: OOXML's `_x000D_` escapes (xlsxwriter writes them,
    openpyxl leaves them) decoded, and line ends made one."""
    text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names=st.lists(FORMULA_LIKE | CELL_TEXT, min_size=3, max_size=3))
def test_generated_cells_never_become_formulas(names: list[str], sahel: Snapshot) -> None:
    """Country names and a driver from hypothesis, through the CSV and the workbook, read back
    as the neutralised text, and no cell of any sheet is a formula."""
    countries = sahel.countries.copy()
    countries.loc[:2, "name"] = names
    countries.loc[0, "drivers"] = names[0]
    snapshot = dataclasses.replace(sahel, countries=countries)
    expected = [neutralise(n) for n in names]
    assert all(not e.startswith(FORMULA_STARTS) for e in expected)
    header, *rows = csv.reader(io.StringIO(to_csv(snapshot).decode("utf-8"), newline=""))
    assert [row[header.index("Country")] for row in rows[:3]] == expected
    assert rows[0][header.index("All drivers")] == expected[0]
    assert not [v for row in rows for v in row if v.startswith(FORMULA_STARTS)
                and not re.fullmatch(r"-[\d.e+-]+", v)]  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(snapshot)))
    sheet = book["Risk"]
    column = [c.value for c in sheet[1]].index("Country") + 1
    shown = [sheet.cell(row=r, column=column).value or "" for r in (2, 3, 4)]
    assert [_lines(v) for v in shown] == [_lines(e) for e in expected]
    formulas = [f"{s.title}!{c.coordinate}" for s in book.worksheets for line in s.iter_rows()
                for c in line if c.data_type == "f"]  # fmt: skip
    LEDGER.hostile("generated spreadsheet cells", refused=False)
    assert formulas == []


# --- planted credentials never leak ----------------------------------------------------------


def _forms(secret: str) -> set[str]:
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


def search(name: str, text: str, secrets: list[str]) -> list[str]:
    """`name: secret…` for every planted secret found in `text`, in any URL-encoded form."""
    return [f"{name}: {s[:8]}…" for s in secrets if any(form in text for form in _forms(s))]


def secrets_of(site: FakeAcled | None = None) -> list[str]:
    planted = [USERNAME, PASSWORD, WRONG_PASSWORD, UCDP_TOKEN]
    if site is None:
        return planted
    issued = range(1, site.issued + 1)
    return [*planted, *map(site.token, issued), *(f"refresh-{n}-SECRET" for n in issued)]


def file_texts(root: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every file under `root`; archives and PDFs opened, so text is searched."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                text += "".join(
                    archive.read(n).decode("utf-8", errors="replace") for n in archive.namelist()
                )
        if path.suffix == ".pdf":
            text += "".join(page.extract_text() for page in PdfReader(path).pages)
        yield str(path.relative_to(root)), text


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test credentials in the environment, as a deployment would set them."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(acled_remote.USERNAME_ENV, USERNAME)
    monkeypatch.setenv(acled_remote.PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv("UCDP_API_TOKEN", UCDP_TOKEN)
    monkeypatch.setattr(http, "DEFAULT_POLICY", FAST)


@pytest.fixture
def site(planted: None) -> Iterator[FakeAcled]:
    with AcledServer() as server:
        yield FakeAcled(server)


def _record(outputs: dict[str, str], secrets: list[str]) -> list[str]:
    """Search every output; record the count and what leaked in the ledger (before asserting)."""
    leaks = [leak for name, text in outputs.items() for leak in search(name, text, secrets)]
    LEDGER.scanned(len(outputs), leaks)
    return leaks


def _logs(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )


@pytest.mark.parametrize("failure", ["wrong password", "access refused", "server error"])
def test_failed_acled_fetches_leak_nothing(
    failure: str,
    site: FakeAcled,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    if failure == "wrong password":
        monkeypatch.setenv(acled_remote.PASSWORD_ENV, WRONG_PASSWORD)
    elif failure == "access refused":
        site.forbidden = True
    else:
        site.server.route(r"/api/acled/read", lambda _request: Reply(500, b"boom", "text/plain"))
    store = tmp_path / "store"
    code = loaders_main(
        ["fetch", "acled", "--base-url", site.server.url, "--data-dir", str(store),
         "--no-progress"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    outputs = {"stdout": out, "stderr": err, "logs": _logs(caplog)}
    outputs |= {f"store/{name}": text for name, text in file_texts(store)}
    leaks = _record(outputs, secrets_of(site))
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    assert site.issued == (0 if failure == "wrong password" else 1)
    assert "GET /api/acled/read" in outputs["logs"] or failure == "wrong password"
    assert leaks == []


def test_a_successful_acled_fetch_stores_no_credential(
    site: FakeAcled, tmp_path: Path, capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    store = tmp_path / "store"
    code = loaders_main(["fetch", "acled", "--base-url", site.server.url, "--data-dir",
                         str(store), "--no-progress"])  # fmt: skip
    out, err = capsys.readouterr()
    files = dict(file_texts(store))
    outputs = {"stdout": out, "stderr": err, "logs": _logs(caplog)}
    outputs |= {f"store/{name}": text for name, text in files.items()}
    leaks = _record(outputs, secrets_of(site))
    assert code == 0 and site.issued == 1
    assert any(name.endswith("provenance.json") and "Invented Militia" not in text
               and "acled" in text for name, text in files.items())  # fmt: skip
    assert any("Invented event number 0." in text for text in files.values())  # canary
    assert leaks == []


def test_ucdp_api_failures_leak_no_token(
    planted: None, tmp_path: Path, capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    outputs, hits = {}, []
    for code in (401, 403, 500):
        with LoopbackServer() as server:
            server.route(r"/api/gedevents/.*", lambda _r, c=code: Reply(c, b'{"error": "no"}'))
            store = tmp_path / str(code)
            result = loaders_main(["fetch", "ucdp", "--api", "--api-url", server.url,
                                   "--data-dir", str(store), "--no-progress"])  # fmt: skip
            hits += server.hits(f"/api/gedevents/{ucdp_remote.LATEST_GED}")
        out, err = capsys.readouterr()
        assert result == 1 and err.startswith("error: "), err
        outputs |= {f"{code} stdout": out, f"{code} stderr": err}
        outputs |= {f"{code} store/{n}": t for n, t in file_texts(store)}
    outputs["logs"] = _logs(caplog)
    leaks = _record(outputs, secrets_of())
    assert len(hits) >= 3 and all(h.headers[ucdp_remote.TOKEN_HEADER] == UCDP_TOKEN for h in hits)
    assert "UCDP_API_TOKEN is missing or invalid" in outputs["401 stderr"]  # canary
    assert leaks == []


def test_cli_processes_that_fail_print_no_credential(site: FakeAcled, tmp_path: Path) -> None:
    """Real processes: whatever Python prints on its way out is searched too."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "ACLED_PASSWORD": WRONG_PASSWORD}
    runs = {
        "fetch acled": ["fetch", "acled", "--base-url", site.server.url, "--no-progress"],
        "fetch ucdp --api": ["fetch", "ucdp", "--api", "--api-url", site.server.url,
                             "--no-progress"],
        "import": ["import", str(tmp_path / "missing.csv")],
    }  # fmt: skip
    outputs = {}
    for name, args in runs.items():
        done = subprocess.run(
            [sys.executable, "-m", "loaders", "--data-dir", str(tmp_path / "store"), *args],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        outputs |= {f"{name} stdout": done.stdout, f"{name} stderr": done.stderr}
    leaks = _record(outputs, secrets_of(site))
    assert "ACLED refused the log-in" in outputs["fetch acled stderr"]  # canary
    assert leaks == []


def test_snapshot_exports_hold_no_credential(
    planted: None, global_app_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    code = exports_main(["snapshot", "--data-dir", str(global_app_store), "--region", "Sahel",
                         "--formats", "csv,xlsx,pdf,pptx,json", "--out", str(out)])  # fmt: skip
    printed, err = capsys.readouterr()
    files = dict(file_texts(out))
    outputs = {"stdout": printed, "stderr": err, "logs": _logs(caplog), **files}
    leaks = _record(outputs, secrets_of())
    assert code == 0, err
    suffixes = sorted(Path(n).suffix for n in files)  # the table and the prevention gap: CSV
    assert suffixes == [".csv", ".csv", ".json", ".pdf", ".pptx", ".xlsx"]
    assert all("Nigeria" in text for text in files.values())  # canary: every file was read
    assert leaks == []


def test_the_data_page_shows_no_credential(
    site: FakeAcled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """With credentials set the ACLED form appears; a fetch that fails shows its message; the
    page tree, before and after, holds neither the log-in nor a token."""
    caplog.set_level(logging.DEBUG)
    store = tmp_path / "store"
    import_file(SMALL_GED, data_dir=store)
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store))
    monkeypatch.setenv(acled_remote.BASE_URL_ENV, site.server.url)
    site.forbidden = True  # logs in (a bearer token is issued), then the read is refused
    at = AppTest.from_file(str(REPO / "app_pages" / "data.py"), default_timeout=120).run()
    first = page_text(at)
    (fetch,) = [b for b in at.button if b.label == "Fetch and import"]
    fetch.click()
    at.run()
    outputs = {"page before": first, "page after": page_text(at), "logs": _logs(caplog)}
    leaks = _record(outputs, secrets_of(site))
    assert not at.exception
    assert site.issued == 1
    (error,) = at.error
    assert "ACLED refused access (HTTP 403)" in _unescape(error.value)
    assert "Data sources" in first and "Nothing was changed" in outputs["page after"]
    assert leaks == []


def test_a_hostile_headline_is_stored_as_typed(tmp_path: Path) -> None:
    """Markup in the data is data: stored unchanged, for the pages to escape."""
    text = ged_text().replace("Clashes near Mopti", HOSTILE_TEXTS[1])
    path = tmp_path / "GEDEvent_v25_1.csv"
    path.write_text(text.replace(",JNIM,2,", f",{HOSTILE_TEXTS[0]},2,"), encoding="utf-8")
    record = import_file(path, data_dir=tmp_path / "store")
    import pyarrow.parquet as pq

    events = pq.read_table(record.events_path, columns=["headline", "side_b"]).to_pydict()
    assert events["headline"][0] == HOSTILE_TEXTS[1]
    assert events["side_b"][0] == HOSTILE_TEXTS[0]
