"""Rewriting an archive file compactly: the current page size, free pages returned, search merged.

An archive keeps the page size it was made with (store.PAGE_SIZE is only a new file's), so
one made before 16 KiB pages imports and reads with four times as many system calls as a
new one. A file also keeps the pages that erasures and removed sessions emptied, and the
full-text index grows in segments that every search reads. `compact` rewrites the file
with SQLite's VACUUM after merging the index's segments into one.

Only with the bot stopped: the page size can only change outside write-ahead logging, and
SQLite refuses to leave it while another connection has the file open, which is how a
running bot (or any other command) is detected. Crash-safe by SQLite's own rollback
journal: a process killed part way leaves the file as it was, and the next open (or
`compact` again) finishes the recovery.

The full-text index is keyed by the messages' rowids. VACUUM keeps them in practice, but
SQLite promises that only for a table with an INTEGER PRIMARY KEY, which `messages` has
not: the rowids are fingerprinted before and after, and the index is rebuilt from the
messages if they ever differ.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.archive.store import PAGE_SIZE

_FTS = "messages_fts"


class CompactError(ValueError):
    """The archive cannot be compacted now (the message says why and what to do)."""


@dataclass(frozen=True)
class Compacted:
    """An archive file before and after `compact`."""

    path: Path
    page_size_before: int
    page_size_after: int
    bytes_before: int  # the database and its write-ahead log
    bytes_after: int
    index_rebuilt: bool  # the rowids moved, so the full-text index was made again


def file_bytes(path: Path) -> int:
    """The archive's size on disk: the database file and its write-ahead log, if any."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def compact(path: Path, *, page_size: int = PAGE_SIZE,
            step: Callable[[str], None] = lambda _: None) -> Compacted:
    """Rewrite the archive at `path` with `page_size` pages; `step(what)` before each stage.

    Raises CompactError for a missing file, a file that is not an archive, an archive in
    use, or too little free disk space.
    """
    if not path.is_file():
        raise CompactError(f"no archive at {path}; check [archive] path in the settings")
    before = file_bytes(path)
    _room_for(path, before)
    conn = _open(path)
    try:
        old_page = conn.execute("PRAGMA page_size").fetchone()[0]
        step("leaving write-ahead logging (the bot must be stopped)")
        _leave_wal(conn, path)
        try:
            rowids = _rowid_print(conn)
            step("merging the search index")
            conn.execute(f"INSERT INTO {_FTS}({_FTS}) VALUES ('optimize')")
            step(f"rewriting the file with {page_size // 1024} KiB pages")
            conn.execute(f"PRAGMA page_size={int(page_size)}")
            _run(conn, "VACUUM", path)
            rebuilt = _rowid_print(conn) != rowids
            if rebuilt:
                step("rebuilding the search index (the rowids moved)")
                conn.execute(f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')")
        finally:
            # Back to what every connection expects (store._connect would also do it).
            conn.execute("PRAGMA journal_mode=WAL")
        new_page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return Compacted(path, old_page, new_page, before, file_bytes(path), rebuilt)


def _room_for(path: Path, size: int) -> None:
    """Refuse before starting when a disk cannot hold another copy of the archive.

    VACUUM builds the new file in the temporary folder, then copies it back through a
    journal beside the archive: each may need as much again as the archive holds.
    """
    for folder in {path.resolve().parent, Path(tempfile.gettempdir())}:
        free = shutil.disk_usage(folder).free
        if free < size:
            raise CompactError(
                f"not enough free disk space in {folder} ({free / 1e6:,.0f} MB free, "
                f"{size / 1e6:,.0f} MB needed): free some space and run this again")


def _open(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode, refusing a file that is not an archive."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=2.0)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError:
        conn.close()
        raise CompactError(f"{path} is not a SQLite database; check [archive] path in "
                           "the settings") from None
    if not {"messages", _FTS}.issubset(tables):
        conn.close()
        raise CompactError(f"{path} is not a tweetchat archive (no messages table); check "
                           "[archive] path in the settings")
    return conn


def _leave_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch to a rollback journal, which SQLite allows only with no other connection."""
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError:
        mode = "wal"
    if str(mode).lower() != "delete":
        raise CompactError(f"{path} is in use (is `tweetchat run` or another command "
                           "running?): stop it and run this again")


def _run(conn: sqlite3.Connection, sql: str, path: Path) -> None:
    """Run `sql`, a full disk or a late-comer's lock told as the user's to fix."""
    try:
        conn.execute(sql)
    except sqlite3.OperationalError as e:
        text = str(e)
        if "full" in text:
            raise CompactError(f"the disk filled up while compacting {path} (it is "
                               "unchanged): free some space and run this again") from None
        if "locked" in text or "busy" in text:
            raise CompactError(f"{path} was opened by another program while compacting (it "
                               "is unchanged): stop it and run this again") from None
        raise


def _rowid_print(conn: sqlite3.Connection) -> bytes:
    """A digest of every message's rowid with its key, in rowid order."""
    digest = hashlib.blake2b(digest_size=16)
    cursor = conn.execute("SELECT rowid, platform, id FROM messages ORDER BY rowid")
    while rows := cursor.fetchmany(10_000):
        digest.update(repr(rows).encode())
    return digest.digest()

