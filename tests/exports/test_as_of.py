"""A snapshot of a chosen month (as the app builds it): recorded, verified, named in every
format, with the reduced GED file's caveat beside the numbers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from pptx import Presentation
from pypdf import PdfReader

from exports import bundle
from exports.cli import main
from exports.snapshot import Snapshot, build_snapshot
from risk.selection import Selection

CHOSEN = Selection(countries=("BFA", "MLI", "NER"), as_of="2019-12")
STEM = "article99_bfa-mli-ner-all-organised-violence_2019-12"
CAVEAT = (
    "Caveat: UCDP GED 21.1 is a third-party 'precise, reduced' subset: only precisely located "
    "events; totals are below UCDP's."
)


@pytest.fixture(scope="module")
def december(global_store: Path) -> Snapshot:
    return build_snapshot(global_store, CHOSEN)


@pytest.fixture(scope="module")
def files(december: Snapshot) -> dict[str, bytes]:
    return bundle.export_files(december, ["json", "xlsx", "pdf", "pptx"])


def test_the_chosen_month_is_the_snapshots_not_its_filters(december: Snapshot) -> None:
    assert december.as_of == "2019-12"
    assert december.selection == Selection(countries=("BFA", "MLI", "NER"))
    payload = december.to_json()
    assert payload["as_of"] == "2019-12"
    assert payload["filters"]["query"] == {"country": "BFA,MLI,NER"}
    assert payload["risk_definition"].endswith("Jan–Mar 2020")
    assert december.model["trained_to"] == "2019-12"


def test_the_files_are_named_by_the_month_and_verify(
    files: dict[str, bytes], global_store: Path, tmp_path: Path, capsys
) -> None:
    assert sorted(files) == [f"{STEM}.{ext}" for ext in ("json", "pdf", "pptx", "xlsx")]
    path = tmp_path / f"{STEM}.json"
    path.write_bytes(files[path.name])
    assert main(["verify", str(path), "--data-dir", str(global_store)]) == 0
    assert "verifies: regenerated from the same 1 source file(s), 3 countries" in (
        capsys.readouterr().out
    )


def test_the_json_carries_the_caveat(files: dict[str, bytes]) -> None:
    payload = json.loads(files[f"{STEM}.json"])
    assert payload["caveats"] == [CAVEAT]
    (source,) = payload["sources"]
    assert source["caveats"][0].startswith("a third-party 'precise, reduced' subset")


def test_the_pdf_names_the_month_and_the_caveat(
    files: dict[str, bytes], december: Snapshot
) -> None:
    reader = PdfReader(io.BytesIO(files[f"{STEM}.pdf"]))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert "forecast from data to Dec 2019" in pages[0]
    assert CAVEAT in pages[0]  # the cover, which still holds all it held
    assert december.inputs_sha256 in pages[0]
    assert pages[-1].startswith("Citations") and CAVEAT in pages[-1]
    assert reader.metadata.title.endswith("data to Dec 2019")


def test_the_workbook_names_the_month_and_the_caveat(files: dict[str, bytes]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(files[f"{STEM}.xlsx"]))
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(max_col=2)}
    assert about["Forecast from data to"] == "2019-12"
    assert about["Caveat"] == CAVEAT


def test_the_deck_names_the_month_and_the_caveat(files: dict[str, bytes]) -> None:
    deck = Presentation(io.BytesIO(files[f"{STEM}.pptx"]))
    texts = [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    footer = "forecast of deaths from all organised violence from data to 2019-12"
    assert any(footer in text for text in texts)  # every footer
    sources = {s.name: s.text_frame.text for s in deck.slides[-1].shapes if s.has_text_frame}
    assert CAVEAT in sources["Citations"]
    assert CAVEAT in deck.core_properties.comments


def test_the_cli_makes_the_same_snapshot_and_prints_the_caveat(
    december: Snapshot, global_store: Path, tmp_path: Path, capsys
) -> None:
    args = ["--countries", "BFA,MLI,NER", "--as-of", "2019-12", "--formats", "json"]
    assert main(["snapshot", "--data-dir", str(global_store), "--out", str(tmp_path), *args]) == 0
    out = capsys.readouterr().out
    assert "forecast from data to 2019-12" in out and CAVEAT in out
    payload = json.loads((tmp_path / f"{STEM}.json").read_text(encoding="utf-8"))
    assert payload["table_sha256"] == december.table_sha256
    assert payload["inputs_sha256"] == december.inputs_sha256
