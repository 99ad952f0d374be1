"""Forecasts kept as Parquet + JSON: the key follows the data, code and libraries; the tables
come back exactly as written (dtypes included); old forecasts are pruned."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from risk import artifacts


def test_the_key_changes_with_the_data_the_month_the_seed_and_the_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = artifacts.key("3-2026-12-01T12:04:00+00:00", None, 0)
    assert base["as_of"] == "latest" and base["libraries"]["scikit-learn"]
    assert artifacts.digest(base) == artifacts.digest(artifacts.key(base["store_version"], None, 0))
    others = [
        artifacts.key("4-2026-12-01T13:00:00+00:00", None, 0),
        artifacts.key(base["store_version"], "2020-06", 0),
        artifacts.key(base["store_version"], None, 1),
    ]
    monkeypatch.setattr(artifacts, "code_digest", lambda: "model-code-edited")
    others.append(artifacts.key(base["store_version"], None, 0))
    digests = {artifacts.digest(parts) for parts in [base, *others]}
    assert len(digests) == 5


def test_the_code_digest_follows_every_module_and_reference_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of the code: editing any module the forecast may read, or a reference table,
    changes the digest (so a cached forecast of the old code is never served)."""
    for folder in ("risk", "loaders", "data"):
        shutil.copytree(artifacts.REPO / folder, tmp_path / folder)
    monkeypatch.setattr(artifacts, "REPO", tmp_path)

    def digest() -> str:
        artifacts.code_digest.cache_clear()
        return artifacts.code_digest()

    try:
        seen = {digest()}
        for name in ("risk/model.py", "loaders/coverage.py", "data/country_overrides.csv"):
            with (tmp_path / name).open("a") as handle:
                handle.write("\n")
            seen.add(digest())
        (tmp_path / "loaders" / "new_reader.py").write_text('"""A new module."""\n')
        seen.add(digest())
    finally:
        artifacts.code_digest.cache_clear()
    assert len(seen) == 5 and all(len(d) == 16 for d in seen)


def _frames() -> dict[str, pd.DataFrame]:
    table = pd.DataFrame(
        {
            "iso3": pd.array(["MLI", "ISL", "THA"], dtype="str"),
            "risk": [0.91, 0.01, float("nan")],
            "fatalities_last_month": pd.array([120, 0, pd.NA], dtype="Int64"),
            "new_risk": pd.array([False, True, pd.NA], dtype="boolean"),
            "surge_events": pd.array([True, pd.NA, pd.NA], dtype="boolean"),
            "status": ["ok", "ok", "insufficient data"],
        }
    )
    monthly = pd.DataFrame(
        {"iso3": ["MLI"], "month": pd.to_datetime(["2021-01-01"]), "horizon": [1], "q05": [2.0]}
    )
    drivers = pd.DataFrame({"iso3": ["MLI"], "driver": ["trend"], "effect": [0.2]})
    return {"table": table, "monthly": monthly, "drivers": drivers}


def test_a_forecast_round_trips_through_parquet_and_json(tmp_path: Path) -> None:
    parts = artifacts.key("1-x", None, 0)
    meta = {"as_of": "2020-12", "vintage": "UCDP GED 21.1", "info": {"training_rows": 6015}}
    record = artifacts.write(tmp_path, parts, _frames(), meta)
    path = artifacts.path_of(tmp_path, parts)
    assert record["digest"] == path.name.removeprefix("forecast-")
    assert sorted(p.name for p in path.iterdir()) == [
        "drivers.parquet",
        "meta.json",
        "monthly.parquet",
        "table.parquet",
    ]
    frames, read_meta = artifacts.read(path)
    for name, frame in _frames().items():
        pd.testing.assert_frame_equal(frames[name], frame)  # dtypes, NA and NaN included
    assert read_meta["info"] == {"training_rows": 6015} and read_meta["key"] == parts
    assert not list(tmp_path.glob("models/.partial-*"))
    assert artifacts.read(artifacts.path_of(tmp_path, artifacts.key("2-y", None, 0))) is None


def test_previous_is_the_newest_forecast_of_other_data_for_the_same_month(tmp_path: Path) -> None:
    first, second, now = (artifacts.key(f"{v}-x", None, 0) for v in (1, 2, 3))
    artifacts.write(tmp_path, first, _frames(), {})
    artifacts.write(tmp_path, artifacts.key("2-x", "2020-06", 0), _frames(), {})
    assert artifacts.previous(tmp_path, now) == artifacts.path_of(tmp_path, first)
    artifacts.write(tmp_path, second, _frames(), {})
    thin = artifacts.key("3-x", None, 0) | {"code": "older"}
    artifacts.write(tmp_path, thin, {}, {"insufficient": "thin"})  # no forecast to show
    assert artifacts.previous(tmp_path, now) == artifacts.path_of(tmp_path, second)
    assert artifacts.previous(tmp_path, second) == artifacts.path_of(tmp_path, first)


def test_old_forecasts_and_pickles_are_pruned(tmp_path: Path) -> None:
    models = artifacts.models_dir(tmp_path)
    models.mkdir(parents=True)
    (models / "model-0123.pkl").write_bytes(b"old format")
    written = []
    for version in range(artifacts.KEEP + 2):
        parts = artifacts.key(f"{version}-x", None, 0)
        artifacts.write(tmp_path, parts, {}, {"insufficient": "thin"})
        path = artifacts.path_of(tmp_path, parts)
        os.utime(path, (version, version))  # oldest first, whatever the clock's resolution
        written.append(path)
    artifacts.prune(tmp_path)
    kept = sorted(models.glob("forecast-*"))
    assert kept == sorted(written[-artifacts.KEEP :])
    assert not list(models.glob("*.pkl"))
    assert json.loads((kept[0] / "meta.json").read_text())["insufficient"] == "thin"
