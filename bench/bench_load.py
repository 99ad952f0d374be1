"""A room full of analysts: browser sessions on one server while an import swaps the store.

    PYTHONPATH=. .venv/bin/python bench/bench_load.py [--sessions 10] [--rounds 3]

One `streamlit run app.py` serves a copy of a GED 21.1 store whose forecast is computed. Each
session (a context of one headless Debian Chromium) repeats rounds of four steps: open the
landing page with a region in the URL, change the violence type in the sidebar, open a country
profile from the landing page, go back. Once every session has finished `--swap-after` rounds,
`python -m loaders import` brings a further UCDP GED release into the same data directory
(the store swaps to the new version, then the CLI computes its forecast); sessions go on until
each has done `--after` rounds once the CLI has exited, or `--max-seconds` have passed.

Printed: p50/p95 time to a settled page before, during and after the swap; the server's peak
memory (RSS of its process tree); every session that saw an error (a Streamlit exception, a
traceback, a console or page error, a step that never settled) or a mixed version (one page
showing two store versions, unless it says it shows the previous forecast). Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench_dashboard import rss_mib  # noqa: E402

from loaders import countries  # noqa: E402
from loaders.store import Store  # noqa: E402
from risk.forecast import risk_forecast  # noqa: E402
from risk.selection import Selection, apply  # noqa: E402
from tests.conftest import GLOBAL_GED, shared_data_dir  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, MAP_SHAPES, SETTLED, start_app  # noqa: E402

OUT = REPO / "bench" / "out"
FAILURES = OUT / "load_failures"  # a screenshot of each step that failed
UPDATE = "ucdp_ged_v24_1_myanmar.csv.gz"  # no Candidate file is kept; a later release is
# Regions that hold the update's country or not, so some pages change with it and some do not.
REGIONS = (
    "sub:South-eastern Asia",
    "group:Central Sahel",
    "org:ASEAN",
    "group:Horn of Africa",
    "sub:Southern Asia",
    "group:Great Lakes",
    "ucdp:Middle East",
    "group:Lake Chad Basin",
    "sub:Western Africa",
    "un:Americas",
)
# The sidebar's violence choices other than the default (a session opens on the default; each
# round moves to the next, so every click changes it), as labelled, with the URL parameter.
MEASURES = {
    "State-based violence": "measure=state_based",
    "Non-state violence": "measure=non_state",
    "One-sided violence against civilians": "measure=one_sided",
}
LOOPBACK = ("127.0.0.1", "localhost")
PREVIOUS = "Showing the forecast made for the previous data"
STEP_TIMEOUT_MS = 60_000
TARGET_P95_S = 2.0
TARGET_MEMORY_MIB = 2048
SHAPES_DRAWN = f'document.querySelectorAll("{MAP_SHAPES}").length > 0'
# What a page says of the data it shows: the sidebar's and the footer's vintage (the store),
# the map's source line (the forecast), the label of a previous forecast, an exception.
READ_PAGE = """(previous) => {
  const texts = (css) => [...document.querySelectorAll(css)].map(e => e.innerText.trim());
  const sidebar = texts("[data-testid='stSidebar'] [data-testid='stCaptionContainer']");
  const captions = texts("[data-testid='stMain'] [data-testid='stCaptionContainer']");
  const body = document.body.innerText;
  return {
    store: [...sidebar.slice(-1), ...captions.filter(t => t.startsWith('Data: '))],
    forecast: captions.filter(t => t.startsWith('Source: ') && t.includes('Article 99 forecast')),
    previous: body.includes(previous),
    exceptions: document.querySelectorAll("[data-testid='stException']").length,
    traceback: body.includes('Traceback (most recent call last)'),
  };
}"""


@dataclass
class Step:
    session: int
    name: str
    started: float  # seconds since the benchmark's clock started
    seconds: float
    problem: str = ""
    mixed: str = ""
    previous: bool = False


@dataclass
class Swap:
    """When the update started, when the store's version changed, when the CLI exited."""

    started: float | None = None
    swapped: float | None = None
    done: float | None = None
    output: str = ""
    version: tuple[str, str] = ("", "")

    def phase(self, at: float) -> str:
        if self.started is None or at < self.started:
            return "before"
        return "during" if self.done is None or at < self.done else "after"


