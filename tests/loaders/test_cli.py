"""`python -m loaders` as an analyst runs it: exit codes, one-line errors, status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loaders.cli import main
from tests.conftest import FIXTURES, REPO, SMALL_GED, tree_digest

ACLED_SMALL = FIXTURES / "acled_current_small.csv"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=120,
    )


def test_import_then_status(store_dir: Path) -> None:
    done = run_cli("import", str(SMALL_GED), "--data-dir", str(store_dir))
    assert done.returncode == 0, done.stderr
    assert (
        "Imported UCDP GED 25.1 from GEDEvent_v25_1_small.csv: 5 events, 43 deaths" in done.stdout
    )
    status = run_cli("status", "--json", "--data-dir", str(store_dir))
    payload = json.loads(status.stdout)
    assert payload["version"] == 1
    assert [(i["label"], i["rows"], i["fatalities_best"]) for i in payload["imports"]] == [
        ("UCDP GED 25.1", 5, 43)
    ]
    text = run_cli("status", env={"ARTICLE99_DATA_DIR": str(store_dir)})
    assert "UCDP GED 25.1: 5 events, 43 deaths (best), 2024-01-04 … 2024-03-15" in text.stdout


def test_bad_file_exits_non_zero_with_one_line_and_no_traceback(
    store_dir: Path, tmp_path: Path
) -> None:
    assert main(["import", str(SMALL_GED), "--data-dir", str(store_dir)]) == 0
    before = tree_digest(store_dir)
    bad = tmp_path / "GEDEvent_v25_1.csv"
    bad.write_text(SMALL_GED.read_text(encoding="utf-8").replace(",8,10,8,", ",x,10,8,"), "utf-8")
    done = run_cli("import", str(bad), "--data-dir", str(store_dir))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: GEDEvent_v25_1.csv, row 2, column best: not a whole number: 'x'"
    ]
    assert "Traceback" not in done.stderr
    assert tree_digest(store_dir) == before


def test_missing_file_and_unknown_source(store_dir: Path) -> None:
    done = run_cli("import", "nowhere.csv", "--data-dir", str(store_dir))
    assert done.returncode == 1 and "nowhere.csv: no such file" in done.stderr
    done = run_cli("import", str(SMALL_GED), "--source", "gdelt", "--data-dir", str(store_dir))
    assert done.returncode == 1
    assert "unknown source 'gdelt'; known: acled, hapi, ucdp" in done.stderr


def test_empty_store_status_says_what_to_do(store_dir: Path) -> None:
    done = run_cli("status", "--data-dir", str(store_dir))
    assert done.returncode == 0
    assert "is empty" in done.stdout and "python -m loaders fetch ucdp" in done.stdout


def _one_bad_row_in_200(tmp_path: Path) -> Path:
    lines = ACLED_SMALL.read_text(encoding="utf-8").splitlines()
    rows = [line.replace("MLI10", f"MLI{copy}-", 1).replace("XKX20", f"XKX{copy}-", 1)
            for copy in range(25) for line in lines[1:]]  # fmt: skip
    rows[40] = rows[40].replace(",Battles,", ",Skirmish,")
    path = tmp_path / "acled_export.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    return path


def test_rows_set_aside_are_reported_and_strict_refuses(store_dir: Path, tmp_path: Path) -> None:
    path = _one_bad_row_in_200(tmp_path)
    strict = run_cli(
        "import", str(path), "--source", "acled", "--strict", "--data-dir", str(store_dir)
    )
    assert strict.returncode == 1
    assert strict.stderr.strip() == (
        "error: acled_export.csv, row 42, column event_type: event_type is not one of Battles, "
        "Violence against civilians, Explosions/Remote violence, Protests, Riots, Strategic "
        "developments: 'Skirmish'; 1 of 200 rows fail blocking checks, a strict import sets none "
        "aside"
    )
    assert tree_digest(store_dir) == {}
    done = run_cli("import", str(path), "--source", "acled", "--data-dir", str(store_dir))
    assert done.returncode == 0, done.stderr
    assert "199 events" in done.stdout
    (folder,) = (store_dir / "imports").iterdir()
    rejects = folder / "raw" / "acled_export.csv.rejects.csv"
    assert f"rejected: 1 row set aside, listed with their reasons in {rejects} " in done.stdout
    assert rejects.is_file()
    text = run_cli("status", "--data-dir", str(store_dir)).stdout
    assert "    rejected: 1 row set aside" in text
    assert "1 of 200 rows set aside by blocking checks (event_type: event_type is not" in text
    (record,) = json.loads(run_cli("status", "--json", "--data-dir", str(store_dir)).stdout)[
        "imports"
    ]
    assert (record["rows"], record["rejected_rows"]) == (199, 1)
    assert record["rejects_file"] == "acled_export.csv.rejects.csv"
    assert len(record["rejects_sha256"]) == 64


def test_import_ends_with_the_forecast_or_says_why_there_is_none(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(SMALL_GED), "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    # Three months of 2024 are too few to train on: said, and the import stays.
    assert (
        "Forecasting every country… the forecast could not be made: not enough history to train"
        in out
    )
    assert out.rstrip().endswith("The import is kept.")
    assert json.loads(next((store_dir / "models").glob("forecast-*/meta.json")).read_text())[
        "insufficient"
    ].startswith("not enough history")
    assert main(["status", "--data-dir", str(store_dir)]) == 0
    assert "UCDP GED 25.1: 5 events" in capsys.readouterr().out


def test_no_forecast_skips_the_forecast(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(SMALL_GED), "--data-dir", str(store_dir), "--no-forecast"]) == 0
    assert "Forecasting" not in capsys.readouterr().out
    assert not (store_dir / "models").exists()


def test_status_says_by_country_where_sources_end_apart(
    store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole-world release to Dec 2024 and a Mali-only one to Dec 2025 end apart: said."""
    from tests.conftest import ged_rows, write_ged

    rows = ged_rows()
    later = [{**rows[0], "id": "9001", "year": "2025", "date_start": "2025-03-02",
              "date_end": "2025-03-02"}]  # fmt: skip
    for path in (SMALL_GED, write_ged(tmp_path / "GEDEvent_v26_1_mali.csv", later)):
        assert main(["import", str(path), "--data-dir", str(store_dir), "--no-forecast"]) == 0
    capsys.readouterr()
    assert main(["status", "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "The sources end on different days: UCDP GED 25.1: " in out
    assert "UCDP GED 26.1: Mali to Dec 2025." in out
