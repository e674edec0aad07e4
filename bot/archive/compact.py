"""Rewriting an archive file compactly: the current page size, free pages returned, search merged.

An archive keeps the page size it was made with (store.PAGE_SIZE is only a new file's), so
one made before 16 KiB pages imports and reads with four times as many system calls as a
new one. A file also keeps the pages that erasures and removed sessions emptied, and the
full-text index grows in segments that every search reads. `compact` rewrites the file
with SQLite's VACUUM after merging the index's segments into one.

Only with the bot stopped: the page size can only change outside write-ahead logging, and
SQLite refuses to leave it while another connection has the file open, which is how a
running bot (or any other command) is detected. From then on this connection holds the
file's exclusive lock until it is done, so a bot starting meanwhile waits for it instead of
switching the file back to write-ahead logging half way. Crash-safe by SQLite's own
rollback journal: a process killed part way leaves the messages as they were, and the next
open (or `compact` again) finishes the recovery.

The full-text index is keyed by the messages' rowids. VACUUM keeps them in practice, but
SQLite promises that only for a table with an INTEGER PRIMARY KEY, which `messages` has
not. So the index is rebuilt from the messages when the rowids moved during this run
(fingerprinted before and after) or when the index's documents are not the messages' rowids
(as a run killed between such a move and the rebuild would leave them).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.archive.store import PAGE_SIZE

_FTS = "messages_fts"
# Where SQLite's unix build puts a temporary file (VACUUM's new copy): the first of these
# that is a writable folder (os_unix.c, unixTempFileDir).
_TEMP_ENV = ("SQLITE_TMPDIR", "TMPDIR")
_TEMP_DIRS = ("/var/tmp", "/usr/tmp", "/tmp", ".")
_LOCK_WAIT_S = 2.0  # how long to wait for another connection's lock before calling it in use


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
    real = path.resolve()  # a link's log is beside the file it points to
    return sum(p.stat().st_size for p in (real, Path(f"{real}-wal")) if p.exists())


def compact(path: Path, *, page_size: int = PAGE_SIZE,
            step: Callable[[str], None] = lambda _: None) -> Compacted:
    """Rewrite the archive at `path` with `page_size` pages; `step(what)` before each stage.

    Raises CompactError for a missing, unwritable, damaged or foreign file, an archive in
    use, or too little free disk space.
    """
    if not path.is_file():
        raise CompactError(f"no archive at {path}; check [archive] path in the settings")
    if not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)):
        raise CompactError(f"cannot write {path} or its folder: run this as the user the "
                           "bot runs as")
    before = file_bytes(path)
    _room_for(path, before)
    conn = _open(path)
    try:
        try:
            return _compact(conn, path, page_size, before, step)
        except sqlite3.OperationalError as e:
            raise _told(e, path) from None
        except sqlite3.DatabaseError as e:  # "database disk image is malformed" and kin
            raise CompactError(f"{path} is damaged (SQLite: {e}); restore it from a backup, "
                               "or try `sqlite3 ARCHIVE .recover`") from None
        finally:
            _back_to_wal(conn)
    finally:
        conn.close()


def _compact(conn: sqlite3.Connection, path: Path, page_size: int, before: int,
             step: Callable[[str], None]) -> Compacted:
    old_page = conn.execute("PRAGMA page_size").fetchone()[0]
    step("leaving write-ahead logging (the bot must be stopped)")
    _take_the_file(conn, path)
    rowids = _rowid_print(conn)
    step("merging the search index")
    conn.execute(f"INSERT INTO {_FTS}({_FTS}) VALUES ('optimize')")
    step(f"rewriting the file with {page_size // 1024} KiB pages")
    conn.execute(f"PRAGMA page_size={int(page_size)}")
    conn.execute("VACUUM")
    new_page = conn.execute("PRAGMA page_size").fetchone()[0]
    if new_page != page_size:  # cannot happen while this connection holds the file
        raise CompactError(f"{path} kept its {new_page:,}-byte pages: run this again with "
                           "the bot stopped")
    rebuilt = _rowid_print(conn) != rowids or not _index_matches(conn)
    if rebuilt:
        step("rebuilding the search index (the rowids moved)")
        conn.execute(f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')")
    return Compacted(path, old_page, new_page, before, file_bytes(path), rebuilt)


def _room_for(path: Path, size: int) -> None:
    """Refuse before starting when a disk cannot hold what the rewrite writes.

    VACUUM builds the new file in SQLite's temporary folder, then copies it back through a
    journal beside the archive: each needs as much again as the archive holds, twice that
    when both are on one disk.
    """
    need: dict[int, tuple[Path, int]] = {}
    for folder in (path.resolve().parent, _sqlite_temp_dir()):
        device = folder.stat().st_dev
        first, bytes_needed = need.get(device, (folder, 0))
        need[device] = (first, bytes_needed + size)
    for folder, bytes_needed in need.values():
        free = shutil.disk_usage(folder).free
        if free < bytes_needed:
            raise CompactError(
                f"not enough free disk space in {folder} ({free / 1e6:,.0f} MB free, "
                f"{bytes_needed / 1e6:,.0f} MB needed): free some space and run this again")


def _sqlite_temp_dir() -> Path:
    """The folder SQLite will put VACUUM's temporary copy in."""
    candidates = [os.environ.get(name) for name in _TEMP_ENV] + list(_TEMP_DIRS)
    for folder in candidates:
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return Path(folder)
    return Path(".")


