"""The caveats a source's numbers carry wherever they are shown, read from its provenance.

A loader records them in the import's provenance (`caveats`, e.g. UCDP GED 21.1's 'precise,
reduced' subset); pages and exports call `caveat_lines()` on the records behind their figures,
so the words come from the data and follow it into every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from loaders.provenance import Provenance
from loaders.ucdp import REDUCED_CAVEAT

# Imports recorded before provenance had `caveats` said so only in their notes.
_LEGACY_NOTE = "third-party subset"


def caveats_of(provenance: Provenance) -> list[str]:
    """One import's caveats (phrases completing '<label> is …')."""
    if provenance.caveats:
        return list(provenance.caveats)
    legacy = any(note.startswith(_LEGACY_NOTE) for note in provenance.notes)
    return [REDUCED_CAVEAT] if legacy else []


def caveat_lines(records: Iterable[Provenance | Mapping[str, Any]]) -> list[str]:
    """'Caveat: UCDP GED 21.1 is …' once per source label and caveat, in the records' order.

    `records` are import provenances, or the source records a snapshot or a skill record
    keeps (with `label` and `caveats`).
    """
    lines = []
    for record in records:
        if isinstance(record, Provenance):
            label, caveats = record.label, caveats_of(record)
        else:
            label, caveats = record["label"], record.get("caveats", [])
        lines.extend(f"Caveat: {label} is {caveat}." for caveat in caveats)
    return list(dict.fromkeys(lines))
