"""`python -m exports`: risk snapshots from the command line, e.g. on a schedule.

    python -m exports snapshot [--region R]... [--countries ISO3,...] [--as-of YYYY-MM]
        [--measure all|state_based|non_state|one_sided]
        [--formats csv,xlsx,pdf,pptx,png,svg,json] [--since EARLIER.json] --out DIR
    python -m exports verify SNAPSHOT.json        regenerate it from the store and compare
    python -m exports changes EARLIER.json LATER.json [--top N] [--threshold POINTS]
    python -m exports alerts …                   watchlists, rules, alerts (alerts --help)

A region is a key such as `group:Sahel` or `sub:Western Africa`, or a name the filter offers
("Sahel", "Western Africa"); a name shared by several kinds of region must be given as a key.
Exit codes: 0 success, 1 bad input or a snapshot that does not verify (one line on stderr),
2 wrong usage.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from exports import bundle, changes
from exports.alerts import cli as alerts_cli
from exports.charts import percent
from exports.images import ImageExportError
from exports.snapshot import SnapshotError, build_snapshot, compare, read_json, regenerate
from loaders.errors import LoaderError, run_command
from loaders.store import pinned_run
from risk import measures
from risk.model import InsufficientData
from risk.selection import MONTH, from_query, region_options


def region_key(text: str) -> str:
    """A region key from a key or a label name; ambiguity and unknown names are errors."""
    options = region_options()
    keys = {key for key, _ in options}
    if text in keys:
        return text
    wanted = text.strip().lower()
    matches = [key for key, _ in options if key.split(":", 1)[1].lower() == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LoaderError(
            "--region", f"{text!r} is several regions: use one of {', '.join(matches)}"
        )
    raise LoaderError("--region", f"unknown region {text!r} (e.g. group:Sahel, sub:Western Africa)")


def _snapshot(args: argparse.Namespace) -> None:
    formats = bundle.parse_formats(args.formats)
    if args.as_of and not MONTH.match(args.as_of):
        raise LoaderError("--as-of", f"{args.as_of!r} is not a month (YYYY-MM)")
    query = {}
    if args.region:
        query["region"] = ",".join(region_key(r) for r in args.region)
    if args.countries:
        query["country"] = args.countries.upper().replace(" ", "")
    query["measure"] = args.measure
    selection = from_query(query)
    if selection.problems:
        raise LoaderError("--countries", "; ".join(selection.problems))
    earlier = read_json(args.since) if args.since else None
    snapshot = build_snapshot(args.data_dir, selection, args.as_of, seed=args.seed)
    moved = changes.what_changed(earlier, snapshot) if earlier else None
    files = bundle.export_files(snapshot, formats, changes=moved, progress=print)
    written = bundle.write_files(files, args.out)
    ranked = snapshot.ranked
    print(
        f"Snapshot of {selection.describe()}, forecast from data to {snapshot.as_of} "
        f"({snapshot.vintage}): {len(ranked)} countries ranked, "
        f"{len(snapshot.countries) - len(ranked)} with not enough data."
    )
    for caveat in snapshot.caveats:
        print(caveat)
    gap = snapshot.gap
    print(f"Prevention gap: {', '.join(gap['name']) or 'none'}. {snapshot.gap_rule}")
    if moved is not None:
        print(moved.summary)
    for path in written:
        print(f"  {path}")


def _verify(args: argparse.Namespace) -> None:
    earlier = read_json(args.snapshot)
    again = regenerate(earlier, args.data_dir).to_json()
    differences = compare(earlier, again)
    if differences:
        raise SnapshotError(
            f"{args.snapshot} does not verify: "
            + "; ".join(differences[:10])
            + (f" (and {len(differences) - 10} more)" if len(differences) > 10 else "")
        )
    print(
        f"{args.snapshot} verifies: regenerated from the same {len(earlier['sources'])} "
        f"source file(s), {len(earlier['countries'])} countries, the same numbers "
        f"(table sha256 {again['table_sha256'][:16]}…)."
    )


def _changes(args: argparse.Namespace) -> None:
    moved = changes.what_changed(
        read_json(args.earlier), read_json(args.later), top=args.top, threshold=args.threshold / 100
    )
    print(moved.summary)
    if not moved.same_filters:
        print("Note: the two snapshots were made with different filters.")
    for row in moved.table[moved.table["movement"] != ""].itertuples():
        before, now = percent(row.risk_before), percent(row.risk_now)
        print(f"  {row.arrow or ' '} {row.name:<28} {before:>7} → {now:<7} {row.movement}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m exports",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    commands = parser.add_subparsers(dest="command", required=True)
    snap = commands.add_parser("snapshot", help="export the risk snapshot of a selection")
    snap.add_argument("--region", action="append", help="a region key or name (repeatable)")
    snap.add_argument("--countries", help="ISO3 codes, comma-separated")
    snap.add_argument("--as-of", help="forecast from this month YYYY-MM (default: latest)")
    snap.add_argument(
        "--measure",
        choices=measures.MEASURES,
        default=measures.DEFAULT,
        help="the violence the numbers count (default all: all organised violence)",
    )
    snap.add_argument(
        "--formats", default=",".join(bundle.FORMATS), help=f"any of {','.join(bundle.FORMATS)}"
    )
    snap.add_argument("--since", help="an earlier snapshot JSON: add what changed since")
    snap.add_argument("--out", required=True, help="the folder to write into")
    snap.add_argument("--data-dir", help="the store (default: $ARTICLE99_DATA_DIR)")
    snap.add_argument("--seed", type=int, default=0, help="the model's random seed (default 0)")
    snap.set_defaults(run=_snapshot)
    verify = commands.add_parser("verify", help="regenerate a JSON snapshot and compare")
    verify.add_argument("snapshot", help="the snapshot's JSON file")
    verify.add_argument("--data-dir", help="the store (default: $ARTICLE99_DATA_DIR)")
    verify.set_defaults(run=_verify)
    moved = commands.add_parser("changes", help="what changed between two JSON snapshots")
    moved.add_argument("earlier")
    moved.add_argument("later")
    moved.add_argument("--top", type=int, default=changes.TOP, help="size of the top list")
    moved.add_argument(
        "--threshold",
        type=float,
        default=changes.THRESHOLD * 100,
        help="a move: a change of at least this many points of risk (default 10)",
    )
    moved.set_defaults(run=_changes)
    alerts_cli.add_parser(commands)
    args = parser.parse_args(argv)
    errors = (LoaderError, SnapshotError, InsufficientData, ImageExportError, ValueError, OSError)
    return run_command(lambda: pinned_run(args), errors)
