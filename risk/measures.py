"""The violence measures a forecast can count, and their names on pages and in exports.

UCDP records three types of organised violence: state-based (a government is a party),
non-state (organised groups fight each other) and one-sided (an organised actor kills
civilians). "All organised violence" is their sum; its forecast adds the three types' draws
one by one, never their probabilities.
"""

from __future__ import annotations

from loaders.schema import VIOLENCE_TYPES

ALL = "all"
MEASURES = (ALL, "state_based", "non_state", "one_sided")
DEFAULT = ALL
# The panel's fatalities column of each measure (risk.panel).
COLUMNS = {
    ALL: "fatalities_total",
    "state_based": "fatalities_state_based",
    "non_state": "fatalities_non_state",
    "one_sided": "fatalities_one_sided",
}
LABELS = {
    ALL: "all organised violence",
    "state_based": "state-based violence",
    "non_state": "non-state violence",
    "one_sided": "one-sided violence against civilians",
}
# The UCDP violence types (loaders.schema) each measure counts.
TYPES = {
    ALL: VIOLENCE_TYPES,
    "state_based": ("state-based",),
    "non_state": ("non-state",),
    "one_sided": ("one-sided",),
}


def check(measure: str) -> str:
    """`measure` if it is one of MEASURES; otherwise a ValueError naming the choices."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    return measure


def of_types(types: tuple[str, ...] | list[str]) -> str:
    """The measure counting exactly these UCDP types (all of them, or one); ALL otherwise."""
    chosen = set(types)
    for measure, counted in TYPES.items():
        if set(counted) == chosen:
            return measure
    return ALL
