"""The caveats a source's numbers carry wherever they are shown, read from its provenance.

A loader records them in the import's provenance (`caveats`, e.g. UCDP GED 21.1's 'precise,
reduced' subset); pages and exports call `caveat_lines()` on the records behind their figures,
so the words come from the data and follow it into every format.
"""

from __future__ import annotations

from collections.abc import Iterable

from loaders.ucdp import REDUCED_CAVEAT

# Imports recorded before provenance had `caveats` said so only in their notes.
_LEGACY_NOTE = "third-party subset"


def caveats_of(provenance: dict) -> list[str]:
    """One import's caveats (phrases completing '<label> is …')."""
    if "caveats" in provenance:
        return list(provenance["caveats"])
    notes = provenance.get("notes", [])
    return [REDUCED_CAVEAT] if any(n.startswith(_LEGACY_NOTE) for n in notes) else []


def caveat_lines(provenances: Iterable[dict]) -> list[str]:
    """'Caveat: UCDP GED 21.1 is …' once per source label and caveat, in the records' order."""
    lines = (f"Caveat: {p['label']} is {caveat}." for p in provenances for caveat in caveats_of(p))
    return list(dict.fromkeys(lines))
