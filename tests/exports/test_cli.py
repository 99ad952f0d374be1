"""`python -m exports`: snapshot files, verify, changes; one line on stderr for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exports.cli import main, region_key


def _snapshot(store: Path, out: Path, *extra: str) -> int:
    return main(["snapshot", "--data-dir", str(store), "--out", str(out), *extra])


def test_snapshot_writes_the_chosen_formats(global_store: Path, tmp_path: Path, capsys) -> None:
    code = _snapshot(global_store, tmp_path, "--region", "Sahel", "--formats", "json,csv,xlsx")
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    stem = "article99_sahel-group-all-organised-violence_2020-12"  # the default measure
    assert names == [f"{stem}.csv", f"{stem}.json", f"{stem}.xlsx", f"{stem}_prevention_gap.csv"]
    out = capsys.readouterr().out
    assert (
        "Snapshot of Sahel (Group) · all organised violence, forecast from data to 2020-12" in out
    )
    assert "10 countries ranked, 0 with not enough data" in out
    assert "Prevention gap: Nigeria, Cameroon, Burkina Faso. Listed: a risk of 50% or more" in out


def test_a_regional_organisation_is_a_region(global_store: Path, tmp_path: Path, capsys) -> None:
    assert _snapshot(global_store, tmp_path, "--region", "ECOWAS", "--formats", "json") == 0
    (path,) = tmp_path.glob("*.json")
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["filters"]["query"]["region"] == "org:ECOWAS"
    assert "ECOWAS" in payload["filters"]["description"]
    assert payload["filters"]["description"] in capsys.readouterr().out


def test_a_written_snapshot_verifies_and_a_changed_one_does_not(
    global_store: Path, tmp_path: Path, capsys
) -> None:
    assert _snapshot(global_store, tmp_path, "--countries", "mli,ner,bfa", "--formats", "json") == 0
    (path,) = tmp_path.glob("*.json")
    assert main(["verify", str(path), "--data-dir", str(global_store)]) == 0
    assert "verifies: regenerated from the same 1 source file(s), 3 countries" in (
        capsys.readouterr().out
    )
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["countries"][0]["risk"] = 0.01
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert main(["verify", str(path), "--data-dir", str(global_store)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {path} does not verify: ")
    assert f"{payload['countries'][0]['iso3']}: risk differ" in error
    assert error.count("\n") == 1


def test_a_measure_is_chosen_and_verified(global_store: Path, tmp_path: Path, capsys) -> None:
    args = ("--countries", "MLI,NER,BFA", "--measure", "one_sided", "--formats", "json,csv")
    assert _snapshot(global_store, tmp_path, *args) == 0
    (path,) = tmp_path.glob("*.json")
    assert path.name == "article99_mli-ner-bfa-one-sided-violence-against-civilians_2020-12.json"
    assert json.loads(path.read_text(encoding="utf-8"))["measure"] == "one_sided"
    (table,) = tmp_path.glob("*violence-against-civilians_2020-12.csv")
    assert "deaths from one-sided violence against civilians" in table.read_text(encoding="utf-8")
    assert main(["verify", str(path), "--data-dir", str(global_store)]) == 0
    with pytest.raises(SystemExit):  # argparse's usage error
        _snapshot(global_store, tmp_path / "x", "--measure", "deaths")
    assert "invalid choice: 'deaths'" in capsys.readouterr().err


def test_changes_between_two_months(global_store: Path, tmp_path: Path, capsys) -> None:
    for month in ("2020-06", "2020-12"):
        folder = tmp_path / month
        assert _snapshot(global_store, folder, "--region", "un:Africa", "--as-of", month,
                         "--formats", "json") == 0  # fmt: skip
    capsys.readouterr()
    earlier, later = (next((tmp_path / m).glob("*.json")) for m in ("2020-06", "2020-12"))
    assert main(["changes", str(earlier), str(later)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("From the snapshot of data to 2020-06 to data to 2020-12:")
    ethiopia = next(line for line in out.splitlines() if "Ethiopia" in line)
    assert ethiopia.split()[0] == "↑" and "entered the top; deteriorated" in ethiopia


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "Africa"], "'Africa' is several regions: use one of un:Africa, ucdp:Africa"),
        (["--region", "Atlantis"], "unknown region 'Atlantis'"),
        (["--countries", "XXX"], "unknown country: XXX"),
        (["--as-of", "2020-13"], "'2020-13' is not a month"),
        (["--formats", "csv,docx"], "unknown export format docx"),
    ],
)
def test_bad_arguments_get_one_line(
    global_store: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    assert _snapshot(global_store, tmp_path / "out", *args) == 1
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_an_empty_store_is_explained(store_dir: Path, tmp_path: Path, capsys) -> None:
    assert _snapshot(store_dir, tmp_path, "--formats", "csv") == 1
    assert "the store is empty: import or fetch UCDP data first" in capsys.readouterr().err


def test_region_names_and_keys() -> None:
    assert region_key("Sahel") == "group:Sahel"
    assert region_key("western africa") == "sub:Western Africa"
    assert region_key("ucdp:Africa") == "ucdp:Africa"
