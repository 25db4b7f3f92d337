"""The delivery log of `python -m dashboard alerts` (table alert_deliveries, created with the store's
bookkeeping tables in dashboard.store.schema.META_DDL).

A row says: this alert (kind + subject) of this week reached this target (channel + target_id). It is
written only after the target accepted the message, all rows of one message in one transaction, so a
crash leaves either the whole message recorded or none of it (then it is sent again: at least once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from dashboard.store import catalog

TABLE = "alert_deliveries"


@dataclass(frozen=True)
class Delivery:
    week: str
    kind: str
    subject_key: str
    channel: str  # webhook | email
    target_id: str  # short hash of the real target: the dedup key, safe to store
    target: str  # redacted, safe to show
    subject: str
    title: str
    severity: str
    delivered_at: datetime
    attempts: int

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.week, self.kind, self.subject_key, self.channel, self.target_id)


def delivered_keys(con: duckdb.DuckDBPyConnection, weeks: list[str]) -> set[tuple[str, str, str, str, str]]:
    """(week, kind, subject_key, channel, target_id) of every recorded delivery of these weeks."""
    if not weeks or not catalog.table_exists(con, TABLE):
        return set()
    return {tuple(r) for r in con.execute(
        f"SELECT week, kind, subject_key, channel, target_id FROM {TABLE} WHERE list_contains(?, week)",
        [weeks]).fetchall()}


def record(con: duckdb.DuckDBPyConnection, rows: list[Delivery]) -> None:
    """Record one accepted message's alerts, all or nothing; a re-send (--force) updates the row."""
    if not rows:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for d in rows:
            con.execute(
                f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [d.week, d.kind, d.subject_key, d.channel, d.target_id, d.target, d.subject, d.title,
                 d.severity, d.delivered_at, d.attempts])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def for_week(con: duckdb.DuckDBPyConnection, week: str) -> list[dict]:
    """The week's deliveries, oldest first: {kind, subject_key, subject, channel, target, delivered_at}."""
    if not catalog.table_exists(con, TABLE):
        return []
    cols = ("kind", "subject_key", "subject", "channel", "target", "delivered_at")
    return [dict(zip(cols, r)) for r in con.execute(
        f"SELECT {', '.join(cols)} FROM {TABLE} WHERE week = ? ORDER BY delivered_at, channel, target",
        [week]).fetchall()]
