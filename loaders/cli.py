"""`python -m loaders`: import files, fetch from the public services, bring the store up to
date (`update`, for a scheduler), show the store's status.

Exit codes: 0 success, 1 bad input or a network fault (one line on stderr naming where and
what), 2 wrong usage; `update` adds 3 (partial) and 75 (already running): see its help.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from loaders import coverage, registry, ucdp_remote, update
from loaders.errors import run_command
from loaders.pipeline import import_file
from loaders.provenance import Provenance
from loaders.store import ImportRecord, Store

NO_FORECAST_HELP = "do not compute the forecast afterwards (batch imports: the last one does)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loaders", description=__doc__)
    parser.add_argument(
        "--data-dir", help="the store (default: $ARTICLE99_DATA_DIR, else data/store)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    imp = commands.add_parser("import", help="import an export file (CSV, CSV.gz, zip)")
    imp.add_argument("path")
    imp.add_argument(
        "--source",
        default="ucdp",
        help="; ".join(f"{key}: {s.name}" for key, s in registry.SOURCES.items())
        + " (default ucdp)",
    )
    imp.add_argument(
        "--version",
        help="; ".join(f"{key}: {s.version_help}" for key, s in registry.SOURCES.items()),
    )
    imp.add_argument(
        "--strict",
        action="store_true",
        help="refuse the file if any row fails a check (default: up to 1%% of the rows, at "
        "most 1,000, are set aside in a .rejects.csv beside the raw file)",
    )
    imp.add_argument("--data-dir", dest="data_dir_sub", help=argparse.SUPPRESS)
    imp.add_argument("--no-forecast", action="store_true", help=NO_FORECAST_HELP)

    fetch = commands.add_parser("fetch", help="download from the public service")
    fetch.add_argument("source", choices=registry.fetchable())
    fetch.add_argument("--version", default=ucdp_remote.LATEST_GED, help="yearly GED release")
    fetch.add_argument("--candidate", help="a monthly Candidate release, e.g. 25.0.6")
    fetch.add_argument("--api", action="store_true", help="use the UCDP API (needs a token)")
    fetch.add_argument("--base-url", help="replaces ucdp.uu.se or acleddata.com")
    fetch.add_argument("--api-url", default=ucdp_remote.API_URL, help="replaces the API root")
    fetch.add_argument("--country", action="append", help="ACLED: a country (repeatable)")
    fetch.add_argument("--region", help="ACLED: a region (number or name)")
    fetch.add_argument("--start", help="ACLED: first event date, YYYY-MM-DD")
    fetch.add_argument("--end", help="ACLED: last event date, YYYY-MM-DD")
    fetch.add_argument("--event-type", action="append", help="ACLED: an event type (repeatable)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.add_argument("--data-dir", dest="data_dir_sub", help=argparse.SUPPRESS)
    fetch.add_argument("--no-forecast", action="store_true", help=NO_FORECAST_HELP)

    upd = commands.add_parser(
        "update",
        help="fetch what is new (UCDP; ACLED with credentials), import, forecast, snapshot, "
        "alerts; for a scheduler",
        description=update.__doc__.split("\n\n")[0],
        epilog=update.EXIT_CODES,
    )
    upd.add_argument(
        "--base-url",
        help="replaces https://ucdp.uu.se, the root of UCDP's download page (default: "
        f"${ucdp_remote.BASE_URL_ENV})",
    )
    upd.add_argument(
        "--api-url",
        help="replaces https://acleddata.com, the ACLED API's root (default: $ACLED_BASE_URL)",
    )
    upd.add_argument("--no-acled", action="store_true", help="do not pull ACLED again")
    upd.add_argument("--data-dir", dest="data_dir_sub", help=argparse.SUPPRESS)

    status = commands.add_parser("status", help="what is in the store")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--data-dir", dest="data_dir_sub", help=argparse.SUPPRESS)
    return parser


def _status(store: Store, as_json: bool) -> None:
    records = store.records()
    aggregates = store.records(kinds=("aggregates",))
    manifest = store.manifest()
    if as_json:
        payload = {
            "data_dir": str(store.root),
            "version": manifest["version"],
            "updated_at": manifest.get("updated_at"),
            "imports": [r.provenance.to_dict() for r in records],
            "aggregates": [r.provenance.to_dict() for r in aggregates],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not records and not aggregates:
        print(f"The store at {store.root} is empty.")
        print("Import a file, or download UCDP data: python -m loaders fetch ucdp")
        return
    print(
        f"Store {store.root} (version {manifest['version']}, updated {manifest.get('updated_at')})"
    )
    for record in records:
        p = record.provenance
        print(
            f"- {p.label}: {p.rows:,} events, {p.fatalities_best:,} deaths (best), "
            f"{p.first_date} … {p.last_date}, {p.countries} countries; "
            f"{p.file}, fetched {p.fetched_at}, sha256 {p.sha256[:12]}…"
        )
        if p.rejected_rows:
            print(f"    {_set_aside_line(record)}")
        for note in p.remarks:
            print(f"    note: {note}")
    for record in aggregates:
        print(f"- {_aggregate_line(record.provenance)}")
        for note in record.provenance.notes:
            print(f"    note: {note}")
    if ends_apart := coverage.vintage_line(store.coverage(kinds=None)):
        print(f"The sources end on different days: {ends_apart}.")


# Each fetchable source's options from the command line (see its module's `fetch`).
FETCH_OPTIONS = {
    "ucdp": lambda args: {
        "version": args.version,
        "candidate": args.candidate,
        "use_api": args.api,
        "base_url": args.base_url or ucdp_remote.BASE_URL,
        "api_url": args.api_url,
    },
    "acled": lambda args: {
        "countries": args.country,
        "region": args.region,
        "start": args.start,
        "end": args.end,
        "event_types": args.event_type,
        "base_url": args.base_url,
    },
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data_dir = getattr(args, "data_dir_sub", None) or args.data_dir
    if args.command == "update":
        try:
            return update.cli_main(data_dir, args.base_url, args.api_url, not args.no_acled)
        except KeyboardInterrupt:
            print("interrupted: each import finished is kept", file=sys.stderr)
            return 130

    def run() -> None:
        if args.command == "import":
            record = import_file(
                args.path,
                source=args.source,
                version=args.version,
                data_dir=data_dir,
                strict=args.strict,
            )
            _report(record)
        elif args.command == "fetch":
            record = registry.source(args.source).fetch(
                **FETCH_OPTIONS[args.source](args),
                data_dir=data_dir,
                progress=not args.no_progress,
            )
            _report(record)
            if skipped := record.provenance.details.get("api_skipped_years"):
                listed = ", ".join(skipped)
                print(f"  skipped (already pulled with the same filters, pages reused): {listed}")
        else:
            store = Store(data_dir)
            with store.pinned():  # the imports and the version listed are of one version
                _status(store, args.json)
        if args.command != "status" and not args.no_forecast:
            _forecast(data_dir)

    return run_command(run, interrupted="interrupted: the store is unchanged")


def _forecast(data_dir: str | None) -> None:
    """Compute the forecast the new data make possible, so the app's first visitor reads it."""
    from risk.prepare import prepare  # risk builds on loaders: imported here, not at the top

    print("Forecasting every country…", end=" ", flush=True)
    try:
        print(prepare(data_dir).message)
    except KeyboardInterrupt:
        print("\ninterrupted: the import is kept, without its forecast", file=sys.stderr)
        raise SystemExit(130) from None


