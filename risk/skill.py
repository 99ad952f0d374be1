"""Recorded skill of the model, for the Model skill page: VIEWS windows and GED backtests.

Evaluating takes from 20 seconds (a VIEWS window, which needs the challenge's files) to many
minutes (the GED backtest), so the page never computes it: `python -m risk evaluate views
--actuals` records a window (`skill/views_<year>.json`) and `python -m risk evaluate ged` a
backtest of every measure (`skill/ged_<first>_<last>_seed<n>.json`) into the store, and the
page reads the records. A record holds the score tables of the model and the benchmarks, the
counts, what the model was and learned from (store version, releases, code digest, seed) and
when it ran, so every number on the page can be traced to the run that produced it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import json
import math
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from loaders import countries
from loaders.caveats import caveats_of
from loaders.errors import LoaderError
from loaders.store import Store
from risk import backtest, views
from risk.artifacts import code_digest
from risk.evaluate import DECIMALS, HEADERS, METRICS, THRESHOLD, WindowEvaluation
from risk.metrics import exceedance_probability
from risk.panel import FORECAST_SOURCES

FOLDER = "skill"
RUNNING = "backtest.running.json"  # the backtest under way: when it started, by which process
LOCK = ".backtest.lock"  # held while a backtest runs: one at a time per store
RECORD_FORMAT = 1
GED_RECORD_FORMAT = 1
GED_BACKTEST = "GED rolling-origin backtest, country-month"
RARE_ONSETS = 0.1  # a share of onsets below this is called rare
LOW_AP = 0.5  # an onset AP below this is called low
CHALLENGE = "VIEWS 2023/24 prediction challenge, country-month"
# Finer bins where most forecasts fall (near 0), 10-point bins above.
CALIBRATION_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
METHOD_LABELS = {
    "model": "Article 99 model",
    "zero": "Zero (benchmark)",
    "conflictology": "Conflictology (benchmark)",
    "last historical": "Last historical (benchmark)",
    "global bootstrap": "Global bootstrap (benchmark)",
    "base rate": "Base rate (benchmark)",
}
COLUMN_LABELS = {**HEADERS, "IGN": "IGN (bits)"}
LOWER_IS_BETTER = ("CRPS", "IGN", "MIS", "Brier")
# A calibration band is called out when it holds enough cases and misses by this much.
CALIBRATION_NOTE_MIN_COUNT = 30
CALIBRATION_NOTE_GAP = 0.05


def calibration(
    probability: np.ndarray, event: np.ndarray, *, edges: Sequence[float] = CALIBRATION_EDGES
) -> pd.DataFrame:
    """Forecasts grouped by probability: per bin, the count, mean forecast and observed share.

    Bins are [low, high), the last one closed ([0.9, 1.0]); an empty bin has count 0 and NaN
    means. Hand computation, probability [0, 0.02, 0.07, 0.15, 0.95, 1.0] with event
    [0, 1, 0, 1, 1, 1]: 0–5% holds 2 (mean 0.01, observed 0.5), 5–10% holds 1 (0.07, 0),
    10–20% holds 1 (0.15, 1), 90–100% holds 2 (0.975, 1); the other bins are empty.
    """
    probability = np.asarray(probability, dtype="float64")
    event = np.asarray(event, dtype=bool)
    if probability.shape != event.shape or probability.ndim != 1:
        raise ValueError(f"probability {probability.shape} and event {event.shape} must match")
    if not np.isfinite(probability).all() or ((probability < 0) | (probability > 1)).any():
        raise ValueError("probability must be finite and lie in [0, 1]")
    edges = np.asarray(edges, dtype="float64")
    position = np.clip(np.searchsorted(edges, probability, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for k, (low, high) in enumerate(itertools.pairwise(edges)):
        inside = position == k
        count = int(inside.sum())
        rows.append(
            {
                "low": float(low),
                "high": float(high),
                "label": f"{low:.0%}–{high:.0%}".replace("%–", "–"),
                "count": count,
                "mean_predicted": float(probability[inside].mean()) if count else math.nan,
                "observed_frequency": float(event[inside].mean()) if count else math.nan,
            }
        )
    return pd.DataFrame(rows)


def model_calibration(draws: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """The calibration of challenge-format draws' P(≥ 25) against the actuals' ged_sb."""
    matrix = views.align_draws(draws, actuals, where="model draws")
    probability = exceedance_probability(matrix, THRESHOLD)
    event = actuals["ged_sb"].to_numpy(dtype="float64") >= THRESHOLD
    return calibration(probability, event)


def _plain(value: object) -> object:
    """JSON has no NaN: missing numbers are written as null."""
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _training_data(store: Store) -> list[dict]:
    return [
        {
            "label": r.provenance.label,
            "file": r.provenance.file,
            "sha256": r.provenance.sha256,
            "last_date": r.provenance.last_date,
            "notes": list(r.provenance.notes),
            "caveats": caveats_of(r.provenance),
        }
        for r in store.records(FORECAST_SOURCES)
    ]


def record_path(store_root: str | Path | None, window: int) -> Path:
    """Where the record of a window lives in a store."""
    return Store(store_root).root / FOLDER / f"views_{window}.json"


def record_evaluation(
    window_evaluation: WindowEvaluation,
    store_root: str | Path | None,
    *,
    window: int,
    features_name: str,
) -> Path:
    """Write the evaluation of one window to `<store>/skill/views_<window>.json`, atomically.

    `store_root` is the store the model learned from: its imports are recorded as the
    training data. A second record of the same window replaces the first. Only risk.model's
    evaluation is recorded, with actuals: a baseline standing in for it would be shown as "the
    model".
    """
    evaluation, info = window_evaluation, window_evaluation.info
    if evaluation.table is None or evaluation.actuals is None:
        raise ValueError("nothing to record: the evaluation has no actuals and no score table")
    if info.get("model_name", "model") != "model":
        raise ValueError(
            f"only risk.model's skill is recorded, not the {info['model_name']} baseline's"
        )
    if info.get("first_month") and int(info["first_month"][:4]) != window:
        raise ValueError(f"window {window} does not match the forecasts from {info['first_month']}")
    store = Store(store_root)
    table = evaluation.table
    record = {
        "format": RECORD_FORMAT,
        "challenge": CHALLENGE,
        "window": int(window),
        "features": features_name,
        "actuals": info.get("actuals"),
        "as_of": info.get("as_of"),
        "forecast_months": [info.get("first_month"), info.get("last_month")],
        "threshold": int(table.attrs.get("threshold", THRESHOLD)),
        "cells": int(table.attrs["cells"]),
        "events": int(table.attrs["events"]),
        "draws": [int(n) for n in table.attrs["draws"]],
        "scores": [
            {"method": str(method), **{m: _plain(row[m]) for m in METRICS}}
            for method, row in table.iterrows()
        ],
        "notes": list(evaluation.notes),
        "title": evaluation.title,
        "model": {
            "name": "risk.model",
            "version": code_digest(),
            "seed": info.get("seed"),
            "n_draws": info.get("n_draws"),
            "trained_to": info.get("as_of"),
            "training_data": _training_data(store),
        },
        "calibration": [
            {k: _plain(v) for k, v in row.items()}
            for row in model_calibration(evaluation.draws, evaluation.actuals).to_dict("records")
        ],
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return _write(record_path(store.root, window), record)


def _write(path: Path, record: dict) -> Path:
    """Write a record as JSON, atomically: a reader sees the old record or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    partial.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)
    return path


