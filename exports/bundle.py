"""Every export format of a snapshot from one call, charts drawn once and shared.

`export_files(snapshot, formats)` returns file name → bytes, so the page offers downloads and
the CLI writes a folder from the same code. Names say what and when:
`article99_<selection>_<as-of>.<ext>`, charts under `charts/`; with the CSV comes the
prevention-gap list, `article99_<selection>_<as-of>_prevention_gap.csv`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from exports import images, tabular
from exports.changes import Changes
from exports.snapshot import Snapshot

FORMATS = ("csv", "xlsx", "pdf", "pptx", "png", "svg", "json")
IMAGE_FORMATS = ("png", "svg")
NEEDS_IMAGES = {"pdf", "pptx", "png"}
GAP_CSV = "_prevention_gap.csv"  # the prevention-gap list's file: the stem, then this


def stem(snapshot: Snapshot) -> str:
    """`article99_sahel-group_2020-12`: the selection and month, safe as a file name."""
    words = re.sub(r"[^a-z0-9]+", "-", snapshot.selection.describe().lower()).strip("-")
    return f"article99_{words[:60].rstrip('-') or 'all'}_{snapshot.as_of}"


def parse_formats(text: str | Sequence[str]) -> list[str]:
    """'csv,xlsx' → ['csv', 'xlsx']; an unknown format is named in the error."""
    wanted = [f.strip().lower() for f in (text.split(",") if isinstance(text, str) else text)]
    unknown = [f for f in wanted if f and f not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown export format {', '.join(unknown)}: choose from {', '.join(FORMATS)}"
        )
    return [f for f in FORMATS if f in wanted]


def export_files(
    snapshot: Snapshot,
    formats: Sequence[str] = FORMATS,
    *,
    changes: Changes | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, bytes]:
    """The snapshot in each format, by file name. Charts are rendered once for all formats."""
    say = progress or (lambda _step: None)
    name = stem(snapshot)
    files: dict[str, bytes] = {}
    if "json" in formats:
        payload = json.dumps(snapshot.to_json(), ensure_ascii=False, indent=1)
        files[f"{name}.json"] = payload.encode()
    if "csv" in formats:
        files[f"{name}.csv"] = tabular.to_csv(snapshot)
        files[f"{name}{GAP_CSV}"] = tabular.gap_csv(snapshot)
    if "xlsx" in formats:
        say("Writing the workbook")
        files[f"{name}.xlsx"] = tabular.to_xlsx(snapshot, changes)
    figures = {}
    if NEEDS_IMAGES & set(formats) or "svg" in formats:
        say("Drawing the charts")
        figures = images.snapshot_figures(snapshot)
    pngs = images.render_all(figures, "png") if NEEDS_IMAGES & set(formats) else {}
    if "png" in formats:
        files.update({f"charts/{k}": v for k, v in pngs.items()})
    if "svg" in formats:
        files.update({f"charts/{k}": v for k, v in images.render_all(figures, "svg").items()})
    if "pdf" in formats:
        say("Writing the PDF briefing pack")
        from exports import pdf  # imported when wanted: fpdf2 loads slowly

        files[f"{name}.pdf"] = pdf.briefing_pdf(snapshot, changes=changes, images=pngs)
    if "pptx" in formats:
        say("Writing the slides")
        from exports import slides

        files[f"{name}.pptx"] = slides.briefing_pptx(snapshot, images=pngs)
    return files


def write_files(files: dict[str, bytes], out_dir: str | Path) -> list[Path]:
    """Write the files under `out_dir` (created if needed); returns the paths written."""
    root = Path(out_dir)
    written = []
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def zip_files(files: dict[str, bytes]) -> bytes:
    """All files in one zip, for a single download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