def _open(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode, refusing a file that is not an archive."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=_LOCK_WAIT_S)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as e:
        conn.close()
        if getattr(e, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise CompactError(f"{path} is not a SQLite database; check [archive] path in "
                               "the settings") from None
        raise CompactError(f"cannot open {path} (SQLite: {e}); run this as the user the bot "
                           "runs as, with the bot stopped") from None
    if not {"messages", _FTS}.issubset(tables):
        conn.close()
        raise CompactError(f"{path} is not a tweetchat archive (no messages table); check "
                           "[archive] path in the settings")
    return conn


def _take_the_file(conn: sqlite3.Connection, path: Path) -> None:
    """Leave write-ahead logging, and keep the file's lock until this connection closes.

    SQLite leaves WAL only when no other connection has the file open. In exclusive
    locking mode the lock an empty write transaction takes is kept afterwards: a bot
    started now waits (its busy timeout) instead of changing the file under the rewrite.
    """
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() == "delete":
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
    except sqlite3.OperationalError:
        mode = "wal"
    if str(mode).lower() != "delete":
        raise _in_use(path)


def _back_to_wal(conn: sqlite3.Connection) -> None:
    """Write-ahead logging again, as every connection expects, if the file can be had.

    Best effort: where another program holds the file now, the archive stays in rollback
    mode, which loses nothing and which the bot's next open (store._connect) switches back.
    """
    try:
        conn.execute("PRAGMA locking_mode=NORMAL")
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error:
        pass


def _in_use(path: Path) -> CompactError:
    """The one line for an archive another connection holds (leaving WAL, or later)."""
    return CompactError(f"{path} is in use (is `tweetchat run` or another command "
                        "running?): stop it and run this again")


def _told(error: sqlite3.OperationalError, path: Path) -> Exception:
    """An OperationalError as the user's to fix where it is (a full disk, a lock)."""
    text = str(error)
    if "full" in text:
        return CompactError(f"the disk filled up while compacting {path} (its messages are "
                            "unchanged): free some space and run this again")
    if "locked" in text or "busy" in text:
        return _in_use(path)
    if "readonly" in text:
        return CompactError(f"cannot write {path}: run this as the user the bot runs as")
    return error


def _rowid_print(conn: sqlite3.Connection) -> bytes:
    """A digest of every message's rowid with its key, in rowid order."""
    digest = hashlib.blake2b(digest_size=16)
    cursor = conn.execute("SELECT rowid, platform, id FROM messages ORDER BY rowid")
    while rows := cursor.fetchmany(10_000):
        digest.update(repr(rows).encode())
    return digest.digest()


def _index_matches(conn: sqlite3.Connection) -> bool:
    """Whether the full-text index's documents are exactly the messages' rowids.

    Every message row is indexed under its rowid (the insert trigger and the bulk path
    alike), so any difference means the rowids moved under the index. (An index made
    without its document sizes table cannot be checked this way: taken as matching.)
    """
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                    [f"{_FTS}_docsize"]).fetchone() is None:
        return True
    missing = conn.execute(
        f"SELECT 1 FROM messages m WHERE NOT EXISTS (SELECT 1 FROM {_FTS}_docsize d "
        "WHERE d.id = m.rowid) LIMIT 1").fetchone()
    extra = conn.execute(
        f"SELECT 1 FROM {_FTS}_docsize d WHERE NOT EXISTS (SELECT 1 FROM messages m "
        "WHERE m.rowid = d.id) LIMIT 1").fetchone()
    return missing is None and extra is None
