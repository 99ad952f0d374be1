"""Benchmark the GED (or ACLED) import against DuckDB's `read_csv` of the same file, and the panel.

The issue's targets, on the 2-core reference machine:

* 400k events: import ≤ 4 s and ≤ 1 GiB peak memory; country-month panel ≤ 0.3 s;
* 2.5M events: import ≤ 20 s and ≤ 3 GiB peak memory;
* the import costs at most 2× DuckDB's plain `read_csv` of the same file (printed in the same run).

Every measurement runs in a fresh child process, so a peak is that process's own high-water
mark (`VmHWM`: interpreter and libraries included, as for a real `python -m loaders import`)
and no cache or allocator state leaks from one measurement to the next. `VmHWM` rather than
`ru_maxrss`, because Linux carries the parent's peak over into a spawned child's `ru_maxrss`.

A benchmark prints figures and never fails on them. `--profile` adds, per size, a breakdown of
the import by step (wall time and peak RSS) and a cProfile listing.

`--source acled` measures the same for ACLED export-format files (`bench/make_acled.py`); its
target (from the ACLED issue) is the UCDP budget at 2.5M events: ≤ 20 s and ≤ 3 GiB. The
ratio to DuckDB is shown for ACLED without a target, and the panel is built from ACLED only
(`sources=["acled"]`; the default panel reads UCDP only).

    python bench/bench_import.py [--source ucdp|acled] [--sizes 400000,2500000] [--seed 7]
        [--repeat 1] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import importlib
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
MAKE_GED = REPO / "bench" / "make_ged.py"
MAKE_ACLED = REPO / "bench" / "make_acled.py"
SOURCES = ("ucdp", "acled")
RESULT_PREFIX = "RESULT "
PANEL_RUNS = 5
MAX_RATIO = 2.0
MIB = 2**20


@dataclass(frozen=True)
class Target:
    import_s: float
    import_mib: float
    panel_s: float | None


TARGETS = {
    400_000: Target(import_s=4.0, import_mib=1024, panel_s=0.3),
    2_500_000: Target(import_s=20.0, import_mib=3072, panel_s=None),
}
# ACLED issue: "2.5 million ACLED-format events within the same budget as the UCDP import".
SOURCE_TARGETS = {
    "ucdp": (TARGETS, MAX_RATIO),
    "acled": ({2_500_000: Target(import_s=20.0, import_mib=3072, panel_s=None)}, None),
}

# Import steps timed by `--profile`: (module, attribute, label). Wrapped in the child only;
# a name the loaders no longer have is skipped, so the breakdown survives refactoring.
STEPS = (
    ("loaders.pipeline", "copy_with_sha256", "copy raw file + sha256 + fsync"),
    ("loaders.ucdp", "read_delimited", "CSV parse (read_delimited)"),
    ("loaders.ucdp", "_parsed", "text -> canonical columns (_parsed)"),
    ("loaders.ucdp", "_countries", "  of which country resolution"),
    ("loaders.ucdp", "plausible_dates", "  of which plausible_dates"),
    ("loaders.ucdp.Column", "dates", "  of which Column.dates"),
    ("loaders.ucdp.Column", "integers", "  of which Column.integers"),
    ("loaders.ucdp.Column", "text", "  of which Column.text"),
    ("loaders.ucdp.Parsed", "provenance", "provenance (distinct iso3)"),
    ("loaders.store", "validate_events", "validation (validate_events)"),
    ("pyarrow.parquet", "write_table", "Parquet write (zstd)"),
    ("loaders.store", "_summary", "summary figures"),
    ("loaders.store.Store", "_swap_manifest", "manifest swap"),
    ("loaders.store.Store", "collect_garbage", "garbage collection"),
)
ACLED_STEPS = (
    ("loaders.pipeline", "copy_with_sha256", "copy raw file + sha256 + fsync"),
    ("loaders.acled", "_read_streamed", "streamed parse + conversion"),
    ("loaders.acled", "_convert", "  of which conversion (main thread)"),
    ("loaders.acled", "_dates", "    _dates (event_date)"),
    ("loaders.acled", "plausible_dates", "    plausible_dates"),
    ("loaders.acled", "_state_forces_involved", "    _state_forces_involved"),
    ("loaders.acled", "_violence", "    _violence"),
    ("loaders.acled", "_countries", "    country resolution"),
    ("loaders.acled", "_latest_edit", "    _latest_edit (timestamp)"),
    ("loaders.acled", "_headlines", "    _headlines (notes)"),
    ("loaders.acled", "_text", "    _text (trim check)"),
    ("loaders.acled.Column", "integers", "    Column.integers"),
    ("loaders.acled.Column", "numbers", "    Column.numbers"),
    ("loaders.acled.Column", "recode", "    Column.recode"),
    ("loaders.acled", "_events", "  of which assembling the table"),
    ("loaders.acled", "_read_whole", "whole-file read (other layouts, problems)"),
    ("loaders.acled", "read_delimited", "  of which CSV parse (read_delimited)"),
    ("loaders.acled.Parsed", "provenance", "provenance (coverage)"),
    ("loaders.store", "validate_events", "validation (validate_events)"),
    ("pyarrow.parquet", "write_table", "Parquet write (zstd)"),
    ("loaders.store", "_summary", "summary figures"),
    ("loaders.store.Store", "_swap_manifest", "manifest swap"),
    ("loaders.store.Store", "collect_garbage", "garbage collection"),
)
STEPS_BY_SOURCE = {"ucdp": STEPS, "acled": ACLED_STEPS}


# --- measuring, in the child ---------------------------------------------------------------


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc (`VmHWM` = peak RSS, `VmRSS` = now)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Clock:
    """Wall and CPU seconds of a block (CPU of all threads: less hurt by a busy machine)."""

    wall: float = 0.0
    cpu: float = 0.0


@contextlib.contextmanager
def clocked() -> Iterator[Clock]:
    clock = Clock()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield clock
    finally:
        clock.wall = time.perf_counter() - wall
        clock.cpu = time.process_time() - cpu


def child_duckdb(path: Path) -> dict:
    """The reference: DuckDB's plain `read_csv` of the whole file into an Arrow table."""
    import duckdb

    quoted = str(path).replace("'", "''")
    base = _status_mib("VmRSS")
    with clocked() as clock:
        # `fetch_arrow_table()` of the issue is deprecated in DuckDB 2.0; this is its new name.
        table = duckdb.sql(f"SELECT * FROM read_csv('{quoted}')").to_arrow_table()
    return {
        "seconds": clock.wall,
        "cpu_s": clock.cpu,
        "peak_mib": _status_mib("VmHWM"),
        "base_mib": base,
        "rows": table.num_rows,
        "columns": table.num_columns,
    }