@dataclass
class Console:
    """The browsers' console errors: the app's, and loads from other hosts (this machine is
    offline, so those fail here whatever the app does; listed once per address)."""

    errors: list[str] = field(default_factory=list)
    offline: dict[str, int] = field(default_factory=dict)

    def message(self, session: int, message) -> None:
        if message.type != "error":
            return
        address = (message.location or {}).get("url", "")
        if address and urlparse(address).hostname not in LOOPBACK:
            self.offline[address] = self.offline.get(address, 0) + 1
        else:
            self.errors.append(f"session {session}: {message.text[:300]}")


@dataclass
class Run:
    clock: float = field(default_factory=time.perf_counter)
    steps: list[Step] = field(default_factory=list)
    swap: Swap = field(default_factory=Swap)
    rounds_done: list[int] = field(default_factory=list)
    peak_mib: dict[str, float] = field(default_factory=dict)
    new_release: str = ""  # '24.1': a vintage naming it is of the updated store
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by whom, over the run

    def now(self) -> float:
        return time.perf_counter() - self.clock


def base_store(store: Path | None) -> Path:
    """The GED 21.1 store to copy: `--store`, else one imported once into bench/out."""
    if store is not None:
        return store
    built = OUT / "load_base_store"
    if not (built / "manifest.json").exists():
        source = shared_data_dir() / GLOBAL_GED
        subprocess.run(
            [sys.executable, "-m", "loaders", "--data-dir", str(built), "import", str(source)],
            cwd=REPO,
            check=True,
        )
    return built


def region_countries(store: Path) -> dict[str, list[tuple[str, str]]]:
    """The countries (code, name) each region's landing page offers to open (its forecast's);
    the forecast is computed if the store has none yet (as an import leaves it)."""
    forecast = risk_forecast(store)
    names = countries.reference().set_index("iso3")["name"]
    return {
        region: [
            (iso3, names[iso3])
            for iso3 in apply(forecast.table, Selection(regions=(region,)))["iso3"]
        ]
        for region in REGIONS
    }


def release_of(path: Path) -> str:
    """'24.1' from 'ucdp_ged_v24_1_myanmar.csv.gz': how a page names the update's data."""
    found = re.search(r"v(\d+)_(\d+)", path.name)
    if found is None:
        raise SystemExit(f"--update {path.name}: no GED version (vNN_N) in the file name")
    return f"{found[1]}.{found[2]}"


def classify(texts: list[str], new_release: str) -> set[str]:
    """'old' or 'new' for each vintage text: whether it names the update's release."""
    return {"new" if f"GED {new_release}" in text else "old" for text in texts}


async def settled(page, done: str | None = None) -> None:
    if done is not None:
        await page.wait_for_function(done, timeout=STEP_TIMEOUT_MS)
    await page.wait_for_function(SETTLED, timeout=STEP_TIMEOUT_MS)


