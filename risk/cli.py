"""`python -m risk`: the risk table, and forecast skill (VIEWS challenge, GED backtests).

    python -m risk evaluate views --features FILE --out PRED.parquet [--actuals FILE]
        (with --actuals, risk.model's scores are recorded in the store's skill/ folder)
    python -m risk evaluate ged [--origins 2009-12:2019-12] [--seed N] [--data-dir DIR]
        (every measure backtested on the store's GED data, recorded in its skill/ folder)
    python -m risk forecast [--as-of YYYY-MM] --out FILE

Exit codes: 0 success, 1 bad input (one line on stderr naming the file and what is wrong, never
a traceback), 2 wrong usage. Each subcommand is one `add_*` function in COMMANDS that adds its
parser and sets `run`, the function that does the work.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError, run_command
from loaders.store import pinned_run
from risk import backtest, views
from risk.evaluate import (
    FORECASTERS,
    WindowEvaluation,
    evaluate_window,
    format_table,
    resolve_forecaster,
)
from risk.forecast import risk_forecast
from risk.model import InsufficientData
from risk.panel import country_month_panel
from risk.skill import current_backtest, record_backtest, record_evaluation, running


def add_evaluate(commands: argparse._SubParsersAction) -> None:
    """`evaluate views`: forecast a challenge window, write the draws, score them given actuals."""
    evaluate = commands.add_parser("evaluate", help="measure forecast skill")
    targets = evaluate.add_subparsers(dest="target", required=True)
    challenge = targets.add_parser(
        "views",
        help="the VIEWS 2023/24 prediction challenge, country-month",
        description="Forecast window Y from cm_features_to_octY-1.parquet; with --actuals, "
        "print the model's skill beside the challenge's four benchmarks.",
    )
    challenge.add_argument(
        "--features", required=True, help="cm_features_to_octY-1.parquet (the model's only input)"
    )
    challenge.add_argument(
        "--out",
        required=True,
        help="where to write the draws (month_id, country_id, draw, outcome)",
    )
    challenge.add_argument("--actuals", help="cm_actuals_Y.parquet: score and print the table")
    challenge.add_argument(
        "--bootstrap",
        help="the official global bootstrap draws (default: bm_cm_bootstrap_expanded_Y.parquet "
        "beside the actuals, when there)",
    )
    challenge.add_argument(
        "--model",
        default="model",
        choices=FORECASTERS,
        help="what to evaluate: risk.model (default) or a baseline in its place",
    )
    challenge.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    challenge.add_argument(
        "--data-dir",
        help="the store the model learns from and its skill is recorded in "
        "(default: $ARTICLE99_DATA_DIR)",
    )
    challenge.add_argument(
        "--n-draws", type=_positive, default=1000, help="draws per country-month (default 1000)"
    )
    challenge.set_defaults(run=_evaluate_views)
    ged = targets.add_parser(
        "ged",
        help="rolling-origin backtest of every violence measure on the store's UCDP GED data",
        description="From each yearly origin, train on the data up to it, forecast months 1-12 "
        "of every measure, and score them beside zero, conflictology, last historical and the "
        "base rate; also the headline risk and onsets in quiet countries. Records the result "
        "in the store's skill/ folder (the Model skill page shows it).",
    )
    ged.add_argument(
        "--origins",
        help="FIRST:LAST origin months, one a year, or one month (default: the store's last "
        f"{backtest.MOST_ORIGINS} Decembers with a year of data after them; GED 21.1: "
        f"{backtest.ORIGINS[0]}:{backtest.ORIGINS[1]})",
    )
    ged.add_argument(
        "--if-needed",
        action="store_true",
        help="do nothing when a backtest of the store's data by this model is recorded "
        "(what an import starts in the background)",
    )
    ged.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ged.add_argument(
        "--data-dir",
        help="the store backtested, where the result is recorded (default: $ARTICLE99_DATA_DIR)",
    )
    ged.set_defaults(run=_evaluate_ged)


def add_forecast(commands: argparse._SubParsersAction) -> None:
    """`forecast`: the risk table of every country, as CSV, Parquet or JSON."""
    forecast = commands.add_parser(
        "forecast",
        help="the risk table: one row per country",
        description="Forecast every country from the as-of month (default: the last complete "
        "month of the store) and write the risk table.",
    )
    forecast.add_argument("--as-of", help="origin month YYYY-MM (default: last complete month)")
    forecast.add_argument("--out", required=True, help="FILE.csv, FILE.parquet or FILE.json")
    forecast.add_argument("--data-dir", help="the store (default: $ARTICLE99_DATA_DIR)")
    forecast.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    forecast.set_defaults(run=_forecast)


COMMANDS = [add_evaluate, add_forecast]


def _forecast(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.suffix not in {".csv", ".parquet", ".json"}:
        raise LoaderError(str(out), "the output must end in .csv, .parquet or .json")
    if not out.parent.is_dir():
        raise LoaderError(str(out), "the folder does not exist")
    if args.as_of and not _is_month(args.as_of):
        raise LoaderError("--as-of", f"{args.as_of!r} is not a month (YYYY-MM)")
    result = risk_forecast(args.data_dir, args.as_of, seed=args.seed)
    table = result.table.drop(columns=["data_vintage"])
    if out.suffix == ".csv":
        table.to_csv(out, index=False)
    elif out.suffix == ".parquet":
        table.to_parquet(out, index=False)
    else:
        table.to_json(out, orient="records", indent=2, force_ascii=False)
    ok = table[table["status"] == "ok"]
    print(
        f"Risk table as of {result.as_of} ({result.vintage}): {len(ok)} countries forecast, "
        f"{len(table) - len(ok)} with insufficient data; written to {out}"
    )
    for row in ok.head(10).itertuples():
        print(
            f"  {row.name:<28} {row.risk:6.1%}  {row.trend}  expected "
            f"{row.expected_fatalities:,.0f} ({row.fatalities_low:,.0f}–"
            f"{row.fatalities_high:,.0f}) deaths in 3 months"
        )


def _is_month(text: str) -> bool:
    try:
        pd.Period(text, "M")
    except ValueError:
        return False
    return len(text) == 7


def _evaluate_views(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if not out.parent.is_dir():
        raise LoaderError(str(out), "the folder does not exist")
    result = evaluate_window(
        args.features,
        args.actuals,
        args.bootstrap,
        model_name=args.model,
        n_draws=args.n_draws,
        seed=args.seed,
        model=resolve_forecaster(args.model, args.data_dir),
    )
    views.write_draws(result.draws, out)
    cells = len(result.draws) // args.n_draws
    print(f"Wrote {len(result.draws):,} draws ({cells:,} country-months) to {out}")
    if result.table is not None:
        print()
        print(format_table(result.table, result.title, result.notes))
        _record(result, args)


def _record(result: WindowEvaluation, args: argparse.Namespace) -> None:
    """Keep the scored window in the store, where the Model skill page reads it."""
    print()
    if args.model != "model":
        print(f"Not recorded: only risk.model's skill is recorded, not the {args.model} baseline.")
        return
    window = int(result.info["first_month"][:4])
    path = record_evaluation(
        result, args.data_dir, window=window, features_name=Path(args.features).name
    )
    print(f"Recorded window {window} in {path} (shown on the Model skill page)")


def _evaluate_ged(args: argparse.Namespace) -> None:
    if args.if_needed and current_backtest(args.data_dir) is not None:
        print("A backtest of this store's GED data by this model is recorded: nothing to do.")
        return
    origins = None if args.origins is None else _origins(args.origins)
    panel = country_month_panel(args.data_dir)
    if panel.empty:
        raise LoaderError(
            "--data-dir",
            "the store holds no UCDP GED data to backtest; import them first "
            "(python -m loaders import FILE, or python -m loaders fetch ucdp)",
        )
    if origins is None:
        try:
            origins = backtest.store_origins(panel)
        except InsufficientData as exc:
            raise LoaderError("--data-dir", str(exc)) from None
    with running(args.data_dir) as alone:
        if not alone:
            print("A backtest of this store is already running: this one is not started.")
            return
        started = time.perf_counter()
        result = backtest.run_backtest(
            panel, origins, seed=args.seed, progress=lambda text: print(text, file=sys.stderr)
        )
        seconds = time.perf_counter() - started
        path = record_backtest(result, args.data_dir, seconds=seconds)
    # Printed from the record itself: what the page shows is exactly what is printed here.
    record = json.loads(path.read_text(encoding="utf-8"))
    print(backtest.format_summary(record["measures"], result.info))
    print(f"\n{seconds:,.0f} s. Recorded in {path} (shown on the Model skill page)")


def _origins(text: str) -> list[pd.Timestamp]:
    """`--origins` FIRST:LAST (or one month) as yearly origins."""
    first, _, last = text.partition(":")
    if not (_is_month(first) and (not last or _is_month(last))):
        raise LoaderError("--origins", f"{text!r} is not FIRST:LAST (YYYY-MM:YYYY-MM)")
    try:
        return backtest.yearly_origins(first, last or first)
    except ValueError as exc:
        raise LoaderError("--origins", str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m risk",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(commands)
    args = parser.parse_args(argv)
    return run_command(lambda: pinned_run(args), (LoaderError, ValueError, OSError))
