"""The step after each update: keep the risk snapshots, raise the alerts, deliver them.

`after_update` is what `python -m loaders update` calls once the forecast is computed (and what
`python -m exports alerts run` does by hand). On one version of the store it:

1. keeps the world snapshot of the default measure, `<store>/snapshots/<measure>/<as_of>.json`;
2. for each watchlist, keeps its snapshot (`<store>/alerts/snapshots/watchlist-<id>/<as_of>.json`),
   evaluates its rules against it and its earlier snapshot (`exports.alerts.rules`) and records
   the alerts not raised before (`exports.alerts.db`: once per rule, country and month);
3. writes the watchlist's Atom feed (`<store>/alerts/feeds/watchlist-<id>.atom`), a CAP 1.2
   message per new alert (`<store>/alerts/cap/<alert id>.xml`), and queues one email digest
   per watchlist with new alerts;
4. sends what waits in the outbox (this run's digests and any a server refused before).

A file is rewritten only when its content changed, so a second run with nothing new changes
nothing on disk. Runs take a lock, so an update and a run by hand never deliver twice.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from exports.alerts import atom, cap, mail, rules
from exports.alerts.db import FOLDER, AlertsDB, now_utc
from exports.alerts.delivery import write_atomic
from exports.alerts.model import Watchlist
from exports.snapshot import Snapshot, SnapshotError, build_snapshot
from loaders.store import Store
from risk.forecast import RiskForecast, risk_forecast
from risk.model import InsufficientData

SNAPSHOTS = "snapshots"
FEED_ENTRIES = 100  # the newest alerts a feed carries
APP_URL_ENV = "ARTICLE99_APP_URL"  # the app's public address, for links in feeds, CAP and mail


@dataclass
class Outcome:
    """What the step did, in words for the update's log, and what went wrong (kept apart)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    new_alerts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def snapshot_path(root: Path, measure: str, as_of: str) -> Path:
    return root / SNAPSHOTS / measure / f"{as_of}.json"


def feed_path(root: Path, watchlist: Watchlist) -> Path:
    return root / FOLDER / "feeds" / f"{watchlist.slug}.atom"


def cap_folder(root: Path) -> Path:
    return root / FOLDER / "cap"


def after_update(
    data_dir: str | Path | None = None, *, smtp: mail.SmtpSettings | None = None
) -> Outcome:
    """Keep the snapshots, raise and deliver the alerts (module docstring). `smtp` replaces
    the settings from the environment (tests)."""
    outcome = Outcome()
    store = Store(data_dir)
    root = store.root
    app_url = os.environ.get(APP_URL_ENV) or None
    with _lock(root), store.pinned():
        try:
            forecast = risk_forecast(root, measure=None)
        except InsufficientData as exc:  # a fact about the data, not a failed step
            outcome.lines.append(f"no forecast, so no snapshot and no alerts: {exc}")
            return outcome
        world = build_snapshot(root, forecast=forecast)
        written = _keep(snapshot_path(root, world.measure, world.as_of), world)
        outcome.lines.append(
            f"snapshot of data to {world.as_of}: {'written' if written else 'unchanged'} "
            f"({snapshot_path(root, world.measure, world.as_of).relative_to(root)})"
        )
        db = AlertsDB(root)
        watchlists = db.watchlists()
        if not watchlists:
            outcome.lines.append("alerts: no watchlists (add one on the Alerts page)")
        for watchlist in watchlists:
            try:
                _watch(root, db, watchlist, forecast, app_url, outcome)
            except (SnapshotError, ValueError, OSError) as exc:
                outcome.problems.append(f"watchlist {watchlist.name}: {exc}")
    _deliver(root, smtp, outcome)
    return outcome


def _watch(
    root: Path,
    db: AlertsDB,
    watchlist: Watchlist,
    forecast: RiskForecast,
    app_url: str | None,
    outcome: Outcome,
) -> None:
    """One watchlist: its snapshot, its new alerts, its feed, CAP messages and digest."""
    snapshot = build_snapshot(root, watchlist.selection, forecast=forecast)
    folder = root / FOLDER / SNAPSHOTS / watchlist.slug
    earlier = _earlier(folder, snapshot.as_of)
    _keep(folder / f"{snapshot.as_of}.json", snapshot)
    raised = rules.evaluate(
        watchlist, db.rules(watchlist.id), snapshot.to_json(), earlier, raised_at=now_utc()
    )
    new = db.record(raised)
    outcome.new_alerts += len(new)
    history = db.alerts(watchlist.id, limit=FEED_ENTRIES)
    updated = history[0].raised_at if history else watchlist.created_at
    _write_if_changed(
        feed_path(root, watchlist), atom.feed(watchlist, history, updated=updated, app_url=app_url)
    )
    if new:
        cap.write_messages(
            cap_folder(root),
            new,
            sender=cap.sender(),
            languages=(watchlist.language,),
            app_url=app_url,
        )
    queued = bool(new and watchlist.recipients) and db.queue(
        watchlist.id, mail.digest(watchlist, new, app_url=app_url)
    )
    outcome.lines.append(
        f"watchlist {watchlist.name}: new alerts {len(new)}, raised before "
        f"{len(raised) - len(new)}" + ("; digest queued" if queued else "")
    )


def _deliver(root: Path, smtp: mail.SmtpSettings | None, outcome: Outcome) -> None:
    """Send every digest waiting in the outbox; one a server refuses waits for the next run."""
    with _lock(root):
        db = AlertsDB(root)
        waiting = db.outbox()
        if not waiting:
            return
        try:
            settings = smtp or mail.SmtpSettings.from_env()
        except ValueError as exc:
            outcome.problems.append(f"email: digests waiting {len(waiting)}, not sent: {exc}")
            return
        sent = 0
        for queued in waiting:
            try:
                refused = mail.send(queued.message, settings)
            except mail.DeliveryError as exc:
                db.failed(queued.id, str(exc))
                outcome.problems.append(
                    f"email: digest {queued.message_id} kept for the next run: {exc}"
                )
                continue
            db.sent(queued.id)  # the others got it: never sent again whole
            sent += 1
            for address, reply in refused.items():
                outcome.problems.append(
                    f"email: digest {queued.message_id} refused for {address}: {reply}"
                )
        outcome.lines.append(f"email: digests sent {sent} of {len(waiting)}")


def _earlier(folder: Path, as_of: str) -> dict | None:
    """The watchlist's newest snapshot of an earlier month, if any."""
    months = sorted(p.stem for p in folder.glob("*.json") if p.stem < as_of)
    if not months:
        return None
    return json.loads((folder / f"{months[-1]}.json").read_text(encoding="utf-8"))


def _keep(path: Path, snapshot: Snapshot) -> bool:
    """Write the snapshot unless the file holds the same numbers; True when written."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))["table_sha256"]
    except (OSError, ValueError, KeyError):
        kept = None
    if kept == snapshot.table_sha256:
        return False
    data = json.dumps(snapshot.to_json(), ensure_ascii=False, indent=1).encode()
    write_atomic(path, data)
    return True


def _write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


@contextmanager
def _lock(root: Path) -> Iterator[None]:
    """One evaluation or delivery at a time per store (waits for the other)."""
    path = root / FOLDER / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
