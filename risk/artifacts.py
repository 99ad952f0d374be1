"""Forecasts kept in the store as Parquet + JSON, keyed on everything that makes them.

A forecast is a function of the store's data, the month, the seed, the code that computes it
and the libraries it runs on. Its key hashes all of them, so a change to any one can never
serve a stale forecast and nobody has to remember to bump a version by hand. Each forecast is
a folder `models/forecast-<digest>/` (one Parquet file per table, `meta.json` for the rest)
that appears whole by rename: a reader sees all of it or none of it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
# The code a forecast can run and the reference data it reads: every module of `risk` and
# `loaders` (a new module the forecast imports needs no list to be kept up to date; a change
# to a reader it does not use only costs a recomputation, never a stale forecast).
CODE_GLOBS = ("risk/*.py", "loaders/*.py", "data/*.csv")
LIBRARIES = ("numpy", "pandas", "pyarrow", "scikit-learn", "duckdb", "country_converter")
FRAMES = ("table", "monthly", "drivers")
META = "meta.json"
KEEP = 4  # the newest few: the current forecast, the previous one, another month's
STALE_PARTIAL_S = 3600  # a half-written folder this old was left by a crash


@functools.cache
def code_digest() -> str:
    """sha256 of the forecast's code and reference data (read once per process)."""
    digest = hashlib.sha256()
    files = sorted({path for pattern in CODE_GLOBS for path in REPO.glob(pattern)})
    for path in files:
        name = path.relative_to(REPO).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def key(store_version: str, as_of: str | None, seed: int) -> dict:
    """The parts a forecast depends on (`as_of` None: the default month of that store)."""
    return {
        "store_version": store_version,
        "as_of": as_of or "latest",
        "seed": seed,
        "code": code_digest(),
        "libraries": dict(_libraries()),
    }


@functools.cache
def _libraries() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in LIBRARIES}


def digest(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def models_dir(root: Path) -> Path:
    return root / "models"


def path_of(root: Path, parts: dict) -> Path:
    return models_dir(root) / f"forecast-{digest(parts)}"


def write(root: Path, parts: dict, frames: dict[str, pd.DataFrame], meta: dict) -> dict:
    """Write one forecast (or, with no frames, the reason there is none) and prune old ones;
    returns the JSON record written (`meta` with the key, its digest and the time)."""
    target = path_of(root, parts)
    partial = models_dir(root) / f".partial-{uuid.uuid4().hex}"
    partial.mkdir(parents=True)
    for name, frame in frames.items():
        frame.to_parquet(partial / f"{name}.parquet", index=False)
    record = {
        **meta,
        "key": parts,
        "digest": digest(parts),
        "created_at": dt.datetime.now(dt.UTC).isoformat(),  # to the µs: orders `previous`
    }
    (partial / META).write_text(json.dumps(record, indent=2, ensure_ascii=False), "utf-8")
    try:
        os.rename(partial, target)
    except OSError:  # another process wrote the same forecast first: keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    prune(root)
    return record


def read(path: Path) -> tuple[dict[str, pd.DataFrame], dict] | None:
    """The frames and meta of a stored forecast, None if it is not there (or was pruned)."""
    try:
        meta = json.loads((path / META).read_text("utf-8"))
        names = FRAMES if meta.get("insufficient") is None else ()
        frames = {name: pd.read_parquet(path / f"{name}.parquet") for name in names}
    except FileNotFoundError:
        return None
    return frames, meta


def previous(root: Path, parts: dict) -> Path | None:
    """The newest forecast for the same month and seed made from other data or code."""
    found = []
    for path in models_dir(root).glob("forecast-*"):
        try:
            meta = json.loads((path / META).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        other = meta["key"]
        if (
            meta["digest"] != digest(parts)
            and meta.get("insufficient") is None
            and (other["as_of"], other["seed"]) == (parts["as_of"], parts["seed"])
        ):
            found.append((meta["created_at"], path))
    return max(found)[1] if found else None


@contextmanager
def computing(root: Path, parts: dict) -> Iterator[None]:
    """Held while one process computes a forecast, so another (the app while the CLI imports)
    waits for it and reads the result instead of computing it a second time."""
    models_dir(root).mkdir(parents=True, exist_ok=True)
    with (models_dir(root) / f".forecast-{digest(parts)}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def prune(root: Path, keep: int = KEEP) -> None:
    """Remove all but the newest `keep` forecasts, their locks, crash leftovers and the pickles
    earlier versions kept."""
    folder = models_dir(root)
    stored = sorted(folder.glob("forecast-*"), key=_mtime, reverse=True)
    for old in stored[keep:]:
        shutil.rmtree(old, ignore_errors=True)
        (folder / f".{old.name}.lock").unlink(missing_ok=True)
    now = time.time()
    for partial in folder.glob(".partial-*"):
        if now - _mtime(partial) > STALE_PARTIAL_S:
            shutil.rmtree(partial, ignore_errors=True)
    for pickle in folder.glob("*.pkl"):
        pickle.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
