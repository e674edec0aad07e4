"""SQL for the moderator console's sign-in sessions.

A row holds a hash of the session id (the id itself lives only in the moderator's cookie),
a binding that ties it to the moderator token it was made with, and when it expires.
Signing out deletes the row; rotating the token makes every binding stale.
"""

from __future__ import annotations

from datetime import datetime

from bot.archive.records import from_iso, iso
from bot.archive.store import Archive

__all__ = ["count", "create", "find", "prune", "revoke", "revoke_all"]


def create(archive: Archive, id_hash: str, binding: str, created: datetime,
           expires: datetime) -> None:
    """Store a new session (durable before its cookie is handed out)."""
    with archive.db.atomic():
        archive.db.execute(
            "insert into moderator_sessions (id_hash, binding, created, expires) "
            "values (?, ?, ?, ?)", [id_hash, binding, iso(created), iso(expires)])


def find(archive: Archive, id_hash: str) -> tuple[str, datetime] | None:
    """(binding, expires) of a session, or None if there is no such session."""
    row = archive.db.execute(
        "select binding, expires from moderator_sessions where id_hash = ?", [id_hash]
    ).fetchone()
    expires = from_iso(row[1]) if row else None
    return (str(row[0]), expires) if row and expires else None


def revoke(archive: Archive, id_hash: str) -> bool:
    """Delete a session; whether there was one."""
    with archive.db.atomic():
        cursor = archive.db.execute("delete from moderator_sessions where id_hash = ?",
                                    [id_hash])
    return cursor.rowcount > 0


def revoke_all(archive: Archive) -> int:
    """Delete every session (sign everyone out); how many went."""
    with archive.db.atomic():
        cursor = archive.db.execute("delete from moderator_sessions")
    return cursor.rowcount


def prune(archive: Archive, now: datetime) -> int:
    """Delete every expired session; how many went."""
    with archive.db.atomic():
        cursor = archive.db.execute("delete from moderator_sessions where expires <= ?",
                                    [iso(now)])
    return cursor.rowcount


def count(archive: Archive) -> int:
    """How many sessions are stored (for tests and the status page)."""
    return int(archive.db.execute("select count(*) from moderator_sessions").fetchone()[0])
