"""Caveats travel in the provenance: the reduced GED 21.1 file has one, a full release none."""

from __future__ import annotations

import json
from pathlib import Path

import loaders
from loaders.caveats import caveat_lines, caveats_of
from loaders.store import Store
from tests.conftest import SMALL_GED

REDUCED = (
    "Caveat: UCDP GED 21.1 is a third-party 'precise, reduced' subset: only precisely located "
    "events; totals are below UCDP's."
)


def test_the_reduced_global_file_records_its_caveat(global_store: Path) -> None:
    (record,) = Store(global_store).records(["ucdp"])
    assert record.provenance.caveats == (
        "a third-party 'precise, reduced' subset: only precisely located events; "
        "totals are below UCDP's",
    )
    assert caveat_lines([record.provenance, record.provenance]) == [REDUCED]


def test_a_full_release_has_no_caveat(store_dir: Path) -> None:
    loaders.import_file(SMALL_GED, data_dir=store_dir)
    (record,) = Store(store_dir).records()
    assert record.provenance.caveats == ()
    assert caveat_lines([record.provenance]) == []


def test_imports_recorded_before_caveats_keep_theirs_from_the_notes(store_dir: Path) -> None:
    """A provenance.json written before `caveats` existed: the note still says it."""
    record = loaders.import_file(SMALL_GED, data_dir=store_dir)
    path = record.folder / "provenance.json"
    older = json.loads(path.read_text())
    del older["caveats"]
    older["label"] = "UCDP GED 21.1"
    older["notes"] = ["third-party subset: only precisely located events (where_prec 1-2), ..."]
    path.write_text(json.dumps(older))
    (reread,) = Store(store_dir).records()
    assert caveat_lines([reread.provenance]) == [REDUCED]
    assert caveats_of(record.provenance) == []


def test_snapshot_source_records_carry_their_caveats() -> None:
    """Snapshots and skill records keep label and caveats as JSON: read as they are."""
    kept = {"label": "UCDP GED 21.1", "caveats": [REDUCED.split(" is ", 1)[1].rstrip(".")]}
    assert caveat_lines([kept, {"label": "UCDP GED 25.1"}]) == [REDUCED]