def _aggregate_line(p: Provenance) -> str:
    """An aggregate import in one line: its counts per event type (they overlap; see hapi)."""
    totals = ", ".join(
        f"{kind} {t['events']:,} events"
        + (f" / {t['fatalities']:,} deaths" if t["fatalities"] else "")
        for kind, t in (p.totals or {}).items()
    )
    return (
        f"{p.label}: {p.rows:,} rows (counts, not events), {p.countries} location codes, "
        f"{p.coverage.first_month} … {p.coverage.last_month}; {totals}; {p.file}, fetched "
        f"{p.fetched_at}, sha256 {p.sha256[:12]}…"
    )


def _report(record: ImportRecord) -> None:
    p = record.provenance
    if p.kind == "aggregates":
        print(f"Imported {_aggregate_line(p)}")
    else:
        print(
            f"Imported {p.label} from {p.file}: {p.rows:,} events, "
            f"{p.fatalities_best:,} deaths (best), {p.first_date} … {p.last_date}."
        )
    if p.rejected_rows:
        print(f"  {_set_aside_line(record)}")
    for note in p.remarks:
        print(f"  note: {note}")


def _set_aside_line(record: ImportRecord) -> str:
    p = record.provenance
    count = p.rejected_rows
    return (
        f"rejected: {count:,} {'row' if count == 1 else 'rows'} set aside, listed with their "
        f"reasons in {record.folder / 'raw' / p.rejects_file} "
        f"(sha256 {p.rejects_sha256[:12]}…)"
    )