def panel_seconds(data_dir: Path, source: str = "ucdp") -> float | str:
    """Best of five warm runs of the country-month panel, or why it could not run.

    UCDP: the default panel (it reads UCDP only); other sources: the panel of that source.
    """
    try:
        panel = importlib.import_module("risk.panel")
    except ModuleNotFoundError as exc:
        if exc.name not in ("risk", "risk.panel"):
            raise
        return "risk/panel.py does not exist yet"
    build = getattr(panel, "country_month_panel", None)
    if build is None:
        return "risk.panel has no country_month_panel"
    options = {} if source == "ucdp" else {"sources": [source]}
    build(data_dir=data_dir, **options)  # warm: imports, reference tables, file cache
    runs = []
    for _ in range(PANEL_RUNS):
        began = time.perf_counter()
        build(data_dir=data_dir, **options)
        runs.append(time.perf_counter() - began)
    return min(runs)


def child_import(path: Path, source: str = "ucdp") -> dict:
    """`import_file` into a fresh store, then `load_events` and the panel from that store."""
    began = time.perf_counter()
    from loaders import import_file, load_events

    modules_s = time.perf_counter() - began
    data_dir = Path(tempfile.mkdtemp(prefix="a99-bench-store-"))
    try:
        base = _status_mib("VmRSS")
        with clocked() as clock:
            record = import_file(path, source=source, data_dir=data_dir)
        peak = _status_mib("VmHWM")
        began = time.perf_counter()
        events = load_events(data_dir)
        load_s = time.perf_counter() - began
        rows = len(events)
        del events
        panel = panel_seconds(data_dir, source)
        return {
            "seconds": clock.wall,
            "cpu_s": clock.cpu,
            "peak_mib": peak,
            "base_mib": base,
            "modules_s": modules_s,
            "rows": record.provenance.rows,
            "warnings": list(record.provenance.warnings),
            "parquet_mib": record.events_path.stat().st_size / MIB,
            "load_s": load_s,
            "load_rows": rows,
            "panel_s": panel,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


class _Peak:
    """The highest RSS seen while one call runs (compared by identity, not value)."""

    __slots__ = ("bytes",)

    def __init__(self, rss: int) -> None:
        self.bytes = rss


class StepRecorder:
    """Wall time and peak RSS of named steps, peak sampled by a thread every 2 ms.

    Arrow, hashlib and the Parquet writer release the GIL while they work, so the sampler
    sees the memory of the step that is running.
    """

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            rss = _rss_bytes()
            for entry in list(self.open):
                entry.bytes = max(entry.bytes, rss)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()

    def wrap(self, label: str, func: Callable) -> Callable:
        @functools.wraps(func)
        def timed(*args: object, **kwargs: object) -> object:
            entry = _Peak(_rss_bytes())
            self.open.append(entry)
            began = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - began
                self.open.remove(entry)
                total = self.totals.setdefault(label, [0.0, 0, 0.0])
                total[0] += seconds
                total[1] += 1
                total[2] = max(total[2], entry.bytes, _rss_bytes())

        return timed

    def __init__(self, steps: tuple[tuple[str, str, str], ...] = STEPS) -> None:
        self.steps = steps
        self.totals: dict[str, list[float]] = {}  # label -> [seconds, calls, peak bytes]
        self.open: list[_Peak] = []  # steps running now (nested steps are all open)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def install(self) -> None:
        for module_path, attribute, label in self.steps:
            owner = _resolve(module_path)
            if owner is not None and hasattr(owner, attribute):
                setattr(owner, attribute, self.wrap(label, getattr(owner, attribute)))

    def report(self, total_s: float) -> str:
        lines = [f"  {'step':<40} {'wall s':>8} {'share':>6} {'calls':>6} {'peak RSS MiB':>13}"]
        for _, _, label in self.steps:
            if label in self.totals:
                seconds, calls, peak = self.totals[label]
                lines.append(
                    f"  {label:<40} {seconds:>8.2f} {seconds / total_s:>6.0%} {calls:>6.0f}"
                    f" {peak / MIB:>13,.0f}"
                )
        return "\n".join(lines)


def _resolve(dotted: str) -> object | None:
    """A module or a class inside one, from `package.module[.Class]`."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError:
        module, _, name = dotted.rpartition(".")
        try:
            return getattr(importlib.import_module(module), name, None)
        except ModuleNotFoundError:
            return None


def child_profile(path: Path, source: str = "ucdp") -> dict:
    """The import once more, broken down by step and under cProfile (figures carry overhead)."""
    import pyarrow as pa

    from loaders import import_file

    steps = StepRecorder(STEPS_BY_SOURCE[source])
    steps.install()
    profiler = cProfile.Profile()
    data_dir = Path(tempfile.mkdtemp(prefix="a99-bench-profile-"))
    try:
        with steps.running():
            began = time.perf_counter()
            profiler.enable()
            import_file(path, source=source, data_dir=data_dir)
            profiler.disable()
            seconds = time.perf_counter() - began
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    listing = io.StringIO()
    stats = pstats.Stats(profiler, stream=listing).strip_dirs().sort_stats("cumulative")
    stats.print_stats(30)
    pool = pa.default_memory_pool()
    return {
        "seconds": seconds,
        "peak_mib": _status_mib("VmHWM"),
        "arrow_pool": f"{pool.backend_name}, peak {pool.max_memory() / MIB:,.0f} MiB allocated",
        "steps": steps.report(seconds),
        "cprofile": listing.getvalue(),
    }


CHILDREN: dict[str, Callable[..., dict]] = {
    "duckdb": child_duckdb,
    "import": child_import,
    "profile": child_profile,
}


def run_as_child(mode: str, path: Path, source: str = "ucdp") -> int:
    """Entry point of a child: one measurement, printed as a JSON line for the parent."""
    sys.path.insert(0, str(REPO))
    result = CHILDREN[mode](path) if mode == "duckdb" else CHILDREN[mode](path, source)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


# --- driving, in the parent ----------------------------------------------------------------


def measure(mode: str, path: Path, source: str = "ucdp") -> dict:
    """Run one measurement in a fresh interpreter and return what it reported.

    Also kept: the share of the machine's CPU that *other* processes used meanwhile (all busy
    CPU time less the child's own), because other work on a 2-core machine slows every figure.
    """
    busy, children, began = _busy_cpu_s(), _children_cpu_s(), time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            *("--source", source),
            *("--child", mode, str(path)),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    own = _children_cpu_s() - children
    others = max(0.0, _busy_cpu_s() - busy - own)
    share = others / ((time.perf_counter() - began) * (os.cpu_count() or 1))
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return {**json.loads(line[len(RESULT_PREFIX) :]), "others_cpu": share}
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return {"error": f"{mode} child exited {done.returncode}: " + " | ".join(tail)}


def _busy_cpu_s() -> float:
    """CPU seconds all processes have used since boot (from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        ticks = [int(v) for v in handle.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_of(mode: str, path: Path, repeat: int, source: str = "ucdp") -> dict:
    """The fastest of `repeat` runs, with the highest peak seen in any of them."""
    runs = [measure(mode, path, source) for _ in range(repeat)]
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_mib": max(r["peak_mib"] for r in runs)}


def ensure_file(events: int, seed: int, regenerate: bool, source: str = "ucdp") -> Path:
    """The generated GED (or ACLED) file for this size and seed, made once, cached in bench/out."""
    sys.path.insert(0, str(REPO))
    # Imported here, in the parent only: the children measure themselves without its modules.
    if source == "acled":
        from bench.make_acled import default_name

        maker = MAKE_ACLED
    else:
        from bench.make_ged import default_name

        maker = MAKE_GED
    path = OUT_DIR / default_name(events, seed)
    if regenerate or not path.exists():
        command = [sys.executable, str(maker), "--events", str(events), "--seed", str(seed)]
        subprocess.run([*command, "--out", str(path)], check=True, cwd=REPO)
    return path


def _verdict(value: float, limit: float | None) -> str:
    if limit is None:
        return ""
    return "PASS" if value <= limit else "MISS"


def report_rows(
    events: int, path: Path, ref: dict, imp: dict, source: str = "ucdp"
) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, verdict) lines for one size."""
    targets, max_ratio = SOURCE_TARGETS[source]
    target = targets.get(events)
    rows = [("file", f"{path.stat().st_size / MIB:,.0f} MiB", "", "")]
    if "error" in ref:
        rows.append(("duckdb read_csv", ref["error"], "", ""))
    else:
        rows += [
            ("duckdb read_csv wall", _seconds(ref), "reference", ""),
            ("duckdb read_csv peak RSS", _mib(ref), "reference", ""),
        ]
    if "error" in imp:
        return [*rows, ("import", imp["error"], "", "")]
    rows += [
        (
            "import wall",
            _seconds(imp),
            f"≤ {target.import_s:g} s" if target else "",
            _verdict(imp["seconds"], target.import_s if target else None),
        ),
        (
            "import peak RSS",
            _mib(imp),
            f"≤ {target.import_mib:,.0f} MiB" if target else "",
            _verdict(imp["peak_mib"], target.import_mib if target else None),
        ),
    ]
    if "error" not in ref:
        ratio = imp["seconds"] / ref["seconds"]
        rows.append(
            (
                "import / duckdb wall",
                f"{ratio:.2f}×",
                f"≤ {max_ratio:g}×" if max_ratio else "",
                _verdict(ratio, max_ratio),
            )
        )
        rows.append(("import / duckdb CPU", f"{imp['cpu_s'] / ref['cpu_s']:.2f}×", "", ""))
        others = max(ref["others_cpu"], imp["others_cpu"])
        rows.append(
            ("other processes' CPU meanwhile", f"{others:.0%} of {os.cpu_count()} CPUs", "", "")
        )
    rows += [
        ("(module imports, not in import wall)", f"{imp['modules_s']:.2f} s", "", ""),
        ("events.parquet", f"{imp['parquet_mib']:,.0f} MiB, {imp['rows']:,} rows", "", ""),
        ("load_events (all columns)", f"{imp['load_s']:.2f} s", "", ""),
    ]
    panel = imp["panel_s"]
    panel_limit = target.panel_s if target else None
    if isinstance(panel, str):
        rows.append(("country-month panel", f"n/a: {panel}", _limit(panel_limit), ""))
    else:
        of = "" if source == "ucdp" else f"{source}, "
        rows.append(
            (
                f"country-month panel ({of}best of {PANEL_RUNS})",
                f"{panel:.3f} s",
                _limit(panel_limit),
                _verdict(panel, panel_limit),
            )
        )
    return rows


def _seconds(result: dict) -> str:
    return f"{result['seconds']:.2f} s (CPU {result['cpu_s']:.2f} s)"


def _mib(result: dict) -> str:
    return f"{result['peak_mib']:,.0f} MiB (base {result['base_mib']:,.0f})"


def _limit(limit: float | None) -> str:
    return f"≤ {limit:g} s" if limit is not None else "—"


def print_table(sections: list[tuple[int, list[tuple[str, str, str, str]]]]) -> None:
    print(f"\n{'events':>10}  {'measure':<38} {'value':<30} {'target':<14} verdict")
    for events, rows in sections:
        print("-" * 103)
        for i, (name, value, target, verdict) in enumerate(rows):
            size = f"{events:,}" if i == 0 else ""
            print(f"{size:>10}  {name:<38} {value:<30} {target:<14} {verdict}")


def print_profile(events: int, result: dict) -> None:
    print(f"\n=== profile of the import, {events:,} events ===")
    if "error" in result:
        print(result["error"])
        return
    print(f"wall {result['seconds']:.2f} s under profiling, peak RSS {result['peak_mib']:,.0f} MiB")
    print(f"arrow memory pool: {result['arrow_pool']}")
    print(result["steps"])
    print(result["cprofile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=SOURCES, default="ucdp", help="file format to import")
    parser.add_argument("--sizes", default="400000,2500000", help="comma-separated event counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best kept)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite cached files")
    parser.add_argument("--profile", action="store_true", help="break the import down by step")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_as_child(args.child[0], Path(args.child[1]), args.source)
    sections, profiles = [], []
    for events in (int(s) for s in args.sizes.split(",")):
        path = ensure_file(events, args.seed, args.regenerate, args.source)
        print(f"{events:,} events: {path.name}", flush=True)
        ref = best_of("duckdb", path, args.repeat, args.source)
        imp = best_of("import", path, args.repeat, args.source)
        sections.append((events, report_rows(events, path, ref, imp, args.source)))
        for result in (ref, imp):
            if "error" not in result and result["rows"] != events:
                print(f"  note: {result['rows']:,} rows read, {events:,} written")
        if args.profile:
            profiles.append((events, measure("profile", path, args.source)))
    print_table(sections)
    for events, result in profiles:
        print_profile(events, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
