"""Two connections on one archive (the bot's and the publisher's or a CLI command's): a
write transaction that read first must not be refused because the other one committed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.archive import Archive

NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def _chat(archive: Archive, chat_id: str) -> None:
    archive.upsert_chat(chat_id=chat_id, title=chat_id, hashtag=f"#{chat_id}",
                        timezone="Europe/London", path=f"{chat_id}.yaml", digest="d", now=NOW)


def test_a_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    """Once a transaction began, another writer waits for it (here: told not to wait, so it
    is refused), rather than committing under it and leaving its snapshot stale; the
    transaction's own write after its read then succeeds."""
    bot, other = Archive(tmp_path / "archive.db"), Archive(tmp_path / "archive.db")
    try:
        other.db.execute("PRAGMA busy_timeout=0")
        with bot.db.atomic():
            assert bot.chat_first_seen("first") is None  # a read: the snapshot is taken
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                _chat(other, "sneaked-in")
            _chat(bot, "first")  # was "database is locked" when the other write got in
        _chat(other, "second")  # the lock is released with the commit
        assert bot.chat_first_seen("first") == NOW
        assert bot.chat_first_seen("second") == NOW
        assert bot.chat_first_seen("sneaked-in") is None
    finally:
        bot.close()
        other.close()


def test_every_connection_waits_for_a_busy_archive(tmp_path: Path) -> None:
    """WAL, and a busy timeout long enough for a loaded machine, on every handle."""
    archive = Archive(tmp_path / "archive.db")
    try:
        assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert archive.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    finally:
        archive.close()