async def timed_step(run: Run, session: int, name: str, page, action, *args) -> None:
    """Run `action(page, *args)` (it ends on a settled page), then read what the page shows."""
    started = run.now()
    step = Step(session, name, started, 0.0)
    run.steps.append(step)
    try:
        await action(page, *args)
        step.seconds = run.now() - started
        seen = await page.evaluate(READ_PAGE, PREVIOUS)
    except Exception as problem:  # a timeout or a crash: the step never settled
        step.seconds = run.now() - started
        shot = FAILURES / f"session{session}_{started:.0f}s_{name}.png"
        step.problem = (
            f"{name}: {type(problem).__name__}: {str(problem).splitlines()[0]} at {page.url} "
            f"({shot.name})"
        )
        with contextlib.suppress(Exception):  # a crashed page has no screenshot
            await page.screenshot(path=shot, full_page=True)
        return
    if seen["exceptions"] or seen["traceback"]:
        step.problem = f"{name}: a Streamlit exception on the page"
    store = classify(seen["store"], run.new_release)
    shown = classify(seen["forecast"], run.new_release)
    step.previous = seen["previous"]
    if len(store) > 1:
        step.mixed = f"{name}: the sidebar and the footer show two store versions"
    elif shown and shown != store and not step.previous:
        step.mixed = (
            f"{name}: forecast of the {shown.pop()} data, unlabelled, beside the {store.pop()}"
        )


async def landing(page, url: str, region: str) -> None:
    await page.goto(f"{url}/?region={region}")
    await settled(page, f"() => {SHAPES_DRAWN}")


async def change_measure(page, label: str, query: str) -> None:
    await page.locator("[data-testid='stSidebar']").get_by_text(label, exact=True).click()
    await settled(page, f"() => location.search.includes('{query}') && {SHAPES_DRAWN}")


async def choose_country(page, iso3: str, name: str) -> None:
    """Choose a country under the table (not in the figures: the analyst reads, types and
    clicks), until the profile link beside it names the country."""
    box = page.get_by_role("combobox", name="Open a country profile")
    await box.click()
    await box.fill(name)
    await page.get_by_role("option", name=name, exact=True).click()
    await settled(page, f"() => document.querySelector('a[href*=\"iso3={iso3}\"]') !== null")


async def open_profile(page, name: str) -> None:
    await page.get_by_role("link", name="Open profile").click()
    heading = f"[...document.querySelectorAll('h2')].some(h => h.innerText === {name!r})"
    await settled(page, f"() => location.pathname.endsWith('/country') && {heading}")


async def go_back(page) -> None:
    await page.go_back()
    await settled(page, f"() => !location.pathname.endsWith('/country') && {SHAPES_DRAWN}")


