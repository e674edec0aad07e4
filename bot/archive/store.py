"""The archive: the single source of truth. Only this package writes SQL.

`Archive` opens archive.db (upgrading its schema once, on open) and holds the chats,
backfill cursors and audit log; sessions and messages come from its two mix-ins.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from bot.archive.messages import MessageStore
from bot.archive.opening import (
    ArchiveError,
    check_file,
    check_tables,
    opened,
    primary_code,
    told,
)
from bot.archive.records import from_iso, iso
from bot.archive.schema import migrate
from bot.archive.sessions import SessionStore

log = logging.getLogger(__name__)

# How long a write waits for another connection's (the publisher thread's, a CLI command's)
# write to finish. It only bounds a hang: on a loaded machine a few seconds is not enough.
BUSY_TIMEOUT_MS = 30_000
# A write waiting this long for the lock says so (see ArchiveDatabase.begin): the bot's own
# writes hold it for milliseconds, so a longer wait is another process's long write (an
# import, a compaction, another command) and 30 silent seconds look like a hang.
NOTICE_MS = 1_500
# Past the notice, the lock is asked for in slices this long: between two, Python handles
# Ctrl-C (SQLite's own wait cannot be interrupted), so the user may give up at once.
SLICE_MS = 250
# A new archive's page size. Most of an archive's bytes are payloads of 1-2 KB (a tweet
# with its includes, a Discord message): SQLite's default 4 KiB page holds two of them,
# so a bulk import wrote and read back four times as many pages, a system call each.
# 16 KiB pages cut the import's system calls to a quarter and its wall clock by a tenth
# (measured: README, "Import, eighth round"); a live commit writes a few more bytes to
# the log, which nothing notices.
PAGE_SIZE = 16_384
# The log is copied into the database (a checkpoint) once it holds this much: SQLite's
# default of 1,000 pages, as it was with 4 KiB pages, whatever the archive's page size.
CHECKPOINT_BYTES = 4_096_000


def checkpoint_every(db: Database, log_bytes: int) -> None:
    """Checkpoint the WAL once it holds `log_bytes`, in this archive's own pages.

    SQLite counts the threshold in pages, and an archive's page size is the one it was
    made with (PAGE_SIZE, or 4 KiB for an older one): given in bytes, it means the same
    for both.
    """
    page = db.execute("PRAGMA page_size").fetchone()[0]
    db.execute(f"PRAGMA wal_autocheckpoint={max(1, int(log_bytes) // page)}")


class ArchiveDatabase(Database):
    """sqlite-utils' Database whose write transactions take the write lock when they begin.

    A plain (deferred) BEGIN reads first and asks for the write lock at the first write;
    if another connection committed in between, WAL cannot upgrade the stale snapshot and
    SQLite answers "database is locked" at once, without waiting the busy timeout.
    BEGIN IMMEDIATE waits for the lock up front, so the busy timeout applies.
    """

    busy_ms = BUSY_TIMEOUT_MS  # the connection's busy timeout (Archive sets it on opening)
    where = "the archive"  # the file, as the wait's warning names it (Archive sets it)

    def begin(self) -> None:
        """BEGIN IMMEDIATE: wait for the write lock, saying so once the wait gets long.

        Up to NOTICE_MS silently; then a warning naming the file (a CLI command prints it
        on stderr, the bot logs it) and the rest of the busy timeout in slices, so Ctrl-C
        gives up at once. Past the busy timeout, SQLite's "database is locked" is raised.
        """
        notice = min(NOTICE_MS, self.busy_ms)
        self.conn.execute(f"PRAGMA busy_timeout={notice}")
        try:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if primary_code(e) != sqlite3.SQLITE_BUSY or notice >= self.busy_ms:
                    raise
            log.warning("waiting for %s: another process is writing to it (the running bot, "
                        "an import, compact or another command); giving up after %g s, or "
                        "Ctrl-C to stop now", self.where, self.busy_ms / 1000)
            deadline = time.monotonic() + (self.busy_ms - notice) / 1000
            self.conn.execute(f"PRAGMA busy_timeout={min(SLICE_MS, self.busy_ms - notice)}")
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as e:
                    if primary_code(e) != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                        raise
        finally:
            self.conn.execute(f"PRAGMA busy_timeout={self.busy_ms}")

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """A transaction (a savepoint when nested) holding the write lock from its start."""
        if self.conn.in_transaction:
            with super().atomic() as db:
                yield db
            return
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


# Names SQLite gives a private database of one connection, not a file.
_NOT_FILES = frozenset({":memory:", ""})
# Connections this process has open, per archive file (see Archive.may_reopen).
_OPEN_FILES: Counter[str] = Counter()


class Archive(SessionStore, MessageStore):
    """A handle on archive.db. Cheap to open; one per process is enough."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) not in _NOT_FILES:
            check_file(self.path)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ArchiveError(f"cannot make the folder for {path} ({e.strerror}); check "
                                   "[archive] path in the settings") from None
            opened(self.path)  # SQLite's errors met later, anywhere, name this file
        self._name = str(path)
        # The file's key in _OPEN_FILES (a private database is its own).
        self._file = (str(self.path.resolve()) if self._name not in _NOT_FILES
                      else f"private:{id(self)}")
        self._open = False
        try:
            self.db = self._connect()
            migrate(self.db)
        except sqlite3.Error as e:  # a damaged file, another program's lock, a full disk
            if self._open:
                self.close()
            raise told(e, self.path) from None
        except ArchiveError:
            self.close()
            raise

    def _connect(self) -> ArchiveDatabase:
        db = ArchiveDatabase(self._name)
        self.db = db  # for close(), should what follows refuse the file
        self._open = True
        _OPEN_FILES[self._file] += 1
        # First: even switching to WAL may wait for another connection's lock.
        db.busy_ms, db.where = BUSY_TIMEOUT_MS, str(self.path)
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Before anything is written: another program's database is refused untouched.
        check_tables(db.conn, self.path)
        # Before anything is written (WAL writes the header): a new archive gets PAGE_SIZE
        # pages; an existing one keeps the size it was made with.
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.execute("PRAGMA journal_mode=WAL")
        checkpoint_every(db, CHECKPOINT_BYTES)
        # Safe with WAL: a crash loses nothing that was committed.
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def close(self) -> None:
        """Close the database connection (again: nothing)."""
        self.db.close()
        if self._open:
            self._open = False
            _OPEN_FILES[self._file] -= 1

    def may_reopen(self) -> bool:
        """Whether closing this connection and opening another loses nothing but itself.

        Only for a file (":memory:" and "" are private databases that closing discards)
        that no other `Archive` of this process has open: a process's connections to one
        file share SQLite's lock bookkeeping, which a forked child would inherit.
        """
        return (self._name not in _NOT_FILES and self._open
                and _OPEN_FILES[self._file] == 1)

    def reconnect(self) -> None:
        """Open a new connection in place of the closed one, with its own temporary tables.

        For work forked into several processes (the transcript's lanes): SQLite forbids
        using a connection across fork, and a process inherits its parent's lock
        bookkeeping for every database file the parent has open. So the parent closes its
        connection before forking and each process, the parent included, opens its own.
        """
        self.db = self._connect()

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits to the archive.

        The web room's cached view checks it to notice a `tweetchat forget` or moderation
        done from the command line while the bot runs.
        """
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def change_stamp(self) -> tuple[int, int]:
        """Changes whenever the archive does: a write of this connection or another's commit.

        Costs no query for this connection's own writes (sqlite3's running count of them),
        so a cache keyed on it is cheap to check on every request.
        """
        return self.db.conn.total_changes, self.data_version()

    # -- chats -----------------------------------------------------------------------------

    def upsert_chat(
        self, *, chat_id: str, title: str, hashtag: str, timezone: str, path: str, digest: str,
        now: datetime,
    ) -> None:
        """Record a chat's current script (path and digest), keeping when it was first seen."""
        existing = self.db.table("chats").rows_where("id = ?", [chat_id])
        first_seen = next((r["first_seen"] for r in existing), None) or iso(now)
        with self.db.atomic():
            self.db.table("chats").upsert(
                {
                    "id": chat_id, "title": title, "hashtag": hashtag, "timezone": timezone,
                    "script_path": path, "script_hash": digest, "first_seen": first_seen,
                    "updated": iso(now),
                },
                pk="id",
            )

    def chat_first_seen(self, chat_id: str) -> datetime | None:
        """When the archive first saw a chat, or None if never."""
        row = next(self.db.table("chats").rows_where("id = ?", [chat_id]), None)
        return from_iso(row["first_seen"]) if row else None

    # -- cursors (backfill positions) ------------------------------------------------------

    def cursor(self, chat_id: str, platform: str) -> dict[str, str]:
        """A platform's backfill position for a chat (empty when there is none yet)."""
        return {
            r["key"]: r["value"]
            for r in self.db.table("cursors").rows_where(
                "chat_id = ? and platform = ?", [chat_id, platform]
            )
        }

    def save_cursor(self, chat_id: str, platform: str, cursor: Mapping[str, str],
                    now: datetime) -> None:
        """Store a platform's backfill position for a chat, key by key."""
        with self.db.atomic():
            self.db.table("cursors").upsert_all(
                (
                    {"chat_id": chat_id, "platform": platform, "key": k, "value": v,
                     "updated": iso(now)}
                    for k, v in cursor.items()
                ),
                pk=("chat_id", "platform", "key"),
            )

    # -- audit -----------------------------------------------------------------------------

    def audit(self, *, actor: str, action: str, target: str, detail: str, at: datetime) -> None:
        """Append who did what to which target to the audit log."""
        with self.db.atomic():
            self.db.table("audit_log").insert(
                {"at": iso(at), "actor": actor, "action": action, "target": target,
                 "detail": detail}
            )
