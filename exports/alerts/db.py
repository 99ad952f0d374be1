"""The alerts database: watchlists, their rules, the alerts raised and the email outbox.

One SQLite file in the data directory (`<store>/alerts/alerts.sqlite`, stdlib `sqlite3`). Its
schema is versioned with `PRAGMA user_version`: `MIGRATIONS[i]` takes version i to i + 1 in one
transaction, so an older file is brought up to date when opened and a newer one (written by a
later Article 99) is refused rather than misread.

Guarantees the rest relies on:
- an alert is raised once per (rule, country, forecast month): a UNIQUE key, so a second
  update of the same month inserts nothing;
- a digest waits in the outbox until a server accepted it (`sent_at`), so a refused or
  unreachable server loses nothing and the next delivery sends it; what was sent is never
  sent again;
- alerts outlive their rule and watchlist (history keeps the watchlist's name as raised).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from exports.alerts.model import Alert, Rule, Watchlist
from loaders.store import Store
from risk.selection import from_query, to_query

FOLDER = "alerts"
FILE = "alerts.sqlite"

MIGRATIONS = (
    # 1: watchlists, rules, alerts, outbox
    """
    CREATE TABLE watchlists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        filters TEXT NOT NULL,           -- risk.selection.to_query as JSON
        language TEXT NOT NULL,
        recipients TEXT NOT NULL,        -- JSON list of addresses
        created_at TEXT NOT NULL
    );
    CREATE TABLE rules (
        id INTEGER PRIMARY KEY,
        watchlist_id INTEGER NOT NULL REFERENCES watchlists(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        threshold REAL,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX rules_once ON rules(watchlist_id, kind, ifnull(threshold, -1));
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule_id INTEGER NOT NULL,        -- no foreign key: the history outlives the rule
        watchlist_id INTEGER NOT NULL,
        iso3 TEXT NOT NULL,
        as_of TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        payload TEXT NOT NULL,           -- the Alert as JSON
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        UNIQUE (rule_id, iso3, as_of)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        watchlist_id INTEGER NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        recipients TEXT NOT NULL,
        message BLOB NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT
    );
    """,
)
VERSION = len(MIGRATIONS)


class AlertsError(ValueError):
    """Bad input to the alerts database, or a database it cannot use; names what is wrong."""


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def path_of(data_dir: str | Path | None = None) -> Path:
    return Store(data_dir).root / FOLDER / FILE


@dataclass(frozen=True)
class Queued:
    """A digest in the outbox."""

    id: int
    watchlist_id: int
    message_id: str
    recipients: tuple[str, ...]
    message: EmailMessage
    attempts: int
    last_error: str | None
    sent_at: str | None


class AlertsDB:
    """The alerts database of one data directory; each method is one transaction."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.path = path_of(data_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            migrate(db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # Watchlists and rules (validated by exports.alerts.rules before they get here)

    def add_watchlist(self, watchlist: Watchlist) -> Watchlist:
        created = now_utc()
        with self._connect() as db:
            if db.execute("SELECT 1 FROM watchlists WHERE name = ?", (watchlist.name,)).fetchone():
                raise AlertsError(f"name: a watchlist called {watchlist.name!r} exists already")
            cursor = db.execute(
                "INSERT INTO watchlists (name, filters, language, recipients, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (*_columns(watchlist), created),
            )
        return replace(watchlist, id=cursor.lastrowid, created_at=created)

    def update_watchlist(self, watchlist: Watchlist) -> Watchlist:
        with self._connect() as db:
            clash = db.execute(
                "SELECT id FROM watchlists WHERE name = ? AND id != ?",
                (watchlist.name, watchlist.id),
            ).fetchone()
            if clash:
                raise AlertsError(f"name: a watchlist called {watchlist.name!r} exists already")
            changed = db.execute(
                "UPDATE watchlists SET name = ?, filters = ?, language = ?, recipients = ? "
                "WHERE id = ?",
                (*_columns(watchlist), watchlist.id),
            ).rowcount
        if not changed:
            raise AlertsError(f"watchlist: no watchlist with id {watchlist.id}")
        return self.watchlist(watchlist.id)

    def delete_watchlist(self, watchlist_id: int) -> None:
        """Remove a watchlist and its rules; its alerts stay in the history."""
        with self._connect() as db:
            if not db.execute("DELETE FROM watchlists WHERE id = ?", (watchlist_id,)).rowcount:
                raise AlertsError(f"watchlist: no watchlist with id {watchlist_id}")

    def watchlists(self) -> list[Watchlist]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM watchlists ORDER BY name COLLATE NOCASE").fetchall()
        return [_watchlist(row) for row in rows]

    def watchlist(self, key: int | str) -> Watchlist:
        """A watchlist by id or by name."""
        column = "id" if isinstance(key, int) else "name"
        with self._connect() as db:
            row = db.execute(f"SELECT * FROM watchlists WHERE {column} = ?", (key,)).fetchone()  # noqa: S608 (a column name of ours)
        if row is None:
            raise AlertsError(f"watchlist: no watchlist {key!r}")
        return _watchlist(row)

    def add_rule(self, rule: Rule) -> Rule:
        with self._connect() as db:
            if not db.execute(
                "SELECT 1 FROM watchlists WHERE id = ?", (rule.watchlist_id,)
            ).fetchone():
                raise AlertsError(f"watchlist: no watchlist with id {rule.watchlist_id}")
            try:
                cursor = db.execute(
                    "INSERT INTO rules (watchlist_id, kind, threshold, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (rule.watchlist_id, rule.kind, rule.threshold, now_utc()),
                )
            except sqlite3.IntegrityError:
                raise AlertsError(f"rule: the watchlist has {rule.describe()} already") from None
        return replace(rule, id=cursor.lastrowid)

    def delete_rule(self, rule_id: int) -> None:
        with self._connect() as db:
            if not db.execute("DELETE FROM rules WHERE id = ?", (rule_id,)).rowcount:
                raise AlertsError(f"rule: no rule with id {rule_id}")

    def rules(self, watchlist_id: int | None = None) -> list[Rule]:
        query, args = "SELECT * FROM rules", ()
        if watchlist_id is not None:
            query, args = query + " WHERE watchlist_id = ?", (watchlist_id,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY id", args).fetchall()
        return [Rule(r["watchlist_id"], r["kind"], r["threshold"], r["id"]) for r in rows]

    # Alerts

    def record(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Insert the alerts not raised before (by rule, country and month); return those."""
        new = []
        with self._connect() as db:
            for alert in alerts:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO alerts (rule_id, watchlist_id, iso3, as_of, "
                    "raised_at, payload) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        alert.rule_id,
                        alert.watchlist_id,
                        alert.iso3,
                        alert.as_of,
                        alert.raised_at,
                        json.dumps(_payload(alert), ensure_ascii=False),
                    ),
                )
                if cursor.rowcount:
                    new.append(replace(alert, id=cursor.lastrowid))
        return new

    def alerts(
        self,
        watchlist_id: int | None = None,
        *,
        unacknowledged: bool = False,
        limit: int | None = None,
    ) -> list[Alert]:
        """Alerts raised, newest first (by forecast month, then as raised)."""
        where, args = [], []
        if watchlist_id is not None:
            where.append("watchlist_id = ?")
            args.append(watchlist_id)
        if unacknowledged:
            where.append("acknowledged_at IS NULL")
        # Only fixed clauses of ours are joined; every value is a parameter.
        query = "SELECT * FROM alerts" + (f" WHERE {' AND '.join(where)}" if where else "")  # noqa: S608
        query += " ORDER BY as_of DESC, id DESC"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self._connect() as db:
            rows = db.execute(query, args).fetchall()
        return [_alert(row) for row in rows]

    def acknowledge(self, alert_id: int, by: str) -> Alert:
        """Mark an alert as seen by `by` (a name or address); the first acknowledgement stays."""
        by = by.strip()
        if not by or len(by) > 200 or any(c in by for c in "\r\n"):
            raise AlertsError("by: who acknowledges, in one line of at most 200 characters")
        with self._connect() as db:
            row = db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
            if row is None:
                raise AlertsError(f"alert: no alert with id {alert_id}")
            if row["acknowledged_at"] is None:
                db.execute(
                    "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
                    (now_utc(), by, alert_id),
                )
            row = db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return _alert(row)

    # Outbox

    def queue(self, watchlist_id: int, message: EmailMessage) -> bool:
        """Keep a digest until a server accepts it; False if that message is queued already."""
        recipients = [a.strip() for a in str(message["To"]).split(",") if a.strip()]
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO outbox (watchlist_id, message_id, recipients, message, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (
                    watchlist_id,
                    str(message["Message-ID"]),
                    json.dumps(recipients),
                    message.as_bytes(),
                    now_utc(),
                ),
            )
        return bool(cursor.rowcount)

    def outbox(self, *, pending: bool = True) -> list[Queued]:
        where = "WHERE sent_at IS NULL" if pending else ""
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM outbox {where} ORDER BY id").fetchall()  # noqa: S608
        return [
            Queued(
                id=r["id"],
                watchlist_id=r["watchlist_id"],
                message_id=r["message_id"],
                recipients=tuple(json.loads(r["recipients"])),
                message=message_from_bytes(r["message"], policy=policy.default),
                attempts=r["attempts"],
                last_error=r["last_error"],
                sent_at=r["sent_at"],
            )
            for r in rows
        ]

    def sent(self, queued_id: int) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE id = ? AND sent_at IS NULL",
                (now_utc(), queued_id),
            )

    def failed(self, queued_id: int, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, queued_id),
            )


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to VERSION inside the caller's transaction; return the old version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > VERSION:
        raise AlertsError(
            f"the alerts database has schema version {version}, newer than this Article 99 "
            f"reads ({VERSION}); update Article 99"
        )
    for step in MIGRATIONS[version:]:
        for statement in step.split(";"):
            if statement.strip():
                db.execute(statement)
    if version < VERSION:  # a file already current is not written to
        db.execute(f"PRAGMA user_version = {VERSION}")
    return version


def _columns(watchlist: Watchlist) -> tuple[str, str, str, str]:
    """name, filters, language, recipients as the table keeps them."""
    return (
        watchlist.name,
        json.dumps(to_query(watchlist.selection), sort_keys=True),
        watchlist.language,
        json.dumps(list(watchlist.recipients)),
    )


def _watchlist(row: sqlite3.Row) -> Watchlist:
    return Watchlist(
        name=row["name"],
        selection=from_query(json.loads(row["filters"])),
        language=row["language"],
        recipients=tuple(json.loads(row["recipients"])),
        id=row["id"],
        created_at=row["created_at"],
    )


def _payload(alert: Alert) -> dict:
    payload = asdict(alert)
    for key in ("id", "acknowledged_at", "acknowledged_by"):
        payload.pop(key)
    return payload


def _alert(row: sqlite3.Row) -> Alert:
    payload = json.loads(row["payload"])
    for key in ("drivers", "sources", "citations"):
        payload[key] = tuple(payload.get(key) or ())
    return Alert(
        **payload,
        id=row["id"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
    )