def load_records(store_root: str | Path | None = None) -> list[dict]:
    """Every recorded window of the store, newest window first; [] when none is recorded.

    An unreadable record raises LoaderError naming the file: a page must not quietly show
    fewer windows than were recorded.
    """
    folder = Store(store_root).root / FOLDER
    records = []
    for path in sorted(folder.glob("views_*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            int(record["window"]), record["scores"], record["calibration"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LoaderError(str(path), f"not a readable skill record ({exc})") from None
        records.append(record)
    return sorted(records, key=lambda r: int(r["window"]), reverse=True)


def score_table(record: dict) -> pd.DataFrame:
    """The score table as shown: model first, human names, rounded as the CLI prints them."""
    scores = sorted(record["scores"], key=lambda s: s["method"] != "model")
    table = pd.DataFrame(
        {
            "Method": [METHOD_LABELS.get(s["method"], s["method"]) for s in scores],
            **{
                COLUMN_LABELS[m]: [
                    math.nan if s.get(m) is None else round(float(s[m]), DECIMALS[m])
                    for s in scores
                ]
                for m in METRICS
            },
        }
    )
    return table


def calibration_frame(record: dict) -> pd.DataFrame:
    """The calibration bins of a record, as `calibration` made them (empty bins: NaN means)."""
    table = pd.DataFrame(record["calibration"])
    return table.astype({"mean_predicted": "float64", "observed_frequency": "float64"})


def calibration_table(record: dict) -> pd.DataFrame:
    """The non-empty calibration bins with human column names, for the table under the chart."""
    table = calibration_frame(record)
    table = table[table["count"] > 0]
    return pd.DataFrame(
        {
            "Forecast probability": table["label"],
            "Country-months": table["count"],
            "Average forecast": table["mean_predicted"],
            f"Share with ≥{THRESHOLD} deaths": table["observed_frequency"],
        }
    ).reset_index(drop=True)


def source_line(record: dict) -> str:
    """Where a record's numbers come from, in short lines (a figure's subtitle does not wrap)."""
    training = ", ".join(
        f"{t['label']} (events to {t['last_date'][:7]})" for t in record["model"]["training_data"]
    )
    return (
        f"Source: {record['challenge']}, window {record['window']}\n"
        f"Files: {record['features']}, {record['actuals']}\n"
        f"Model trained on {training or 'the store'} up to {record['model']['trained_to']}; "
        f"recorded {record['created_at'][:10]}"
    )


def _scores(record: dict) -> dict[str, dict[str, float]]:
    return {
        s["method"]: {m: s[m] for m in METRICS if s.get(m) is not None} for s in record["scores"]
    }


def _better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def _shown(metric: str, value: float) -> str:
    return f"{value:,.{DECIMALS[metric]}f}"


def what_it_beats(record: dict) -> list[str]:
    """Sentences saying, from the record's numbers, where the model beats each benchmark."""
    scores = _scores(record)
    model = scores.get("model", {})
    benchmarks = [m for m in scores if m != "model"]
    worse = {
        b: [m for m in model if m in scores[b] and not _better(m, model[m], scores[b][m])]
        for b in benchmarks
    }
    if benchmarks and not any(worse.values()):
        return [
            f"The model beats all {len(benchmarks)} benchmarks on every score in this window "
            f"({', '.join(METHOD_LABELS.get(b, b).split(' (')[0].lower() for b in benchmarks)})."
        ]
    sentences = []
    for benchmark in benchmarks:
        name = METHOD_LABELS.get(benchmark, benchmark).split(" (")[0]
        if not worse[benchmark]:
            sentences.append(f"It beats {name.lower()} on every score.")
            continue
        shortfalls = ", ".join(
            f"{COLUMN_LABELS[m]} ({_shown(m, model[m])} against {_shown(m, scores[benchmark][m])})"
            for m in worse[benchmark]
        )
        sentences.append(f"Against {name.lower()} it is not better on {shortfalls}.")
    return sentences


def where_it_is_weak(record: dict) -> list[str]:
    """Sentences on the model's weak points: fixed ones from the method, the rest from numbers."""
    sentences = [
        "Outbreaks in quiet countries: it learns from each country's recent past, so violence "
        "that starts where the last year was calm gets a low probability. This is where early "
        "warning matters most.",
        "Sudden shocks (a coup, an invasion, a new front) leave no trace in event counts before "
        "they happen; the model sees them only afterwards.",
    ]
    scores = _scores(record)
    model, conflictology = scores.get("model", {}), scores.get("conflictology", {})
    if "MIS" in model and "MIS" in conflictology:
        ours, theirs = model["MIS"], conflictology["MIS"]
        if ours >= theirs:
            sentences.append(
                "The largest wars: its 90% intervals score worse than conflictology's here "
                f"(MIS {_shown('MIS', ours)} against {_shown('MIS', theirs)}); for the biggest "
                "conflicts the intervals are wider than needed or placed too high or too low."
            )
        else:
            sentences.append(
                "The largest wars: its 90% intervals are its narrowest lead over conflictology "
                f"(MIS {_shown('MIS', ours)} against {_shown('MIS', theirs)}, "
                f"{1 - ours / theirs:.0%} better); for the biggest conflicts the intervals can be "
                "wider than needed or miss."
            )
    misses: dict[str, list[str]] = {"more": [], "less": []}
    for row in record["calibration"]:
        if row["count"] < CALIBRATION_NOTE_MIN_COUNT or row["mean_predicted"] is None:
            continue
        gap = row["observed_frequency"] - row["mean_predicted"]
        if abs(gap) >= CALIBRATION_NOTE_GAP:
            misses["more" if gap > 0 else "less"].append(
                f"the {row['label']} band ({row['observed_frequency']:.0%} against "
                f"{row['mean_predicted']:.0%}, {row['count']:,} country-months)"
            )
    parts = [
        f"{direction} often than forecast in {' and '.join(bands)}"
        for direction, bands in misses.items()
        if bands
    ]
    if parts:
        sentences.append(
            f"Calibration: months with 25 or more deaths happened {', and '.join(parts)}."
        )
    notes = [n for t in record["model"]["training_data"] for n in t["notes"]]
    if any("precisely located" in note for note in notes):
        sentences.append(
            "Training data: it learned from precisely located events only (a third-party subset "
            "of UCDP's data), while the challenge scores all events, so it saw fewer deaths than "
            "it is scored against; how much that helps or hurts was not measured."
        )
    sentences.append(
        "This is a test on past data, one window at a time, not a record of live forecasts."
    )
    return sentences


def ged_record_path(store_root: str | Path | None, origins: Sequence[str], seed: int) -> Path:
    """Where the record of a GED backtest (its first and last origin, its seed) lives."""
    name = f"ged_{origins[0]}_{origins[-1]}_seed{seed}.json"
    return Store(store_root).root / FOLDER / name


def record_backtest(
    result: backtest.Backtest, store_root: str | Path | None, *, seconds: float | None = None
) -> Path:
    """Write a GED backtest to `<store>/skill/ged_<first>_<last>_seed<n>.json`, atomically.

    `store_root` is the store whose panel was backtested: its version and releases are
    recorded. A second run with the same origins and seed replaces the first.
    """
    store = Store(store_root)
    info = result.info
    record = {
        "format": GED_RECORD_FORMAT,
        "kind": "ged_backtest",
        "title": GED_BACKTEST,
        "store_version": store.version(),
        "training_data": _training_data(store),
        **{k: info[k] for k in ("origins", "horizons", "seed", "threshold")},
        **{k: info[k] for k in ("headline_months", "quiet_months", "onset_months")},
        "model": {"name": "risk.model", "version": code_digest()},
        "measures": result.summary(),
        "seconds": None if seconds is None else round(seconds, 1),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return _write(ged_record_path(store.root, info["origins"], info["seed"]), record)


def load_backtests(store_root: str | Path | None = None) -> list[dict]:
    """Every recorded GED backtest of the store, the most origins first, then by seed.

    An unreadable record, or one of another format, raises LoaderError naming the file.
    """
    folder = Store(store_root).root / FOLDER
    records = []
    for path in sorted(folder.glob("ged_*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if record["format"] != GED_RECORD_FORMAT:
                raise ValueError(f"format {record['format']}, expected {GED_RECORD_FORMAT}")
            record["origins"], record["seed"], record["measures"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LoaderError(str(path), f"not a readable backtest record ({exc})") from None
        records.append(record)
    return sorted(records, key=lambda r: (-len(r["origins"]), r["seed"], r["origins"][0]))


def is_current(record: dict, store_root: str | Path | None = None) -> bool:
    """Whether a backtest record was made from the store's GED releases as they are now,
    with the model's code as it is now (else its scores describe other data or another model)."""
    store = Store(store_root)
    same_data = record.get("training_data") == _training_data(store)
    return same_data and record.get("model", {}).get("version") == code_digest()


def current_backtest(store_root: str | Path | None = None) -> dict | None:
    """The store's most complete current backtest record, or None."""
    return next((r for r in load_backtests(store_root) if is_current(r, store_root)), None)


@contextlib.contextmanager
def running(store_root: str | Path | None) -> Iterator[bool]:
    """Hold the store's backtest lock while a backtest runs, and say so in `RUNNING`; yields
    False (and holds nothing) when another process runs one already."""
    folder = Store(store_root).root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _write(folder / RUNNING, {"started_at": started, "pid": os.getpid()})
        try:
            yield True
        finally:
            (folder / RUNNING).unlink(missing_ok=True)
            fcntl.flock(lock, fcntl.LOCK_UN)


def running_backtest(store_root: str | Path | None = None) -> dict | None:
    """The backtest under way in the store ({"started_at", "pid"}), or None. A note left by
    a process that died (killed, machine restarted) does not count: the lock is free."""
    folder = Store(store_root).root / FOLDER
    try:
        note = json.loads((folder / RUNNING).read_text(encoding="utf-8"))
        with open(folder / LOCK, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: nobody runs one
            fcntl.flock(lock, fcntl.LOCK_UN)
    except BlockingIOError:
        return note
    except (OSError, ValueError):
        return None
    return None


def backtest_status(store_root: str | Path | None = None) -> str:
    """What a reader of the GED backtest must know first: that one is running, or that the
    record shown describes other data or an earlier model; "" when the record is current."""
    records = load_backtests(store_root)
    now = running_backtest(store_root)
    if now is not None:
        started = dt.datetime.fromisoformat(now["started_at"])
        sentence = (
            f"A backtest of this store's GED data has been running since {started:%H:%M} UTC "
            "(6–8 minutes on two cores); reload this page when it is done."
        )
        if records:
            sentence += " Until then, the scores below are those of an earlier backtest."
        return sentence
    if not records or is_current(records[0], store_root):
        return ""
    if records[0].get("training_data") != _training_data(Store(store_root)):
        why = "the store's GED data as they were before its last import"
    else:
        why = "an earlier version of the model"
    return (
        f"The scores below describe {why}. The next import or app start backtests the data "
        "as they are now, or run `python -m risk evaluate ged`."
    )


def headline_skill_line(record: dict, measure: str) -> str:
    """How well this measure's headline risk did in the backtest, in one sentence."""
    scores = {s["method"]: s for s in record["measures"][measure]["headline"]["scores"]}
    model, benchmark = scores["model"], scores["conflictology"]
    origins = record["origins"]
    return (
        f"Backtested on this store's GED data ({len(origins)} yearly origins, {origins[0]} … "
        f"{origins[-1]}): this risk's average precision {model['AP']:.2f} against "
        f"conflictology's {benchmark['AP']:.2f}, AUROC {model['AUROC']:.2f}, Brier "
        f"{model['Brier']:.3f} (lower is better)."
    )


def backtest_label(record: dict) -> str:
    """A record in a few words: its origins and seed."""
    origins = record["origins"]
    return f"Origins {origins[0]} … {origins[-1]} ({len(origins)}), seed {record['seed']}"


def backtest_table(record: dict, measure: str, part: str = "monthly") -> pd.DataFrame:
    """A measure's score table as shown: model first, human names, rounded as printed.

    `part`: "monthly" (every country-month, all metrics), "headline" (P(≥ 25 in 3 months))
    or "onset" (quiet countries, 12 months); the last two have AUROC, AP and Brier only.
    """
    scores = record["measures"][measure][part]["scores"]
    metrics = METRICS if part == "monthly" else backtest.EVENT_METRICS
    return pd.DataFrame(
        {
            "Method": [METHOD_LABELS.get(s["method"], s["method"]) for s in scores],
            **{
                COLUMN_LABELS[m]: [
                    math.nan if s.get(m) is None else round(float(s[m]), DECIMALS[m])
                    for s in scores
                ]
                for m in metrics
            },
        }
    )


def onset_columns() -> list[str]:
    """The methods' columns of `onsets_table`."""
    return [METHOD_LABELS[m].split(" (")[0] for m in backtest.ONSET_METHODS]


def onsets_table(record: dict, measure: str) -> pd.DataFrame:
    """The onsets that happened: the 12 months forecast, the country, and each method's
    probability of it, highest model probability first."""
    onsets = sorted(record["measures"][measure]["onsets"], key=lambda o: -o[backtest.MODEL])
    names = countries.reference().set_index("iso3")["name"]
    return pd.DataFrame(
        {
            "Months forecast": [_twelve_months(o["origin"]) for o in onsets],
            "Country": [names.get(o["iso3"], o["iso3"]) for o in onsets],
            **{
                column: [o[m] for o in onsets]
                for column, m in zip(onset_columns(), backtest.ONSET_METHODS, strict=True)
            },
        }
    )


def _twelve_months(origin: str) -> str:
    first = pd.Period(origin, "M") + 1
    return f"{first} … {first + 11}"


def onset_reading(record: dict, measure: str) -> list[str]:
    """Plain-words reading of a measure's onset scores, from the record's numbers."""
    onset = record["measures"][measure]["onset"]
    label = record["measures"][measure]["label"]
    quiet, onsets = onset["cells"], onset["events"]
    if not quiet:
        return [f"No country was quiet for {record['quiet_months']} months at any origin."]
    share = onsets / quiet
    scores = {s["method"]: s for s in onset["scores"]}
    rare = "Onsets are rare: of" if share < RARE_ONSETS else "Of"
    sentences = [
        f"{rare} {quiet:,} times a country had gone {record['quiet_months']} months without a "
        f"month of {record['threshold']} or more deaths from {label}, {onsets:,} ({share:.1%}) "
        f"saw such a month within the next {record['onset_months']}."
    ]
    if not onsets or onsets == quiet:
        sentences.append("With no onset, or only onsets, a ranking cannot be scored.")
        return sentences
    best = max((s for s in onset["scores"] if s["AP"] is not None), key=lambda s: s["AP"])
    name = _short_name(best["method"])
    sentences.append(
        f"Ranking at random gives an average precision of about {share:.3f} (the share of "
        + (
            f"onsets); it is low for every method here, at most {best['AP']:.3f} "
            f"({name}): the few onsets must rank above many quiet countries that stay quiet."
            if best["AP"] < LOW_AP
            else f"onsets); the best here is {name}, {best['AP']:.3f}."
        )
    )
    sentences.append(
        "Conflictology cannot rank onsets: none of a quiet country's last 12 months reached "
        f"{record['threshold']}, so it gives every one of them 0 (AUROC 0.5)."
    )
    model, base = scores.get(backtest.MODEL, {}), scores.get(backtest.BASE_RATE, {})
    if model.get("AUROC") is not None and base.get("AUROC") is not None:
        better = model["AUROC"] > base["AUROC"]
        ranks = "ranks onsets better than" if better else "does not rank onsets better than"
        sentences.append(
            f"Against the base rate (each country's long-run share of months with "
            f"{record['threshold']} or more deaths) the model {ranks} it: AUROC "
            f"{model['AUROC']:.3f} against {base['AUROC']:.3f}, AP {model['AP']:.3f} against "
            f"{base['AP']:.3f}."
        )
    return sentences


def _short_name(method: str) -> str:
    """'the model', 'conflictology', 'the base rate': a method's name inside a sentence."""
    if method == backtest.MODEL:
        return "the model"
    name = METHOD_LABELS.get(method, method).split(" (")[0].lower()
    return f"the {name}" if method == backtest.BASE_RATE else name


def by_origin_table(record: dict, measure: str) -> pd.DataFrame:
    """Each origin's counts and main scores: the model beside conflictology, onsets beside the
    base rate (NaN where an origin's cells cannot score it)."""

    def score(table: dict, method: str, metric: str) -> float:
        found = [s[metric] for s in table["scores"] if s["method"] == method]
        return math.nan if not found or found[0] is None else found[0]

    rows = []
    for part in record["measures"][measure]["by_origin"]:
        monthly, onset = part["monthly"], part["onset"]
        rows.append(
            {
                "Months forecast": _twelve_months(part["origin"]),
                "Country-months": monthly["cells"],
                "With ≥25 deaths": monthly["events"],
                "CRPS, model": score(monthly, backtest.MODEL, "CRPS"),
                "CRPS, conflictology": score(monthly, backtest.CONFLICTOLOGY, "CRPS"),
                "AP ≥25, model": score(monthly, backtest.MODEL, "AP"),
                "AP ≥25, conflictology": score(monthly, backtest.CONFLICTOLOGY, "AP"),
                "Quiet countries": onset["cells"],
                "Onsets": onset["events"],
                "Onset AUROC, model": score(onset, backtest.MODEL, "AUROC"),
                "Onset AUROC, base rate": score(onset, backtest.BASE_RATE, "AUROC"),
            }
        )
    return pd.DataFrame(rows)


def backtest_source_line(record: dict) -> str:
    """Where a backtest record's numbers come from, in short lines."""
    training = ", ".join(
        f"{t['label']} (events to {t['last_date'][:7]})" for t in record["training_data"]
    )
    return (
        f"Source: {record['title']}, {backtest_label(record).lower()}; at each origin the "
        f"model learned only from the data up to it\n"
        f"Data: {training or 'the store'} (store version {record['store_version']}); "
        f"model {record['model']['version']}; recorded {record['created_at'][:10]}"
    )