async def session(
    run: Run, browser, url: str, index: int, names: list[tuple[str, str]], args, console: Console
) -> None:
    """One analyst: the landing page once, then rounds of sidebar filter, profile, back;
    `names` are the countries of the session's region, whose profiles it opens in turn."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    page.on("console", lambda message: console.message(index, message))
    page.on("pageerror", lambda error: console.errors.append(f"session {index}: {error}"))
    region = REGIONS[index % len(REGIONS)]
    rounds = after = 0
    try:
        # An analyst opens the app once, then works in it: the rounds are in-app steps.
        await timed_step(run, index, "open", page, landing, url, region)
        while run.now() < args.max_seconds:
            if run.swap.done is not None and after >= args.after and rounds >= args.rounds:
                break
            finished_before = run.swap.done is not None
            label, query = list(MEASURES.items())[rounds % len(MEASURES)]
            await asyncio.sleep(args.think)
            await timed_step(run, index, "filter", page, change_measure, label, query)
            # Not the first: the list opens on it, and choosing it again changes nothing.
            iso3, name = names[1 + rounds % (len(names) - 1)]
            await timed_step(run, index, "choose", page, choose_country, iso3, name)
            await timed_step(run, index, "profile", page, open_profile, name)
            await asyncio.sleep(args.think)
            await timed_step(run, index, "back", page, go_back)
            rounds += 1
            after += finished_before
            run.rounds_done[index] = rounds
    finally:
        await context.close()


async def update(run: Run, store: Path, args) -> None:
    """Once every session has done `--swap-after` rounds, import the update into the store."""
    while min(run.rounds_done) < args.swap_after and run.now() < args.max_seconds:
        await asyncio.sleep(0.2)
    if run.now() >= args.max_seconds:
        return
    before = Store(store).version()
    children_before = children_cpu_seconds()
    run.swap.started = run.now()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "loaders",
        "--data-dir",
        str(store),
        "import",
        str(args.update),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )

    async def watch() -> None:
        while Store(store).version() == before:
            await asyncio.sleep(0.1)
        run.swap.swapped = run.now()

    watching = asyncio.create_task(watch())
    output, _ = await process.communicate()
    run.swap.done = run.now()
    run.cpu["update (import + forecast)"] = children_cpu_seconds() - children_before
    run.swap.output = output.decode(errors="replace").strip()
    run.swap.version = (before, Store(store).version())
    if process.returncode != 0 or run.swap.version[1] == before:
        watching.cancel()
        raise RuntimeError(f"the update failed or changed nothing:\n{run.swap.output}")
    await watching


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a live process and its descendants have used (those that
    ended and were waited for included)."""
    ticks, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids += [int(c) for c in children]
        except (OSError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have ended (the update's CLI)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        ticks = [int(v) for v in handle.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait


def sample_memory(run: Run, pid: int, stop: threading.Event) -> None:
    """The server's RSS (process tree) every 0.25 s, the peak kept per phase."""
    while not stop.wait(0.25):
        phase = run.swap.phase(run.now())
        run.peak_mib[phase] = max(run.peak_mib.get(phase, 0.0), rss_mib(pid))


async def drive(
    url: str, store: Path, pid: int, names: dict[str, list[tuple[str, str]]], args
) -> tuple[Run, Console]:
    from playwright.async_api import async_playwright

    run = Run(rounds_done=[0] * args.sessions, new_release=release_of(args.update))
    console = Console()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(run, pid, stop), daemon=True)
    sampler.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            machine = machine_cpu_seconds()
            try:
                await asyncio.gather(
                    update(run, store, args),
                    *(
                        session(
                            run, browser, url, i, names[REGIONS[i % len(REGIONS)]], args, console
                        )
                        for i in range(args.sessions)
                    ),
                )
            finally:
                run.cpu["server"] = cpu_seconds(pid)
                run.cpu["browsers"] = (  # and this script; the update is its child too
                    cpu_seconds(os.getpid())
                    - run.cpu["server"]
                    - run.cpu.get("update (import + forecast)", 0.0)
                )
                run.cpu["whole machine"] = machine_cpu_seconds() - machine
                await browser.close()
    finally:
        stop.set()
        sampler.join()
    return run, console


def report(run: Run, console: Console, server_log: Path, args) -> None:
    swap = run.swap
    print(f"\n{args.sessions} sessions on one server, {len(run.steps)} steps in {run.now():.0f} s")
    if swap.started is not None:
        print(
            f"update: {args.update.name} imported from {swap.started:.1f} s; store version "
            f"{swap.version[0]} -> {swap.version[1]} at {swap.swapped or float('nan'):.1f} s; "
            f"CLI (import + forecast) exited at {swap.done or float('nan'):.1f} s"
        )
        for line in swap.output.splitlines():
            print(f"  | {line}")
    else:
        print("update: not started (time ran out)")
    print(
        f"\n{'phase':<8}{'step':<9}{'n':>5}{'p50':>8}{'p95':>8}{'max':>8}  previous forecast shown"
    )
    timed = [s for s in run.steps if s.name != "choose" and not s.problem]
    for phase in ("before", "during", "after"):
        here = [s for s in timed if swap.phase(s.started) == phase]
        for name in ("all", "open", "filter", "profile", "back"):
            chosen = [s for s in here if name in ("all", s.name)]
            if not chosen:
                continue
            seconds = np.array([s.seconds for s in chosen])
            p50, p95 = np.percentile(seconds, [50, 95])
            labelled = sum(s.previous for s in chosen)
            print(
                f"{phase if name == 'all' else '':<8}{name:<9}{len(chosen):>5}{p50:>7.2f}s"
                f"{p95:>7.2f}s{seconds.max():>7.2f}s  {labelled}"
            )
    in_app = [s.seconds for s in timed if s.name != "open"]
    everything = np.array(in_app) if in_app else np.array([np.nan])
    p95 = float(np.percentile(everything, 95))
    if opened := [s.seconds for s in timed if s.name == "open"]:
        p50_open, p95_open = np.percentile(opened, [50, 95])
        print(
            f"\nopening the app (a new session, a full page load): p50 {p50_open:.2f} s, "
            f"p95 {p95_open:.2f} s (not in the target: once per analyst)"
        )
    peak = max(run.peak_mib.values(), default=0.0)
    by_phase = ", ".join(f"{phase} {mib:.0f}" for phase, mib in run.peak_mib.items())
    tracebacks = server_log.read_text(errors="replace").count("Traceback (most recent call last)")
    problems = [s for s in run.steps if s.problem]
    mixed = [s for s in run.steps if s.mixed]
    print(
        f"p95, steps in the app (filter, profile, back): {p95:.2f} s "
        f"(target ≤ {TARGET_P95_S} s): " + ("PASS" if p95 <= TARGET_P95_S else "MISS")
    )
    print(
        f"server peak memory: {peak:.0f} MiB ({by_phase}; target ≤ {TARGET_MEMORY_MIB} MiB): "
        + ("PASS" if peak <= TARGET_MEMORY_MIB else "MISS")
    )
    errors = len(problems) + len(console.errors) + tracebacks
    print(f"errors: {errors} (target 0): " + ("PASS" if errors == 0 else "MISS"))
    print(f"mixed versions: {len(mixed)}")
    for step in problems:
        print(f"  session {step.session} at {step.started:.1f} s: {step.problem}")
    for line in console.errors:
        print(f"  console: {line}")
    if tracebacks:
        print(f"  server log {server_log}: {tracebacks} traceback(s)")
    for step in mixed:
        print(f"  session {step.session} at {step.started:.1f} s: {step.mixed}")
    spent = run.cpu.get("whole machine", 0.0)
    mine = sum(seconds for who, seconds in run.cpu.items() if who != "whole machine")
    print(
        "CPU seconds: "
        + ", ".join(f"{who} {seconds:.0f}" for who, seconds in run.cpu.items())
        + f", other processes {spent - mine:.0f} (of {run.now() * os.cpu_count():.0f} available)"
    )
    sessions = sorted({s.session for s in problems + mixed})
    print(f"sessions that saw an error or a mixed version: {sessions or 'none'}")
    for address, times in console.offline.items():
        print(f"not counted: {times} console errors loading {address} (another host; offline)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per session, at least")
    parser.add_argument("--swap-after", type=int, default=1, help="rounds before the update")
    parser.add_argument("--after", type=int, default=1, help="rounds after the update's end")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds an analyst reads each page before the next step (default 0: no pause, "
        "the machine saturated)",
    )
    parser.add_argument("--store", type=Path, help="a GED 21.1 store to copy (never written)")
    parser.add_argument("--update", type=Path, default=shared_data_dir() / UPDATE)
    args = parser.parse_args()
    release_of(args.update)  # a clear message now, not after the store is copied
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "load_store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(FAILURES, ignore_errors=True)
    FAILURES.mkdir()
    shutil.copytree(base_store(args.store), store, ignore=shutil.ignore_patterns("readers"))
    # The store's forecast is computed before the clock starts (kept in the store, as an
    # import leaves it); the backtest an import starts in its own process is left out.
    os.environ |= {"ARTICLE99_AUTO_BACKTEST": "0", "OMP_NUM_THREADS": "1"}
    names = region_countries(store)
    server_log = OUT / "load_server.log"
    server_log.unlink(missing_ok=True)
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    process, url = start_app(store, log=server_log)
    try:
        run, console = asyncio.run(drive(url, store, process.pid, names, args))
    finally:
        process.terminate()
        process.wait(10)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    report(run, console, server_log, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
